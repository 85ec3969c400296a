-- Achieved copy bandwidth by direction and memory kinds, against the link's peak. Pageable host
-- memory forces a staged, synchronous copy, so pageable rows are the first to look at. Each copy's
-- bandwidth is the one the profiler measured ("memory bandwidth (GB/s)": Kineto computes it from
-- nanosecond timing, retime's nsys reader from the export's ns start and end) and bytes over the
-- stored duration only where the trace has none: Kineto rounds durations to whole µs in some
-- traces, which puts a short copy's bytes / dur off by up to 2x. A device-to-device copy reads and
-- writes every byte, so it is compared with the HBM peak at twice its bytes. The peaks are the
-- trace's GPU preset's (retime/foundation/gpus.toml: PCIe and HBM) unless given.
-- @include hardware
-- @param trace_id BIGINT      trace to analyse
-- @param link_peak_gbps DOUBLE = 0  host link peak, GB/s one direction (0: the preset's pcie_gb_s, e.g. H100: 64)
-- @param hbm_peak_gbps DOUBLE = 0   device memory peak, GB/s (0: the preset's hbm_tb_s x 1000, e.g. H100: 3350)
-- @column copy_kind VARCHAR   H2D | D2H | D2D | P2P | H2H
-- @column src_kind VARCHAR    pageable | pinned | device | ...
-- @column dst_kind VARCHAR
-- @column copies BIGINT
-- @column bytes BIGINT
-- @column busy_ns BIGINT      durations summed, as stored
-- @column achieved_gbps DOUBLE  bytes over the copies' own time (bytes / their measured bandwidth), GB/s (1e9 bytes per second)
-- @column p50_gbps DOUBLE     median of the per-copy bandwidths
-- @column pageable BOOLEAN    a side of the copy is pageable host memory
-- @column peak_gbps DOUBLE    the peak the row is compared with (link for H2D / D2H, HBM for D2D; NULL for others or without one)
-- @column pct_of_peak DOUBLE  achieved bandwidth as a share of that peak (D2D: twice its bytes)
-- @empty the trace has no memcpy with a byte count
WITH
copies AS (
    SELECT copy_kind, src_kind, dst_kind, bytes, dur_ns,
           coalesce(TRY_CAST(json_extract_string(args, '$."memory bandwidth (GB/s)"') AS DOUBLE),
                    bytes / nullif(dur_ns, 0)) AS gbps
    FROM events
    WHERE trace_id = $trace_id AND kind = 'memcpy' AND bytes IS NOT NULL
),
peaks AS (  -- the given peaks, else the trace's preset's (one row either way)
    SELECT coalesce(nullif($link_peak_gbps, 0), p.pcie_gb_s) AS link, coalesce(nullif($hbm_peak_gbps, 0), 1000 * p.hbm_tb_s) AS hbm
    FROM (SELECT 1) LEFT JOIN trace_preset($trace_id) p ON true
),
rows AS (
    SELECT copy_kind, src_kind, dst_kind, count(*) AS copies, sum(bytes)::BIGINT AS bytes, sum(dur_ns)::BIGINT AS busy_ns,
           round(sum(bytes) FILTER (WHERE gbps > 0) / nullif(sum(bytes / gbps) FILTER (WHERE gbps > 0), 0), 3) AS achieved_gbps,
           round(quantile_cont(gbps, 0.5), 3) AS p50_gbps,
           'pageable' IN (src_kind, dst_kind) AS pageable
    FROM copies
    GROUP BY copy_kind, src_kind, dst_kind
)
SELECT r.*, CASE WHEN copy_kind IN ('H2D', 'D2H') THEN p.link WHEN copy_kind = 'D2D' THEN p.hbm END AS peak_gbps,
       round(100 * CASE WHEN copy_kind IN ('H2D', 'D2H') THEN achieved_gbps / p.link
                        WHEN copy_kind = 'D2D' THEN 2 * achieved_gbps / p.hbm END, 2) AS pct_of_peak
FROM rows r, peaks p
ORDER BY bytes DESC, copy_kind, src_kind, dst_kind;  -- ties (copies of one size) in one order
