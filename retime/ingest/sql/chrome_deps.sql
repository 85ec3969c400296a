-- Edges of trace `trace_id`: launches (runtime/driver call -> the GPU op it enqueued, by
-- correlation id, which Kineto writes on both sides) and the trace's own flow arrows.
-- Flow v1 (s/t/f): points with the same (cat, id) chain in time order, a new chain at each 's';
-- each point binds to a slice on its own thread: the enclosing one, or for an 'f' without
-- bp = 'e' the next one to start (Trace Event Format). Kineto's ac2g / async_cpu_to_gpu flows are
-- launches, fwdbwd flows link forward ops to their backward.
-- Flow v2: a slice with flow_out and bind_id K -> the next slice in time with flow_in and the same K.
-- Only flows into a GPU op are launches; Kineto's ac2g arrows into cuda_sync records stay 'flow'.
CREATE OR REPLACE TEMP TABLE bindable AS
SELECT lane_id, ts_ns, arg_min(event_id, dur_ns) AS event_id, min(dur_ns) AS dur_ns
FROM staged_events WHERE phase IN ('X', 'B') AND dur_ns IS NOT NULL
GROUP BY lane_id, ts_ns;

CREATE OR REPLACE TEMP TABLE flow_points AS
SELECT r.rowid AS idx, r.ph, coalesce(r.cat, '') AS cat, r.id, r.ts_ns, r.bp, l.lane_id,
       sum(CASE WHEN r.ph = 's' THEN 1 ELSE 0 END)
           OVER (PARTITION BY coalesce(r.cat, ''), r.id ORDER BY r.ts_ns, r.rowid ROWS UNBOUNDED PRECEDING) AS chain
FROM raw r JOIN staged_lanes l ON l.pid = r.pid AND l.track = r.tid
WHERE r.ph IN ('s', 't', 'f') AND r.id IS NOT NULL AND r.ts_ns IS NOT NULL;

CREATE OR REPLACE TEMP TABLE flow_bound AS
WITH
enclosing AS (
    SELECT p.idx, b.event_id
    FROM (SELECT * FROM flow_points WHERE NOT (ph = 'f' AND coalesce(bp, '') <> 'e')) p
    ASOF JOIN bindable b ON b.lane_id = p.lane_id AND p.ts_ns >= b.ts_ns
    WHERE b.ts_ns + b.dur_ns >= p.ts_ns
),
following AS (
    SELECT p.idx, b.event_id
    FROM (SELECT * FROM flow_points WHERE ph = 'f' AND coalesce(bp, '') <> 'e') p
    ASOF JOIN bindable b ON b.lane_id = p.lane_id AND p.ts_ns <= b.ts_ns
)
SELECT p.*, e.event_id
FROM flow_points p LEFT JOIN (SELECT * FROM enclosing UNION ALL SELECT * FROM following) e USING (idx);

-- A GPU op whose launch call shares its correlation id keeps that call alone: Kineto's ac2g arrow
-- can bind to a neighbouring runtime call (cudaPeekAtLastError, cudaFuncSetAttribute at the same
-- timestamp), which would count one op as launched twice.
INSERT INTO deps BY NAME
WITH links AS (
    SELECT c.event_id AS src_event_id, g.event_id AS dst_event_id, 'launch' AS kind, true AS by_correlation
    FROM (SELECT event_id, correlation FROM events
          WHERE trace_id = getvariable('trace_id') AND kind IN ('runtime', 'driver') AND correlation IS NOT NULL) c
    JOIN (SELECT event_id, correlation FROM events
          WHERE trace_id = getvariable('trace_id') AND is_gpu_op(kind)
            AND correlation IS NOT NULL) g USING (correlation)
    UNION ALL
    SELECT f.src_event_id, f.dst_event_id,
           CASE WHEN f.cat IN ('ac2g', 'async_cpu_to_gpu') AND is_gpu_op(g.kind)
                THEN 'launch'
                WHEN f.cat = 'fwdbwd' THEN 'fwd_bwd' ELSE 'flow' END,
           false
    -- an arrow ends at each point from the chain's latest 's' or 't' before it: an 'f' ends the
    -- flow, so the next 'f' of the same id (the kernels of one cudaGraphLaunch share its
    -- correlation id) is another arrow from that source, not an arrow from the earlier op; a chain
    -- whose 's' fell before the trace window has no source at all
    FROM (SELECT cat, last_value(CASE WHEN ph <> 'f' THEN event_id END IGNORE NULLS) OVER w AS src_event_id,
                 event_id AS dst_event_id
          FROM flow_bound WHERE event_id IS NOT NULL
          WINDOW w AS (PARTITION BY cat, id, chain ORDER BY ts_ns, idx
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) f
    JOIN staged_events g ON g.event_id = f.dst_event_id
    WHERE f.src_event_id IS NOT NULL
    UNION ALL
    -- v2: each flow_out slice links to the next flow_in slice of its bind_id, in time order
    SELECT o.event_id, i.event_id, 'flow', false
    FROM (SELECT rowid AS idx, flow_out,
                 first_value(CASE WHEN flow_in THEN rowid END IGNORE NULLS)
                     OVER (PARTITION BY bind_id ORDER BY ts_ns, rowid
                           ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_in
          FROM raw WHERE bind_id IS NOT NULL AND (flow_in OR flow_out) AND ts_ns IS NOT NULL) v
    JOIN staged_events o ON o.idx = v.idx
    JOIN staged_events i ON i.idx = v.next_in
    WHERE v.flow_out
)
SELECT DISTINCT getvariable('trace_id') AS trace_id, src_event_id, dst_event_id, kind
FROM links l
WHERE src_event_id <> dst_event_id
  AND (by_correlation OR kind <> 'launch'
       OR dst_event_id NOT IN (SELECT dst_event_id FROM links WHERE by_correlation));
