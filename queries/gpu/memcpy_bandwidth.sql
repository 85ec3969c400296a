-- Achieved copy bandwidth by direction and memory kinds, against the link's peak when given.
-- Pageable host memory forces a staged, synchronous copy, so pageable rows are the first to look at.
-- A device-to-device copy reads and writes every byte, so it is compared with the HBM peak at twice
-- its bytes.
-- @param trace_id BIGINT      trace to analyse
-- @param link_peak_gbps DOUBLE = 0  host link peak, GB/s one direction (PCIe Gen5 x16: 64; 0: no comparison)
-- @param hbm_peak_gbps DOUBLE = 0   device memory peak, GB/s (H100 SXM: 3350; 0: no comparison)
-- @column copy_kind VARCHAR   H2D | D2H | D2D | P2P | H2H
-- @column src_kind VARCHAR    pageable | pinned | device | ...
-- @column dst_kind VARCHAR
-- @column copies BIGINT
-- @column bytes BIGINT
-- @column busy_ns BIGINT      durations summed
-- @column achieved_gbps DOUBLE  bytes / busy time, GB/s (1e9 bytes per second)
-- @column p50_gbps DOUBLE     median of the per-copy bandwidths
-- @column pageable BOOLEAN    a side of the copy is pageable host memory
-- @column pct_of_peak DOUBLE  achieved bandwidth as a share of the peak it runs against (NULL without one)
-- @empty the trace has no memcpy with a byte count
SELECT copy_kind, src_kind, dst_kind, count(*) AS copies, sum(bytes)::BIGINT AS bytes, sum(dur_ns)::BIGINT AS busy_ns,
       round(sum(bytes) / nullif(sum(dur_ns), 0), 3) AS achieved_gbps,
       round(quantile_cont(bytes / nullif(dur_ns, 0), 0.5), 3) AS p50_gbps,
       'pageable' IN (src_kind, dst_kind) AS pageable,
       round(100 * CASE WHEN copy_kind IN ('H2D', 'D2H') THEN sum(bytes) / nullif(sum(dur_ns), 0) / nullif($link_peak_gbps, 0)
                        WHEN copy_kind = 'D2D' THEN 2 * sum(bytes) / nullif(sum(dur_ns), 0) / nullif($hbm_peak_gbps, 0)
                        END, 2) AS pct_of_peak
FROM events
WHERE trace_id = $trace_id AND kind = 'memcpy' AND bytes IS NOT NULL
GROUP BY copy_kind, src_kind, dst_kind ORDER BY bytes DESC;
