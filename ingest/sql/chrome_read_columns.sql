-- The staging table of chrome_read.sql, empty: what the columnar reader (ingest/json_columns.py)
-- leaves for an events array without events (chrome_read_batch.sql fills it otherwise).
CREATE OR REPLACE TEMP TABLE raw (
    ph VARCHAR, cat VARCHAR, name VARCHAR, pid VARCHAR, tid VARCHAR, ts_ns BIGINT, dur_ns BIGINT,
    id VARCHAR, bp VARCHAR, bind_id VARCHAR, flow_in BOOLEAN, flow_out BOOLEAN,
    arg1 VARCHAR, arg2 VARCHAR, arg3 VARCHAR, arg4 VARCHAR, arg5 VARCHAR, arg6 VARCHAR, arg7 VARCHAR, arg8 VARCHAR,
    arg9 VARCHAR, arg10 VARCHAR, arg11 VARCHAR, arg12 VARCHAR, arg13 VARCHAR, arg14 VARCHAR, arg15 VARCHAR, args JSON);
