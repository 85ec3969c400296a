-- A trace's iteration time as replays compare it: the median ProfilerStep window (annotation_windows,
-- queries/foundation/host.sql; the median, so a first step that warms caches does not decide it),
-- and its whole span.
SELECT (SELECT median(we - ws)::BIGINT FROM annotation_windows($trace_id, '^ProfilerStep#[0-9]+$')) AS step_ns,
       (SELECT max(ts_ns + coalesce(dur_ns, 0)) - min(ts_ns) FROM events WHERE trace_id = $trace_id
          AND kind IN ('cpu_op', 'annotation', 'runtime', 'driver', 'kernel', 'collective', 'memcpy', 'memset', 'python'))
       AS span_ns;
