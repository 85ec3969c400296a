-- Every replay point in point order (the kernel's topological order): its measured time, its event
-- and lane, and its event's name as a code into replay_names (rules by name match each name once).
SELECT p.t, p.event_id, p.is_end, p.lane_id, p.is_gpu, n.name_code
FROM replay_points p
JOIN replay_events e ON e.event_id = p.event_id
JOIN replay_names n ON n.name = coalesce(e.name, '')
ORDER BY p.point_id;
