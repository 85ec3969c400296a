-- Copy the traces of a staging store (attached as `staged`, written by a worker process of a
-- parallel ingest) into this store under new ids: every table's rows, by column name, for each
-- trace in `staged_ids` (old_id -> new_id, the traces of the batch's files that are not stored yet).
INSERT INTO traces BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.traces s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO lanes BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.lanes s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO events BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.events s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO deps BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.deps s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO counters BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.counters s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_timeline BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_timeline s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_device_time BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_device_time s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO op_shapes BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.op_shapes s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO op_work BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.op_work s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO cpu_top_ops BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.cpu_top_ops s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_overlap BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_overlap s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_busy_islands BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_busy_islands s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_launch_queue BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_launch_queue s JOIN staged_ids m ON s.trace_id = m.old_id;
INSERT INTO gpu_stream_gaps BY NAME SELECT s.* REPLACE (m.new_id AS trace_id) FROM staged.gpu_stream_gaps s JOIN staged_ids m ON s.trace_id = m.old_id;
