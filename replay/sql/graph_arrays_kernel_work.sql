-- Each kernel's arithmetic intensity, element size (2 where unknown) and compute roof (an index
-- into roof_types, -1 where unknown) and a GEMM's m, n, k (NaN where unknown), from replay_kernel_work
-- (graph_inputs.sql).
SELECT event_id, coalesce(flop_per_byte, 'NaN'::DOUBLE) AS flop_per_byte, coalesce(elem, 2)::DOUBLE AS elem,
       coalesce(list_position(getvariable('roof_types'), roof) - 1, -1)::TINYINT AS roof,
       coalesce(gemm.m::DOUBLE, 'NaN') AS gemm_m, coalesce(gemm.n::DOUBLE, 'NaN') AS gemm_n,
       coalesce(gemm.k::DOUBLE, 'NaN') AS gemm_k
FROM replay_kernel_work;
