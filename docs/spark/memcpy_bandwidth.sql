-- retime/queries/gpu/memcpy_bandwidth.sql in Spark SQL, over the tables of a lake (retime export-lake)
-- registered as views: the same columns and numbers. What changed: DuckDB's quantile_cont is
-- Spark's percentile (both interpolate linearly), get_json_object reads the copy's measured
-- bandwidth, and parameters (here both peaks, which the DuckDB query can also take from the
-- trace's GPU preset) are filled in by the caller (with Python's str.format).
WITH copies AS (
    SELECT copy_kind, src_kind, dst_kind, bytes, dur_ns,
           coalesce(CAST(get_json_object(args, '$[\'memory bandwidth (GB/s)\']') AS DOUBLE),
                    bytes / nullif(dur_ns, 0)) AS gbps
    FROM events
    WHERE trace_id = {trace_id} AND kind = 'memcpy' AND bytes IS NOT NULL
),
grouped AS (
    SELECT copy_kind, src_kind, dst_kind, count(*) AS copies, CAST(sum(bytes) AS BIGINT) AS bytes,
           CAST(sum(dur_ns) AS BIGINT) AS busy_ns,
           round(sum(CASE WHEN gbps > 0 THEN bytes END) / nullif(sum(CASE WHEN gbps > 0 THEN bytes / gbps END), 0), 3)
               AS achieved_gbps,
           round(percentile(gbps, 0.5), 3) AS p50_gbps,
           'pageable' IN (src_kind, dst_kind) AS pageable
    FROM copies
    GROUP BY copy_kind, src_kind, dst_kind
)
SELECT *, CASE WHEN copy_kind IN ('H2D', 'D2H') THEN CAST({link_peak_gbps} AS DOUBLE)
               WHEN copy_kind = 'D2D' THEN CAST({hbm_peak_gbps} AS DOUBLE) END AS peak_gbps,
       round(100 * CASE WHEN copy_kind IN ('H2D', 'D2H') THEN achieved_gbps / {link_peak_gbps}
                        WHEN copy_kind = 'D2D' THEN 2 * achieved_gbps / {hbm_peak_gbps} END, 2) AS pct_of_peak
FROM grouped
ORDER BY bytes DESC
