-- An XPlane file's lines and events (retime/ingest/xplane.py hands them in as columns: xplane_lines_in,
-- xplane_events_in, xplane_names_in) in retime's kinds: a device plane's `Stream #K` lines are
-- GPU lanes of kernels, copies, memsets and collectives; its other lines (XLA Ops, XLA Modules,
-- Steps) hold GPU-side annotations; the host plane's lines are CPU threads, whose events that carry
-- the correlation id of GPU work are the runtime calls that launched it.
CREATE OR REPLACE TEMP TABLE xplane_lines AS
SELECT lane, plane, device, line_id, line_name,
       CASE WHEN device IS NOT NULL AND regexp_matches(line_name, '^Stream #[0-9]+') THEN 'gpu_stream'
            WHEN device IS NOT NULL THEN 'other' ELSE 'cpu_thread' END AS lane_kind,
       TRY_CAST(regexp_extract(line_name, '^Stream #([0-9]+)', 1) AS BIGINT) AS stream
FROM xplane_lines_in;

CREATE OR REPLACE TEMP TABLE xplane_staged AS
WITH named AS (
    SELECT e.lane, e.start_ns, e.end_ns, CASE WHEN e.has_correlation THEN e.correlation END AS correlation,
           l.lane_kind, l.device, l.stream, coalesce(nullif(n.name, ''), 'event ' || e.metadata_id) AS name,
           e.end_ns >= e.start_ns AS valid
    FROM xplane_events_in e JOIN xplane_lines l ON l.lane = e.lane
    LEFT JOIN xplane_names_in n ON n.plane = l.plane AND n.metadata_id = e.metadata_id
),
gpu_correlations AS (SELECT DISTINCT correlation FROM named WHERE lane_kind = 'gpu_stream' AND correlation IS NOT NULL)
SELECT n.*,
       CASE WHEN n.lane_kind = 'gpu_stream' THEN
                CASE WHEN regexp_matches(n.name, '(?i)^(memcpy|copy\w*to\w*)') THEN 'memcpy'
                     WHEN regexp_matches(n.name, '(?i)^memset') THEN 'memset'
                     WHEN is_collective_kernel(n.name) THEN 'collective' ELSE 'kernel' END
            WHEN n.lane_kind = 'other' THEN 'gpu_annotation'
            WHEN n.correlation IN (SELECT correlation FROM gpu_correlations) THEN 'runtime'
            ELSE 'cpu_op' END AS kind,
       CASE WHEN regexp_matches(n.name, '(?i)HtoD|HostToDevice') THEN 'H2D'
            WHEN regexp_matches(n.name, '(?i)DtoH|DeviceToHost') THEN 'D2H'
            WHEN regexp_matches(n.name, '(?i)DtoD|DeviceToDevice') THEN 'D2D'
            WHEN regexp_matches(n.name, '(?i)PtoP|PeerToPeer') THEN 'P2P' END AS copy_kind
FROM named n;
