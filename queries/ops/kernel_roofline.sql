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
costs AS MATERIALIZED (SELECT * FROM op_costs($trace_id)),
owned AS MATERIALIZED (
    SELECT k.event_id, k.name, k.ns, arg_max(k.ancestor, k.pos) AS op_event_id
    FROM (SELECT event_id, name, end_ns - ts_ns AS ns, unnest(call_stack) AS ancestor,
                 generate_subscripts(call_stack, 1) AS pos
          FROM gpu_timeline WHERE trace_id = $trace_id AND kind = 'kernel' AND call_stack IS NOT NULL) k
    WHERE k.ancestor IN (SELECT event_id FROM costs)
    GROUP BY k.event_id, k.name, k.ns
),
shared AS (  -- each kernel's share of its operator's GPU time
    SELECT o.*, o.ns / nullif(sum(o.ns) OVER (PARTITION BY o.op_event_id), 0) AS share FROM owned o
),
roofs AS (
    SELECT * FROM trace_preset($trace_id) WHERE $gpu = ''
    UNION ALL
    SELECT preset, hbm_tb_s, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops, pcie_gb_s, interconnect_gb_s
    FROM gpu_presets WHERE preset = $gpu
),
grouped AS (  -- by kernel name and the shape's number, the shape's text taken once per group
    SELECT k.name AS kernel, any_value(c.name) AS op, any_value(c.dims) AS dims, any_value(c.dtype) AS dtype,
           any_value(c.tensor) AS tensor, bool_or(c.tf32) AS tf32_op, count(*) AS kernels, sum(k.ns)::BIGINT AS gpu_ns,
           sum(c.flops * coalesce(k.share, 0)) AS flops, sum(c.bytes * coalesce(k.share, 0)) AS bytes
    FROM shared k JOIN costs c ON c.event_id = k.op_event_id
    GROUP BY k.name, c.shape_id
),
rows AS (  -- the kernel name's TF32 test once per row, not once per launch
    SELECT *, tf32_op OR (dtype = 'float' AND tensor AND tf32_kernel(kernel)) AS tf32 FROM grouped
)
SELECT s.kernel, s.op, s.dims, s.dtype, s.kernels, s.gpu_ns, round(s.flops / 1e9, 3) AS gflops,
       round(s.flops / nullif(s.bytes, 0), 2) AS flop_per_byte,
       round(s.flops / nullif(s.gpu_ns, 0) / 1e3, 3) AS achieved_tflops,
       round(s.bytes / nullif(s.gpu_ns, 0) / 1e3, 4) AS achieved_tb_s,
       CASE WHEN s.flops / nullif(s.bytes, 0) >= r.roof / r.hbm_tb_s THEN 'compute'
            WHEN r.roof IS NOT NULL THEN 'memory' END AS bound,
       round(100 * (s.flops / nullif(s.gpu_ns, 0) / 1e3) / least(r.roof, s.flops / nullif(s.bytes, 0) * r.hbm_tb_s), 2) AS pct_of_roof,
       r.preset
FROM rows s
LEFT JOIN LATERAL (SELECT preset, hbm_tb_s,
                          compute_roof(s.dtype, s.tensor, s.tf32, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops) AS roof
                   FROM roofs) r ON true
ORDER BY s.gpu_ns DESC, s.kernel, s.op, s.dims
LIMIT $top_n;
