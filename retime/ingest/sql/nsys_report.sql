-- Report-wide facts for every trace of the file: session start, GPUs, export metadata.
SELECT
    (SELECT min(utcEpochNs) FROM nsys_TARGET_INFO_SESSION_START_TIME) AS session_start_ns,
    (SELECT list(name ORDER BY id) FROM nsys_TARGET_INFO_GPU) AS gpu_names,
    (SELECT json_group_array(json_object('id', id, 'name', name, 'busLocation', busLocation, 'totalGlobalMem', totalMemory,
                                          'memoryBandwidth', memoryBandwidth, 'clockRate', clockRate, 'numSms', smCount,
                                          'l2CacheSize', l2CacheSize, 'computeMajor', computeMajor,
                                          'computeMinor', computeMinor, 'chipName', chipName, 'uuid', uuid))
       FROM nsys_TARGET_INFO_GPU) AS device_properties,
    (SELECT json_group_object(name, "value") FROM (SELECT * FROM nsys_META_DATA_EXPORT
                                                   UNION ALL SELECT * FROM nsys_EXPORT_META_DATA)) AS export_metadata;
