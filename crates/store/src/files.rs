//! Stored files, content-addressed: a file's name is the SHA-256 of its bytes, so the bytes
//! behind a name never change and storing the same bytes twice keeps one copy.
//!
//! Two places hold the bytes: the data directory (`<dir>/<first two hex>/<hash>`, written to
//! a temporary file and renamed into place), the default with SQLite; or the database
//! itself, in 1 MiB chunks written in the caller's transaction, so that every app node
//! sharing a PostgreSQL database serves every file. The `files` table lists what is stored
//! either way.

use crate::{exec, on_conn, Result, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The size of a chunk in the database storage.
pub const CHUNK: usize = 1 << 20;

/// Where the bytes of stored files live.
#[derive(Debug, Clone)]
pub enum FileStore {
    /// Files under this directory.
    DataDir(PathBuf),
    /// Chunks in the database.
    Database,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct StoredFile {
    pub hash: String,
    pub size: i64,
    pub media_type: String,
    pub created_at: DateTime<Utc>,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

impl FileStore {
    fn path_of(dir: &std::path::Path, hash: &str) -> PathBuf {
        dir.join(&hash[..2]).join(hash)
    }

    /// Stores bytes (once); gives what is stored under their hash.
    pub async fn put(
        &self,
        tx: &mut Tx,
        bytes: &[u8],
        media_type: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredFile> {
        let hash = hex::encode(Sha256::digest(bytes));
        if let Some(f) = tx.file_meta(&hash).await? {
            if let FileStore::DataDir(dir) = self {
                // The row may have been written by a node whose copy is elsewhere.
                let path = Self::path_of(dir, &hash);
                if tokio::fs::metadata(&path).await.is_err() {
                    write_file(dir, &hash, bytes).await?;
                }
            }
            return Ok(f);
        }
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        exec!(tx, c => sqlx::query("INSERT INTO files (hash, size, media_type, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&hash).bind(size).bind(media_type).bind(now).execute(c).await)?;
        match self {
            FileStore::DataDir(dir) => write_file(dir, &hash, bytes).await?,
            FileStore::Database => {
                for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
                    let seq = i32::try_from(i).unwrap_or(i32::MAX);
                    exec!(tx, c => sqlx::query("INSERT INTO file_chunks (hash, seq, bytes) VALUES ($1, $2, $3)")
                        .bind(&hash).bind(seq).bind(chunk).execute(c).await)?;
                }
            }
        }
        Ok(StoredFile {
            hash,
            size,
            media_type: media_type.to_string(),
            created_at: now,
        })
    }

    /// Bytes `start..end` of a stored file (end exclusive, within its size).
    pub async fn read_range(
        &self,
        store: &Store,
        file: &StoredFile,
        start: u64,
        end: u64,
    ) -> Result<Vec<u8>> {
        let size = u64::try_from(file.size).unwrap_or(0);
        let end = end.min(size);
        if start >= end {
            return Ok(Vec::new());
        }
        let len = usize::try_from(end - start).map_err(|e| StoreError::Io(e.to_string()))?;
        match self {
            FileStore::DataDir(dir) => {
                use tokio::io::{AsyncReadExt, AsyncSeekExt};
                let mut f = tokio::fs::File::open(Self::path_of(dir, &file.hash))
                    .await
                    .map_err(io)?;
                f.seek(std::io::SeekFrom::Start(start)).await.map_err(io)?;
                let mut buf = vec![0u8; len];
                f.read_exact(&mut buf).await.map_err(io)?;
                Ok(buf)
            }
            FileStore::Database => {
                let first = i32::try_from(start / CHUNK as u64).unwrap_or(i32::MAX);
                let last = i32::try_from((end - 1) / CHUNK as u64).unwrap_or(i32::MAX);
                let mut tx = store.read().await?;
                let rows: Vec<(i32, Vec<u8>)> = on_conn!(tx, c => sqlx::query_as(
                    "SELECT seq, bytes FROM file_chunks WHERE hash = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq")
                    .bind(&file.hash).bind(first).bind(last).fetch_all(c).await)?;
                let mut out = Vec::with_capacity(len);
                for (seq, bytes) in rows {
                    let at = u64::try_from(seq).unwrap_or(0) * CHUNK as u64;
                    let from = start.saturating_sub(at) as usize;
                    let to = ((end - at) as usize).min(bytes.len());
                    if from < to {
                        out.extend_from_slice(&bytes[from..to]);
                    }
                }
                if out.len() != len {
                    return Err(StoreError::Io(format!(
                        "file {} is missing chunks",
                        file.hash
                    )));
                }
                Ok(out)
            }
        }
    }
}

async fn write_file(dir: &std::path::Path, hash: &str, bytes: &[u8]) -> Result<()> {
    let sub = dir.join(&hash[..2]);
    tokio::fs::create_dir_all(&sub).await.map_err(io)?;
    let path = sub.join(hash);
    if tokio::fs::metadata(&path).await.is_ok() {
        return Ok(());
    }
    let tmp = sub.join(format!(".{hash}.{}", std::process::id()));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(())
}

impl Tx {
    pub async fn file_meta(&mut self, hash: &str) -> Result<Option<StoredFile>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, StoredFile>("SELECT * FROM files WHERE hash = $1")
            .bind(hash).fetch_optional(c).await)?,
        )
    }
}
