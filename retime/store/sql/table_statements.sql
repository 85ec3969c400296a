-- Statements made once for each table of a kind (retime/store/tables.py statements): `{table}` is
-- the table's name as retime/store/sql/schema.sql declares it.

-- @statement drop
-- an upgrade drops the derived tables before making them again from the stored events
DROP TABLE IF EXISTS {table};

-- @statement delete_trace
-- a trace's rows, before its derived rows are made again (an execution trace gave it shapes)
DELETE FROM {table} WHERE trace_id = getvariable('trace_id');

-- @statement commit_staged
-- a staging store's traces (attached as `staged`, written by a worker of a parallel ingest) copied
-- into this store under new ids (staged_ids: old_id -> new_id), by column name
INSERT INTO {table} BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.{table} s JOIN staged_ids m ON s.trace_id = m.old_id;

-- @statement lake_view
-- a table of the Parquet lake (retime/export/lake.py), read through lake_table
CREATE VIEW {table} AS SELECT * FROM lake_table(getvariable('lake_{table}'));
