-- The derived rows of trace `trace_id` about its CPU operators, before the GPU ops' (derive_trace.sql
-- reads them): op_shapes, then op_work. Needs the foundation module ops (retime/foundation/ops.sql).

INSERT INTO op_shapes
SELECT trace_id, event_id, name, shapes[1], shapes[2], shapes[3]
FROM (SELECT trace_id, event_id, name,
             json_extract_string(args, ['$."Input Dims"', '$."Input type"[0]', '$."Concrete Inputs"']) AS shapes  -- one parse
      FROM events WHERE trace_id = getvariable('trace_id') AND kind = 'cpu_op' AND args IS NOT NULL)
WHERE shapes[1] IS NOT NULL;

INSERT INTO op_work
SELECT getvariable('trace_id'), event_id, shape_id, name, dims, dtype, category, model, tensor, tf32, flops, bytes
FROM op_costs(getvariable('trace_id'));

INSERT INTO cpu_top_ops
SELECT getvariable('trace_id'), event_id, lane_id, ts_ns, dur_ns FROM outermost_cpu_ops(getvariable('trace_id'));
