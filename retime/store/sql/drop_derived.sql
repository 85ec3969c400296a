-- The derived tables, dropped before an upgrade makes them again from the stored events.
DROP TABLE IF EXISTS gpu_timeline;
DROP TABLE IF EXISTS gpu_device_time;
DROP TABLE IF EXISTS op_shapes;
DROP TABLE IF EXISTS op_work;
DROP TABLE IF EXISTS cpu_top_ops;
DROP TABLE IF EXISTS gpu_overlap;
DROP TABLE IF EXISTS gpu_busy_islands;
DROP TABLE IF EXISTS gpu_launch_queue;
DROP TABLE IF EXISTS gpu_stream_gaps;
DROP TABLE IF EXISTS derived_info;
