-- Every kernel of trace $trace_id on a GPU stream, as the per-kernel model's calibration reads it:
-- its class (gpu_class), duration (ns) and, where the operator that launched it recorded its
-- shapes (kernel_work, retime/foundation/ops.sql), its arithmetic intensity, compute roof
-- (roof_type, as its index in $roof_types) and the operator's key: name, dims and type with its occurrence among the trace's
-- operators of that shape in time order, the same on two runs of one script (NULLs elsewhere).
WITH work AS (
    SELECT w.kernel_id, w.flops / w.bytes AS flop_per_byte, roof_type(w.dtype, w.tensor, w.tf32) AS roof,
           w.name || ' | ' || w.dims || ' | ' || coalesce(w.dtype, '') || ' | '
               || dense_rank() OVER (PARTITION BY w.name, w.dims, w.dtype ORDER BY o.ts_ns, o.event_id) AS op_key
    FROM kernel_work($trace_id) w JOIN events o ON o.trace_id = $trace_id AND o.event_id = w.event_id
    WHERE w.bytes > 0
)
SELECT gpu_class(e.kind, coalesce(e.name, '')) AS class, e.dur_ns, coalesce(w.flop_per_byte, 'NaN'::DOUBLE) AS flop_per_byte,
       coalesce(list_position($roof_types::VARCHAR[], w.roof) - 1, -1) AS roof, coalesce(w.op_key, '') AS op_key
FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
LEFT JOIN work w ON w.kernel_id = e.event_id
WHERE e.trace_id = $trace_id AND l.kind = 'gpu_stream' AND e.kind = 'kernel' AND e.dur_ns > 0;
