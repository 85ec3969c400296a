-- The events of trace `trace_id` that its replay graph moves (graph_points.sql says which): one
-- definition for the graph's SQL and for retime/replay/graph_build.py, which reads them as arrays.
CREATE OR REPLACE TEMP MACRO replay_events_of() AS TABLE
SELECT e.event_id, e.lane_id, l.kind = 'gpu_stream' AS is_gpu, e.kind, e.name, e.ts_ns, e.dur_ns,
       -- a collective's size is what it moves over the links (retime/foundation/comm.sql), for `net=BW`
       CASE WHEN e.kind = 'collective' THEN collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems,
                                                                 e.coll_group_size) ELSE e.bytes END AS bytes,
       e.copy_kind, coalesce(e.src_kind, '') AS src_kind, coalesce(e.dst_kind, '') AS dst_kind, e.external_id
FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
WHERE e.trace_id = getvariable('trace_id') AND is_span_event(l.kind, e.kind, e.dur_ns);  -- retime/foundation/host.sql
