-- Which distinct names of runtime and driver calls block (is_blocking_call, retime/foundation/host.sql);
-- replay_call_name_list is handed in by retime/replay/graph_build.py.
SELECT i FROM replay_call_name_list WHERE is_blocking_call(name) ORDER BY i;
