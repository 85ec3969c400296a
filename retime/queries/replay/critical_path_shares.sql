-- Where a saved replay's critical path spends its time, per step and resource: the links of
-- critical_path summed. The resource with the largest share is what bounds the run; the replay's
-- own "bound by" line is the same sum over the whole run.
-- @include critical_path
-- @param trace_id BIGINT            a saved replay
-- @param window VARCHAR = step_pattern()   regular expression on annotation names
-- @column step VARCHAR              the window (NULL: outside every window)
-- @column resource VARCHAR          as in critical_path
-- @column links BIGINT
-- @column time_ns BIGINT
-- @column share_pct DOUBLE          of the step's path time
-- @empty the trace is not a saved replay (run `retime replay TRACE --save` and query the trace it saves)
SELECT step, resource, count(*) AS links, sum(to_t - from_t)::BIGINT AS time_ns,
       round(100.0 * sum(to_t - from_t) / sum(sum(to_t - from_t)) OVER (PARTITION BY step), 2) AS share_pct
FROM critical_path_links($trace_id, $window)  -- retime/foundation/critical_path.sql
GROUP BY step, resource
ORDER BY min(to_t), time_ns DESC;
