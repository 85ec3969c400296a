-- (runs on the SQLite export) every table the report holds, with its columns
SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table';
