-- A new trace id: the store's sequence (retime/schema.sql), one number per call.
SELECT nextval('trace_id_seq');
