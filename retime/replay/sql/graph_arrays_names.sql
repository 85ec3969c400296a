-- The name code of every replayed event (replay_names), so that per-name rules match names once.
SELECT e.event_id, n.name_code FROM replay_events e JOIN replay_names n ON n.name = coalesce(e.name, '');
