-- The class of every replayed GPU op (gpu_class, as an index into the gpu_classes list the engine
-- passes), which the per-kernel performance model reads; the engine maps it onto the op's points.
SELECT event_id, (list_position(getvariable('gpu_classes'), class) - 1)::TINYINT AS gpu_class FROM replay_gpu_classes;
