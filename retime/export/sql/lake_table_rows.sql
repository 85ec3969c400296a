-- Rows of the store table named by variable lake_table.
SELECT count(*) FROM query_table(getvariable('lake_table'));
