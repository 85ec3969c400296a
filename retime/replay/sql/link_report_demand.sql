-- A replay's link demand from its own link tables in memory (retime/replay/links.py LinkReport), as the named
-- query link_demand answers it for a saved replay: retime/foundation/links.sql.
SELECT * FROM link_demand(getvariable('replay_id'))
ORDER BY over_100_ns DESC, over_80_ns DESC, bytes DESC, server, link, direction;
