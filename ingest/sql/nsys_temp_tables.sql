-- The nsys table templates of this connection (created by nsys_tables.sql), to fill from the export.
SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'nsys_') ORDER BY table_name;
