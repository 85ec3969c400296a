-- The CPU slices (any kind, with a length) on the threads of trace $trace_id that launch GPU work,
-- sorted for retime/store/nesting.py: by thread, start, the longer first, then event id; is_call marks the
-- launch calls whose stacks are wanted; costed marks the operators op_costs costs (the roofline's
-- operator of a kernel); category and operator are set on the operators and annotations that
-- op_rules.toml categorises (op_category of op_name, retime/foundation/ops.sql; op_categories).
WITH calls AS (
    SELECT DISTINCT d.src_event_id AS event_id, c.lane_id
    FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
    WHERE d.trace_id = $trace_id AND d.kind = 'launch'
),
slices AS (
    SELECT e.event_id, e.lane_id, e.ts_ns, e.dur_ns, e.kind, e.name
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = $trace_id AND l.kind = 'cpu_thread' AND e.dur_ns > 0
      AND e.lane_id IN (SELECT lane_id FROM calls)
),
names AS (  -- categorised once per distinct name
    SELECT kind, name, operator, op_category(operator) AS category
    FROM (SELECT kind, name, op_name(name) AS operator
          FROM (SELECT DISTINCT kind, name FROM slices WHERE kind IN ('cpu_op', 'annotation')))
)
SELECT s.event_id, s.lane_id, s.ts_ns, s.ts_ns + s.dur_ns AS end_ns,
       s.event_id IN (SELECT event_id FROM calls) AS is_call,
       s.event_id IN (SELECT event_id FROM derived_op_costs) AS costed,  -- derive_operators.sql
       n.category, CASE WHEN n.category IS NOT NULL THEN n.operator END AS operator
FROM slices s LEFT JOIN names n ON n.kind = s.kind AND n.name IS NOT DISTINCT FROM s.name
ORDER BY s.lane_id, s.ts_ns, s.dur_ns DESC, s.event_id;
