-- The replayed events of trace `trace_id` (graph_events.sql) as replay/graph_build.py reads them.
SELECT event_id, lane_id, is_gpu, kind, coalesce(name, '') AS name, ts_ns, dur_ns, coalesce(bytes, -1)::BIGINT AS bytes,
       coalesce(copy_kind, '') AS copy_kind, 'pageable' IN (src_kind, dst_kind) AS pageable
FROM replay_events_of();
