-- How close each operator shape came to the roofline of the GPU it ran on: per CPU operator name
-- and recorded input shape (torch.profiler record_shapes=True), the FLOPs and bytes its shapes imply
-- (retime/foundation/op_rules.toml and ops.sql), the GPU time of the kernels it launched, the
-- achieved throughput, and the share of each roof (the compute peak of its data type and the HBM
-- peak of the trace's GPU preset, retime/foundation/gpus.toml). A kernel belongs to the innermost
-- modelled operator open around its launch call (gpu_timeline.call_stack), so aten::linear's GEMM
-- counts once, under aten::addmm. Concurrent kernels each count their whole duration. FP32
-- matmuls are held to the FP32 peak unless a kernel's name shows TF32 tensor cores (tf32_kernel).
-- @include hardware
-- @param trace_id BIGINT        trace to analyse
-- @param gpu VARCHAR = ''       preset whose roofs to use (gpus.toml key, e.g. h100; empty: the trace's GPU)
-- @param top_n BIGINT = 30      how many shapes to return, by GPU time
-- @column op VARCHAR            CPU operator name
-- @column dims VARCHAR          its "Input Dims" as recorded
-- @column dtype VARCHAR         its first input's type (float matmuls on TF32 kernels: roof of TF32)
-- @column category VARCHAR      gemm | attention | conv | norm | elementwise
-- @column calls BIGINT          instances that launched a kernel
-- @column gpu_ns BIGINT         their kernels' durations, summed
-- @column gflops DOUBLE         FLOPs of those instances, 1e9
-- @column gbytes DOUBLE         bytes they read and wrote at least once, 1e9
-- @column flop_per_byte DOUBLE  arithmetic intensity
-- @column achieved_tflops DOUBLE  FLOPs over GPU time, 1e12 per second
-- @column achieved_tb_s DOUBLE  bytes over GPU time, 1e12 per second
-- @column compute_roof_tflops DOUBLE  dense peak of its data type on the preset (matrix units for gemm / attention / conv)
-- @column memory_roof_tb_s DOUBLE     HBM peak of the preset
-- @column bound VARCHAR         which roof binds at its intensity: compute | memory (NULL without a preset)
-- @column pct_of_roof DOUBLE    achieved throughput as a share of the binding roof's at its intensity
-- @column preset VARCHAR        the preset the roofs come from
-- @empty no operator with recorded shapes launched a kernel (record_shapes off, a CPU-only trace, or no modelled operator)
WITH
shapes AS (  -- op_work: op_costs' rows (retime/foundation/ops.sql) with their kernels' time, written with the
             -- trace; grouped by the shape's number, its text taken once per group
    SELECT any_value(name) AS op, any_value(dims) AS dims, any_value(dtype) AS dtype, any_value(category) AS category,
           any_value(tensor) AS tensor, bool_or(tf32 OR (dtype = 'float' AND tensor AND tf32_kernels)) AS tf32,
           count(*) AS calls, sum(kernel_ns)::BIGINT AS gpu_ns, sum(flops) AS flops, sum(bytes) AS bytes
    FROM op_work
    WHERE trace_id = $trace_id AND kernel_ns > 0
    GROUP BY shape_id
)
SELECT s.op, s.dims, s.dtype, s.category, s.calls, s.gpu_ns,
       round(s.flops / 1e9, 3) AS gflops, round(s.bytes / 1e9, 4) AS gbytes,
       round(s.flops / s.bytes, 2) AS flop_per_byte,
       round(s.flops / nullif(s.gpu_ns, 0) / 1e3, 3) AS achieved_tflops,
       round(s.bytes / nullif(s.gpu_ns, 0) / 1e3, 4) AS achieved_tb_s,
       r.roof AS compute_roof_tflops, r.hbm_tb_s AS memory_roof_tb_s,
       roof_bound(s.flops / s.bytes, r.roof, r.hbm_tb_s) AS bound,
       roof_pct(s.flops / nullif(s.gpu_ns, 0) / 1e3, s.flops / s.bytes, r.roof, r.hbm_tb_s) AS pct_of_roof,
       r.preset
FROM shapes s
LEFT JOIN LATERAL (SELECT preset, hbm_tb_s,
                          compute_roof(s.dtype, s.tensor, s.tf32, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops) AS roof
                   FROM roofs($trace_id, $gpu)) r ON true  -- retime/foundation/hardware.sql
ORDER BY s.gpu_ns DESC, s.op, s.dims
LIMIT $top_n;
