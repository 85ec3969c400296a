-- An empty store table (variable lake_table) still gets a schema-only file, in a trace_id=0
-- partition that holds no rows, so that readers of the lake find the table and its columns.
COPY (SELECT * EXCLUDE (trace_id) FROM query_table(getvariable('lake_table')) LIMIT 0)
    TO (getvariable('lake_empty_file')) (FORMAT parquet);
