-- Counts for the traces row of the process just written, and what was left out.
SELECT
    (SELECT count(*) FROM nsys_events) AS events,
    (SELECT getvariable('time_base_ns') + min("start") FROM nsys_events) AS start_ns,
    (SELECT getvariable('time_base_ns') + max("end") FROM nsys_events) AS end_ns,
    (SELECT count(*) FROM nsys_lanes) AS lanes,
    (SELECT count(*) FROM nsys_staged WHERE NOT valid) AS dropped;
