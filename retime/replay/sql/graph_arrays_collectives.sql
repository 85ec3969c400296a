-- The replayed collectives' shapes as the measured NCCL curves read them (retime/replay/kernel_db.py): the
-- operation (an index into the collective_ops list the engine passes: nccl_curve_op,
-- retime/foundation/comm.sql), the GPUs of its group and its buffer in bytes as nccl-tests counts
-- it (the larger of its input and output: an all-gather's whole output, a reduce-scatter's whole
-- input). Where the kernel records no size, its launching `nccl:<op>` slice's input does
-- (collective_launch_sizes; an all-gather's output is its input on every rank), and where it
-- records no group, the trace's world size; where its own name has no curve (PyTorch's all_to_all
-- runs as SendRecv kernels), the slice's operation. Collectives missing any of them (or of an operation
-- without a curve) have no shape.
WITH shaped AS (
    -- the kernel's own operation first, else its launching slice's (all_to_all runs as SendRecv kernels)
    SELECT e.event_id, coalesce(nccl_curve_op(e.coll_op), nccl_curve_op(ls.coll_op)) AS op,
           coalesce(e.coll_group_size, t.world_size) AS ranks, coalesce(e.coll_in_nelems > 0, false) AS own_size,
           CASE WHEN e.coll_in_nelems > 0 THEN greatest(e.coll_in_nelems, coalesce(e.coll_out_nelems, 0))
                                              * collective_dtype_bytes(e.coll_dtype)
                ELSE ls.nelems * collective_dtype_bytes(ls.coll_dtype) END AS own_bytes
    FROM events e  -- the replayed collectives (is_span_event, retime/foundation/host.sql), read alone
    JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    JOIN traces t ON t.trace_id = e.trace_id
    LEFT JOIN collective_launch_sizes(getvariable('trace_id')) ls ON ls.event_id = e.event_id
    WHERE e.trace_id = getvariable('trace_id') AND e.kind = 'collective' AND is_span_event(l.kind, e.kind, e.dur_ns)
)
SELECT event_id, (list_position(getvariable('collective_ops'), op) - 1)::DOUBLE AS op, ranks::DOUBLE AS ranks,
       (own_bytes * CASE WHEN op = 'all_gather' AND NOT own_size THEN ranks ELSE 1 END)::DOUBLE AS buffer_bytes
FROM shaped
WHERE op IS NOT NULL AND ranks >= 2 AND own_bytes > 0;
