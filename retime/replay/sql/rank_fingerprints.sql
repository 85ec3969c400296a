-- Which rank traces of a job replay to the same graph but for a shift in time: per trace ($ids), a
-- fingerprint of everything its graph is built from (every column of its events with times taken
-- from its first event, its lanes, its dependencies; its format, world size, backend and GPUs) and
-- that first event's time. Traces of one fingerprint hold the same events at the same offsets from
-- their start, so one's graph, moved by the difference of their starts, is the other's
-- (retime/replay/job.py). Sums of row hashes (as HUGEINT: two equal rows do not cancel) and row counts.
WITH starts AS (
    SELECT trace_id, min(ts_ns) AS start_ns FROM events WHERE list_contains($ids, trace_id) GROUP BY trace_id
),
ev AS (
    SELECT e.trace_id, count(*) AS n,
           sum(hash(e.event_id, e.lane_id, e.kind, e.phase, e.name, e.category, e.ts_ns - s.start_ns, e.dur_ns,
                    e.correlation, e.external_id, e.device, e.stream, e.bytes, e.copy_kind, e.src_kind, e.dst_kind,
                    e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_out_nelems, e.coll_group_size, e.coll_pg_name,
                    e.coll_pg_desc, e.coll_pg_ranks, e.coll_seq, e.args::VARCHAR)::HUGEINT) AS h
    FROM events e JOIN starts s USING (trace_id)
    GROUP BY e.trace_id
),
la AS (
    SELECT trace_id, count(*) AS n, sum(hash(lane_id, kind, pid, tid, device, stream, process_name, name)::HUGEINT) AS h
    FROM lanes WHERE list_contains($ids, trace_id) GROUP BY trace_id
),
de AS (
    SELECT trace_id, count(*) AS n, sum(hash(src_event_id, dst_event_id, kind)::HUGEINT) AS h
    FROM deps WHERE list_contains($ids, trace_id) GROUP BY trace_id
)
SELECT t.trace_id, s.start_ns,
       hash(t.format, t.world_size, t.backend, t.gpu_names::VARCHAR, ev.n, ev.h::VARCHAR, la.n, la.h::VARCHAR,
            coalesce(de.n, 0), coalesce(de.h, 0)::VARCHAR) AS fingerprint
FROM traces t
JOIN starts s USING (trace_id)
JOIN ev USING (trace_id)
LEFT JOIN la USING (trace_id)
LEFT JOIN de USING (trace_id)
WHERE list_contains($ids, t.trace_id);
