-- The staging table of chrome_read.sql from the events as retime/ingest/json_columns.py took their fields
-- out of the file (a stream of Arrow batches registered as event_batch: each text field's text,
-- with a bit of `delegated` set where DuckDB converts the token, in json_columns.TEXT's order; ts
-- and dur already in nanoseconds), with the conversions of chrome_read.sql: the same columns,
-- types and row order. Variables: time_base_ns.
CREATE OR REPLACE TEMP TABLE raw AS
SELECT event_text(ph, delegated, 1) AS ph, event_text(cat, delegated, 2) AS cat, event_text(name, delegated, 4) AS name,
       coalesce(event_text(pid, delegated, 8), '') AS pid, coalesce(event_text(tid, delegated, 16), '') AS tid,
       CAST(getvariable('time_base_ns') + ts_ns AS BIGINT) AS ts_ns, dur_ns,
       event_text(id, delegated, 32) AS id, event_text(bp, delegated, 64) AS bp,
       event_text(bind_id, delegated, 128) AS bind_id, flow_in, flow_out,
       {args_from_batch},
       CASE WHEN (delegated & {args_bit}) <> 0 THEN json(args) ELSE CAST(args AS JSON) END AS args
FROM event_batch;
