-- A new trace id: the store's sequence (retime/store/sql/schema.sql), one number per call.
SELECT nextval('trace_id_seq');
