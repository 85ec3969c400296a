-- The Nsight Systems export tables retime reads, with the columns it uses. Each is filled from the
-- report's table of the same name, columns matched by name: tables are created lazily by nsys
-- (absent ones stay empty) and columns come and go between versions (absent ones stay NULL).
-- Checked against exports of nsys 2022.2.1 (schema 2.9.1), 2026.1.1 (3.24.14) and 2026.2.1 (3.25.0).
CREATE OR REPLACE TEMP TABLE nsys_StringIds (id BIGINT, value VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_KERNEL (
    "start" BIGINT, "end" BIGINT, deviceId BIGINT, contextId BIGINT, streamId BIGINT, correlationId BIGINT,
    globalPid BIGINT, demangledName BIGINT, shortName BIGINT, gridX BIGINT, gridY BIGINT, gridZ BIGINT,
    blockX BIGINT, blockY BIGINT, blockZ BIGINT, registersPerThread BIGINT, staticSharedMemory BIGINT,
    dynamicSharedMemory BIGINT, localMemoryPerThread BIGINT, launchType BIGINT, graphNodeId BIGINT, graphId BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_MEMCPY (
    "start" BIGINT, "end" BIGINT, deviceId BIGINT, contextId BIGINT, streamId BIGINT, correlationId BIGINT,
    globalPid BIGINT, bytes BIGINT, copyKind BIGINT, srcKind BIGINT, dstKind BIGINT, srcDeviceId BIGINT,
    dstDeviceId BIGINT, graphNodeId BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_MEMSET (
    "start" BIGINT, "end" BIGINT, deviceId BIGINT, contextId BIGINT, streamId BIGINT, correlationId BIGINT,
    globalPid BIGINT, "value" BIGINT, bytes BIGINT, memKind BIGINT, graphNodeId BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_SYNCHRONIZATION (
    "start" BIGINT, "end" BIGINT, deviceId BIGINT, contextId BIGINT, streamId BIGINT, correlationId BIGINT,
    globalPid BIGINT, syncType BIGINT, eventId BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_RUNTIME (
    "start" BIGINT, "end" BIGINT, globalTid BIGINT, correlationId BIGINT, nameId BIGINT, returnValue BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_CUPTI_ACTIVITY_KIND_DRIVER (
    "start" BIGINT, "end" BIGINT, globalTid BIGINT, correlationId BIGINT, nameId BIGINT, returnValue BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_OSRT_API (
    "start" BIGINT, "end" BIGINT, globalTid BIGINT, nameId BIGINT, returnValue BIGINT, nestingLevel BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_NVTX_EVENTS (
    "start" BIGINT, "end" BIGINT, eventType BIGINT, rangeId BIGINT, category BIGINT, "text" VARCHAR,
    globalTid BIGINT, endGlobalTid BIGINT, textId BIGINT, domainId BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_PROCESSES (globalPid BIGINT, pid BIGINT, name VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_ThreadNames (nameId BIGINT, priority BIGINT, globalTid BIGINT);
CREATE OR REPLACE TEMP TABLE nsys_TARGET_INFO_GPU (
    id BIGINT, name VARCHAR, busLocation VARCHAR, totalMemory BIGINT, memoryBandwidth BIGINT, clockRate BIGINT,
    smCount BIGINT, l2CacheSize BIGINT, computeMajor BIGINT, computeMinor BIGINT, chipName VARCHAR, uuid VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_TARGET_INFO_SESSION_START_TIME (utcEpochNs BIGINT, utcTime VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_META_DATA_EXPORT (name VARCHAR, "value" VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_EXPORT_META_DATA (name VARCHAR, "value" VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_ENUM_CUDA_MEMCPY_OPER (id BIGINT, label VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_ENUM_CUDA_MEM_KIND (id BIGINT, label VARCHAR);
CREATE OR REPLACE TEMP TABLE nsys_ENUM_CUPTI_SYNC_TYPE (id BIGINT, label VARCHAR);
