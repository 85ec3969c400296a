-- The lanes of trace `trace_id`: the device and stream of each GPU stream (-1 where unknown).
SELECT lane_id, coalesce(device, -1)::BIGINT AS device, coalesce(stream, -1)::BIGINT AS stream, stream IS NOT NULL AS has_stream
FROM lanes WHERE trace_id = getvariable('trace_id');
