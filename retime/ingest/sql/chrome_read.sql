-- Parse the events array (split out of the trace file) into a typed staging table.
-- Variables: events_path (the array file), time_base_ns (added to every ts).
-- Timestamps are read as DECIMAL so absolute microsecond times keep their nanosecond digits
-- (a DOUBLE loses them above ~2^53 ns). Insertion order is kept, so raw.rowid is the event's
-- position in the file (later steps call it idx). arg1 ... arg15 are the args fields the store reads
-- (chrome_events.sql), in the order of the paths below, one JSON parse per event here.
CREATE OR REPLACE TEMP TABLE raw AS
SELECT ph, cat, name, pid, tid, ts_ns, dur_ns, id, bp, bind_id, flow_in, flow_out,
       a[1] AS arg1, a[2] AS arg2, a[3] AS arg3, a[4] AS arg4, a[5] AS arg5, a[6] AS arg6, a[7] AS arg7, a[8] AS arg8,
       a[9] AS arg9, a[10] AS arg10, a[11] AS arg11, a[12] AS arg12, a[13] AS arg13, a[14] AS arg14, a[15] AS arg15,
       args
FROM (
    SELECT ph, cat, name, coalesce(pid, '') AS pid, coalesce(tid, '') AS tid,
           getvariable('time_base_ns') + TRY_CAST(round(ts * 1000) AS BIGINT) AS ts_ns,
           TRY_CAST(round(dur * 1000) AS BIGINT) AS dur_ns,
           id, bp, bind_id, flow_in, flow_out,
           json_extract_string(args, ['$.correlation', '$."External id"', '$.device', '$.stream', '$.bytes',
                                      '$."Collective name"', '$.dtype', '$."In msg nelems"', '$."Out msg nelems"',
                                      '$."Group size"', '$."Process Group Name"', '$."Process Group Description"',
                                      '$."Process Group Ranks"', '$.Seq', '$.seq']) AS a,
           args
    FROM read_json(getvariable('events_path'), format = 'array', maximum_object_size = 268435456,
                   columns = {ph: 'VARCHAR', cat: 'VARCHAR', name: 'VARCHAR', pid: 'VARCHAR', tid: 'VARCHAR',
                              ts: 'DECIMAL(38,6)', dur: 'DECIMAL(38,6)', id: 'VARCHAR', bp: 'VARCHAR',
                              s: 'VARCHAR', bind_id: 'VARCHAR', flow_in: 'BOOLEAN', flow_out: 'BOOLEAN',
                              args: 'JSON'})
);
