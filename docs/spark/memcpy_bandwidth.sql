-- queries/gpu/memcpy_bandwidth.sql in Spark SQL, over the tables of a lake (retime export-lake)
-- registered as views: the same columns and numbers. What changed: DuckDB's quantile_cont is
-- Spark's percentile (both interpolate linearly), parameters are filled in by the caller (here with
-- Python's str.format), and the copy kinds are grouped by name.
SELECT copy_kind, src_kind, dst_kind, count(*) AS copies, CAST(sum(bytes) AS BIGINT) AS bytes,
       CAST(sum(dur_ns) AS BIGINT) AS busy_ns,
       round(sum(bytes) / nullif(sum(dur_ns), 0), 3) AS achieved_gbps,
       round(percentile(bytes / nullif(dur_ns, 0), 0.5), 3) AS p50_gbps,
       'pageable' IN (src_kind, dst_kind) AS pageable,
       round(100 * CASE WHEN copy_kind IN ('H2D', 'D2H') THEN sum(bytes) / nullif(sum(dur_ns), 0) / nullif({link_peak_gbps}, 0)
                        WHEN copy_kind = 'D2D' THEN 2 * sum(bytes) / nullif(sum(dur_ns), 0) / nullif({hbm_peak_gbps}, 0)
                        END, 2) AS pct_of_peak
FROM events
WHERE trace_id = {trace_id} AND kind = 'memcpy' AND bytes IS NOT NULL
GROUP BY copy_kind, src_kind, dst_kind
ORDER BY bytes DESC
