-- Every event of process `nsys_gpid`, in retime's shape, with the names Kineto gives the same
-- things (so a query reads both formats alike): kernels 'kernel', copies
-- 'Memcpy HtoD (Pageable -> Device)' / 'gpu_memcpy', memsets 'Memset (Device)' / 'gpu_memset',
-- synchronization records 'Stream Sync' etc. / 'cuda_sync', runtime and driver calls
-- 'cuda_runtime' / 'cuda_driver', NVTX ranges 'nvtx' annotations, OS runtime calls 'osrt'.
-- Nsight timestamps are nanoseconds from the session start; time_base_ns is that start (UTC).
-- A view, not a table: nsys_write.sql numbers the events on the few columns it needs, then reads
-- the whole rows once, as it writes them (a table of the wide rows cost as much as the events'
-- INSERT). A row is (branch, src_rowid): its report table, in the order below, and its rowid there.
CREATE OR REPLACE TEMP VIEW nsys_staged AS
WITH
names AS (SELECT id, value FROM nsys_StringIds),
copy_names AS (
    SELECT id, label,
           CASE label WHEN 'Host-to-Device' THEN 'HtoD' WHEN 'Device-to-Host' THEN 'DtoH' WHEN 'Device-to-Device' THEN 'DtoD'
                      WHEN 'Peer-to-Peer' THEN 'PtoP' WHEN 'Host-to-Host' THEN 'HtoH' WHEN 'Host-to-Array' THEN 'HtoA'
                      WHEN 'Array-to-Host' THEN 'AtoH' WHEN 'Array-to-Array' THEN 'AtoA' WHEN 'Array-to-Device' THEN 'AtoD'
                      WHEN 'Device-to-Array' THEN 'DtoA' ELSE replace(label, ' ', '') END AS short,
           CASE label WHEN 'Host-to-Device' THEN 'H2D' WHEN 'Device-to-Host' THEN 'D2H' WHEN 'Device-to-Device' THEN 'D2D'
                      WHEN 'Peer-to-Peer' THEN 'P2P' WHEN 'Host-to-Host' THEN 'H2H' END AS copy_kind
    FROM nsys_ENUM_CUDA_MEMCPY_OPER
),
mem_kinds AS (SELECT id, label, lower(replace(label, ' ', '_')) AS kind FROM nsys_ENUM_CUDA_MEM_KIND),
kernels AS (
    SELECT 1 AS branch, k.rowid AS src_rowid, 'gpu' AS lane_class, k.deviceId AS device, k.streamId AS stream, NULL::BIGINT AS globalTid,
           k."start", k."end", n.value AS name, 'kernel' AS category,
           CASE WHEN is_collective_kernel(n.value) THEN 'collective' ELSE 'kernel' END AS kind,
           k.correlationId AS correlation, NULL::BIGINT AS bytes, NULL AS copy_kind, NULL AS src_kind, NULL AS dst_kind,
           json_object('shortName', s.value, 'grid', [k.gridX, k.gridY, k.gridZ], 'block', [k.blockX, k.blockY, k.blockZ],
                       'registers per thread', k.registersPerThread, 'shared memory', k.staticSharedMemory + k.dynamicSharedMemory,
                       'static shared memory', k.staticSharedMemory, 'dynamic shared memory', k.dynamicSharedMemory,
                       'device', k.deviceId, 'context', k.contextId, 'stream', k.streamId, 'correlation', k.correlationId,
                       'launch type', k.launchType, 'graph id', k.graphId, 'graph node id', k.graphNodeId) AS args
    FROM nsys_CUPTI_ACTIVITY_KIND_KERNEL k
    LEFT JOIN names n ON n.id = k.demangledName LEFT JOIN names s ON s.id = k.shortName
    WHERE k.globalPid = getvariable('nsys_gpid')
),
copies AS (
    SELECT 2, m.rowid, 'gpu', m.deviceId, m.streamId, NULL::BIGINT, m."start", m."end",
           'Memcpy ' || coalesce(c.short, 'Unknown') || ' (' || coalesce(sk.label, 'Unknown') || ' -> '
               || coalesce(dk.label, 'Unknown') || ')',
           'gpu_memcpy', 'memcpy', m.correlationId, m.bytes, c.copy_kind, sk.kind, dk.kind,
           json_object('bytes', m.bytes, 'device', m.deviceId, 'context', m.contextId, 'stream', m.streamId,
                       'correlation', m.correlationId, 'src device', m.srcDeviceId, 'dst device', m.dstDeviceId,
                       'graph node id', m.graphNodeId,
                       'memory bandwidth (GB/s)', CASE WHEN m."end" > m."start" THEN m.bytes / (m."end" - m."start") END)
    FROM nsys_CUPTI_ACTIVITY_KIND_MEMCPY m
    LEFT JOIN copy_names c ON c.id = m.copyKind
    LEFT JOIN mem_kinds sk ON sk.id = m.srcKind LEFT JOIN mem_kinds dk ON dk.id = m.dstKind
    WHERE m.globalPid = getvariable('nsys_gpid')
),
sets AS (
    SELECT 3, m.rowid, 'gpu', m.deviceId, m.streamId, NULL::BIGINT, m."start", m."end",
           'Memset (' || coalesce(mk.label, 'Unknown') || ')', 'gpu_memset', 'memset', m.correlationId, m.bytes,
           NULL, NULL, mk.kind,
           json_object('bytes', m.bytes, 'value', m."value", 'device', m.deviceId, 'context', m.contextId,
                       'stream', m.streamId, 'correlation', m.correlationId, 'graph node id', m.graphNodeId)
    FROM nsys_CUPTI_ACTIVITY_KIND_MEMSET m LEFT JOIN mem_kinds mk ON mk.id = m.memKind
    WHERE m.globalPid = getvariable('nsys_gpid')
),
syncs AS (
    SELECT 4, y.rowid, 'gpu', y.deviceId, y.streamId, NULL::BIGINT, y."start", y."end",
           CASE t.label WHEN 'Event sync' THEN 'Event Sync' WHEN 'Stream wait sync' THEN 'Stream Wait Event'
                        WHEN 'Stream sync' THEN 'Stream Sync' WHEN 'Context sync' THEN 'Context Sync'
                        ELSE coalesce(t.label, 'Unknown sync') END,
           'cuda_sync', 'sync', y.correlationId, NULL::BIGINT, NULL, NULL, NULL,
           json_object('cuda_sync_kind', t.label, 'event id', y.eventId, 'device', y.deviceId, 'context', y.contextId,
                       'stream', y.streamId, 'correlation', y.correlationId)
    FROM nsys_CUPTI_ACTIVITY_KIND_SYNCHRONIZATION y LEFT JOIN nsys_ENUM_CUPTI_SYNC_TYPE t ON t.id = y.syncType
    WHERE y.globalPid = getvariable('nsys_gpid')
),
host_calls AS (
    SELECT 5, r.rowid, 'cpu', NULL::BIGINT, NULL::BIGINT, r.globalTid, r."start", r."end", n.value, 'cuda_runtime', 'runtime',
           r.correlationId, NULL::BIGINT, NULL, NULL, NULL,
           json_object('correlation', r.correlationId, 'return value', r.returnValue)
    FROM nsys_CUPTI_ACTIVITY_KIND_RUNTIME r LEFT JOIN names n ON n.id = r.nameId
    WHERE (r.globalTid >> 24) << 24 = getvariable('nsys_gpid')
    UNION ALL
    SELECT 6, r.rowid, 'cpu', NULL, NULL, r.globalTid, r."start", r."end", n.value, 'cuda_driver', 'driver',
           r.correlationId, NULL, NULL, NULL, NULL,
           json_object('correlation', r.correlationId, 'return value', r.returnValue)
    FROM nsys_CUPTI_ACTIVITY_KIND_DRIVER r LEFT JOIN names n ON n.id = r.nameId
    WHERE (r.globalTid >> 24) << 24 = getvariable('nsys_gpid')
    UNION ALL
    SELECT 7, o.rowid, 'cpu', NULL, NULL, o.globalTid, o."start", o."end", n.value, 'osrt', 'os_runtime',
           NULL, NULL, NULL, NULL, NULL, json_object('return value', o.returnValue, 'nesting level', o.nestingLevel)
    FROM nsys_OSRT_API o LEFT JOIN names n ON n.id = o.nameId
    WHERE (o.globalTid >> 24) << 24 = getvariable('nsys_gpid')
),
nvtx AS (
    SELECT 8, v.rowid, 'cpu', NULL::BIGINT, NULL::BIGINT, v.globalTid, v."start", coalesce(v."end", v."start"),
           coalesce(v."text", n.value), 'nvtx', CASE WHEN v."end" IS NULL THEN 'instant' ELSE 'annotation' END,
           NULL::BIGINT, NULL::BIGINT, NULL, NULL, NULL,
           json_object('domain', d.domain, 'event type', CASE v.eventType WHEN 59 THEN 'push/pop' WHEN 60 THEN 'start/end'
                                                                      WHEN 34 THEN 'mark' END,
                       'range id', v.rangeId, 'category', v.category)
    FROM nsys_NVTX_EVENTS v
    LEFT JOIN names n ON n.id = v.textId
    LEFT JOIN (SELECT domainId, any_value(coalesce(e."text", s.value)) AS domain FROM nsys_NVTX_EVENTS e
               LEFT JOIN names s ON s.id = e.textId WHERE e.eventType = 75 GROUP BY domainId) d USING (domainId)
    WHERE v.eventType IN (34, 59, 60) AND (v.globalTid >> 24) << 24 = getvariable('nsys_gpid')
)
-- lane_key: one integer per lane, so events join their lane by equality (CPU lanes: globalTid,
-- which is positive; GPU lanes: a negative key from device and stream). Records without a start,
-- or ending before they start, cannot be placed in time: valid = false, counted and not written.
SELECT CASE WHEN lane_class = 'gpu' THEN -1 - (device * 4294967296 + stream) ELSE globalTid END AS lane_key,
       coalesce("end" >= "start", false) AS valid, * FROM (
    SELECT * FROM kernels UNION ALL SELECT * FROM copies UNION ALL SELECT * FROM sets
    UNION ALL SELECT * FROM syncs UNION ALL SELECT * FROM host_calls UNION ALL SELECT * FROM nvtx);
