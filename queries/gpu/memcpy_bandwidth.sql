-- Achieved copy bandwidth by direction and memory kinds. Pageable host memory forces a staged,
-- synchronous copy, so pageable rows are the first to look at.
-- @param trace_id BIGINT      trace to analyse
-- @column copy_kind VARCHAR   H2D | D2H | D2D | P2P | H2H
-- @column src_kind VARCHAR    pageable | pinned | device | ...
-- @column dst_kind VARCHAR
-- @column copies BIGINT
-- @column bytes BIGINT
-- @column busy_ns BIGINT      durations summed
-- @column achieved_gbps DOUBLE  bytes / busy time, GB/s (1e9 bytes per second)
-- @column p50_gbps DOUBLE     median of the per-copy bandwidths
-- @column pageable BOOLEAN    a side of the copy is pageable host memory
-- @empty the trace has no memcpy with a byte count
SELECT copy_kind, src_kind, dst_kind, count(*) AS copies, sum(bytes)::BIGINT AS bytes, sum(dur_ns)::BIGINT AS busy_ns,
       round(sum(bytes) / nullif(sum(dur_ns), 0), 3) AS achieved_gbps,
       round(quantile_cont(bytes / nullif(dur_ns, 0), 0.5), 3) AS p50_gbps,
       'pageable' IN (src_kind, dst_kind) AS pageable
FROM events
WHERE trace_id = $trace_id AND kind = 'memcpy' AND bytes IS NOT NULL
GROUP BY ALL ORDER BY bytes DESC;
