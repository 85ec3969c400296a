-- Each link direction of a saved replay on a topology in time buckets from the replay's origin (its
-- parent's first event): the bytes it carried in the bucket, spread evenly over each transfer's time
-- under sharing (a transfer's rate varies while others come and go, its bytes do not), and that as
-- a share of what the link could carry in the bucket. Buckets where nothing crossed are left out.
-- @include links
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
SELECT * FROM link_load($trace_id, $bucket_ns)  -- retime/foundation/links.sql
ORDER BY server, link, direction, bucket;
