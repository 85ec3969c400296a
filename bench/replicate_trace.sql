-- For benchmarks at scale: trace new_id becomes `copies` copies of trace source_id (its events,
-- lanes and edges), each copy shifted in time by the source's span, so the copies follow each other
-- and event ids stay in time order. Variables: source_id, new_id, copies, job.
INSERT INTO traces
SELECT getvariable('new_id'), getvariable('job'), format, source_path, NULL, size_bytes, rank, world_size, backend,
       gpu_names, device_properties, distributed_info, metadata, time_base_ns, start_ns,
       start_ns + (end_ns - start_ns + 1000) * getvariable('copies'), event_count * getvariable('copies'),
       ['replicated for benchmarking'], now(), NULL, NULL
FROM traces WHERE trace_id = getvariable('source_id');

INSERT INTO lanes
SELECT getvariable('new_id'), lane_id, kind, pid, tid, device, stream, process_name, name
FROM lanes WHERE trace_id = getvariable('source_id');

CREATE OR REPLACE TEMP TABLE source_size AS
SELECT count(*) AS n, max(ts_ns + coalesce(dur_ns, 0)) - min(ts_ns) + 1000 AS span
FROM events WHERE trace_id = getvariable('source_id');

INSERT INTO events
SELECT getvariable('new_id'), c.k * s.n + e.event_id, e.lane_id, e.kind, e.phase, e.name, e.category,
       e.ts_ns + c.k * s.span, e.dur_ns, e.correlation, e.external_id, e.device, e.stream, e.bytes, e.copy_kind,
       e.src_kind, e.dst_kind, e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_out_nelems, e.coll_group_size,
       e.coll_pg_name, e.coll_pg_desc, e.coll_pg_ranks, e.coll_seq, e.args
FROM events e, range(getvariable('copies')) c(k), source_size s
WHERE e.trace_id = getvariable('source_id');

INSERT INTO deps
SELECT getvariable('new_id'), c.k * s.n + d.src_event_id, c.k * s.n + d.dst_event_id, d.kind
FROM deps d, range(getvariable('copies')) c(k), source_size s
WHERE d.trace_id = getvariable('source_id');
