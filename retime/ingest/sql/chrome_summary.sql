-- What the ingest of the current file kept and what it could not use, for the trace's
-- warnings and the per-file report. One row.
SELECT
    (SELECT count(*) FROM staged_events) AS events,
    (SELECT min(ts_ns) FROM staged_events) AS start_ns,
    (SELECT max(ts_ns + coalesce(dur_ns, 0)) FROM staged_events) AS end_ns,
    (SELECT count(*) FROM staged_lanes) AS lanes,
    (SELECT count(*) FROM staged_events WHERE kind IN ('cpu_op', 'runtime', 'kernel', 'memcpy', 'memset',
                                                       'collective', 'python', 'gpu_annotation', 'sync', 'driver')) AS kineto_events,
    (SELECT count(*) FROM raw WHERE ph NOT IN ('M', 'C', 's', 't', 'f') AND ts_ns IS NULL) AS no_ts,
    (SELECT count(*) FROM raw WHERE ph = 'X' AND ts_ns IS NOT NULL AND (dur_ns IS NULL OR dur_ns < 0)) AS bad_dur,
    (SELECT count(*) FROM staged_events WHERE phase = 'B' AND dur_ns IS NULL) AS unclosed_b,
    (SELECT count(*) FROM raw WHERE ph = 'E' AND ts_ns IS NOT NULL)
        - (SELECT count(*) FROM staged_events WHERE phase = 'B' AND dur_ns IS NOT NULL) AS orphan_e,
    (SELECT count(*) FROM staged_events WHERE phase IN ('b', 'S') AND dur_ns IS NULL) AS unclosed_async,
    (SELECT count(*) FROM flow_bound WHERE event_id IS NULL) AS unbound_flow_points,
    (SELECT count(*) FROM raw WHERE ph IN ('s', 't', 'f') AND id IS NULL) AS flows_without_id,
    (SELECT coalesce(list(ph || ':' || n ORDER BY n DESC), [])
       FROM (SELECT coalesce(ph, '(none)') AS ph, count(*) AS n FROM raw
             WHERE ph IS NULL OR ph NOT IN ('X', 'B', 'E', 'i', 'I', 'R', 'n', 'b', 'e', 'S', 'F', 'C', 'M', 's', 't', 'f')
             GROUP BY ALL)) AS ignored_phases;
