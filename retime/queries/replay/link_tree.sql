-- The server a saved replay on a topology ran on, as its links: each link of each server with the
-- node it joins to, its bandwidth each way, and the peak of what the transfers on it wanted over
-- that bandwidth in its busier direction (link_demand's peak_demand; 0 where nothing crossed). The
-- report draws the tree from it.
-- @include links
-- @param trace_id BIGINT            a saved replay on a topology
-- @column server BIGINT
-- @column link VARCHAR              named by the node below it (gpu0, sw0, cpu1), or a NIC's port (nic0.port)
-- @column parent VARCHAR            the node above (network for a port)
-- @column gb_s DOUBLE               bandwidth each way
-- @column bytes BIGINT              carried, both directions
-- @column peak_demand DOUBLE        in its busier direction
-- @empty the trace is not a saved replay on a topology
SELECT * FROM link_tree($trace_id)  -- retime/foundation/links.sql
ORDER BY server, link;
