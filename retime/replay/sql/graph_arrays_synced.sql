-- The stream each stream synchronize waited on (graph_inputs.sql).
SELECT event_id, sync_stream FROM replay_synced WHERE sync_stream IS NOT NULL;
