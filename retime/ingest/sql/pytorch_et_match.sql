-- The stored Kineto trace an execution trace's nodes belong to: the one whose CPU operators on the
-- execution trace's process match the most nodes by record function id (`Record function id`, else
-- `External id`) and name. One row.
WITH et AS (SELECT (SELECT pid FROM et_doc) AS pid),
candidates AS (
    SELECT e.trace_id, count(*) AS matched
    FROM events e
    JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    JOIN traces t ON t.trace_id = e.trace_id AND t.format = 'kineto'
    JOIN et_nodes n ON n.rf_id = coalesce(TRY_CAST(e.args->>'$."Record function id"' AS BIGINT),
                                          TRY_CAST(e.args->>'$."External id"' AS BIGINT))
                   AND n.name = e.name
    WHERE e.kind = 'cpu_op' AND l.pid = (SELECT pid FROM et)::VARCHAR
    GROUP BY e.trace_id
)
SELECT (SELECT arg_max(trace_id, matched) FROM candidates) AS trace_id,
       coalesce((SELECT max(matched) FROM candidates), 0) AS matched,
       (SELECT count(*) FROM et_nodes) AS operators,
       (SELECT pid FROM et) AS pid, (SELECT schema FROM et_doc)::VARCHAR AS schema,
       (SELECT start_ts FROM et_doc) AS start_ns, (SELECT finish_ts FROM et_doc) AS end_ns;
