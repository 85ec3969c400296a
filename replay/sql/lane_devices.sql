-- The device of each GPU stream of trace $trace_id (where a copy runs, for --topology).
SELECT lane_id, device FROM lanes WHERE trace_id = $trace_id AND kind = 'gpu_stream' AND device IS NOT NULL;
