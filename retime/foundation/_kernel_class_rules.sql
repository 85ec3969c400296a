-- The kernel class rules of kernel_classes.toml as a table (priority: the rule's place in the
-- file), for gpu_class in gpu.sql. foundation.load registers the file's rules as
-- kernel_class_rules_data before running this.
CREATE OR REPLACE TEMP TABLE kernel_class_rules AS
SELECT priority::INTEGER AS priority, class::VARCHAR AS class, pattern::VARCHAR AS pattern FROM kernel_class_rules_data;
