-- The names of the replayed events, by the code graph_arrays_points gives each point.
SELECT name FROM replay_names ORDER BY name_code;
