-- The largest world size some of the given traces ($ids) recorded (their distributedInfo); NULL where none did.
SELECT max(world_size) FROM traces WHERE list_contains($ids, trace_id);
