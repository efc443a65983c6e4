-- Uploaded and generated files, named by the SHA-256 of their bytes (PostgreSQL).
-- Keep in step with ../sqlite/0007_files.sql.
--
-- With the data-directory storage the bytes are files under <data>/files/; with the
-- database storage (several app nodes on one database) they are rows of file_chunks.
CREATE TABLE files (
    hash TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE file_chunks (
    hash TEXT NOT NULL REFERENCES files(hash),
    seq INTEGER NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (hash, seq)
);
