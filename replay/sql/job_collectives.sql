-- The GPU collectives of a job's ranks that a job replay synchronizes: numbered per rank in issue
-- order (as collective_arrivals in queries/foundation/comm.sql numbers them, GPU kernels only, since
-- only those have one duration to synchronize), so the n-th of every rank is one collective.
-- bus_bytes: what each rank moves over the links (collective_bus_bytes, queries/foundation/comm.sql).
SELECT t.rank, e.trace_id, e.event_id,
       row_number() OVER (PARTITION BY e.trace_id ORDER BY e.ts_ns, e.event_id) - 1 AS seq,
       collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_group_size) AS bus_bytes
FROM events e
JOIN traces t ON t.trace_id = e.trace_id
JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
WHERE t.job = getvariable('job') AND t.rank IS NOT NULL AND t.format <> 'replay'
  AND e.kind = 'collective' AND l.kind = 'gpu_stream' AND e.dur_ns IS NOT NULL
ORDER BY t.rank, seq;
