-- The traces row for one ingested file; every value bound by the caller.
INSERT INTO traces (trace_id, job, format, source_path, sha256, size_bytes, rank, world_size, backend,
                    gpu_names, device_properties, distributed_info, metadata, time_base_ns, start_ns, end_ns,
                    event_count, warnings, ingested_at, parent_trace_id, scenario)
VALUES ($trace_id, $job, $format, $source_path, $sha256, $size_bytes, $rank, $world_size, $backend,
        $gpu_names, $device_properties::JSON, $distributed_info::JSON, $metadata::JSON, $time_base_ns,
        $start_ns, $end_ns, $event_count, $warnings, now(), NULL, NULL);
