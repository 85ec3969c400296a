-- How alike two traces' workloads are, for --against: the share of distinct CPU operator names
-- (aten::*, the framework's ops, the same on any GPU) and of GPU kernel names (the same only on one
-- vendor's stack) that both traces have (Jaccard index, 0..1), and how many of each each has.
WITH a AS (SELECT DISTINCT kind, name FROM events WHERE trace_id = $a AND kind IN ('cpu_op', 'kernel') AND name IS NOT NULL),
b AS (SELECT DISTINCT kind, name FROM events WHERE trace_id = $b AND kind IN ('cpu_op', 'kernel') AND name IS NOT NULL),
kinds AS (SELECT 'cpu_op' AS kind UNION ALL SELECT 'kernel'),
counted AS (
    SELECT k.kind, (SELECT count(*) FROM a WHERE a.kind = k.kind) AS in_a, (SELECT count(*) FROM b WHERE b.kind = k.kind) AS in_b,
           (SELECT count(*) FROM a JOIN b USING (kind, name) WHERE a.kind = k.kind) AS shared
    FROM kinds k
)
SELECT kind, in_a, in_b, shared, shared / nullif(in_a + in_b - shared, 0) AS jaccard FROM counted ORDER BY kind;
