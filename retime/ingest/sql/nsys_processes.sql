-- The report's processes that did CUDA work (or, failing any, NVTX/OS-runtime work): each becomes
-- one trace. globalTid packs (pid << 24) | tid above a machine id, so a thread's process is its
-- globalTid with the low 24 bits cleared, which is how globalPid is written.
-- When several processes ran GPU work, they are ranks of one job; nsys does not record the rank,
-- so ranks follow the first GPU each process used (then pid): documented as inferred.
CREATE OR REPLACE TEMP TABLE nsys_procs AS
WITH
gpu AS (
    SELECT globalPid, min(deviceId) AS first_device, count(*) AS gpu_ops FROM (
        SELECT globalPid, deviceId FROM nsys_CUPTI_ACTIVITY_KIND_KERNEL
        UNION ALL SELECT globalPid, deviceId FROM nsys_CUPTI_ACTIVITY_KIND_MEMCPY
        UNION ALL SELECT globalPid, deviceId FROM nsys_CUPTI_ACTIVITY_KIND_MEMSET
        UNION ALL SELECT globalPid, deviceId FROM nsys_CUPTI_ACTIVITY_KIND_SYNCHRONIZATION)
    GROUP BY globalPid
),
host AS (
    SELECT (globalTid >> 24) << 24 AS globalPid, count(*) AS host_calls FROM (
        SELECT globalTid FROM nsys_CUPTI_ACTIVITY_KIND_RUNTIME
        UNION ALL SELECT globalTid FROM nsys_CUPTI_ACTIVITY_KIND_DRIVER)
    GROUP BY 1
),
other AS (
    SELECT (globalTid >> 24) << 24 AS globalPid FROM (
        SELECT globalTid FROM nsys_NVTX_EVENTS WHERE eventType IN (34, 59, 60)
        UNION ALL SELECT globalTid FROM nsys_OSRT_API)
    WHERE NOT EXISTS (SELECT 1 FROM gpu) AND NOT EXISTS (SELECT 1 FROM host)
    GROUP BY 1
),
procs AS (
    SELECT globalPid FROM gpu UNION SELECT globalPid FROM host UNION SELECT globalPid FROM other
)
SELECT p.globalPid, coalesce(pr.pid, (p.globalPid >> 24) & 16777215) AS pid, pr.name AS process_name,
       g.first_device, coalesce(g.gpu_ops, 0) AS gpu_ops,
       CASE WHEN (SELECT count(*) FROM gpu) > 1 AND g.globalPid IS NOT NULL
            THEN (row_number() OVER (PARTITION BY g.globalPid IS NOT NULL ORDER BY g.first_device, pr.pid) - 1)::INTEGER
       END AS rank,
       CASE WHEN (SELECT count(*) FROM gpu) > 1 AND g.globalPid IS NOT NULL
            THEN (SELECT count(*) FROM gpu)::INTEGER END AS world_size
FROM procs p LEFT JOIN gpu g USING (globalPid) LEFT JOIN nsys_PROCESSES pr USING (globalPid)
ORDER BY rank NULLS LAST, pid;
