-- A trace's iteration time as replays compare it: the median ProfilerStep window on a CPU thread
-- (the median, so a first step that warms caches does not decide it), and its whole span.
SELECT (SELECT median(e.dur_ns)::BIGINT FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
        WHERE e.trace_id = $trace_id AND l.kind = 'cpu_thread' AND regexp_full_match(e.name, 'ProfilerStep#[0-9]+')
          AND e.dur_ns IS NOT NULL) AS step_ns,
       (SELECT max(ts_ns + coalesce(dur_ns, 0)) - min(ts_ns) FROM events WHERE trace_id = $trace_id
          AND kind IN ('cpu_op', 'annotation', 'runtime', 'driver', 'kernel', 'collective', 'memcpy', 'memset', 'python'))
       AS span_ns;
