-- A replay's traffic on a topology, from its link tables (replay_transfers, replay_transfer_links,
-- replay_link_capacity: a saved replay's in the store, or a replay's own in memory; retime/replay/links.py):
-- per link direction the demand on it, the load in time buckets, the transfers held back, and each
-- link with its parent for drawing. The named link queries (retime/queries/replay/link_*.sql) and a
-- replay's ReplayResult.link_report both answer from these, so a saved replay re-derives what the
-- replay printed.
-- @include intervals

-- Per link direction of replay replay_id: what crossed it, the peak of what the transfers on it wanted over its
-- bandwidth, and how long that was at least 80% and above 100% (a sweep over the instants a transfer
-- starts or ends on it: demand is the sum of the wanted rates, bytes over the time alone, of the
-- transfers running under sharing).
-- @arg replay_id BIGINT a replay saved with --save (its trace id)
-- @column server BIGINT
-- @column link VARCHAR
-- @column direction VARCHAR
-- @column gb_s DOUBLE
-- @column transfers BIGINT
-- @column copies BIGINT
-- @column network BIGINT
-- @column fabric BIGINT
-- @column bytes BIGINT
-- @column slowed BIGINT
-- @column peak_demand DOUBLE
-- @column busy_ns BIGINT
-- @column over_80_ns BIGINT
-- @column over_100_ns BIGINT
CREATE OR REPLACE TEMP MACRO link_demand(replay_id) AS TABLE
    WITH crossing AS (
        SELECT c.server, c.link, c.direction, t.transfer, t.start_ns, t.start_ns + t.took_ns AS end_ns,
               t.bytes / greatest(t.wanted_ns, 1) AS want, t.bytes, t.slowed, t.kind
        FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
        WHERE c.trace_id = replay_id
    ),
    steps AS (
        SELECT {'server': server, 'link': link, 'direction': direction} AS grp, start_ns AS t, want AS delta FROM crossing
        UNION ALL
        SELECT {'server': server, 'link': link, 'direction': direction}, end_ns, -want FROM crossing
    ),
    level AS (  -- the demand from each instant on, until the next (step_levels, intervals.sql)
        SELECT grp.server, grp.link, grp.direction, t AS t_ns, level AS want, next_t AS next_ns FROM step_levels(steps)
    ),
    demand AS (
        SELECT l.server, l.link, l.direction,
               max(l.want / c.gb_s) AS peak_demand,
               sum(l.next_ns - l.t_ns) FILTER (WHERE l.want > 1e-12) AS busy_ns,
               sum(l.next_ns - l.t_ns) FILTER (WHERE l.want >= 0.8 * c.gb_s) AS over_80_ns,
               sum(l.next_ns - l.t_ns) FILTER (WHERE l.want >= c.gb_s * (1 + 1e-9)) AS over_100_ns
        FROM level l JOIN replay_link_capacity c USING (server, link, direction)
        WHERE l.next_ns IS NOT NULL AND c.trace_id = replay_id
        GROUP BY ALL
    )
    SELECT c.server, c.link, c.direction, c.gb_s, count(*) AS transfers,
           count(*) FILTER (WHERE c2.kind IN ('h2d', 'd2h')) AS copies, count(*) FILTER (WHERE c2.kind = 'network') AS network,
           count(*) FILTER (WHERE c2.kind = 'nvlink') AS fabric,
           sum(c2.bytes)::BIGINT AS bytes, count(*) FILTER (WHERE c2.slowed) AS slowed,
           round(d.peak_demand, 4) AS peak_demand, coalesce(d.busy_ns, 0)::BIGINT AS busy_ns,
           coalesce(d.over_80_ns, 0)::BIGINT AS over_80_ns, coalesce(d.over_100_ns, 0)::BIGINT AS over_100_ns
    FROM replay_link_capacity c
    JOIN crossing c2 USING (server, link, direction)
    JOIN demand d USING (server, link, direction)
    WHERE c.trace_id = replay_id
    GROUP BY ALL;

-- Per link direction of replay replay_id and time bucket of bucket_ns from the replay's origin: the bytes it
-- carried, spread evenly over each transfer's time under sharing, and their share of the link.
-- @arg replay_id BIGINT a replay saved with --save (its trace id)
-- @arg bucket_ns BIGINT the time bucket, ns
-- @column server BIGINT
-- @column link VARCHAR
-- @column direction VARCHAR
-- @column bucket BIGINT
-- @column start_ns BIGINT
-- @column gb_s DOUBLE
-- @column bytes BIGINT
-- @column utilization DOUBLE
CREATE OR REPLACE TEMP MACRO link_load(replay_id, bucket_ns) AS TABLE
    WITH crossing AS (
        SELECT c.server, c.link, c.direction, t.start_ns, t.start_ns + greatest(t.took_ns, 1) AS end_ns,
               t.bytes / greatest(t.took_ns, 1) AS rate
        FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
        WHERE c.trace_id = replay_id
    ),
    per_bucket AS (
        SELECT x.server, x.link, x.direction, b.bucket,
               sum(x.rate * (least(x.end_ns, (b.bucket + 1) * bucket_ns) - greatest(x.start_ns, b.bucket * bucket_ns))) AS bytes
        FROM crossing x,
             LATERAL (SELECT unnest(range(x.start_ns // bucket_ns, (x.end_ns - 1) // bucket_ns + 1)) AS bucket) b
        GROUP BY ALL
    )
    SELECT p.server, p.link, p.direction, p.bucket, p.bucket * bucket_ns AS start_ns, c.gb_s,
           round(p.bytes)::BIGINT AS bytes, round(p.bytes / (c.gb_s * bucket_ns), 4) AS utilization
    FROM per_bucket p JOIN replay_link_capacity c USING (server, link, direction)
    WHERE c.trace_id = replay_id;

-- The transfers of replay replay_id that got less than they wanted, with the links each crossed.
-- @arg replay_id BIGINT a replay saved with --save (its trace id)
-- @column rank BIGINT
-- @column server BIGINT
-- @column gpu BIGINT
-- @column kind VARCHAR
-- @column name VARCHAR
-- @column bytes BIGINT
-- @column start_ns BIGINT
-- @column wanted_ns BIGINT
-- @column took_ns BIGINT
-- @column delay_ns BIGINT
-- @column links VARCHAR
CREATE OR REPLACE TEMP MACRO link_collisions(replay_id) AS TABLE
    SELECT t.rank, t.server, t.gpu, t.kind, t.name, t.bytes, t.start_ns, t.wanted_ns, t.took_ns,
           t.took_ns - t.wanted_ns AS delay_ns,
           string_agg(c.link || ' ' || c.direction, ', ' ORDER BY c.link, c.direction) AS links
    FROM replay_transfers t JOIN replay_transfer_links c USING (trace_id, transfer)
    WHERE t.trace_id = replay_id AND t.slowed
    GROUP BY ALL;

-- Each link of replay replay_id's servers with its parent, bandwidth, bytes both ways and the peak demand of
-- its busier direction.
-- @arg replay_id BIGINT a replay saved with --save (its trace id)
-- @column server BIGINT
-- @column link VARCHAR
-- @column parent VARCHAR
-- @column gb_s DOUBLE
-- @column bytes BIGINT
-- @column peak_demand DOUBLE
CREATE OR REPLACE TEMP MACRO link_tree(replay_id) AS TABLE
    WITH crossing AS (
        SELECT c.server, c.link, c.direction, t.start_ns AS t_ns, t.bytes / greatest(t.wanted_ns, 1) AS want, t.bytes
        FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
        WHERE c.trace_id = replay_id
        UNION ALL
        SELECT c.server, c.link, c.direction, t.start_ns + t.took_ns, -t.bytes / greatest(t.wanted_ns, 1), 0
        FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
        WHERE c.trace_id = replay_id
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
    WHERE c.trace_id = replay_id
    GROUP BY c.server, c.link;
