-- The nsys working tables of this connection (templates and staging), to fill and to drop.
SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'nsys_') ORDER BY table_name;
