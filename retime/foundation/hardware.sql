-- The hardware a trace ran on, as the queries compare with it: the peak numbers of the preset
-- (gpus.toml) its GPU names, found as retime/replay/presets.py detect() finds it (the trace's GPU names in
-- order, each tried against the presets in file order; the first match wins).
-- @include _gpu_presets

-- The preset of trace t: one row (preset, hbm_tb_s, bf16_tflops, fp32_tflops, tf32_tflops,
-- fp8_tflops, pcie_gb_s, interconnect_gb_s), none when the trace names no GPU a preset matches.
-- @arg t BIGINT the trace
-- @column preset VARCHAR
-- @column hbm_tb_s DOUBLE
-- @column bf16_tflops DOUBLE
-- @column fp32_tflops DOUBLE
-- @column tf32_tflops DOUBLE
-- @column fp8_tflops DOUBLE
-- @column pcie_gb_s DOUBLE
-- @column interconnect_gb_s DOUBLE
CREATE OR REPLACE TEMP MACRO trace_preset(t) AS TABLE
    SELECT p.preset, p.hbm_tb_s, p.bf16_tflops, p.fp32_tflops, p.tf32_tflops, p.fp8_tflops, p.pcie_gb_s,
           p.interconnect_gb_s
    FROM (SELECT unnest(gpu_names) AS gpu_name, generate_subscripts(gpu_names, 1) AS i FROM traces WHERE trace_id = t) g
    JOIN gpu_presets p ON regexp_matches(g.gpu_name, p.match, 'i')
    ORDER BY g.i, p.priority
    LIMIT 1;

-- The roofs answers are held to: the preset named `gpu` (a gpus.toml key), or trace t's own when
-- gpu is empty. One row (as trace_preset), none when neither names a known part.
-- @arg t BIGINT the trace
-- @arg gpu VARCHAR a gpus.toml preset key; '' for the trace's own
-- @column preset VARCHAR
-- @column hbm_tb_s DOUBLE
-- @column bf16_tflops DOUBLE
-- @column fp32_tflops DOUBLE
-- @column tf32_tflops DOUBLE
-- @column fp8_tflops DOUBLE
-- @column pcie_gb_s DOUBLE
-- @column interconnect_gb_s DOUBLE
CREATE OR REPLACE TEMP MACRO roofs(t, gpu) AS TABLE
    SELECT * FROM trace_preset(t) WHERE gpu = ''
    UNION ALL
    SELECT preset, hbm_tb_s, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops, pcie_gb_s, interconnect_gb_s
    FROM gpu_presets WHERE preset = gpu;

-- Which roof binds work of this intensity (FLOP per byte) under a compute roof (TFLOPS) and an HBM
-- roof (TB/s): compute at or above the ridge point (their ratio), memory below, NULL without roofs.
-- @arg flop_per_byte DOUBLE arithmetic intensity
-- @arg compute_tflops DOUBLE the compute roof, TFLOP/s
-- @arg hbm_tb_s DOUBLE the memory roof, TB/s
-- @returns VARCHAR compute | memory
CREATE OR REPLACE TEMP MACRO roof_bound(flop_per_byte, compute_tflops, hbm_tb_s) AS
    CASE WHEN flop_per_byte >= compute_tflops / hbm_tb_s THEN 'compute' WHEN compute_tflops IS NOT NULL THEN 'memory' END;

-- Achieved TFLOPS as a percentage of the roofline at that intensity: min(compute roof, intensity x HBM).
-- @arg tflops DOUBLE achieved TFLOP/s
-- @arg flop_per_byte DOUBLE arithmetic intensity
-- @arg compute_tflops DOUBLE the compute roof, TFLOP/s
-- @arg hbm_tb_s DOUBLE the memory roof, TB/s
-- @returns DOUBLE percent of the roof at that intensity
CREATE OR REPLACE TEMP MACRO roof_pct(tflops, flop_per_byte, compute_tflops, hbm_tb_s) AS
    round(100 * tflops / least(compute_tflops, flop_per_byte * hbm_tb_s), 2);

-- Which compute roof binds work of a data type: matrix work (`tensor`) on its tensor units at that
-- type's dense peak ('bf16', 'fp8'; FP32 matmuls at the FP32 peak, PyTorch's default, and 'tf32'
-- where `tf32` asks for it), other work at the FP32 vector peak ('fp32'); NULL for a matrix type no
-- roof covers. dtype: the first input's "Input type" as torch.profiler writes it.
-- @arg dtype VARCHAR element type as the trace writes it (float, c10::BFloat16, ...)
-- @arg tensor BOOLEAN runs on the matrix units (gemm, attention, conv)
-- @arg tf32 BOOLEAN a cuDNN FP32 convolution (TF32 tensor cores)
-- @returns VARCHAR bf16 | fp8 | tf32 | fp32: the compute peak it runs against
CREATE OR REPLACE TEMP MACRO roof_type(dtype, tensor, tf32) AS
    CASE WHEN NOT tensor THEN 'fp32'
         WHEN dtype IN ('c10::BFloat16', 'c10::Half', 'bfloat16', 'half', 'float16') THEN 'bf16'
         WHEN dtype LIKE 'c10::Float8%' THEN 'fp8'
         WHEN dtype IN ('float', 'float32') THEN CASE WHEN tf32 THEN 'tf32' ELSE 'fp32' END
         END;

-- The compute roof, TFLOPS, of work of a data type on a preset's row (roof_type's; TF32 falls back
-- to FP32 where a part has none).
-- @arg dtype VARCHAR element type as the trace writes it (float, c10::BFloat16, ...)
-- @arg tensor BOOLEAN runs on the matrix units (gemm, attention, conv)
-- @arg tf32 BOOLEAN a cuDNN FP32 convolution (TF32 tensor cores)
-- @arg bf16_tflops DOUBLE the part's dense BF16 peak
-- @arg fp32_tflops DOUBLE its FP32 peak
-- @arg tf32_tflops DOUBLE its TF32 peak
-- @arg fp8_tflops DOUBLE its FP8 peak
-- @returns DOUBLE the compute peak, TFLOP/s
CREATE OR REPLACE TEMP MACRO compute_roof(dtype, tensor, tf32, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops) AS
    CASE roof_type(dtype, tensor, tf32) WHEN 'fp32' THEN fp32_tflops WHEN 'bf16' THEN bf16_tflops
         WHEN 'fp8' THEN fp8_tflops WHEN 'tf32' THEN coalesce(tf32_tflops, fp32_tflops) END;

-- A kernel whose name shows it ran FP32 inputs on TF32 tensor cores (CUTLASS's s1688 / s16816
-- tensor-op GEMMs, cuBLAS's and cuDNN's *tf32* kernels, AMD's xf32): such an FP32 matmul is held to
-- the TF32 roof, not the FP32 one it outran.
-- @arg name VARCHAR the event's name
-- @returns BOOLEAN the kernel runs on TF32 tensor cores
CREATE OR REPLACE TEMP MACRO tf32_kernel(name) AS
    regexp_matches(coalesce(name, ''), 'tensorop_s1688|tensorop_s16816|tf32|xf32', 'i');
