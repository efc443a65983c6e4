-- Uploaded and generated files, named by the SHA-256 of their bytes (SQLite).
-- Keep in step with ../postgres/0007_files.sql.
--
-- With the data-directory storage the bytes are files under <data>/files/; with the
-- database storage (several app nodes on one database) they are rows of file_chunks.
CREATE TABLE files (
    hash TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE file_chunks (
    hash TEXT NOT NULL REFERENCES files(hash),
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (hash, seq)
);
