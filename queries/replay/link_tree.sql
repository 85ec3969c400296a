-- The server a saved replay on a topology ran on, as its links: each link of each server with the
-- node it joins to, its bandwidth each way, and the peak of what the transfers on it wanted over
-- that bandwidth in its busier direction (link_demand's peak_demand; 0 where nothing crossed). The
-- report draws the tree from it.
-- @param trace_id BIGINT            a saved replay on a topology
-- @column server BIGINT
-- @column link VARCHAR              named by the node below it (gpu0, sw0, cpu1), or a NIC's port (nic0.port)
-- @column parent VARCHAR            the node above (network for a port)
-- @column gb_s DOUBLE               bandwidth each way
-- @column bytes BIGINT              carried, both directions
-- @column peak_demand DOUBLE        in its busier direction
-- @empty the trace is not a saved replay on a topology
WITH crossing AS (
    SELECT c.server, c.link, c.direction, t.start_ns AS t_ns, t.bytes / greatest(t.wanted_ns, 1) AS want, t.bytes
    FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
    WHERE c.trace_id = $trace_id
    UNION ALL
    SELECT c.server, c.link, c.direction, t.start_ns + t.took_ns, -t.bytes / greatest(t.wanted_ns, 1), 0
    FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
    WHERE c.trace_id = $trace_id
),
level AS (
    SELECT server, link, direction,
           sum(sum(want)) OVER (PARTITION BY server, link, direction ORDER BY t_ns) AS want, sum(bytes) AS bytes
    FROM crossing GROUP BY server, link, direction, t_ns
),
peaks AS (
    SELECT server, link, direction, max(want) AS want, sum(bytes) AS bytes FROM level GROUP BY ALL
)
SELECT c.server, c.link, any_value(c.parent) AS parent, max(c.gb_s) AS gb_s, coalesce(sum(p.bytes), 0)::BIGINT AS bytes,
       round(coalesce(max(p.want / c.gb_s), 0), 4) AS peak_demand
FROM replay_link_capacity c
LEFT JOIN peaks p USING (server, link, direction)
WHERE c.trace_id = $trace_id
GROUP BY c.server, c.link
ORDER BY c.server, c.link;
