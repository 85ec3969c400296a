-- A trace's iteration time as replays compare it: the median window matching $window (ProfilerStep#N
-- by default; any annotation or NVTX range: annotation_windows, retime/foundation/host.sql; the
-- median, so a first step that warms caches does not decide it), and its whole span.
SELECT (SELECT median(we - ws)::BIGINT FROM annotation_windows($trace_id, $window)) AS step_ns,
       (SELECT max(ts_ns + coalesce(dur_ns, 0)) - min(ts_ns) FROM events WHERE trace_id = $trace_id
          AND kind IN ('cpu_op', 'annotation', 'runtime', 'driver', 'kernel', 'collective', 'memcpy', 'memset', 'python'))
       AS span_ns;
