-- What counts as a host call that blocks until the GPU catches up, for sync_stalls and the replayer:
-- device, stream and event synchronize (CUDA runtime, HIP, CUDA driver) and the synchronous
-- copies and memsets; versioned runtime names ('cudaMemcpy_v3020') included.
CREATE OR REPLACE TEMP MACRO is_blocking_call(name) AS
    regexp_matches(coalesce(name, ''),
                   '^(cuda|hip)(DeviceSynchronize|StreamSynchronize|EventSynchronize|Memcpy|Memset|Memcpy2D|Memcpy3D)(_v[0-9]+)?$|^cu(Ctx|Stream|Event)Synchronize');
