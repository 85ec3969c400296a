-- Counts for the traces row of the XPlane file just written, and what was left out.
SELECT
    (SELECT count(*) FROM xplane_events) AS events,
    (SELECT min(start_ns) FROM xplane_events) AS start_ns,
    (SELECT max(end_ns) FROM xplane_events) AS end_ns,
    (SELECT count(*) FROM xplane_lanes) AS lanes,
    (SELECT count(*) FROM deps WHERE trace_id = getvariable('trace_id') AND kind = 'launch') AS launches,
    (SELECT count(*) FROM xplane_staged WHERE NOT valid) AS dropped;
