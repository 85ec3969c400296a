-- Each kernel's arithmetic intensity, element size (2 where unknown) and compute roof (an index
-- into roof_types, -1 where unknown) and its kernel shape (a GEMM's m, n, k; an attention's batch, sequence, heads) (NaN where unknown), from replay_kernel_work
-- (graph_inputs.sql).
SELECT event_id, coalesce(flop_per_byte, 'NaN'::DOUBLE) AS flop_per_byte, coalesce(elem, 2)::DOUBLE AS elem,
       coalesce(list_position(getvariable('roof_types'), roof) - 1, -1)::TINYINT AS roof,
       coalesce(shape.m::DOUBLE, 'NaN') AS shape_1, coalesce(shape.n::DOUBLE, 'NaN') AS shape_2,
       coalesce(shape.k::DOUBLE, 'NaN') AS shape_3
FROM replay_kernel_work;
