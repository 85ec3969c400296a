-- @include gpu host
-- The links of a saved replay's critical path (deps of kinds critical_ss / _se / _es / _ee, written
-- by `retime replay --save`), with their times, what they stand for, and the window (an annotation
-- matching window_pattern, annotation_windows) each ends in: for the critical_path queries.
-- @arg replay_id BIGINT a replay saved with --save (its trace id)
-- @arg window_pattern VARCHAR regular expression over annotation names: the windows (ProfilerStep#N)
-- @column step VARCHAR
-- @column from_event VARCHAR
-- @column to_event VARCHAR
-- @column from_t BIGINT
-- @column to_t BIGINT
-- @column link VARCHAR
-- @column resource VARCHAR
CREATE OR REPLACE TEMP MACRO critical_path_links(replay_id, window_pattern) AS TABLE
    WITH
    path AS (
        SELECT d.src_event_id, d.dst_event_id, d.kind[10] AS src_pt, d.kind[11] AS dst_pt
        FROM deps d WHERE d.trace_id = replay_id AND d.kind LIKE 'critical\_%' ESCAPE '\'
    ),
    ev AS (
        SELECT e.event_id, e.name, e.kind, e.ts_ns, e.ts_ns + e.dur_ns AS end_ns, e.lane_id, l.kind = 'gpu_stream' AS gpu,
               e.copy_kind
        FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
        WHERE e.trace_id = replay_id
          AND e.event_id IN (SELECT src_event_id FROM path UNION SELECT dst_event_id FROM path)
    ),
    links AS (
        SELECT s.name AS from_event, t.name AS to_event,
               CASE WHEN p.src_pt = 's' THEN s.ts_ns ELSE s.end_ns END AS from_t,
               CASE WHEN p.dst_pt = 's' THEN t.ts_ns ELSE t.end_ns END AS to_t,
               CASE WHEN p.src_event_id = p.dst_event_id THEN 'duration'
                    WHEN NOT s.gpu AND NOT t.gpu THEN CASE WHEN s.lane_id = t.lane_id THEN 'host' ELSE 'hand-off' END
                    WHEN NOT s.gpu AND t.gpu THEN 'launch'
                    WHEN s.gpu AND NOT t.gpu THEN CASE WHEN p.src_pt = 's' THEN 'staged copy' ELSE 'sync wait' END
                    WHEN s.lane_id = t.lane_id THEN 'stream order' ELSE 'stream wait' END AS link,
               CASE WHEN p.src_event_id = p.dst_event_id AND s.gpu THEN
                         CASE class_resource(gpu_class(s.kind, coalesce(s.name, '')))
                              WHEN 'compute' THEN 'gpu:' || gpu_class(s.kind, coalesce(s.name, ''))
                              ELSE class_resource(gpu_class(s.kind, coalesce(s.name, ''))) END
                    WHEN NOT s.gpu AND NOT t.gpu THEN 'cpu'
                    WHEN NOT s.gpu AND t.gpu THEN 'launch'
                    WHEN s.gpu AND NOT t.gpu AND p.src_pt = 's' THEN 'memory'
                    ELSE 'wait' END AS resource
        FROM path p JOIN ev s ON s.event_id = p.src_event_id JOIN ev t ON t.event_id = p.dst_event_id
    ),
    windows AS (SELECT * FROM annotation_windows(replay_id, window_pattern))  -- host.sql
    SELECT CASE WHEN l.to_t < w.we THEN w.name END AS step, l.*
    FROM links l ASOF LEFT JOIN windows w ON l.to_t >= w.ws;
