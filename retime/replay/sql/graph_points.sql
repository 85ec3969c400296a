-- Time points of trace `trace_id` that the replayer moves: the starts and ends of every event on a
-- CPU thread, and of every kernel, collective, copy and memset on a GPU stream. point_id follows
-- measured time, so every edge points forward. At one instant: first the ends of events already
-- running (an op ends before the next on its stream starts), then starts, then the ends of
-- zero-length events; among ends a GPU end precedes a CPU end (work before the sync that waits for
-- it), among starts a CPU start precedes a GPU start (a call before what it launches); outer
-- slices open before and close after inner ones.
CREATE OR REPLACE TEMP TABLE replay_events AS FROM replay_events_of();  -- graph_events.sql

CREATE OR REPLACE TEMP TABLE replay_points AS
WITH raw_points AS (
    SELECT event_id, lane_id, is_gpu, false AS is_end, ts_ns AS t, dur_ns FROM replay_events
    UNION ALL
    SELECT event_id, lane_id, is_gpu, true AS is_end, ts_ns + dur_ns AS t, dur_ns FROM replay_events
)
SELECT (row_number() OVER (ORDER BY t, CASE WHEN is_end AND dur_ns > 0 THEN 0 WHEN NOT is_end THEN 1 ELSE 2 END,
                                     CASE WHEN is_end THEN NOT is_gpu ELSE is_gpu END,
                                     CASE WHEN is_end THEN dur_ns ELSE -dur_ns END, event_id) - 1) AS point_id,
       event_id, lane_id, is_gpu, is_end, t
FROM raw_points;

-- Distinct event names, numbered: per-name scenario rules (`--scale`, `--remove`) and step windows
-- are matched against these once each, not once per event.
CREATE OR REPLACE TEMP TABLE replay_names AS
SELECT name, (row_number() OVER (ORDER BY name) - 1)::INTEGER AS name_code
FROM (SELECT DISTINCT coalesce(name, '') AS name FROM replay_events);
