-- Turn the trace's phases into intervals and instants: one row per future event.
-- X is already an interval; B/E pairs are matched per thread as a stack; nestable async b/e
-- per (pid, cat, id) as a stack, legacy async S/F per (pid, cat, id, name); i/I/R/n are instants.
-- Columns: idx (file position of the begin), pid, track (the lane's tid, or an async track
-- name), is_async, phase, cat, ts_ns, dur_ns (NULL when the slice never closed). Names and args
-- stay in raw and join back when the events are written.
CREATE OR REPLACE TEMP TABLE staged AS
WITH
complete AS (
    SELECT rowid AS idx, pid, tid AS track, false AS is_async, 'X' AS phase, cat, ts_ns, dur_ns
    FROM raw
    WHERE ph = 'X' AND ts_ns IS NOT NULL AND dur_ns >= 0
),
-- B/E: the running depth per thread gives each begin and end a nesting level; at one level the
-- begins and ends alternate in time, so a begin closes at the next row of its level if that is an end.
begin_end AS (
    SELECT *, CASE ph WHEN 'B' THEN depth ELSE depth + 1 END AS level
    FROM (SELECT rowid AS idx, pid, tid, ph, cat, ts_ns,
                 sum(CASE ph WHEN 'B' THEN 1 ELSE -1 END)
                     OVER (PARTITION BY pid, tid ORDER BY ts_ns, idx ROWS UNBOUNDED PRECEDING) AS depth
          FROM raw WHERE ph IN ('B', 'E') AND ts_ns IS NOT NULL)
),
begin_end_paired AS (
    SELECT *, lead(ph) OVER w AS next_ph, lead(ts_ns) OVER w AS next_ts
    FROM begin_end WINDOW w AS (PARTITION BY pid, tid, level ORDER BY ts_ns, idx)
),
matched AS (
    SELECT idx, pid, tid AS track, false AS is_async, 'B' AS phase, cat, ts_ns,
           CASE WHEN next_ph = 'E' THEN next_ts - ts_ns END AS dur_ns
    FROM begin_end_paired WHERE ph = 'B'
),
-- async: the same stack matching, keyed by the async id instead of the thread
async_points AS (
    SELECT rowid AS idx, pid, ph, cat, name, ts_ns,
           CASE WHEN ph IN ('b', 'e') THEN coalesce(cat, '') || '\x1f' || id
                ELSE coalesce(cat, '') || '\x1f' || id || '\x1f' || coalesce(name, '') END AS async_key,
           ph IN ('b', 'S') AS is_begin
    FROM raw WHERE ph IN ('b', 'e', 'S', 'F') AND ts_ns IS NOT NULL AND id IS NOT NULL
),
async_leveled AS (
    SELECT *, CASE WHEN is_begin THEN depth ELSE depth + 1 END AS level
    FROM (SELECT *, sum(CASE WHEN is_begin THEN 1 ELSE -1 END)
                        OVER (PARTITION BY pid, async_key ORDER BY ts_ns, idx ROWS UNBOUNDED PRECEDING) AS depth
          FROM async_points)
),
async_paired AS (
    SELECT *, lead(is_begin) OVER w AS next_is_begin, lead(ts_ns) OVER w AS next_ts
    FROM async_leveled WINDOW w AS (PARTITION BY pid, async_key, level ORDER BY ts_ns, idx)
),
async_slices AS (
    SELECT idx, pid, 'async:' || coalesce(name, '') AS track, true AS is_async,
           CASE ph WHEN 'b' THEN 'b' ELSE 'S' END AS phase, cat, ts_ns,
           CASE WHEN next_is_begin = false THEN next_ts - ts_ns END AS dur_ns
    FROM async_paired WHERE is_begin
),
instants AS (
    SELECT rowid AS idx, pid, tid AS track, false AS is_async, ph AS phase, cat, ts_ns, 0::BIGINT AS dur_ns
    FROM raw WHERE ph IN ('i', 'I', 'R', 'n') AND ts_ns IS NOT NULL
)
SELECT * FROM complete
UNION ALL SELECT * FROM matched
UNION ALL SELECT * FROM async_slices
UNION ALL SELECT * FROM instants;
