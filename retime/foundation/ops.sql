-- CPU operators as the roofline and attribution queries see them: each op's category, and the
-- FLOPs and bytes its recorded shapes imply (formulas named in op_rules.toml, written out here).
-- @include _op_rules hardware

-- A CPU operator's name without what torch.autograd.profiler.emit_nvtx appends to its NVTX range
-- ("aten::copy_, op_id = 317175", "aten::addmm, seq = 12, op_id = 5, sizes = [...]"), so the ranges
-- of one operator in an Nsight trace share its name.
-- @arg name VARCHAR the event's name
-- @returns VARCHAR the operator's name without overload suffixes
CREATE OR REPLACE TEMP MACRO op_name(name) AS
    regexp_replace(name, ', (seq|op_id|sizes|input_op_ids) = .*$', '');

-- The category of a CPU operator name (op_rules.toml: the first rule whose pattern matches), NULL
-- when no rule names it.
-- @arg name VARCHAR the event's name
-- @returns VARCHAR op_rules.toml's category; NULL where no rule matches
CREATE OR REPLACE TEMP MACRO op_category(name) AS
    (SELECT category FROM op_rules WHERE priority = op_rule(coalesce(name, '')));  -- op_rule: the first match (foundation.load)

-- The category of a GPU op (op_categories): collectives are communication and copies / memsets
-- memory by their kind; a kernel takes the category of the innermost categorised CPU operator around
-- its launch call (operator_category, NULL when none), else its own class (gpu_class: convolution
-- -> conv, reduction -> elementwise, the rest as named). Written to gpu_timeline.category.
-- @arg kind VARCHAR events.kind of the op
-- @arg class VARCHAR a gpu_class value
-- @arg operator_category VARCHAR the category of the op's launching operator (op_category); NULL without one
-- @returns VARCHAR gemm | attention | conv | norm | elementwise | communication | memory | other
CREATE OR REPLACE TEMP MACRO gpu_op_category(kind, class, operator_category) AS
    CASE WHEN kind = 'collective' THEN 'communication' WHEN kind IN ('memcpy', 'memset') THEN 'memory'
         WHEN operator_category IS NOT NULL THEN operator_category
         ELSE CASE class WHEN 'convolution' THEN 'conv' WHEN 'reduction' THEN 'elementwise' ELSE class END END;

-- Bytes per element of a torch.profiler "Input type" (NULL for what is not a tensor's type).
-- @arg dtype VARCHAR element type as the trace writes it (float, c10::BFloat16, ...)
-- @returns DOUBLE bytes per element
CREATE OR REPLACE TEMP MACRO dtype_bytes(dtype) AS
    CASE WHEN dtype IN ('double', 'long', 'c10::complex<float>', 'int64') THEN 8
         WHEN dtype IN ('float', 'int', 'float32', 'int32') THEN 4
         WHEN dtype IN ('c10::Half', 'c10::BFloat16', 'short', 'half', 'bfloat16') THEN 2
         WHEN dtype IN ('bool', 'unsigned char', 'signed char', 'char') OR dtype LIKE 'c10::Float8%' THEN 1 END;

-- Elements of a tensor of dims d (NULL for an empty list: a scalar or no tensor).
-- @arg d BIGINT[] a tensor's dims
-- @returns DOUBLE its elements
CREATE OR REPLACE TEMP MACRO numel(d) AS
    CASE WHEN len(d) > 0 THEN list_reduce(d, lambda a, b: a * b)::DOUBLE END;

-- Output length of a convolution along one axis.
-- @arg size BIGINT an input's extent
-- @arg kernel BIGINT the kernel's extent
-- @arg stride BIGINT stride
-- @arg pad BIGINT padding
-- @arg dilation BIGINT dilation
-- @returns BIGINT the output's extent
CREATE OR REPLACE TEMP MACRO conv_out(size, kernel, stride, pad, dilation) AS
    floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;

-- FLOPs and bytes of a 2-D convolution: input d[1] [N,C,H,W], weight d[2] [O,C/g,kh,kw] (n: their
-- element counts), stride st, padding pd and dilation dl (two each).
-- @arg d BIGINT[][] the operator's input dims
-- @arg n DOUBLE[] each input's elements (numel; NULL for a scalar)
-- @arg elt DOUBLE bytes per element
-- @arg st BIGINT[] stride
-- @arg pd BIGINT[] padding
-- @arg dl BIGINT[] dilation
-- @returns STRUCT(flops DOUBLE, bytes DOUBLE) FLOPs and bytes of a convolution
CREATE OR REPLACE TEMP MACRO conv_cost(d, n, elt, st, pd, dl) AS
    {'flops': 2.0 * d[1][1] * d[2][1] * conv_out(d[1][3], d[2][3], st[1], pd[1], dl[1])
                  * conv_out(d[1][4], d[2][4], st[2], pd[2], dl[2]) * d[2][2] * d[2][3] * d[2][4],
     'bytes': elt * (n[1] + n[2] + 1.0 * d[1][1] * d[2][1]
                     * conv_out(d[1][3], d[2][3], st[1], pd[1], dl[1]) * conv_out(d[1][4], d[2][4], st[2], pd[2], dl[2]))};

-- FLOPs and bytes of one op from its model (op_rules.toml), input dims d, their element counts n
-- (numel of each input, NULL for a scalar), element size, a convolution's stride, padding and
-- dilation (Concrete Inputs 4 to 6, parsed) and whether it was causal attention: a struct
-- {flops, bytes}, NULL fields where the shapes do not fit the model.
-- @arg model VARCHAR the op_rules.toml cost model (mm, addmm, sdpa, conv, ...)
-- @arg d BIGINT[][] the operator's input dims
-- @arg n DOUBLE[] each input's elements (numel; NULL for a scalar)
-- @arg elt DOUBLE bytes per element
-- @arg st BIGINT[] stride
-- @arg pd BIGINT[] padding
-- @arg dl BIGINT[] dilation
-- @arg causal BOOLEAN attention is causal
-- @returns STRUCT(flops DOUBLE, bytes DOUBLE) FLOPs and bytes of the operator under its model
CREATE OR REPLACE TEMP MACRO op_cost(model, d, n, elt, st, pd, dl, causal) AS
    CASE model
    WHEN 'mm' THEN {'flops': 2.0 * d[1][1] * d[1][2] * d[2][2],
                    'bytes': elt * (n[1] + n[2] + 1.0 * d[1][1] * d[2][2])}
    WHEN 'addmm' THEN {'flops': 2.0 * d[2][1] * d[2][2] * d[3][2] + 1.0 * d[2][1] * d[3][2],
                       'bytes': elt * (coalesce(n[1], 0) + n[2] + n[3] + 1.0 * d[2][1] * d[3][2])}
    WHEN 'bmm' THEN {'flops': 2.0 * d[1][1] * d[1][2] * d[1][3] * d[2][3],
                     'bytes': elt * (n[1] + n[2] + 1.0 * d[1][1] * d[1][2] * d[2][3])}
    WHEN 'baddbmm' THEN {'flops': 2.0 * d[2][1] * d[2][2] * d[2][3] * d[3][3] + 1.0 * d[2][1] * d[2][2] * d[3][3],
                         'bytes': elt * (coalesce(n[1], 0) + n[2] + n[3] + 1.0 * d[2][1] * d[2][2] * d[3][3])}
    WHEN 'linear' THEN {'flops': 2.0 * n[1] * d[2][1],
                        'bytes': elt * (n[1] + n[2] + coalesce(n[3], 0) + n[1] / d[1][-1] * d[2][1])}
    WHEN 'sdpa' THEN {'flops': 4.0 * n[1] * d[2][-2] / CASE WHEN causal AND d[1][-2] = d[2][-2] THEN 2 ELSE 1 END,
                      'bytes': elt * (2 * n[1] + n[2] + n[3])}
    WHEN 'sdpa_bwd' THEN {'flops': 10.0 * n[2] * d[3][-2] / CASE WHEN causal AND d[2][-2] = d[3][-2] THEN 2 ELSE 1 END,
                          'bytes': elt * (3 * n[2] + 2 * n[3] + 2 * n[4])}
    WHEN 'flash_fwd' THEN {'flops': 4.0 * n[1] * d[2][2] / CASE WHEN causal AND d[1][2] = d[2][2] THEN 2 ELSE 1 END,
                           'bytes': elt * (2 * n[1] + n[2] + n[3])}
    WHEN 'conv' THEN
        CASE WHEN len(d[1]) = 4 AND len(d[2]) = 4 AND len(st) = 2 AND len(pd) = 2 AND len(dl) = 2 THEN conv_cost(d, n, elt, st, pd, dl) END
    WHEN 'pointwise' THEN {'flops': list_max(n), 'bytes': elt * (coalesce(list_sum(n), 0) + list_max(n))}
    WHEN 'reduce' THEN {'flops': n[1], 'bytes': elt * n[1]}
    WHEN 'softmax' THEN {'flops': n[1], 'bytes': 2 * elt * n[1]}
    WHEN 'norm' THEN {'flops': 5 * n[1], 'bytes': 2 * elt * n[1]}
    END;

-- gemm_shape's answer from input dims already parsed.
-- @arg model VARCHAR the op_rules.toml cost model (mm, addmm, sdpa, conv, ...)
-- @arg d BIGINT[][] the operator's input dims
-- @returns STRUCT(m BIGINT, n BIGINT, k BIGINT) the GEMM's m, n, k
CREATE OR REPLACE TEMP MACRO _gemm_dims(model, d) AS
    CASE model
    WHEN 'mm' THEN {'m': d[1][1], 'n': d[2][2], 'k': d[1][2]}
    WHEN 'addmm' THEN {'m': d[2][1], 'n': d[3][2], 'k': d[2][2]}
    WHEN 'bmm' THEN {'m': d[1][1] * d[1][2], 'n': d[2][3], 'k': d[1][3]}
    WHEN 'baddbmm' THEN {'m': d[2][1] * d[2][2], 'n': d[3][3], 'k': d[2][3]}
    WHEN 'linear' THEN {'m': list_product(d[1][1:len(d[1]) - 1])::BIGINT, 'n': d[2][1], 'k': d[1][-1]}
    END;

-- The GEMM an op of a matmul model runs, from its recorded input dims as written (dims_text): a
-- struct {m, n, k} of [m, k] x [k, n], a batch folded into m (bmm's B x [M, K] x [K, N] is
-- [B M, K] x [K, N]: the same FLOPs and weight bytes), NULL for other models or dims that do not fit.
-- The per-kernel model of --to looks measured GEMM latencies up by it (retime/replay/kernel_db.py).
-- @arg model VARCHAR the op_rules.toml cost model (mm, addmm, sdpa, conv, ...)
-- @arg dims_text VARCHAR "Input Dims" as written
-- @returns STRUCT(m BIGINT, n BIGINT, k BIGINT) the GEMM's m, n, k; NULL where the dims do not say
CREATE OR REPLACE TEMP MACRO gemm_shape(model, dims_text) AS _gemm_dims(model, TRY_CAST(dims_text AS BIGINT[][]));

-- kernel_shape's answer from input dims already parsed.
-- @arg model VARCHAR the op_rules.toml cost model (mm, addmm, sdpa, conv, ...)
-- @arg d BIGINT[][] the operator's input dims
-- @returns STRUCT(m BIGINT, n BIGINT, k BIGINT) the shape kernel_db reads
CREATE OR REPLACE TEMP MACRO _kernel_dims(model, d) AS
    CASE WHEN model = 'sdpa' AND len(d[1]) = 4 AND d[1][4] BETWEEN 32 AND 256 THEN {'m': d[1][1], 'n': d[1][3], 'k': d[1][2]}
         WHEN model = 'flash_fwd' AND len(d[1]) = 4 AND d[1][4] BETWEEN 32 AND 256 THEN {'m': d[1][1], 'n': d[1][2], 'k': d[1][3]}
         ELSE _gemm_dims(model, d) END;

-- The shape a kernel's measured latencies are looked up by (retime/replay/kernel_db.py), from its operator's
-- model and dims: a GEMM's (m, n, k) (gemm_shape); a forward attention's (batch, sequence, heads) from
-- its query, [b, h, s, d] for SDPA and [b, s, h, d] for flash attention, where the head size is
-- between 32 and 256 (the measured attention has head size 128: the shape's ratio across parts
-- stands for every head size in that range). NULL for other models.
-- @arg model VARCHAR the op_rules.toml cost model (mm, addmm, sdpa, conv, ...)
-- @arg dims_text VARCHAR "Input Dims" as written
-- @returns STRUCT(m BIGINT, n BIGINT, k BIGINT) a GEMM's (m, n, k) or an attention's (batch, sequence, heads) as (m, n, k); NULL where unknown
CREATE OR REPLACE TEMP MACRO kernel_shape(model, dims_text) AS _kernel_dims(model, TRY_CAST(dims_text AS BIGINT[][]));

-- Every CPU operator of trace t that a rule with a model names and whose shapes were recorded:
-- event_id, shape_id (one number per distinct operator, dims, dtype and concrete inputs: the key to
-- group by), name, dims and dtype as written, category, model, the roof it runs against (tensor: matrix units; tf32: a cuDNN convolution on FP32) and flops / bytes.
-- A run repeats a few shapes: each distinct (operator, shape, type, concrete inputs) is parsed and
-- costed once.
-- @arg t BIGINT the trace
-- @column event_id BIGINT
-- @column shape_id BIGINT
-- @column name VARCHAR
-- @column dims VARCHAR
-- @column dtype VARCHAR
-- @column category VARCHAR
-- @column model VARCHAR
-- @column tensor BOOLEAN
-- @column tf32 BOOLEAN
-- @column flops DOUBLE
-- @column bytes DOUBLE
CREATE OR REPLACE TEMP MACRO op_costs(t) AS TABLE
    WITH
    names AS (
        SELECT n.name, r.category, r.model, r.causal_arg
        FROM (SELECT DISTINCT name FROM op_shapes WHERE trace_id = t) n
        JOIN op_rules r ON r.priority = op_rule(n.name)  -- the first rule that matches (foundation.load)
    ),
    shaped AS (  -- the shapes as recorded, taken out of args when the trace was written (op_shapes)
        SELECT s.event_id, s.name, s.dims AS dims_text, s.dtype, s.concrete AS concrete_text
        FROM op_shapes s JOIN names n ON n.name = s.name AND n.model IS NOT NULL
        WHERE s.trace_id = t
    ),
    keys AS (
        SELECT *, row_number() OVER (ORDER BY name, dims_text, dtype, concrete_text) AS shape_id  -- the same numbers run after run
        FROM (SELECT DISTINCT name, dims_text, dtype, concrete_text FROM shaped WHERE dims_text IS NOT NULL)
    ),
    parsed AS (  -- each text parsed once, so op_cost's many uses of its arguments repeat a column, not a cast
        SELECT k.*, n.category, n.model, TRY_CAST(k.dims_text AS BIGINT[][]) AS d, dtype_bytes(k.dtype) AS elt,
               TRY_CAST(k.concrete_text AS VARCHAR[]) AS concrete, n.causal_arg
        FROM keys k JOIN names n USING (name)
    ),
    parsed_inputs AS (
        SELECT *, TRY_CAST(concrete[4] AS BIGINT[]) AS st, TRY_CAST(concrete[5] AS BIGINT[]) AS pd,
               TRY_CAST(concrete[6] AS BIGINT[]) AS dl, list_transform(d, lambda x: numel(x)) AS n
        FROM parsed
    ),
    costed AS MATERIALIZED (  -- cost read four times below: computed (and planned) once
        SELECT name, dims_text, dtype, concrete_text, shape_id, category, model,
               op_cost(model, d, n, elt, st, pd, dl, coalesce(lower(concrete[causal_arg]) = 'true', false)) AS cost
        FROM parsed_inputs
    )
    SELECT s.event_id, c.shape_id, s.name, s.dims_text AS dims, s.dtype, c.category, c.model,
           c.category IN ('gemm', 'attention', 'conv') AS tensor, c.category = 'conv' AND s.dtype = 'float' AS tf32,
           c.cost.flops, c.cost.bytes
    FROM shaped s
    JOIN costed c ON c.name = s.name AND c.dims_text = s.dims_text AND c.dtype IS NOT DISTINCT FROM s.dtype
                 AND c.concrete_text IS NOT DISTINCT FROM s.concrete_text
    WHERE c.cost.flops IS NOT NULL AND c.cost.bytes > 0;

-- Each kernel of trace t with the innermost operator of op_costs open around its launch call
-- (gpu_timeline.call_stack) and that operator's costs: aten::linear -> aten::addmm -> GEMM
-- belongs to aten::addmm. Both are found once, when the trace is written: the operator in
-- gpu_timeline.op_event_id (retime/store/nesting.py walks each call's stack), its costs in op_work
-- (op_costs' rows). Kernels under no modelled operator are left out.
-- @arg t BIGINT the trace
-- @column kernel_id BIGINT the kernel's event id
-- @column kernel VARCHAR its name
-- @column ns BIGINT its duration
-- @column event_id BIGINT the operator
-- @column shape_id BIGINT
-- @column name VARCHAR
-- @column dims VARCHAR
-- @column dtype VARCHAR
-- @column category VARCHAR
-- @column model VARCHAR
-- @column tensor BOOLEAN
-- @column tf32 BOOLEAN
-- @column flops DOUBLE
-- @column bytes DOUBLE
-- @column kernel_ns BIGINT the operator's kernels' time, summed
CREATE OR REPLACE TEMP MACRO kernel_costs(t) AS TABLE
    SELECT g.event_id AS kernel_id, g.name AS kernel, g.end_ns - g.ts_ns AS ns,
           w.event_id, w.shape_id, w.name, w.dims, w.dtype, w.category, w.model, w.tensor, w.tf32, w.flops, w.bytes, w.kernel_ns
    FROM gpu_timeline g JOIN op_work w ON w.trace_id = g.trace_id AND w.event_id = g.op_event_id
    WHERE g.trace_id = t AND g.op_event_id IS NOT NULL;

-- The names of trace t's kernels that have a roofline operator (gpu_timeline.op_event_id), each
-- with whether it shows TF32 tensor cores (tf32_kernel, hardware.sql): matched once per distinct name.
-- @arg t BIGINT the trace
-- @column name VARCHAR
-- @column tf32 BOOLEAN
CREATE OR REPLACE TEMP MACRO tf32_kernel_names(t) AS TABLE
    SELECT name, tf32_kernel(name) AS tf32
    FROM (SELECT DISTINCT name FROM gpu_timeline WHERE trace_id = t AND op_event_id IS NOT NULL);

-- The work of each kernel of trace t, as the roofline queries and the per-kernel performance model
-- of `--to` (retime/replay/kernel_model.py) both read it: kernel_costs' rows, an operator that launched
-- several kernels splitting its FLOPs and bytes over them by their share of its GPU time (so each
-- keeps the operator's intensity), and `tf32` also true for an FP32 matmul whose kernel name shows
-- it ran on TF32 tensor cores (tf32_kernel in hardware.sql, tested on FP32 matmul kernels only).
-- @arg t BIGINT the trace
-- @column kernel_id BIGINT
-- @column kernel VARCHAR
-- @column ns BIGINT
-- @column event_id BIGINT the operator
-- @column shape_id BIGINT
-- @column name VARCHAR
-- @column dims VARCHAR
-- @column dtype VARCHAR
-- @column category VARCHAR
-- @column model VARCHAR
-- @column tensor BOOLEAN
-- @column tf32 BOOLEAN
-- @column flops DOUBLE
-- @column bytes DOUBLE
CREATE OR REPLACE TEMP MACRO kernel_work(t) AS TABLE
    SELECT k.kernel_id, k.kernel, k.ns, k.event_id, k.shape_id, k.name, k.dims, k.dtype, k.category, k.model, k.tensor,
           k.tf32 OR (k.dtype = 'float' AND k.tensor AND coalesce(n.tf32, false)) AS tf32,
           k.flops * coalesce(k.ns / nullif(k.kernel_ns, 0), 0) AS flops, k.bytes * coalesce(k.ns / nullif(k.kernel_ns, 0), 0) AS bytes
    FROM kernel_costs(t) k
    LEFT JOIN tf32_kernel_names(t) n ON n.name IS NOT DISTINCT FROM k.kernel;
