-- (runs on the SQLite export) the tables the report holds
SELECT name FROM sqlite_master WHERE type = 'table';
