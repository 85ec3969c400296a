-- The temporary tables and views of this connection, each with its kind ('TABLE' or 'VIEW').
SELECT table_name AS name, 'TABLE' AS kind FROM duckdb_tables() WHERE temporary
UNION ALL
SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND NOT internal;
