-- Collectives by type and message size: how long they took, the bandwidth they achieved, and how
-- much of their time no compute kernel hid. algbw is the buffer's bytes over the kernel's time;
-- busbw is what each rank moved over the links under the ring algorithm (collective_bus_bytes in
-- retime/foundation/comm.sql) over the same time, comparable with the link's peak as nccl-tests reports
-- it. A kernel's time includes waiting for the other ranks, so a low busbw can be a straggler
-- (see collective_skew) as well as a slow link.
-- @include gpu comm
-- @param trace_id BIGINT          trace to analyse
-- @column coll_op VARCHAR         the collective, as the trace names it
-- @column dtype VARCHAR           element type ('' where the trace does not say)
-- @column message_bytes BIGINT    input buffer, bytes (NULL where the trace gives no size)
-- @column group_size INTEGER
-- @column calls BIGINT
-- @column total_ns BIGINT         kernel time summed
-- @column p50_ns BIGINT           median kernel time
-- @column exposed_ns BIGINT       of the kernel time, the part during which no compute kernel ran on the device
-- @column algbw_gbps DOUBLE       message bytes x calls / total time, GB/s
-- @column busbw_gbps DOUBLE       bus bytes x calls / total time, GB/s
-- @empty the trace has no collective kernels
WITH
colls AS (
    SELECT e.event_id, l.device, e.ts_ns AS s, e.ts_ns + e.dur_ns AS e, e.dur_ns, coalesce(e.coll_op, e.name) AS coll_op,
           coalesce(e.coll_dtype, '') AS dtype, e.coll_group_size AS group_size,
           collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems, 1) AS message_bytes,
           collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_group_size) AS bus_bytes
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = $trace_id AND e.kind = 'collective' AND e.dur_ns IS NOT NULL
),
-- a collective's hidden time: the compute time covered by its end minus that covered by its start
compute AS (  -- busy_islands_covered of retime/foundation/gpu.sql, written with the trace
    SELECT device, lo, hi, before_ns FROM gpu_busy_islands WHERE trace_id = $trace_id AND resources = 'compute'
),
ends AS (SELECT event_id, device, s AS t, -1 AS sign FROM colls UNION ALL SELECT event_id, device, e, 1 FROM colls),
hidden AS (  -- both ends in one ASOF lookup (one sort of the islands)
    SELECT x.event_id, sum(x.sign * covered_until(k.before_ns, k.lo, k.hi, x.t)) AS hidden_ns
    FROM ends x ASOF LEFT JOIN compute k ON k.device = x.device AND k.lo <= x.t
    GROUP BY x.event_id
)
SELECT coll_op, dtype, message_bytes, group_size, count(*) AS calls, sum(dur_ns)::BIGINT AS total_ns,
       median(dur_ns)::BIGINT AS p50_ns, sum(dur_ns - coalesce(hidden_ns, 0))::BIGINT AS exposed_ns,
       round(sum(message_bytes) / nullif(sum(dur_ns), 0), 3) AS algbw_gbps,
       round(sum(bus_bytes) / nullif(sum(dur_ns), 0), 3) AS busbw_gbps
FROM colls LEFT JOIN hidden USING (event_id)
GROUP BY ALL
ORDER BY total_ns DESC;
