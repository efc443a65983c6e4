//! Snapshots: consistent reads that, on SQLite, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement is a round
//! trip between threads; under load that hop costs far more than the statement. A page's
//! hot reads (who holds the session, a trainee's plan) run instead on a [`Snapshot`]: on
//! SQLite a read transaction on a connection of the calling thread (rusqlite, linked to the
//! same SQLite as sqlx), on PostgreSQL an ordinary reading [`Tx`].
//!
//! A read written with [`read_all!`] or [`read_optional!`] is one SQL text that runs on
//! every [`Reads`]: a [`Tx`] of either backend and a [`Snapshot`]. Its rows decode through
//! `sqlx::FromRow` on sqlx and through `serde::Deserialize` (by column name) inline.
//! Inline reads are short (an index lookup and a few rows); long reads stay on a [`Tx`].

use crate::{Result, StoreError, Tx, TxInner};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The connection a read runs on.
#[doc(hidden)]
pub enum ReadConn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
    /// `None` only once the snapshot has ended, which a read never sees.
    Inline(Option<&'a mut rusqlite::Connection>),
}

/// Something reads run on: a [`Tx`] or a [`Snapshot`].
pub trait Reads: Send {
    #[doc(hidden)]
    fn read_conn(&mut self) -> ReadConn<'_>;
}

impl Reads for Tx {
    fn read_conn(&mut self) -> ReadConn<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => ReadConn::Sqlite(&mut *t),
            TxInner::Postgres(t) => ReadConn::Postgres(&mut *t),
        }
    }
}

/// A consistent read of the database that must not write; dropped, it ends.
pub struct Snapshot {
    inner: SnapshotInner,
}

enum SnapshotInner {
    Inline(InlineConn),
    Tx(Tx),
    /// PostgreSQL outside a transaction, for one statement: see [`crate::Store::single`].
    Pooled(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Reads for Snapshot {
    fn read_conn(&mut self) -> ReadConn<'_> {
        match &mut self.inner {
            SnapshotInner::Inline(c) => ReadConn::Inline(c.conn.as_mut()),
            SnapshotInner::Tx(t) => t.read_conn(),
            SnapshotInner::Pooled(c) => ReadConn::Postgres(&mut *c),
        }
    }
}

impl crate::Store {
    /// A snapshot for a few short reads: inline on SQLite, a reading [`Tx`] on PostgreSQL.
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let inner = match &*self.pools {
            crate::Pools::Sqlite { inline, .. } => SnapshotInner::Inline(inline.take()?),
            crate::Pools::Postgres(_) => SnapshotInner::Tx(self.read().await?),
        };
        Ok(Snapshot { inner })
    }

    /// A snapshot for one statement (one statement reads one snapshot on either backend):
    /// like [`Self::snapshot`], without `BEGIN` and `ROLLBACK` round trips on PostgreSQL.
    pub async fn single(&self) -> Result<Snapshot> {
        let inner = match &*self.pools {
            crate::Pools::Sqlite { inline, .. } => SnapshotInner::Inline(inline.take()?),
            crate::Pools::Postgres(pool) => SnapshotInner::Pooled(pool.acquire().await?),
        };
        Ok(Snapshot { inner })
    }
}

/// Idle inline connections to one SQLite file.
pub(crate) struct InlinePool {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Idle connections kept; more are opened when this many are busy, and closed after.
const IDLE_KEPT: usize = 16;

impl InlinePool {
    pub(crate) fn new(path: &Path) -> Arc<Self> {
        Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        })
    }

    fn open(&self) -> Result<rusqlite::Connection> {
        let c = rusqlite::Connection::open(&self.path).map_err(StoreError::Sqlite)?;
        // A snapshot never writes; WAL readers never wait for a writer, so the wait here
        // only covers a checkpoint's rare moments.
        c.execute_batch(
            "PRAGMA query_only = ON; PRAGMA busy_timeout = 1000; PRAGMA mmap_size = 268435456;",
        )
        .map_err(StoreError::Sqlite)?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn take(self: &Arc<Self>) -> Result<InlineConn> {
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let conn = match idle {
            Some(c) => c,
            None => self.open()?,
        };
        conn.execute_batch("BEGIN").map_err(StoreError::Sqlite)?;
        Ok(InlineConn {
            conn: Some(conn),
            pool: self.clone(),
        })
    }
}

/// A pooled connection inside a read transaction; ends it and goes back to the pool on drop.
struct InlineConn {
    conn: Option<rusqlite::Connection>,
    pool: Arc<InlinePool>,
}

impl Drop for InlineConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A connection that cannot end its transaction is closed, not reused.
        if conn.execute_batch("ROLLBACK").is_ok() {
            if let Ok(mut idle) = self.pool.idle.lock() {
                if idle.len() < IDLE_KEPT {
                    idle.push(conn);
                }
            }
        }
    }
}

const PARAMS: [&str; 9] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"];

fn prepared<'c>(
    c: Option<&'c mut rusqlite::Connection>,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<rusqlite::CachedStatement<'c>> {
    let c = c.ok_or_else(|| StoreError::Corrupt("the snapshot has ended".into()))?;
    let mut st = c.prepare_cached(sql).map_err(StoreError::Sqlite)?;
    for (i, value) in params.iter().enumerate() {
        let name = match PARAMS.get(i) {
            Some(n) => std::borrow::Cow::Borrowed(*n),
            None => std::borrow::Cow::Owned(format!("${}", i + 1)),
        };
        let at = st
            .parameter_index(&name)
            .map_err(StoreError::Sqlite)?
            .ok_or_else(|| StoreError::Corrupt(format!("no parameter {name} in {sql}")))?;
        st.raw_bind_parameter(at, value)
            .map_err(StoreError::Sqlite)?;
    }
    Ok(st)
}

/// A time as sqlx writes it on SQLite (RFC 3339, as many fraction digits as needed), so
/// that a time bound inline compares with the times stored.
pub(crate) fn sqlite_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Every row of `sql`, decoded by column name.
#[doc(hidden)]
pub fn inline_all<T: DeserializeOwned>(
    c: Option<&mut rusqlite::Connection>,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<T>> {
    let mut st = prepared(c, sql, params)?;
    serde_rusqlite::from_rows::<T>(st.raw_query())
        .collect::<std::result::Result<Vec<T>, _>>()
        .map_err(|e| StoreError::Corrupt(format!("a row does not decode: {e}")))
}

/// The first row of `sql`, if any.
#[doc(hidden)]
pub fn inline_optional<T: DeserializeOwned>(
    c: Option<&mut rusqlite::Connection>,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Option<T>> {
    let mut st = prepared(c, sql, params)?;
    let first = serde_rusqlite::from_rows::<T>(st.raw_query())
        .next()
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("a row does not decode: {e}")));
    first
}

/// One statement on any [`Reads`], with sqlx's `$fetch` or the inline `$inline`.
#[macro_export]
#[doc(hidden)]
macro_rules! read_with {
    ($fetch:ident, $inline:ident, $r:expr, $t:ty, $sql:expr $(, $arg:expr)*) => {
        match $crate::Reads::read_conn($r) {
            $crate::ReadConn::Sqlite(c) => sqlx::query_as::<_, $t>($sql)$(.bind($arg))*
                .$fetch(c).await.map_err($crate::StoreError::from),
            $crate::ReadConn::Postgres(c) => sqlx::query_as::<_, $t>($sql)$(.bind($arg))*
                .$fetch(c).await.map_err($crate::StoreError::from),
            $crate::ReadConn::Inline(c) => $crate::snapshot::$inline::<$t>(
                c, $sql, &[$(&$arg as &dyn rusqlite::ToSql),*]),
        }
    };
}

/// Every row of one statement, on any [`Reads`]: `read_all!(reads, Row, "SQL", $1, $2…)`.
#[macro_export]
#[doc(hidden)]
macro_rules! read_all {
    ($r:expr, $t:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::read_with!(fetch_all, inline_all, $r, $t, $sql $(, $arg)*)
    };
}

/// The first row of one statement, if any, on any [`Reads`].
#[macro_export]
#[doc(hidden)]
macro_rules! read_optional {
    ($r:expr, $t:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::read_with!(fetch_optional, inline_optional, $r, $t, $sql $(, $arg)*)
    };
}

/// The one row of one statement on any [`Reads`]; [`StoreError::NotFound`] without it.
#[macro_export]
#[doc(hidden)]
macro_rules! read_one {
    ($r:expr, $t:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::read_optional!($r, $t, $sql $(, $arg)*)
            .and_then(|row| row.ok_or($crate::StoreError::NotFound))
    };
}
