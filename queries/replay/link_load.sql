-- Each link direction of a saved replay on a topology in time buckets from the replay's origin (its
-- parent's first event): the bytes it carried in the bucket, spread evenly over each transfer's time
-- under sharing (a transfer's rate varies while others come and go, its bytes do not), and that as
-- a share of what the link could carry in the bucket. Buckets where nothing crossed are left out.
-- @param trace_id BIGINT            a saved replay on a topology
-- @param bucket_ns BIGINT = 1000000 the bucket's length
-- @column server BIGINT
-- @column link VARCHAR              as in link_demand
-- @column direction VARCHAR
-- @column bucket BIGINT             its number from the replay's origin
-- @column start_ns BIGINT           its start from the replay's origin
-- @column gb_s DOUBLE               the link's bandwidth
-- @column bytes BIGINT              carried in the bucket
-- @column utilization DOUBLE        bytes over what the link carries in a bucket
-- @empty the trace is not a saved replay on a topology, or nothing crossed its links
WITH crossing AS (
    SELECT c.server, c.link, c.direction, t.start_ns, t.start_ns + greatest(t.took_ns, 1) AS end_ns,
           t.bytes / greatest(t.took_ns, 1) AS rate
    FROM replay_transfer_links c JOIN replay_transfers t USING (trace_id, transfer)
    WHERE c.trace_id = $trace_id
),
per_bucket AS (
    SELECT x.server, x.link, x.direction, b.bucket,
           sum(x.rate * (least(x.end_ns, (b.bucket + 1) * $bucket_ns) - greatest(x.start_ns, b.bucket * $bucket_ns))) AS bytes
    FROM crossing x,
         LATERAL (SELECT unnest(range(x.start_ns // $bucket_ns, (x.end_ns - 1) // $bucket_ns + 1)) AS bucket) b
    GROUP BY ALL
)
SELECT p.server, p.link, p.direction, p.bucket, p.bucket * $bucket_ns AS start_ns, c.gb_s,
       round(p.bytes)::BIGINT AS bytes, round(p.bytes / (c.gb_s * $bucket_ns), 4) AS utilization
FROM per_bucket p JOIN replay_link_capacity c USING (server, link, direction)
WHERE c.trace_id = $trace_id
ORDER BY p.server, p.link, p.direction, p.bucket;
