-- Parse the events array (split out of the trace file) into a typed staging table.
-- Variables: events_path (the array file), time_base_ns (added to every ts).
-- Timestamps are read as DECIMAL so absolute microsecond times keep their nanosecond digits
-- (a DOUBLE loses them above ~2^53 ns). Insertion order is kept, so raw.rowid is the event's
-- position in the file (later steps call it idx). arg_correlation, arg_external_id, ... are the text of
-- the args fields the store reads, one JSON parse per event here; the paths and these columns
-- are made from retime/ingest/kineto_args.toml.
CREATE OR REPLACE TEMP TABLE raw AS
SELECT ph, cat, name, pid, tid, ts_ns, dur_ns, id, bp, bind_id, flow_in, flow_out,
       {args_from_list},
       args
FROM (
    SELECT ph, cat, name, coalesce(pid, '') AS pid, coalesce(tid, '') AS tid,
           getvariable('time_base_ns') + TRY_CAST(round(ts * 1000) AS BIGINT) AS ts_ns,
           TRY_CAST(round(dur * 1000) AS BIGINT) AS dur_ns,
           id, bp, bind_id, flow_in, flow_out,
           json_extract_string(args, [{arg_paths}]) AS a,
           args
    FROM read_json(getvariable('events_path'), format = 'array', maximum_object_size = 268435456,
                   columns = {ph: 'VARCHAR', cat: 'VARCHAR', name: 'VARCHAR', pid: 'VARCHAR', tid: 'VARCHAR',
                              ts: 'DECIMAL(38,6)', dur: 'DECIMAL(38,6)', id: 'VARCHAR', bp: 'VARCHAR',
                              s: 'VARCHAR', bind_id: 'VARCHAR', flow_in: 'BOOLEAN', flow_out: 'BOOLEAN',
                              args: 'JSON'})
);
