-- The staging table of chrome_read.sql, empty, for the columnar reader (ingest/json_columns.py) to
-- fill batch by batch (chrome_read_batch.sql): the same columns, types and row order.
CREATE OR REPLACE TEMP TABLE raw (
    ph VARCHAR, cat VARCHAR, name VARCHAR, pid VARCHAR, tid VARCHAR, ts_ns BIGINT, dur_ns BIGINT,
    id VARCHAR, bp VARCHAR, bind_id VARCHAR, flow_in BOOLEAN, flow_out BOOLEAN, arg_values VARCHAR[], args JSON);
