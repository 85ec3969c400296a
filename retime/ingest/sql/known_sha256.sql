-- The content hashes of the files the store holds: a parallel ingest's workers skip these files.
SELECT DISTINCT sha256 FROM traces WHERE sha256 IS NOT NULL;
