-- A replay's link collisions from its own link tables in memory (retime/replay/links.py LinkReport), as the named
-- query link_collisions answers it for a saved replay: retime/foundation/links.sql.
SELECT * FROM link_collisions(getvariable('replay_id'))
ORDER BY delay_ns DESC, rank, start_ns;
