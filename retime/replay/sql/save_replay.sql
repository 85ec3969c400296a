-- Write a replay of trace `parent_id` as trace `trace_id`: its lanes, its replayed events at their
-- new times (from the registered table replay_times(event_id, start_ns, end_ns), relative to
-- origin_ns), its edges among them, and its predicted critical path (registered table
-- replay_critical: deps of kinds critical_ss / critical_se / critical_es / critical_ee, the letters
-- saying which points of the source and destination events each link joins). GPU annotations follow the ops they
-- enclose; the events the replayer does not move (CUDA sync records, async tracks, profiler rows)
-- are left out, and the trace's warnings say how many.
-- A replay retargeted onto another GPU (--to) names that GPU (target_gpu_name), so a later --to on it starts there.
-- It keeps its parent's job unless it is one rank of a saved job replay (job_name: that job's own name).
INSERT INTO lanes BY NAME
SELECT * REPLACE (getvariable('trace_id') AS trace_id)
FROM lanes WHERE trace_id = getvariable('parent_id');

INSERT INTO events BY NAME
SELECT e.* REPLACE (getvariable('trace_id') AS trace_id, getvariable('origin_ns') + r.start_ns AS ts_ns,
                    r.end_ns - r.start_ns AS dur_ns)
FROM events e JOIN replay_times r USING (event_id)
WHERE e.trace_id = getvariable('parent_id');

-- GPU annotations (a record_function's range as the GPU ran it, gpu_user_annotation) follow the
-- ops they enclose on their stream: from the first one's new start to the last one's new end, with
-- the measured margins around them (Kineto's open 1 ns early and close 1 ns late). One enclosing no
-- replayed op is left out with the rest.
INSERT INTO events BY NAME
SELECT e.* REPLACE (getvariable('trace_id') AS trace_id, getvariable('origin_ns') + s.start_ns AS ts_ns,
                    s.end_ns - s.start_ns AS dur_ns)
FROM events e
JOIN (SELECT a.event_id, min(r.start_ns) - (min(o.ts_ns) - any_value(a.ts_ns)) AS start_ns,
             max(r.end_ns) + (any_value(a.ts_ns + a.dur_ns) - max(o.ts_ns + o.dur_ns)) AS end_ns
      FROM events a
      JOIN events o ON o.trace_id = a.trace_id AND o.lane_id = a.lane_id
                   AND o.ts_ns >= a.ts_ns AND o.ts_ns + o.dur_ns <= a.ts_ns + a.dur_ns
      JOIN replay_times r ON r.event_id = o.event_id
      WHERE a.trace_id = getvariable('parent_id') AND a.kind = 'gpu_annotation' AND a.dur_ns IS NOT NULL
        AND o.kind <> 'gpu_annotation'
      GROUP BY a.event_id) s USING (event_id)
WHERE e.trace_id = getvariable('parent_id');

INSERT INTO deps BY NAME
SELECT d.* REPLACE (getvariable('trace_id') AS trace_id)
FROM deps d
WHERE d.trace_id = getvariable('parent_id')
  AND d.src_event_id IN (SELECT event_id FROM replay_times) AND d.dst_event_id IN (SELECT event_id FROM replay_times);

INSERT INTO deps BY NAME SELECT getvariable('trace_id') AS trace_id, src_event_id, dst_event_id, kind FROM replay_critical;

INSERT INTO traces BY NAME  -- no sha256: NULL
SELECT getvariable('trace_id') AS trace_id, coalesce(getvariable('job_name'), p.job) AS job, 'replay' AS format,
       p.source_path, p.size_bytes, p.rank, p.world_size, p.backend,
       CASE WHEN getvariable('target_gpu_name') IS NULL THEN p.gpu_names ELSE [getvariable('target_gpu_name')] END AS gpu_names,
       p.device_properties, p.distributed_info, p.metadata, p.time_base_ns,
       (SELECT min(ts_ns) FROM events WHERE trace_id = getvariable('trace_id')) AS start_ns,
       (SELECT max(ts_ns + dur_ns) FROM events WHERE trace_id = getvariable('trace_id')) AS end_ns,
       (SELECT count(*) FROM events WHERE trace_id = getvariable('trace_id')) AS event_count,
       list_filter([CASE WHEN p.event_count > (SELECT count(*) FROM events WHERE trace_id = getvariable('trace_id'))
                         THEN (p.event_count - (SELECT count(*) FROM events WHERE trace_id = getvariable('trace_id')))::VARCHAR
                              || ' events the replayer does not move (sync records, async and profiler rows, GPU annotations '
                              || 'around no replayed op) were left out'
                    END], lambda x: x IS NOT NULL) AS warnings,
       now() AS ingested_at, p.trace_id AS parent_trace_id, getvariable('scenario')::JSON AS scenario
FROM traces p WHERE p.trace_id = getvariable('parent_id');
