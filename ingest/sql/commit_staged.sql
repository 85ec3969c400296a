-- Copy trace `old_id` of a staging store (attached as `staged`, written by a worker process of a
-- parallel ingest) into this store as trace `new_id`: every table's rows, by column name.
INSERT INTO traces BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.traces WHERE trace_id = getvariable('old_id');
INSERT INTO lanes BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.lanes WHERE trace_id = getvariable('old_id');
INSERT INTO events BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.events WHERE trace_id = getvariable('old_id');
INSERT INTO deps BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.deps WHERE trace_id = getvariable('old_id');
INSERT INTO counters BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.counters WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_timeline BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_timeline WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_device_time BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_device_time WHERE trace_id = getvariable('old_id');
INSERT INTO op_shapes BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.op_shapes WHERE trace_id = getvariable('old_id');
INSERT INTO op_work BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.op_work WHERE trace_id = getvariable('old_id');
INSERT INTO cpu_top_ops BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.cpu_top_ops WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_overlap BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_overlap WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_busy_islands BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_busy_islands WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_launch_queue BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_launch_queue WHERE trace_id = getvariable('old_id');
INSERT INTO gpu_stream_gaps BY NAME SELECT * REPLACE (getvariable('new_id') AS trace_id) FROM staged.gpu_stream_gaps WHERE trace_id = getvariable('old_id');
