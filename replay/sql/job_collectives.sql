-- The GPU collectives of a job's ranks that a job replay synchronizes, matched across ranks as the
-- straggler queries match them (collective_arrivals, retime/foundation/comm.sql), with what each
-- rank moves over the links (collective_bus_bytes, same file).
SELECT a.rank, a.trace_id, a.event_id, a.seq,
       collective_bus_bytes(e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_group_size) AS bus_bytes
FROM collective_arrivals(getvariable('job')) a
JOIN events e ON e.trace_id = a.trace_id AND e.event_id = a.event_id
ORDER BY a.rank, a.seq;
