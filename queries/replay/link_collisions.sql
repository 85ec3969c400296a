-- The transfers of a saved replay on a topology that got less than they wanted, the most delayed
-- first: who (rank, GPU, server), what (kind, the op's name, bytes), how long alone and shared, and
-- the links it crossed.
-- @param trace_id BIGINT            a saved replay on a topology
-- @column rank BIGINT
-- @column server BIGINT
-- @column gpu BIGINT                its index on the server
-- @column kind VARCHAR              h2d | d2h | network
-- @column name VARCHAR              the copy's, or the collective kernel's
-- @column bytes BIGINT              over each of its links
-- @column start_ns BIGINT           from the replay's origin
-- @column wanted_ns BIGINT          its time alone
-- @column took_ns BIGINT            its time with the links shared
-- @column delay_ns BIGINT
-- @column links VARCHAR             the links it crossed, with directions
-- @empty no transfer was held back (or the trace is not a saved replay on a topology)
SELECT t.rank, t.server, t.gpu, t.kind, t.name, t.bytes, t.start_ns, t.wanted_ns, t.took_ns,
       t.took_ns - t.wanted_ns AS delay_ns,
       string_agg(c.link || ' ' || c.direction, ', ' ORDER BY c.link, c.direction) AS links
FROM replay_transfers t JOIN replay_transfer_links c USING (trace_id, transfer)
WHERE t.trace_id = $trace_id AND t.slowed
GROUP BY ALL
ORDER BY delay_ns DESC, t.rank, t.start_ns;
