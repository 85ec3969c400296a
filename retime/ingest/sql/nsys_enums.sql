-- nsys enum labels, used where an export has no ENUM_* tables (nsys 2022.2 writes none). Values
-- copied from the ENUM_CUDA_MEMCPY_OPER, ENUM_CUDA_MEM_KIND and ENUM_CUPTI_SYNC_TYPE tables of an
-- nsys 2026.2.1 export; the 2022.2 export's copies (copyKind 1, srcKind 0, dstKind 2 for a
-- pageable host-to-device copy) agree with them.
INSERT INTO nsys_ENUM_CUDA_MEMCPY_OPER
SELECT * FROM (VALUES (0, 'Unknown'), (1, 'Host-to-Device'), (2, 'Device-to-Host'), (3, 'Host-to-Array'),
                      (4, 'Array-to-Host'), (5, 'Array-to-Array'), (6, 'Array-to-Device'), (7, 'Device-to-Array'),
                      (8, 'Device-to-Device'), (9, 'Host-to-Host'), (10, 'Peer-to-Peer'),
                      (11, 'Unified Host-to-Device'), (12, 'Unified Device-to-Host'), (13, 'Unified Device-to-Device'))
WHERE NOT EXISTS (SELECT 1 FROM nsys_ENUM_CUDA_MEMCPY_OPER);

INSERT INTO nsys_ENUM_CUDA_MEM_KIND
SELECT * FROM (VALUES (0, 'Pageable'), (1, 'Pinned'), (2, 'Device'), (3, 'Array'), (4, 'Managed'),
                      (5, 'Device Static'), (6, 'Managed Static'), (7, 'Unknown'))
WHERE NOT EXISTS (SELECT 1 FROM nsys_ENUM_CUDA_MEM_KIND);

INSERT INTO nsys_ENUM_CUPTI_SYNC_TYPE
SELECT * FROM (VALUES (0, 'Unknown'), (1, 'Event sync'), (2, 'Stream wait sync'), (3, 'Stream sync'), (4, 'Context sync'))
WHERE NOT EXISTS (SELECT 1 FROM nsys_ENUM_CUPTI_SYNC_TYPE);
