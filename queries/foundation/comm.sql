-- The collective kernels of a job's rank traces, numbered per rank: ranks issue collectives in the
-- same order, so the n-th collective of every rank is taken to be the same collective.
-- Columns: rank, trace_id, event_id, ts_ns, coll_op, seq (0-based position on its rank).
CREATE OR REPLACE TEMP MACRO collective_arrivals(job_name) AS TABLE
    SELECT t.rank, e.trace_id, e.event_id, e.ts_ns, e.coll_op,
           row_number() OVER (PARTITION BY e.trace_id ORDER BY e.ts_ns, e.event_id) - 1 AS seq
    FROM events e JOIN traces t USING (trace_id)
    WHERE t.job = job_name AND t.rank IS NOT NULL AND e.kind = 'collective';
