-- The derived rows of trace `trace_id` about its GPU ops: gpu_timeline, op_work (the costed
-- operators with their kernels' time), then gpu_busy_islands, gpu_launch_queue, gpu_stream_gaps,
-- gpu_overlap and gpu_device_time (schema.sql says why
-- each table exists), after derive_operators.sql. Needs the foundation modules
-- gpu and ops (retime/foundation/) and derived_call_stacks (each launch call's open CPU slices and
-- the innermost costed and categorised of them, retime/store/nesting.py), registered by retime/store/derived.py.

-- each GPU op name's class, matched once per distinct name (gpu_class)
CREATE OR REPLACE TEMP TABLE derived_gpu_names AS
SELECT kind, name, gpu_class(kind, coalesce(name, '')) AS class
FROM (SELECT DISTINCT kind, name FROM events
      WHERE trace_id = getvariable('trace_id') AND is_gpu_op(kind));

INSERT INTO gpu_timeline BY NAME
WITH launch AS (
    SELECT d.dst_event_id AS event_id, arg_max(c.event_id, c.ts_ns) AS call_event_id,
           arg_max(c.name, c.ts_ns) AS call_name, max(c.ts_ns) AS call_ts_ns
    FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
    WHERE d.trace_id = getvariable('trace_id') AND d.kind = 'launch'
    GROUP BY d.dst_event_id
)
SELECT e.trace_id, e.event_id, e.kind, e.name, class_resource(c.class) AS resource, l.device, l.stream, e.ts_ns,
       e.ts_ns + e.dur_ns AS end_ns, launch.call_event_id, launch.call_name, launch.call_ts_ns, stacks.call_stack,
       CASE WHEN e.kind = 'kernel' THEN stacks.op_event_id END AS op_event_id,
       gpu_op_category(e.kind, c.class, stacks.category) AS category,  -- by kind first: only a kernel takes its operator's
       CASE WHEN e.kind = 'kernel' AND stacks.category IS NOT NULL THEN 'operator' ELSE 'kernel' END AS category_source,
       coalesce(CASE WHEN e.kind = 'kernel' THEN stacks.category_operator END, e.name) AS category_operator
FROM events e
JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
LEFT JOIN launch USING (event_id)
LEFT JOIN derived_call_stacks stacks USING (call_event_id)  -- registered by retime/store/derived.py (retime/store/nesting.py)
JOIN derived_gpu_names c ON c.kind = e.kind AND c.name IS NOT DISTINCT FROM e.name
WHERE e.trace_id = getvariable('trace_id') AND is_gpu_op(e.kind)
  AND e.dur_ns IS NOT NULL
ORDER BY l.device, e.ts_ns, e.event_id;

INSERT INTO op_work BY NAME
SELECT getvariable('trace_id') AS trace_id, c.event_id, c.shape_id, c.name, c.dims, c.dtype, c.category, c.model,
       c.tensor, c.tf32, c.flops, c.bytes, coalesce(k.kernel_ns, 0) AS kernel_ns,
       coalesce(k.tf32_kernels, false) AS tf32_kernels
FROM derived_op_costs c
LEFT JOIN (SELECT g.op_event_id AS event_id, sum(g.end_ns - g.ts_ns) AS kernel_ns, bool_or(n.tf32) AS tf32_kernels
           FROM gpu_timeline g
           JOIN tf32_kernel_names(getvariable('trace_id')) n ON n.name IS NOT DISTINCT FROM g.name  -- retime/foundation/ops.sql
           WHERE g.trace_id = getvariable('trace_id') AND g.op_event_id IS NOT NULL GROUP BY 1) k USING (event_id);

INSERT INTO gpu_busy_islands BY NAME
SELECT getvariable('trace_id') AS trace_id, 'compute' AS resources, device, lo, hi, prev_hi, before_ns
FROM busy_islands_covered(getvariable('trace_id'), ['compute'])
UNION ALL
SELECT getvariable('trace_id'), 'any', device, lo, hi, prev_hi, before_ns
FROM busy_islands_covered(getvariable('trace_id'), ['compute', 'communication', 'memory']);

INSERT INTO gpu_launch_queue BY NAME
SELECT getvariable('trace_id') AS trace_id, event_id, device, call_t AS call_ts_ns, depth FROM launch_queue(getvariable('trace_id'));

INSERT INTO gpu_stream_gaps BY NAME SELECT getvariable('trace_id') AS trace_id, * FROM stream_gaps(getvariable('trace_id'));

INSERT INTO gpu_overlap BY NAME SELECT getvariable('trace_id') AS trace_id, * FROM gpu_combinations(getvariable('trace_id'));

INSERT INTO gpu_device_time BY NAME
SELECT getvariable('trace_id') AS trace_id, device, span_ns, compute_ns, comm_overlapped_ns, comm_exposed_ns, memory_only_ns, busy_ns
FROM (SELECT lane_device AS device, max(end_ns) - min(ts_ns) AS span_ns FROM gpu_spans(getvariable('trace_id')) GROUP BY 1)
JOIN gpu_time_split(getvariable('trace_id')) USING (device);

DROP TABLE derived_gpu_names;
DROP TABLE derived_op_costs;
