-- The derived rows of trace `trace_id` about its CPU operators, before the GPU ops' (the nesting pass
-- and derive_trace.sql read them): op_shapes, the costed operators (derived_op_costs, written to
-- op_work by derive_trace.sql once their kernels are known) and cpu_top_ops. Needs the foundation
-- modules host and ops (retime/foundation/).

INSERT INTO op_shapes BY NAME
SELECT trace_id, event_id, name, shapes[1] AS dims, shapes[2] AS dtype, shapes[3] AS concrete
FROM (SELECT trace_id, event_id, name,
             json_extract_string(args, ['$."Input Dims"', '$."Input type"[0]', '$."Concrete Inputs"']) AS shapes  -- one parse
      FROM events WHERE trace_id = getvariable('trace_id') AND kind = 'cpu_op' AND args IS NOT NULL)
WHERE shapes[1] IS NOT NULL;

CREATE OR REPLACE TEMP TABLE derived_op_costs AS SELECT * FROM op_costs(getvariable('trace_id'));

INSERT INTO cpu_top_ops BY NAME
SELECT getvariable('trace_id') AS trace_id, event_id, lane_id, ts_ns, dur_ns FROM outermost_cpu_ops(getvariable('trace_id'));
