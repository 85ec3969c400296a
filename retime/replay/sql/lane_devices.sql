-- The device of each GPU stream of the traces $trace_ids (where a transfer runs, for --topology).
SELECT trace_id, lane_id, device FROM lanes
WHERE list_contains($trace_ids, trace_id) AND kind = 'gpu_stream' AND device IS NOT NULL;
