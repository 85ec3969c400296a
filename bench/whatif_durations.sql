-- What a sum of durations (no dependency graph) says a change costs per step: the H2D copies' bytes
-- and time, and the time of events named like $pattern, inside the ProfilerStep windows, per step.
WITH steps AS (
    SELECT count(*) AS n, min(e.ts_ns) AS lo, max(e.ts_ns + e.dur_ns) AS hi
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = $trace_id AND l.kind = 'cpu_thread' AND regexp_full_match(e.name, 'ProfilerStep#[0-9]+')
)
SELECT coalesce(sum(e.bytes) FILTER (WHERE e.kind = 'memcpy' AND e.copy_kind = 'H2D'), 0) / any_value(s.n) AS h2d_bytes,
       coalesce(sum(e.dur_ns) FILTER (WHERE e.kind = 'memcpy' AND e.copy_kind = 'H2D'), 0) / any_value(s.n) AS h2d_ns,
       coalesce(sum(e.dur_ns) FILTER (WHERE regexp_matches(e.name, $pattern)), 0) / any_value(s.n) AS matched_ns
FROM events e, steps s
WHERE e.trace_id = $trace_id AND e.ts_ns >= s.lo AND e.ts_ns < s.hi;
