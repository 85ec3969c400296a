-- The roofline per kernel: each kernel name with the operator shape that launched it (the innermost
-- modelled operator open around its launch call, as in op_roofline), the FLOPs and bytes that shape
-- implies, and the throughput the kernel achieved. An operator that launched several kernels splits
-- its FLOPs and bytes over them by their share of its GPU time, so every kernel of one operator
-- shows that operator's throughput; an operator with one kernel (most GEMMs) gives that kernel's own.
-- @include ops hardware
-- @param trace_id BIGINT        trace to analyse
-- @param gpu VARCHAR = ''       preset whose roofs to use (gpus.toml key; empty: the trace's GPU)
-- @param top_n BIGINT = 30      how many rows to return, by GPU time
-- @column kernel VARCHAR        kernel name
-- @column op VARCHAR            the operator that launched it
-- @column dims VARCHAR          the operator's "Input Dims"
-- @column dtype VARCHAR         its first input's type
-- @column kernels BIGINT        launches of this kernel by this shape
-- @column gpu_ns BIGINT         their durations, summed
-- @column gflops DOUBLE         their share of the operator's FLOPs, 1e9
-- @column flop_per_byte DOUBLE  the operator's arithmetic intensity
-- @column achieved_tflops DOUBLE
-- @column achieved_tb_s DOUBLE
-- @column bound VARCHAR         compute | memory, at the intensity against the preset's ridge point
-- @column pct_of_roof DOUBLE    achieved throughput as a share of the binding roof's at its intensity
-- @column preset VARCHAR
-- @empty no kernel was launched by an operator with recorded shapes (record_shapes off, or a CPU-only trace)
WITH
grouped AS (  -- each kernel's share of its operator's work (kernel_work, retime/foundation/ops.sql), by kernel name and shape
    SELECT kernel, shape_id, bool_or(tf32) AS tf32, count(*) AS kernels, sum(ns)::BIGINT AS gpu_ns,
           sum(flops) AS flops, sum(bytes) AS bytes
    FROM kernel_work($trace_id)
    GROUP BY kernel, shape_id
),
shapes AS (  -- the shapes' text, once per shape
    SELECT shape_id, any_value(name) AS op, any_value(dims) AS dims, any_value(dtype) AS dtype, any_value(tensor) AS tensor
    FROM op_work WHERE trace_id = $trace_id AND shape_id IN (SELECT shape_id FROM grouped) GROUP BY shape_id
),
s AS (SELECT * FROM grouped JOIN shapes USING (shape_id))
SELECT s.kernel, s.op, s.dims, s.dtype, s.kernels, s.gpu_ns, round(s.flops / 1e9, 3) AS gflops,
       round(s.flops / nullif(s.bytes, 0), 2) AS flop_per_byte,
       round(s.flops / nullif(s.gpu_ns, 0) / 1e3, 3) AS achieved_tflops,
       round(s.bytes / nullif(s.gpu_ns, 0) / 1e3, 4) AS achieved_tb_s,
       roof_bound(s.flops / nullif(s.bytes, 0), r.roof, r.hbm_tb_s) AS bound,
       roof_pct(s.flops / nullif(s.gpu_ns, 0) / 1e3, s.flops / nullif(s.bytes, 0), r.roof, r.hbm_tb_s) AS pct_of_roof,
       r.preset
FROM s
LEFT JOIN LATERAL (SELECT preset, hbm_tb_s,
                          compute_roof(s.dtype, s.tensor, s.tf32, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops) AS roof
                   FROM roofs($trace_id, $gpu)) r ON true  -- retime/foundation/hardware.sql
ORDER BY s.gpu_ns DESC, s.kernel, s.op, s.dims
LIMIT $top_n;
