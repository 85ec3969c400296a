-- The nsys table templates of this connection (created by nsys_tables.sql) and their columns in
-- order, to fill from the export: the catalogue, not a scan of each table.
SELECT table_name, column_name FROM duckdb_columns()
WHERE database_name = 'temp' AND starts_with(table_name, 'nsys_') ORDER BY table_name, column_index;
