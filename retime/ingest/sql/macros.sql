-- What both readers (Chrome/Kineto and Nsight Systems) mean by a collective kernel, in one place.

-- A kernel that moves data between GPUs: NCCL or RCCL ('ncclKernel_AllReduce_...',
-- 'ncclDevKernel_SendRecv', 'rcclKernel...').
CREATE OR REPLACE TEMP MACRO is_collective_kernel(name) AS
    regexp_matches(coalesce(name, ''), '^(nccl|rccl)|nccl(Dev)?Kernel', 'i');

-- The collective a kernel's name says it runs: 'AllReduce', 'SendRecv', ... (NULL when it does not say).
CREATE OR REPLACE TEMP MACRO collective_op_from_name(name) AS
    nullif(regexp_extract(coalesce(name, ''), '(?i)(?:nccl|rccl)(?:Dev)?Kernel_([A-Za-z]+)', 1), '');

-- The first stored trace other than `other` (and not a replay) that holds the same events as a
-- trace with these marks: the same format, rank, first and last event, event count, summed
-- durations and lanes. Another file of one trace (re-compressed, re-indented, copied under another
-- name) has other bytes but these; NULL when there is none. find_same_events.sql asks it of a trace
-- just written, find_same_events_staged.sql of a trace in a parallel ingest's staging store.
CREATE OR REPLACE TEMP MACRO stored_with_same_events(fmt, rnk, lo, hi, n_events, dur, n_lanes, other) AS (
    SELECT min(o.trace_id) FROM traces o
    WHERE o.trace_id IS DISTINCT FROM other AND o.format = fmt AND o.format <> 'replay' AND o.rank IS NOT DISTINCT FROM rnk
      AND o.start_ns = lo AND o.end_ns = hi AND o.event_count = n_events
      AND (SELECT sum(e.dur_ns) FROM events e WHERE e.trace_id = o.trace_id) IS NOT DISTINCT FROM dur
      AND (SELECT count(*) FROM lanes l WHERE l.trace_id = o.trace_id) = n_lanes
);

-- A VARCHAR field of an event as DuckDB's JSON reader gives it, from the text the columnar reader
-- (retime/ingest/json_columns.py) took out of the file: the text itself, or, where bit `bit` of
-- `delegated` says the token was one the kernel leaves to DuckDB (a string with escapes, a number
-- other than a short integer, an object with them), the reader's conversion of the token.
CREATE OR REPLACE TEMP MACRO event_text(token, delegated, bit) AS
    CASE WHEN (delegated & bit) <> 0 THEN json_extract_string(json(token), '$') ELSE token END;
