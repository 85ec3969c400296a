-- The temporary tables of this connection.
SELECT table_name FROM duckdb_tables() WHERE temporary;
