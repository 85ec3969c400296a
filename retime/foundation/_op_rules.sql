-- The CPU operator rules of op_rules.toml as a table (priority: the rule's place in the file), for
-- ops.sql. foundation.load registers the file's rules as op_rules_data before running this.
CREATE OR REPLACE TEMP TABLE op_rules AS
SELECT priority::INTEGER AS priority, pattern::VARCHAR AS pattern, category::VARCHAR AS category, model::VARCHAR AS model,
       causal_arg::BIGINT AS causal_arg
FROM op_rules_data;
