-- Every replay point in point order (the kernel's topological order): its measured time, its event
-- and its lane.
SELECT t, event_id, is_end, lane_id, is_gpu FROM replay_points ORDER BY point_id;
