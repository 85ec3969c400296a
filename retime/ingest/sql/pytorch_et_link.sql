-- The matched operators of trace `et_trace_id` gain the execution trace's shapes and inputs in
-- their args: `Input Dims` and `Input type` where Kineto recorded none, and always `ET inputs`,
-- `ET outputs` (with tensor ids) and `ET node id`. Types are written as Kineto writes them: a
-- tensor's as its element type (`Tensor(float)` -> `float`), others as the execution trace has them.
UPDATE events SET args = json_merge_patch(coalesce(events.args, '{}'::JSON), json_object(
        'Input Dims', coalesce(events.args->'$."Input Dims"', n.input_shapes),
        'Input type', coalesce(events.args->'$."Input type"', to_json(list_transform(
            CAST(n.input_types AS VARCHAR[]), lambda x: coalesce(nullif(regexp_extract(x, '^Tensor\((.*)\)$', 1), ''), x)))),
        'ET inputs', n.inputs, 'ET outputs', n.outputs, 'ET node id', n.id))
FROM et_nodes n
WHERE events.trace_id = getvariable('et_trace_id') AND events.kind = 'cpu_op' AND n.name = events.name
  AND n.rf_id = coalesce(TRY_CAST(events.args->>'$."Record function id"' AS BIGINT),
                         TRY_CAST(events.args->>'$."External id"' AS BIGINT));
