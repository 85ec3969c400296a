-- The class of every replayed GPU op (gpu_class, as an index into the gpu_classes list the engine
-- passes) and, for a kernel whose operator's shapes were recorded, its arithmetic intensity and its
-- compute roof (an index into roof_types; NaN and -1 where unknown) and its kernel shape (a GEMM's m, n, k; an attention's batch, sequence, heads), which the per-kernel
-- performance model reads; the engine maps them onto the op's points.
SELECT c.event_id, (list_position(getvariable('gpu_classes'), c.class) - 1)::TINYINT AS gpu_class,
       coalesce(kw.flop_per_byte, 'NaN'::DOUBLE) AS flop_per_byte,
       coalesce(list_position(getvariable('roof_types'), kw.roof) - 1, -1)::TINYINT AS roof,
       coalesce(kw.shape.m::DOUBLE, 'NaN') AS shape_1, coalesce(kw.shape.n::DOUBLE, 'NaN') AS shape_2,
       coalesce(kw.shape.k::DOUBLE, 'NaN') AS shape_3
FROM replay_gpu_classes c LEFT JOIN replay_kernel_work kw USING (event_id);
