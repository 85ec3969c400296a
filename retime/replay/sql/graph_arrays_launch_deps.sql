-- Launch links of trace `trace_id`: the runtime call that launched each GPU op.
SELECT src_event_id, dst_event_id FROM deps WHERE trace_id = getvariable('trace_id') AND kind = 'launch';
