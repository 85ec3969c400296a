-- The GPU collectives of a job's ranks that a job replay synchronizes, matched across ranks as the
-- straggler queries match them (collective_arrivals, retime/foundation/comm.sql), with what each
-- rank moves over the links (collective_bus_bytes, same file): from the kernel's own element count,
-- else from its launching `nccl:<op>` slice (collective_launch_sizes); a group of unknown size is the
-- job's world, as the replay matches every rank's n-th collective. ts_ns: the collective's start (its
-- rank's arrival), for a job grown from some of its ranks (the others' arrivals are not waited for).
WITH arrivals AS (SELECT * FROM collective_arrivals(getvariable('job'))),
launch_sizes AS (
    SELECT r.trace_id, z.* FROM (SELECT DISTINCT trace_id FROM arrivals) r, LATERAL collective_launch_sizes(r.trace_id) z
)
SELECT a.rank, a.trace_id, a.event_id, a.seq, e.ts_ns,
       coalesce(collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems, coalesce(e.coll_group_size, t.world_size)),
                collective_bus_bytes(z.coll_op, z.coll_dtype, z.nelems, coalesce(e.coll_group_size, t.world_size))) AS bus_bytes
FROM arrivals a
JOIN events e ON e.trace_id = a.trace_id AND e.event_id = a.event_id
JOIN traces t ON t.trace_id = a.trace_id
LEFT JOIN launch_sizes z ON z.trace_id = a.trace_id AND z.event_id = a.event_id
ORDER BY a.rank, a.seq;
