-- Building blocks every GPU query shares: one definition of "GPU op", its class, and "busy".
-- @include _kernel_class_rules intervals

-- The class of a GPU op, for breakdowns and for the replayer (gemm, attention and convolution are
-- the compute-bound classes that gpu.flops scales). Communication: collectives. Memory: copies and
-- memsets. Kernels by name: the first rule of kernel_classes.toml whose pattern matches (the table
-- kernel_class_rules, _kernel_class_rules.sql; kernel_class_rule, the first-match macro foundation.load
-- defines over them), otherwise 'other'.
-- @arg kind VARCHAR events.kind of the op
-- @arg name VARCHAR the event's name
-- @returns VARCHAR gemm | attention | convolution | reduction | elementwise | other | memory | communication
CREATE OR REPLACE TEMP MACRO gpu_class(kind, name) AS
    CASE WHEN kind = 'collective' THEN 'communication'
         WHEN kind IN ('memcpy', 'memset') THEN 'memory'
         ELSE coalesce((SELECT class FROM kernel_class_rules WHERE priority = kernel_class_rule(name)),
                       'other') END;

-- Compute, communication or memory: the three resources the temporal breakdown splits GPU time
-- into, from an op's class (gpu_class): collectives and the kernels that move data between GPUs
-- without being collectives (DeepEP, custom all-reduce, ...: kernel_classes.toml) are
-- communication, copies and memsets memory, every other kernel compute.
-- @arg class VARCHAR a gpu_class value
-- @returns VARCHAR compute | communication | memory
CREATE OR REPLACE TEMP MACRO class_resource(class) AS
    CASE class WHEN 'communication' THEN 'communication' WHEN 'memory' THEN 'memory' ELSE 'compute' END;

-- The GPU ops of trace t with only what time accounting needs (no class, no args): the derived
-- gpu_timeline (retime/store/sql/schema.sql), under the column names the queries use.
-- @arg t BIGINT the trace
-- @column event_id BIGINT
-- @column kind VARCHAR
-- @column lane_device INTEGER
-- @column lane_stream BIGINT
-- @column ts_ns BIGINT
-- @column end_ns BIGINT
-- @column resource VARCHAR
CREATE OR REPLACE TEMP MACRO gpu_spans(t) AS TABLE
    SELECT event_id, kind, device AS lane_device, stream AS lane_stream, ts_ns, end_ns, resource
    FROM gpu_timeline WHERE trace_id = t;

-- The GPU ops of trace t that a host call launched, with the start of that call (call_t): the
-- launch path (queue depth, launch-bound windows).
-- @arg t BIGINT the trace
-- @column event_id BIGINT
-- @column device INTEGER
-- @column stream BIGINT
-- @column ts_ns BIGINT
-- @column end_ns BIGINT
-- @column call_t BIGINT
CREATE OR REPLACE TEMP MACRO gpu_launches(t) AS TABLE
    SELECT event_id, device, stream, ts_ns, end_ns, call_ts_ns AS call_t
    FROM gpu_timeline WHERE trace_id = t AND call_event_id IS NOT NULL;

-- The launch queue of trace t at each launch: for every GPU op a host call launched, how many ops of
-- its device were launched (by their call's start) and not yet finished when its call started,
-- itself included. +1 at each launch call, -1 at each op's end, summed in time order over all
-- devices at once (each device's +1s and -1s cancel, so its sum starts at 0); an end at the instant
-- of a launch counts first, launches at one instant in event order. Written to gpu_launch_queue
-- when a trace is.
-- @arg t BIGINT the trace
-- @column event_id BIGINT
-- @column device INTEGER
-- @column call_t BIGINT the launch call's start
-- @column depth HUGEINT ops launched and not yet finished, this one included
CREATE OR REPLACE TEMP MACRO launch_queue(t) AS TABLE
    SELECT event_id, device, t_ns AS call_t, depth
    FROM (SELECT event_id, device, t_ns, is_launch,
                 sum(delta) OVER (ORDER BY device, t_ns, delta, event_id ROWS UNBOUNDED PRECEDING) AS depth
          FROM (SELECT event_id, device, call_t AS t_ns, 1 AS delta, true AS is_launch FROM gpu_launches(t)
                UNION ALL SELECT event_id, device, end_ns, -1, false FROM gpu_launches(t)))
    WHERE is_launch;

-- GPU time per op name of trace t (kind, name, resource, class, ops, ns: durations summed): the
-- breakdowns add up first and class the few hundred names a trace repeats, not its millions of ops.
-- @arg t BIGINT the trace
-- @column kind VARCHAR
-- @column name VARCHAR
-- @column resource VARCHAR
-- @column class VARCHAR
-- @column ops BIGINT
-- @column ns HUGEINT
CREATE OR REPLACE TEMP MACRO gpu_name_totals(t) AS TABLE
    SELECT kind, name, class_resource(class) AS resource, class, ops, ns
    FROM (SELECT kind, name, gpu_class(kind, coalesce(name, '')) AS class, ops, ns
          FROM (SELECT kind, name, count(*) AS ops, sum(end_ns - ts_ns) AS ns FROM gpu_timeline WHERE trace_id = t
                GROUP BY kind, name));

-- The idle gaps of each GPU stream of trace t: an op that starts after every earlier op of its
-- stream has ended opens a gap from that end (free_since) to its start.
-- Written to gpu_stream_gaps when a trace is; the queries read that.
-- @arg t BIGINT the trace
-- @column device INTEGER
-- @column stream BIGINT
-- @column gap_ns BIGINT
-- @column free_since BIGINT
-- @column launched_at BIGINT the start of the call that launched the op ending the gap
CREATE OR REPLACE TEMP MACRO stream_gaps(t) AS TABLE
    SELECT device, stream, ts_ns - free_since AS gap_ns, free_since, call_ts_ns AS launched_at
    FROM (SELECT device, stream, ts_ns, call_ts_ns,
                 max(end_ns) OVER (PARTITION BY device, stream ORDER BY ts_ns, event_id
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS free_since
          FROM gpu_timeline WHERE trace_id = t)
    WHERE ts_ns > free_since;

-- The busy islands of trace t per device: maximal intervals during which at least one GPU op of the
-- given resources ran (overlapping ops merged). Algorithm: sort ops by start per device; an op
-- starts a new island when it starts after every earlier op has ended, and an island ends where
-- the ops before the next island's first op ended (the device's last end for the last island).
-- prev_end: where the island before ended (NULL for the first), so the idle gap before is known.
-- @arg t BIGINT the trace
-- @arg resources VARCHAR[] the resources whose ops count ('compute', 'communication', 'memory')
-- @column device INTEGER
-- @column island_start BIGINT
-- @column island_end BIGINT
-- @column prev_end BIGINT
CREATE OR REPLACE TEMP MACRO busy_islands(t, resources) AS TABLE
    WITH ops AS (
        SELECT lane_device AS grp, ts_ns AS s, end_ns AS e FROM gpu_spans(t) WHERE list_contains(resources, resource)
    )
    SELECT grp AS device, lo AS island_start, hi AS island_end, prev_hi AS prev_end FROM interval_union(ops);

-- The busy islands (lo, hi, prev_hi) with the busy time before each (before_ns): the time covered up to any t is
-- then one ASOF lookup of the last island starting at or before t, and covered_until of it.
-- @arg t BIGINT the trace
-- @arg resources VARCHAR[] the resources whose ops count ('compute', 'communication', 'memory')
-- @column device INTEGER
-- @column lo BIGINT
-- @column hi BIGINT
-- @column prev_hi BIGINT
-- @column before_ns HUGEINT
CREATE OR REPLACE TEMP MACRO busy_islands_covered(t, resources) AS TABLE
    WITH islands AS (SELECT device AS grp, island_start AS lo, island_end AS hi, prev_end AS prev_hi FROM busy_islands(t, resources))
    SELECT grp AS device, lo, hi, prev_hi, before_ns FROM covered_before(islands);

-- Time covered up to until_ns by disjoint intervals, from the last of them starting at or before it
-- (lo, hi, and before_ns: the time the earlier ones cover; all NULL when none starts that early).
-- Covered time inside [a, b) is covered_until(.., b) - covered_until(.., a): two ASOF lookups
-- instead of a range join.
-- @arg before_ns BIGINT an island's busy time before it (gpu_busy_islands)
-- @arg lo BIGINT the island's start
-- @arg hi BIGINT the island's end
-- @arg until_ns BIGINT the instant
-- @returns BIGINT busy time up to until_ns
CREATE OR REPLACE TEMP MACRO covered_until(before_ns, lo, hi, until_ns) AS coalesce(before_ns + least(until_ns, hi) - lo, 0);

-- The segments of trace t's GPU time per device between consecutive change points (an op starting
-- or ending), with how many ops of each resource ran over each: one sweep over the ops' starts and
-- ends, each +1 or -1 to its resource's running count. The gap from a device's last end to the next device's first start is no
-- segment.
-- @arg t BIGINT the trace
-- @column device INTEGER
-- @column compute HUGEINT ops of each resource running
-- @column comm HUGEINT
-- @column memory HUGEINT
-- @column len BIGINT the segment's length, ns
CREATE OR REPLACE TEMP MACRO gpu_segments(t) AS TABLE
    WITH changes AS (
        SELECT lane_device AS device, ts_ns AS t_ns, resource, 1 AS delta FROM gpu_spans(t)
        UNION ALL
        SELECT lane_device, end_ns, resource, -1 FROM gpu_spans(t)
    ),
    counted AS (
        SELECT device, t_ns,
               sum(CASE WHEN resource = 'compute' THEN delta ELSE 0 END) OVER w AS compute,
               sum(CASE WHEN resource = 'communication' THEN delta ELSE 0 END) OVER w AS comm,
               sum(CASE WHEN resource = 'memory' THEN delta ELSE 0 END) OVER w AS memory,
               lead(t_ns) OVER w - t_ns AS len, lead(device) OVER w AS next_device
        FROM changes
        -- one ordered pass over all devices: each device's +1s and -1s cancel, so every count is back
        -- at 0 on a device's last change; what runs on from there into the next device is dropped.
        -- Changes at one instant in a fixed order (ends first): the zero-length segments between them
        -- are dropped, so the answer does not depend on how the sort breaks ties
        WINDOW w AS (ORDER BY device, t_ns, delta, resource ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT device, compute, comm, memory, len FROM counted WHERE len > 0 AND next_device = device;

-- GPU time of trace t per device and combination of resources running at once (gpu_segments): the
-- flags compute, communication, memory (some op of that resource ran; all false: idle between
-- the device's first start and last end) and ns, the time exactly that combination ran. Written
-- to gpu_overlap when a trace is (retime/store/sql/derive_trace.sql).
-- @arg t BIGINT the trace
-- @column device INTEGER
-- @column compute BOOLEAN
-- @column communication BOOLEAN
-- @column memory BOOLEAN
-- @column ns BIGINT
CREATE OR REPLACE TEMP MACRO gpu_combinations(t) AS TABLE
    SELECT device, compute > 0 AS compute, comm > 0 AS communication, memory > 0 AS memory, sum(len)::BIGINT AS ns
    FROM gpu_segments(t)
    GROUP BY ALL;

-- GPU time per device of trace t split by what ran, from its stored combinations (gpu_overlap,
-- gpu_combinations): compute (some compute op ran), communication with and without compute,
-- memory only (only copies / memsets), and busy (anything ran): the unions of busy_islands.
-- @arg t BIGINT the trace
-- @column device INTEGER
-- @column compute_ns BIGINT
-- @column comm_overlapped_ns BIGINT
-- @column comm_exposed_ns BIGINT
-- @column memory_only_ns BIGINT
-- @column busy_ns BIGINT
CREATE OR REPLACE TEMP MACRO gpu_time_split(t) AS TABLE
    SELECT device,
           coalesce(sum(ns) FILTER (WHERE compute), 0)::BIGINT AS compute_ns,
           coalesce(sum(ns) FILTER (WHERE communication AND compute), 0)::BIGINT AS comm_overlapped_ns,
           coalesce(sum(ns) FILTER (WHERE communication AND NOT compute), 0)::BIGINT AS comm_exposed_ns,
           coalesce(sum(ns) FILTER (WHERE memory AND NOT communication AND NOT compute), 0)::BIGINT AS memory_only_ns,
           coalesce(sum(ns) FILTER (WHERE compute OR communication OR memory), 0)::BIGINT AS busy_ns
    FROM gpu_overlap WHERE trace_id = t
    GROUP BY device;
