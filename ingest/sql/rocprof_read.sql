-- A rocprofv3 JSON document (`rocprofv3 --output-format json`, gzip or not) as one row per profiled
-- process: the top key `rocprofiler-sdk-tool` holds one object per process. Every record list is
-- kept as JSON (a list the run left empty reads as JSON[] and a filled one as structs: as JSON
-- both read alike).
CREATE OR REPLACE TEMP TABLE rocprof_doc AS
SELECT (row_number() OVER () - 1)::INTEGER AS process, p AS t
FROM (SELECT unnest("rocprofiler-sdk-tool") AS p
      FROM read_json(getvariable('rocprof_path'), maximum_object_size = getvariable('rocprof_max_bytes'), sample_size = -1));
