-- The saved replays of a trace (retime replay --save): each scenario's predicted span against the
-- measured one. A trace that is itself a replay lists its siblings, so any of them can be the anchor.
-- @param trace_id BIGINT      a measured trace, or one of its replays
-- @column replay_id BIGINT
-- @column scenario JSON       the knobs the replay changed (its error bar has columns of its own)
-- @column measured_ns BIGINT  the measured span of the events the replay holds
-- @column predicted_ns BIGINT the replay's span
-- @column speedup DOUBLE      measured / predicted
-- @column expected_error_pct DOUBLE  the error bar the replay was saved with (retime/replay/presets/fidelity.toml; NULL: unvalidated)
-- @column error_basis VARCHAR where that error bar comes from
-- @empty the trace has no saved replays (run retime replay TRACE --set ... --save)
WITH
anchor AS (SELECT coalesce(parent_trace_id, trace_id) AS trace_id FROM traces WHERE trace_id = $trace_id),
replays AS (SELECT r.* FROM traces r JOIN anchor a ON r.parent_trace_id = a.trace_id),
-- the measured span of the same events each replay holds (a replay leaves out what it does not move)
spans AS (
    SELECT r.trace_id AS replay_id, max(m.ts_ns + m.dur_ns) - min(m.ts_ns) AS measured_ns,
           max(e.ts_ns + e.dur_ns) - min(e.ts_ns) AS predicted_ns
    FROM replays r
    JOIN events e ON e.trace_id = r.trace_id
    JOIN events m ON m.trace_id = r.parent_trace_id AND m.event_id = e.event_id
    GROUP BY r.trace_id
)
SELECT s.replay_id, json_merge_patch(r.scenario, '{"error_bar": null}') AS scenario, s.measured_ns, s.predicted_ns, round(s.measured_ns / s.predicted_ns, 4) AS speedup,
       TRY_CAST(json_extract(r.scenario, '$.error_bar.expected_error_pct') AS DOUBLE) AS expected_error_pct,
       json_extract_string(r.scenario, '$.error_bar.basis') AS error_basis
FROM spans s JOIN replays r ON r.trace_id = s.replay_id
ORDER BY s.replay_id;
