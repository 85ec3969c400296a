-- Every kernel of trace $trace_id on a GPU stream with its class (gpu_class) and duration (ns).
SELECT gpu_class(e.kind, coalesce(e.name, '')) AS class, e.dur_ns
FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
WHERE e.trace_id = $trace_id AND l.kind = 'gpu_stream' AND e.kind = 'kernel' AND e.dur_ns > 0;
