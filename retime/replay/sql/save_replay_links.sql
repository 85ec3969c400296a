-- A saved replay's link report (retime/replay/links.py LinkReport, registered as saved_transfers,
-- saved_transfer_links and saved_link_capacity) stored under the replay's trace `trace_id`, so the
-- link queries (retime/queries/replay/link_*.sql) answer from the store.
INSERT INTO replay_transfers BY NAME SELECT getvariable('trace_id') AS trace_id, * FROM saved_transfers;
INSERT INTO replay_transfer_links BY NAME SELECT getvariable('trace_id') AS trace_id, * FROM saved_transfer_links;
INSERT INTO replay_link_capacity BY NAME SELECT getvariable('trace_id') AS trace_id, * FROM saved_link_capacity;
