-- Where each GPU's time went between its first and last op: compute, communication, memory, idle.
-- Overlaps are counted once, in the first of compute > communication > memory that is running
-- (communication hidden under compute counts as compute), so the four parts add up to the span.
-- @param trace_id BIGINT       trace to analyse
-- @column device INTEGER       GPU index
-- @column span_ns BIGINT       first GPU op start to last GPU op end
-- @column compute_ns BIGINT    time some kernel other than a collective ran
-- @column communication_ns BIGINT  time a collective ran and no compute kernel did
-- @column memory_ns BIGINT     time only copies / memsets ran
-- @column idle_ns BIGINT       time nothing ran
-- @column compute_pct DOUBLE   the same as shares of the span, in percent
-- @column communication_pct DOUBLE
-- @column memory_pct DOUBLE
-- @column idle_pct DOUBLE
-- @empty the trace has no GPU kernels, copies or memsets
SELECT device, span_ns,
       compute_ns, comm_exposed_ns AS communication_ns, memory_only_ns AS memory_ns, span_ns - busy_ns AS idle_ns,
       round(100.0 * compute_ns / span_ns, 2) AS compute_pct,
       round(100.0 * communication_ns / span_ns, 2) AS communication_pct,
       round(100.0 * memory_ns / span_ns, 2) AS memory_pct,
       round(100.0 * idle_ns / span_ns, 2) AS idle_pct
FROM gpu_device_time  -- gpu_time_split of retime/foundation/gpu.sql, written with the trace (retime/store/sql/schema.sql)
WHERE trace_id = $trace_id
ORDER BY device;
