-- Interval arithmetic over any table: the unions and running sums that GPU, host, link and replay
-- questions share, each written once. A macro reads the table it is given through query_table,
-- so a caller names a table or a CTE of its own statement:
--   WITH ops AS (SELECT device AS grp, ts_ns AS s, end_ns AS e FROM ...) SELECT * FROM interval_union(ops)
-- `grp` is any column (a struct for several): each group is computed on its own.

-- The union of each group's intervals as its islands, the maximal runs in which some interval is
-- open (intervals that touch join one island), with the end of the island before.
-- @arg tbl TABLE a table or CTE with columns grp, s and e (s <= e, integers)
-- @column grp ANY the group, as given
-- @column lo BIGINT the island's start
-- @column hi BIGINT the island's end
-- @column prev_hi BIGINT the end of the group's island before it (NULL for the first)
CREATE OR REPLACE TEMP MACRO interval_union(tbl) AS TABLE
    WITH _union_starts AS (
        SELECT * FROM (
            SELECT grp, s, max(e) OVER (PARTITION BY grp ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   AS before_end
            FROM query_table(tbl))
        WHERE before_end IS NULL OR s > before_end
    ),
    _union_last AS (SELECT grp, max(e) AS e FROM query_table(tbl) GROUP BY grp)
    SELECT st.grp, st.s AS lo, coalesce(lead(st.before_end) OVER (PARTITION BY st.grp ORDER BY st.s), l.e) AS hi,
           st.before_end AS prev_hi
    FROM _union_starts st JOIN _union_last l USING (grp);

-- Disjoint intervals (islands: interval_union) with the time the group's earlier ones cover: the
-- time covered up to any instant is then one ASOF lookup of the last interval starting at or
-- before it (covered_until, gpu.sql), instead of a range join.
-- @arg tbl TABLE a table or CTE with columns grp, lo and hi (disjoint within a group), and any others
-- @column grp ANY the table's columns, as given (here: grp, lo, hi)
-- @column lo BIGINT
-- @column hi BIGINT
-- @column before_ns HUGEINT the group's time covered before lo
CREATE OR REPLACE TEMP MACRO covered_before(tbl) AS TABLE
    SELECT *,
           coalesce(sum(hi - lo) OVER (PARTITION BY grp ORDER BY lo ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
           AS before_ns
    FROM query_table(tbl);

-- A step function from its changes: each group's level after every change at an instant (the
-- running sum of delta over the changes at or before it, in time order) until its next change.
-- Changes at one instant count together, so no order among them matters.
-- @arg tbl TABLE a table or CTE with columns grp, t (an instant) and delta (a number)
-- @column grp ANY the group, as given
-- @column t BIGINT the instant
-- @column next_t BIGINT the group's next instant with a change (NULL after its last)
-- @column level ANY the sum of the group's deltas up to and including t
CREATE OR REPLACE TEMP MACRO step_levels(tbl) AS TABLE
    SELECT grp, t, lead(t) OVER (PARTITION BY grp ORDER BY t) AS next_t,
           sum(delta) OVER (PARTITION BY grp ORDER BY t ROWS UNBOUNDED PRECEDING) AS level
    FROM (SELECT grp, t, sum(delta) AS delta FROM query_table(tbl) GROUP BY grp, t);
