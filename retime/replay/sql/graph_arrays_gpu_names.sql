-- The class of each distinct (kind, name) of the replayed GPU ops (gpu_class, retime/foundation/gpu.sql),
-- as an index into gpu_classes; replay_gpu_name_list is handed in by retime/replay/graph_build.py.
SELECT i, (list_position(getvariable('gpu_classes'), gpu_class(kind, name_key)) - 1)::TINYINT AS gpu_class
FROM replay_gpu_name_list ORDER BY i;
