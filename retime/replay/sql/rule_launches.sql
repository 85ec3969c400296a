-- The GPU ops launched under the events a --scale / --remove rule names ($pattern, a regular
-- expression on event names): kernels, copies and memsets whose launch call ran inside such an
-- event (gpu_timeline.call_stack) and that no rule of the scenario ($patterns) names itself. A rule times only its
-- events' own host time, so these keep theirs. One row: how many, their GPU time, and the names of
-- the three longest by total time.
WITH named AS (
    SELECT event_id FROM events WHERE trace_id = $trace_id AND regexp_matches(coalesce(name, ''), $pattern)
),
launched AS (
    SELECT DISTINCT s.event_id
    FROM (SELECT event_id, unnest(call_stack) AS ancestor FROM gpu_timeline
          WHERE trace_id = $trace_id AND call_stack IS NOT NULL) s
    WHERE s.ancestor IN (SELECT event_id FROM named)
),
ops AS (
    SELECT g.name, g.end_ns - g.ts_ns AS ns FROM gpu_timeline g JOIN launched l USING (event_id)
    WHERE g.trace_id = $trace_id
      AND NOT list_bool_or(list_transform($patterns::VARCHAR[], lambda p: regexp_matches(coalesce(g.name, ''), p)))
),
by_name AS (SELECT name, sum(ns) AS ns FROM ops GROUP BY name)
SELECT (SELECT count(*) FROM ops) AS gpu_ops, (SELECT coalesce(sum(ns), 0) FROM ops)::BIGINT AS gpu_ns,
       (SELECT list(name ORDER BY ns DESC) FROM (SELECT * FROM by_name ORDER BY ns DESC LIMIT 3)) AS top_names;
