-- Trace `trace_id` as Chrome Trace Event Format events, one JSON text per row in file order (the
-- caller joins them into the traceEvents array next to baseTimeNanoseconds = origin_ns). ts and dur are microseconds relative to origin_ns, written as
-- decimals with three places so nanoseconds survive a round trip. Names come back as 'M' events;
-- every edge as a flow arrow (launches 'ac2g' and forward->backward 'fwdbwd' as Kineto writes
-- them, others 'flow'), which Perfetto draws and retime ingests back into the same edges.
WITH
    ev AS (
        SELECT e.*, l.pid, l.tid
        FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
        WHERE e.trace_id = getvariable('trace_id') AND e.dur_ns IS NOT NULL
    ),
    slices AS (
        SELECT 0 AS part, event_id AS n, name, category AS cat,
               CASE WHEN kind = 'instant' THEN 'i' ELSE 'X' END AS ph,
               CAST((ts_ns - getvariable('origin_ns')) / 1000 AS DECIMAL(20, 3)) AS ts,
               CASE WHEN kind = 'instant' THEN NULL ELSE CAST(dur_ns / 1000 AS DECIMAL(20, 3)) END AS dur,
               pid, tid, NULL::VARCHAR AS id, NULL::VARCHAR AS bp, args
        FROM ev
    ),
    edges AS (
        SELECT row_number() OVER (ORDER BY d.src_event_id, d.dst_event_id) AS flow, d.kind, s.ts_ns AS s_ts, s.pid AS s_pid,
               s.tid AS s_tid, t.ts_ns AS t_ts, t.pid AS t_pid, t.tid AS t_tid
        FROM deps d JOIN ev s ON s.event_id = d.src_event_id JOIN ev t ON t.event_id = d.dst_event_id
        WHERE d.trace_id = getvariable('trace_id')
          AND d.kind NOT LIKE 'critical\_%' ESCAPE '\'  -- a replay's critical path is derived, not a trace edge
    ),
    flows AS (
        SELECT 1 AS part, flow AS n, CASE kind WHEN 'launch' THEN 'ac2g' WHEN 'fwd_bwd' THEN 'fwdbwd' ELSE 'flow' END AS name,
               CASE kind WHEN 'launch' THEN 'ac2g' WHEN 'fwd_bwd' THEN 'fwdbwd' ELSE 'flow' END AS cat, 's' AS ph,
               CAST((s_ts - getvariable('origin_ns')) / 1000 AS DECIMAL(20, 3)) AS ts, NULL AS dur,
               s_pid AS pid, s_tid AS tid, flow::VARCHAR AS id, NULL AS bp, NULL::JSON AS args
        FROM edges
        UNION ALL
        SELECT 2, flow, CASE kind WHEN 'launch' THEN 'ac2g' WHEN 'fwd_bwd' THEN 'fwdbwd' ELSE 'flow' END,
               CASE kind WHEN 'launch' THEN 'ac2g' WHEN 'fwd_bwd' THEN 'fwdbwd' ELSE 'flow' END, 'f',
               CAST((t_ts - getvariable('origin_ns')) / 1000 AS DECIMAL(20, 3)), NULL, t_pid, t_tid, flow::VARCHAR, 'e', NULL
        FROM edges
    ),
    names AS (
        SELECT 3 AS part, 0 AS n, 'process_name' AS name, NULL AS cat, 'M' AS ph, NULL AS ts, NULL AS dur, pid,
               NULL AS tid, NULL AS id, NULL AS bp, json_object('name', any_value(process_name)) AS args
        FROM lanes WHERE trace_id = getvariable('trace_id') AND process_name IS NOT NULL GROUP BY pid
        UNION ALL
        SELECT 3, 1, 'thread_name', NULL, 'M', NULL, NULL, pid, tid, NULL, NULL, json_object('name', name)
        FROM lanes WHERE trace_id = getvariable('trace_id') AND name IS NOT NULL AND kind <> 'async'
    ),
    -- one event object per row, keys without a value left out (merge-patching with NULL drops a key),
    -- numeric process and thread ids as numbers
    ordered AS (
        SELECT row_number() OVER (ORDER BY part, n) AS line_no,
               json_merge_patch('{}', json_object(
                   'name', name, 'cat', cat, 'ph', ph, 'ts', ts, 'dur', dur,
                   'pid', CASE WHEN TRY_CAST(pid AS BIGINT) IS NOT NULL THEN to_json(TRY_CAST(pid AS BIGINT)) ELSE to_json(pid) END,
                   'tid', CASE WHEN TRY_CAST(tid AS BIGINT) IS NOT NULL THEN to_json(TRY_CAST(tid AS BIGINT)) ELSE to_json(tid) END,
                   'id', id, 'bp', bp, 's', CASE WHEN ph = 'i' THEN 't' END, 'args', args))::VARCHAR AS event
        FROM (SELECT * FROM slices UNION ALL SELECT * FROM flows UNION ALL SELECT * FROM names)
    )
SELECT event FROM ordered ORDER BY line_no;
