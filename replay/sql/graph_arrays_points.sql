-- Measured time of every replay point, in point order (the kernel's topological order).
SELECT t, event_id, is_end FROM replay_points ORDER BY point_id;
