-- The critical path of a saved replay (`retime replay TRACE --save`; with no changes the replay
-- is the measured run itself): the chain of links that sets the run's end, in time order, with the
-- time each adds and what it stands for. A link joins two points (starts or ends) of events:
-- 'duration' (an event's own time), 'host' (host work between points of one thread), 'hand-off'
-- (between threads), 'launch' (call to GPU op), 'sync wait' (GPU op end to the blocking call's
-- return), 'staged copy' (a pageable copy holding its call), 'stream order' and 'stream wait'
-- (GPU op to the next on its stream, or on another stream).
-- @include critical_path
-- @param trace_id BIGINT            a saved replay
-- @param window VARCHAR = step_pattern()   regular expression on annotation names: the step column
-- @column step VARCHAR              the window the link ends in (NULL outside every window)
-- @column seq BIGINT                position on the path
-- @column from_event VARCHAR
-- @column to_event VARCHAR
-- @column link VARCHAR
-- @column resource VARCHAR          cpu | launch | wait | memory | communication | gpu:<class> (gemm, attention, ...)
-- @column end_ns BIGINT             when the link ends
-- @column time_ns BIGINT
-- @column share_pct DOUBLE          of the whole path
-- @empty the trace is not a saved replay (run `retime replay TRACE --save` and query the trace it saves)
SELECT step, row_number() OVER (ORDER BY to_t, from_t) AS seq, from_event, to_event, link, resource,
       to_t AS end_ns, to_t - from_t AS time_ns,
       round(100.0 * (to_t - from_t) / sum(to_t - from_t) OVER (), 2) AS share_pct
FROM critical_path_links($trace_id, $window)  -- retime/foundation/critical_path.sql
ORDER BY seq;
