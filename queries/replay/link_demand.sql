-- Each link direction a saved replay on a topology used (`retime replay TRACE --topology NAME
-- --save`; a replay's ReplayResult.link_report answers the same in memory): what crossed it, and how
-- long the transfers on it wanted more than it carries. A transfer wants its own rate (bytes over
-- its duration alone, wanted_ns) for as long as it runs under sharing (took_ns); demand at an
-- instant is the sum of those rates over the link's bandwidth. Exact, by a sweep over the instants a
-- transfer starts or ends on the link.
-- @param trace_id BIGINT            a saved replay on a topology
-- @column server BIGINT             the server (a job's ranks fill servers in turn)
-- @column link VARCHAR              named by the node below it (gpu0, sw0, cpu1), or a NIC's port (nic0.port)
-- @column direction VARCHAR         to host | to device (PCIe, the sockets' link), out | in (a port)
-- @column gb_s DOUBLE               its bandwidth
-- @column transfers BIGINT          transfers that crossed it
-- @column copies BIGINT             of them, copies between GPU and host memory
-- @column network BIGINT            of them, ranks' traffic to other servers
-- @column bytes BIGINT              carried
-- @column slowed BIGINT             transfers on it that got less than they wanted at some time
-- @column peak_demand DOUBLE        the most they wanted at once, over its bandwidth
-- @column busy_ns BIGINT            time some transfer crossed it
-- @column over_80_ns BIGINT         time they wanted at least 80% of it
-- @column over_100_ns BIGINT        time they wanted more than it carries
-- @empty the trace is not a saved replay on a topology, or nothing crossed its links
WITH crossing AS (
    SELECT c.server, c.link, c.direction, t.transfer, t.start_ns, t.start_ns + t.took_ns AS end_ns,
           t.bytes / greatest(t.wanted_ns, 1) AS want, t.bytes, t.slowed, t.kind
    FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
    WHERE c.trace_id = $trace_id
),
steps AS (
    SELECT server, link, direction, start_ns AS t_ns, want AS delta FROM crossing
    UNION ALL
    SELECT server, link, direction, end_ns, -want FROM crossing
),
level AS (  -- the demand from each instant on, until the next
    SELECT server, link, direction, t_ns,
           sum(delta) OVER (PARTITION BY server, link, direction ORDER BY t_ns RANGE UNBOUNDED PRECEDING) AS want,
           lead(t_ns) OVER (PARTITION BY server, link, direction ORDER BY t_ns) AS next_ns
    FROM (SELECT server, link, direction, t_ns, sum(delta) AS delta FROM steps GROUP BY ALL)
),
demand AS (
    SELECT l.server, l.link, l.direction,
           max(l.want / c.gb_s) AS peak_demand,
           sum(l.next_ns - l.t_ns) FILTER (WHERE l.want > 1e-12) AS busy_ns,
           sum(l.next_ns - l.t_ns) FILTER (WHERE l.want >= 0.8 * c.gb_s) AS over_80_ns,
           sum(l.next_ns - l.t_ns) FILTER (WHERE l.want >= c.gb_s * (1 + 1e-9)) AS over_100_ns
    FROM level l JOIN replay_link_capacity c USING (server, link, direction)
    WHERE l.next_ns IS NOT NULL AND c.trace_id = $trace_id
    GROUP BY ALL
)
SELECT c.server, c.link, c.direction, c.gb_s, count(*) AS transfers,
       count(*) FILTER (WHERE c2.kind <> 'network') AS copies, count(*) FILTER (WHERE c2.kind = 'network') AS network,
       sum(c2.bytes)::BIGINT AS bytes, count(*) FILTER (WHERE c2.slowed) AS slowed,
       round(d.peak_demand, 4) AS peak_demand, coalesce(d.busy_ns, 0)::BIGINT AS busy_ns,
       coalesce(d.over_80_ns, 0)::BIGINT AS over_80_ns, coalesce(d.over_100_ns, 0)::BIGINT AS over_100_ns
FROM replay_link_capacity c
JOIN crossing c2 USING (server, link, direction)
JOIN demand d USING (server, link, direction)
WHERE c.trace_id = $trace_id
GROUP BY ALL
ORDER BY over_100_ns DESC, over_80_ns DESC, bytes DESC, server, link, direction;
