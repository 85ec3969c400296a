-- How much collective communication the GPU hid under compute, per device.
-- @param trace_id BIGINT          trace to analyse
-- @column device INTEGER
-- @column communication_ns BIGINT time some collective ran
-- @column overlapped_ns BIGINT    of which a compute kernel also ran
-- @column exposed_ns BIGINT       of which no compute kernel ran
-- @column overlap_pct DOUBLE      overlapped share of communication
-- @empty the trace has no collective kernels
WITH
comm AS (SELECT * FROM busy_ns($trace_id, ['communication'])),
comp AS (SELECT * FROM busy_ns($trace_id, ['compute'])),
both_ AS (SELECT * FROM busy_ns($trace_id, ['compute', 'communication']))
SELECT device, comm.busy_ns AS communication_ns,
       comm.busy_ns + coalesce(comp.busy_ns, 0) - both_.busy_ns AS overlapped_ns,
       both_.busy_ns - coalesce(comp.busy_ns, 0) AS exposed_ns,
       round(100.0 * overlapped_ns / comm.busy_ns, 2) AS overlap_pct
FROM comm JOIN both_ USING (device) LEFT JOIN comp USING (device)
ORDER BY device;
