-- The transfers of a saved replay on a topology that got less than they wanted, the most delayed
-- first: who (rank, GPU, server), what (kind, the op's name, bytes), how long alone and shared, and
-- the links it crossed.
-- @include links
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
SELECT * FROM link_collisions($trace_id)  -- retime/foundation/links.sql
ORDER BY delay_ns DESC, rank, start_ns;
