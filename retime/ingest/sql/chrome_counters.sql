-- Counter samples of trace `trace_id`: each 'C' event holds one value per series in args;
-- a counter with an id is a separate instance ('name id').
INSERT INTO counters BY NAME
SELECT getvariable('trace_id') AS trace_id, pid, name, series, ts_ns,
       TRY_CAST(json_extract_string(args, '$."' || replace(series, '"', '\"') || '"') AS DOUBLE) AS value
FROM (SELECT pid, coalesce(name, '') || coalesce(' ' || id, '') AS name, ts_ns, args,
             unnest(json_keys(args)) AS series
      FROM raw WHERE ph = 'C' AND ts_ns IS NOT NULL AND json_type(args) = 'OBJECT');
