-- The cross-stream waits (graph_stream_waits.sql) as retime/replay/graph_build.py reads them.
SELECT producer_end_point, consumer_start_point, consumer_id, gap FROM replay_stream_waits;
