-- The GPU names a trace recorded (deviceProperties / TARGET_INFO_GPU).
SELECT gpu_names FROM traces WHERE trace_id = $trace_id;
