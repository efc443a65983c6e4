//! Onramp's persistence: one API over embedded SQLite (the default) and PostgreSQL.
//!
//! Every operation runs on a [`Tx`]: [`Store::begin`] opens a writing transaction and
//! [`Store::read`] a reading one. SQL text is shared between the backends where it is
//! portable (sqlx accepts `$1` placeholders on SQLite); the [`on_conn!`] macro expands the
//! same query once per backend so that rows decode with each driver's own types.
//!
//! On SQLite, writes go through a pool of one connection, so writing transactions queue
//! instead of failing with "database is locked"; reads use a separate pool in WAL mode.

pub mod access;
pub mod accounts;
pub mod agreements;
pub mod audit;
pub mod files;
pub mod hmis_accounts;
pub mod learning;
pub mod notices;
pub mod organisation;
pub mod outbox;
pub mod people;
mod query;
pub mod records;
pub mod sessions;
pub mod snapshot;
pub mod waiting;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use records::*;
pub use snapshot::{ReadConn, Reads, Snapshot};

/// Every family of reads that runs on a [`Tx`] and on a [`Snapshot`]: `use onramp_store::reads::*`.
pub mod reads {
    pub use crate::access::AccessReads;
    pub use crate::agreements::AgreementReads;
    pub use crate::learning::courses::CourseReads;
    pub use crate::learning::plans::PlanReads;
    pub use crate::learning::quizzes::QuizReads;
    pub use crate::waiting::WaitingReads;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names the constraint, for logs only: what a
    /// person is shown comes from [`StoreError::conflict_message`].
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// From a [`Snapshot`]'s inline SQLite connection.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A stored file could not be read or written.
    #[error("file storage: {0}")]
    Io(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// For a [`StoreError::Conflict`], what already exists in the product's words, never
    /// naming a table, column or constraint.
    pub fn conflict_message(&self) -> Option<&'static str> {
        match self {
            StoreError::Conflict(detail) => Some(conflict_message(detail)),
            _ => None,
        }
    }
}

/// What a uniqueness conflict means to a person, from the database's own words: the
/// constraint's name on PostgreSQL (`<table>_<columns>_key`, `<table>_pkey`) or the
/// message on SQLite (`UNIQUE constraint failed: <table>.<column>, …`).
pub fn conflict_message(detail: &str) -> &'static str {
    // Longer table names first, so that `agreement_versions` is not taken for `agreements`.
    const BY_TABLE: &[(&str, &str)] = &[
        ("implementation_settings", "This setting was saved by someone else at the same moment. Try again."),
        ("implementation_cocs", "This CoC code is already listed."),
        ("implementation_roles", "This person already has this role."),
        ("implementations", "An implementation with this short name already exists."),
        ("agency_roles", "This person already has this role in this agency."),
        ("agencies", "An agency with this name already exists."),
        ("projects", "This agency already has a project with this name."),
        ("people", "Someone in this implementation already uses this email address."),
        ("accounts", "Someone already signs in to Onramp with this email address."),
        ("access_levels", "An access level with this code already exists."),
        ("responsibilities", "A responsibility with this code already exists."),
        ("process_templates", "This process was saved by someone else at the same moment. Reload it and save again."),
        ("agreement_versions", "This agreement was changed by someone else at the same moment. Reload it and try again."),
        ("agreements", "An agreement with this key already exists."),
        ("email_templates", "This email template was saved by someone else at the same moment. Try again."),
        ("hmis_accounts", "Another HMIS account already uses this username."),
        ("question_categories", "A category with this name already exists here."),
        ("questions", "Another question of the bank already has this id number."),
        ("quiz_attempts", "An attempt at this quiz is already open: it was resumed."),
        ("quizzes", "A quiz with this key already exists."),
        ("certificates", "Another certificate drew the same verification code. Try again."),
        ("audit_events", "Someone else made a change at the same moment. Try again."),
    ];
    let d = detail.trim();
    let sqlite_table = d
        .rsplit_once("failed: ")
        .and_then(|(_, cols)| cols.split_once('.'))
        .map(|(table, _)| table.trim());
    for (table, message) in BY_TABLE {
        let matches = match sqlite_table {
            Some(t) => t == *table,
            None => d
                .strip_prefix(table)
                .is_some_and(|rest| rest.starts_with('_')),
        };
        if matches {
            return message;
        }
    }
    "Something with these details already exists."
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) enum Pools {
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        inline: Arc<snapshot::InlinePool>,
    },
    Postgres(PgPool),
}

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pools: Arc<Pools>,
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// One database transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pub(crate) inner: TxInner,
}

/// Runs `$body` with `$c` bound to the transaction's connection, once per backend.
#[macro_export]
#[doc(hidden)]
macro_rules! on_conn {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::TxInner::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

impl Store {
    /// Opens (creating if needed) the SQLite database file at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Reads through a shared memory map instead of a read() per page into each
            // connection's small private cache.
            .pragma("mmap_size", "268435456");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.read_only(false))
            .await?;
        Ok(Self {
            pools: Arc::new(Pools::Sqlite {
                write,
                read,
                inline: snapshot::InlinePool::new(path),
            }),
        })
    }

    /// Connects to PostgreSQL at `url` (`postgres://…`).
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self {
            pools: Arc::new(Pools::Postgres(pool)),
        })
    }

    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date with the migrations embedded in the binary.
    pub async fn migrate(&self) -> Result<()> {
        match &*self.pools {
            Pools::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Pools::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A writing transaction.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &*self.pools {
            Pools::Sqlite { write, .. } => TxInner::Sqlite(write.begin().await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// A reading transaction: a consistent snapshot that must not write.
    pub async fn read(&self) -> Result<Tx> {
        let inner = match &*self.pools {
            Pools::Sqlite { read, .. } => TxInner::Sqlite(read.begin().await?),
            // PostgreSQL's default (read committed) gives each statement its own snapshot.
            Pools::Postgres(pool) => TxInner::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    .await?,
            ),
        };
        Ok(Tx { inner })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.read().await?;
        exec!(tx, c => sqlx::query("SELECT 1").execute(c).await)?;
        Ok(())
    }

    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite {
                write,
                read,
                inline,
            } => {
                inline.close();
                write.close().await;
                read.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// **Test hook.** Runs one SQL statement exactly as given (nothing bound, nothing escaped)
    /// and gives the number of rows it changed.
    ///
    /// The store tests use it to tamper with rows behind the store's back, for example to
    /// show that the audit chain verifier notices an edited or deleted event. Application
    /// code must not call it: every real query belongs in a typed store method.
    pub async fn execute_raw(&mut self, sql: &str) -> Result<u64> {
        Ok(exec!(self, c => sqlx::query(sql).execute(c).await)?)
    }
}

/// A page of a list: which rows, and how many there are in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub const ALL: PageRequest = PageRequest {
        page: 1,
        per_page: i64::MAX / 2,
    };
    pub fn new(page: i64, per_page: i64) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, 500),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        if self.total == 0 {
            1
        } else {
            (self.total + self.per_page - 1) / self.per_page
        }
    }
}

/// `%text%` for a case-insensitive `LOWER(col) LIKE` search, with LIKE's wildcards escaped.
pub fn like_pattern(search: &str) -> String {
    let mut s = String::from("%");
    for ch in search.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

/// Runs a statement with [`on_conn!`] and gives the number of rows it changed.
#[macro_export]
#[doc(hidden)]
macro_rules! exec {
    ($tx:expr, $c:ident => $body:expr) => {
        $crate::on_conn!($tx, $c => ($body).map(|r| r.rows_affected()))
    };
}

#[cfg(test)]
mod tests {
    use super::conflict_message;

    #[test]
    fn conflicts_speak_of_the_thing_on_both_backends() {
        for (detail, expected) in [
            ("agencies_implementation_id_name_key", "An agency with this name already exists."),
            ("UNIQUE constraint failed: agencies.implementation_id, agencies.name", "An agency with this name already exists."),
            ("accounts_email_key", "Someone already signs in to Onramp with this email address."),
            ("UNIQUE constraint failed: accounts.email", "Someone already signs in to Onramp with this email address."),
            ("agreement_versions_agreement_id_version_key", "This agreement was changed by someone else at the same moment. Reload it and try again."),
            ("agreements_implementation_id_key_key", "An agreement with this key already exists."),
            ("idx_something_new", "Something with these details already exists."),
        ] {
            assert_eq!(conflict_message(detail), expected, "{detail}");
        }
    }
}
