-- How much collective communication the GPU hid under compute, per device.
-- @include gpu
-- @param trace_id BIGINT          trace to analyse
-- @column device INTEGER
-- @column communication_ns BIGINT time some collective ran
-- @column overlapped_ns BIGINT    of which a compute kernel also ran
-- @column exposed_ns BIGINT       of which no compute kernel ran
-- @column overlap_pct DOUBLE      overlapped share of communication
-- @empty the trace has no collective kernels
SELECT device, comm_overlapped_ns + comm_exposed_ns AS communication_ns, comm_overlapped_ns AS overlapped_ns,
       comm_exposed_ns AS exposed_ns, round(100.0 * overlapped_ns / communication_ns, 2) AS overlap_pct
FROM gpu_device_time  -- gpu_time_split of retime/foundation/gpu.sql, written with the trace (retime/store/sql/schema.sql)
WHERE trace_id = $trace_id AND comm_overlapped_ns + comm_exposed_ns > 0
ORDER BY device;
