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
       event_text(arg1, delegated, 256) AS arg1, event_text(arg2, delegated, 512) AS arg2, event_text(arg3, delegated, 1024) AS arg3,
       event_text(arg4, delegated, 2048) AS arg4, event_text(arg5, delegated, 4096) AS arg5, event_text(arg6, delegated, 8192) AS arg6,
       event_text(arg7, delegated, 16384) AS arg7, event_text(arg8, delegated, 32768) AS arg8, event_text(arg9, delegated, 65536) AS arg9,
       event_text(arg10, delegated, 131072) AS arg10, event_text(arg11, delegated, 262144) AS arg11, event_text(arg12, delegated, 524288) AS arg12,
       event_text(arg13, delegated, 1048576) AS arg13, event_text(arg14, delegated, 2097152) AS arg14, event_text(arg15, delegated, 4194304) AS arg15,
       CASE WHEN (delegated & 8388608) <> 0 THEN json(args) ELSE CAST(args AS JSON) END AS args
FROM event_batch;
