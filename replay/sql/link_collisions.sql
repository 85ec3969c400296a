-- The transfers of a replay on a topology that got less than they wanted (tables as link_demand.sql
-- reads them), the most delayed first: who (rank, GPU, server), what (kind: h2d, d2h, network; the
-- op's name; bytes), how long alone and shared, and the links it crossed.
SELECT t.rank, t.server, t.gpu, t.kind, t.name, t.bytes, t.start_ns, t.wanted_ns, t.took_ns,
       t.took_ns - t.wanted_ns AS delay_ns,
       string_agg(c.link || ' ' || c.direction, ', ' ORDER BY c.link, c.direction) AS links
FROM replay_transfers t JOIN replay_transfer_links c USING (transfer)
WHERE t.slowed
GROUP BY ALL
ORDER BY delay_ns DESC, t.rank, t.start_ns;
