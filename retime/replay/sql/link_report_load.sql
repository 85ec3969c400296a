-- A replay's link load from its own link tables in memory (retime/replay/links.py LinkReport), as the named
-- query link_load answers it for a saved replay: retime/foundation/links.sql.
SELECT * FROM link_load(getvariable('replay_id'), getvariable('bucket_ns'))
ORDER BY server, link, direction, bucket;
