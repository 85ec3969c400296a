-- The replayed events of trace `trace_id` (graph_events.sql) as retime/replay/graph_build.py reads them:
-- kind and copy kind as positions in the lists it passes (0: another), bytes -1 where unknown.
SELECT event_id, lane_id, is_gpu, list_position(getvariable('event_kinds'), kind)::TINYINT AS kind_code,
       coalesce(name, '') AS name, ts_ns, dur_ns, coalesce(bytes, -1)::BIGINT AS bytes,
       coalesce(list_position(getvariable('copy_kinds'), copy_kind), 0)::TINYINT AS copy_code,
       'pageable' IN (src_kind, dst_kind) AS pageable
FROM replay_events_of();
