-- The class of every replayed GPU op (gpu_class, as an index into the gpu_classes list the engine
-- passes) and, for a kernel whose operator's shapes were recorded, its arithmetic intensity and its
-- compute roof (an index into roof_types; NaN and -1 where unknown) and a GEMM's m, n, k, which the per-kernel
-- performance model reads; the engine maps them onto the op's points.
SELECT c.event_id, (list_position(getvariable('gpu_classes'), c.class) - 1)::TINYINT AS gpu_class,
       coalesce(kw.flop_per_byte, 'NaN'::DOUBLE) AS flop_per_byte,
       coalesce(list_position(getvariable('roof_types'), kw.roof) - 1, -1)::TINYINT AS roof,
       coalesce(kw.gemm.m::DOUBLE, 'NaN') AS gemm_m, coalesce(kw.gemm.n::DOUBLE, 'NaN') AS gemm_n,
       coalesce(kw.gemm.k::DOUBLE, 'NaN') AS gemm_k
FROM replay_gpu_classes c LEFT JOIN replay_kernel_work kw USING (event_id);
