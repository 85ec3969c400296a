-- Append one batch of events, as ingest/json_columns.py took their fields out of the file
-- (registered as event_batch: each text field's text, with a bit of `delegated` set where DuckDB
-- converts the token, in json_columns.TEXT's order; ts and dur already in nanoseconds), to raw,
-- with the conversions of chrome_read.sql. Variables: time_base_ns.
INSERT INTO raw
SELECT event_text(ph, delegated, 1), event_text(cat, delegated, 2), event_text(name, delegated, 4),
       coalesce(event_text(pid, delegated, 8), ''), coalesce(event_text(tid, delegated, 16), ''),
       getvariable('time_base_ns') + ts_ns, dur_ns,
       event_text(id, delegated, 32), event_text(bp, delegated, 64), event_text(bind_id, delegated, 128),
       flow_in, flow_out,
       CASE WHEN args IS NOT NULL THEN
           [event_text(arg1, delegated, 256), event_text(arg2, delegated, 512), event_text(arg3, delegated, 1024),
            event_text(arg4, delegated, 2048), event_text(arg5, delegated, 4096), event_text(arg6, delegated, 8192),
            event_text(arg7, delegated, 16384), event_text(arg8, delegated, 32768), event_text(arg9, delegated, 65536),
            event_text(arg10, delegated, 131072), event_text(arg11, delegated, 262144), event_text(arg12, delegated, 524288),
            event_text(arg13, delegated, 1048576), event_text(arg14, delegated, 2097152), event_text(arg15, delegated, 4194304)] END,
       CASE WHEN (delegated & 8388608) <> 0 THEN json(args) ELSE CAST(args AS JSON) END
FROM event_batch;
