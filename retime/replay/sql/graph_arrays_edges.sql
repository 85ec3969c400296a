-- Replay edges sorted by destination (CSR over incoming edges), with their class as an index into
-- the edge_classes list the engine passes.
SELECT dst, src, base_lag, (list_position(getvariable('edge_classes'), edge_class) - 1)::BIGINT AS edge_class,
       coalesce(bytes, -1)::BIGINT AS bytes, offset_ns::BIGINT AS offset_ns
FROM replay_edges ORDER BY dst, src;
