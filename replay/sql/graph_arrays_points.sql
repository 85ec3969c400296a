-- Every replay point in point order (the kernel's topological order): its measured time, its event,
-- its lane, and for a GPU op its class (gpu_class, as an index into the gpu_classes list the
-- engine passes; -1 on CPU threads), which the per-kernel performance model reads.
SELECT p.t, p.event_id, p.is_end, p.lane_id, p.is_gpu,
       coalesce(list_position(getvariable('gpu_classes'), g.class) - 1, -1)::TINYINT AS gpu_class
FROM replay_points p LEFT JOIN (SELECT event_id, class FROM replay_gpu_classes) g USING (event_id)
ORDER BY p.point_id;
