-- What trace `trace_id`'s replay graph reads from the store besides its events (graph_points.sql).
-- Roofline: each kernel's arithmetic intensity (FLOP per byte) and compute roof, where the trace
-- records the shapes of the operator that launched it (torch.profiler with record_shapes=True), as
-- kernel_work (retime/foundation/ops.sql) gives them to the roofline queries. GEMM kernels below the
-- GPU's ridge point (ridge_flop_per_byte: peak FLOP/s over HBM B/s, from the trace's GPU preset;
-- halved for 4-byte types) are memory-bound and follow `hbm`; the rest follow `gpu.flops`. The
-- per-kernel model of --to reads every kernel's intensity and roof, and the shape it looks measured
-- latencies up by (kernel_shape: a GEMM's m, n, k; an attention's batch, sequence, heads)
-- (graph_arrays_gpu_classes.sql).
CREATE OR REPLACE TEMP TABLE replay_kernel_work AS
SELECT kernel_id AS event_id, flops / bytes AS flop_per_byte, dtype_bytes(dtype) AS elem,
       roof_type(dtype, tensor, tf32) AS roof, kernel_shape(model, dims) AS shape
FROM kernel_work(getvariable('trace_id'))  -- the work the roofline queries use (retime/foundation/ops.sql)
WHERE bytes > 0;

-- the stream a stream synchronize waited on: its 'Stream Sync' record (Kineto's cuda_sync events,
-- nsys's SYNCHRONIZATION rows) sits on that stream's lane with the call's correlation id. Matched
-- by stream number: an nsys rank's records can sit on another device's lane of the same stream.
CREATE OR REPLACE TEMP TABLE replay_synced AS
SELECT c.event_id, min(sl.stream) AS sync_stream
FROM events s JOIN lanes sl ON sl.trace_id = s.trace_id AND sl.lane_id = s.lane_id
JOIN events c ON c.trace_id = s.trace_id AND c.correlation = s.correlation
WHERE s.trace_id = getvariable('trace_id') AND s.kind = 'sync' AND s.name = 'Stream Sync'
  AND c.kind IN ('runtime', 'driver') AND s.correlation IS NOT NULL
GROUP BY c.event_id;
