-- A trace's iteration time as replays compare it: the median window matching $window (ProfilerStep#N
-- by default; any annotation or NVTX range: annotation_windows, retime/foundation/host.sql; the
-- median, so a first step that warms caches does not decide it), and its span (trace_spans, the
-- same file: the events a replay moves, first start to last end).
SELECT (SELECT median(we - ws)::BIGINT FROM annotation_windows($trace_id, $window)) AS step_ns,
       (SELECT span_ns FROM trace_spans() WHERE trace_id = $trace_id) AS span_ns;
