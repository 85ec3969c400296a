-- A PyTorch execution trace's operator nodes (ExecutionTraceObserver JSON: schema, pid, start_ts,
-- finish_ts, nodes), with their inputs as JSON text. Nodes whose name is bracketed
-- ("[pytorch|profiler|execution_trace|thread]") are the observer's own and not operators.
CREATE OR REPLACE TEMP TABLE et_doc AS
SELECT * FROM read_json(getvariable('et_path'), maximum_object_size = getvariable('et_max_bytes'), sample_size = -1);

CREATE OR REPLACE TEMP TABLE et_nodes AS
SELECT n.id, n.name, n.rf_id, n.tid, to_json(n.input_shapes) AS input_shapes, to_json(n.input_types) AS input_types,
       to_json(n.inputs) AS inputs, to_json(n.outputs) AS outputs
FROM (SELECT unnest(nodes) AS n FROM et_doc)
WHERE n.rf_id > 0 AND NOT starts_with(n.name, '[');
