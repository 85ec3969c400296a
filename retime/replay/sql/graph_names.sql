-- The distinct names of the replayed events, by code.
SELECT name FROM replay_names ORDER BY name_code;
