-- Counts for the traces row of the process just written, and what was left out.
SELECT
    (SELECT count(*) FROM rocprof_events) AS events,
    (SELECT min(start_ns) FROM rocprof_events) AS start_ns,
    (SELECT max(end_ns) FROM rocprof_events) AS end_ns,
    (SELECT count(*) FROM rocprof_lanes) AS lanes,
    (SELECT count(*) FROM deps WHERE trace_id = getvariable('trace_id') AND kind = 'launch') AS launches,
    (SELECT count(*) FROM rocprof_mine WHERE NOT valid) AS dropped,
    (SELECT list(DISTINCT product ORDER BY product) FROM rocprof_agents
      WHERE process = getvariable('rocprof_process') AND is_gpu) AS gpu_names;
