//! Fresh stores for the store tests, on both backends.
//!
//! Every test is written once with [`both_backends!`] and runs twice: on SQLite (a database
//! file in a temporary directory) and on PostgreSQL (a fresh database created for the test on
//! the server named by `ONRAMP_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, and dropped afterwards).
//!
//! When PostgreSQL cannot be reached the PostgreSQL half of each test fails if `CI` is set or
//! `ONRAMP_REQUIRE_POSTGRES=1`; otherwise it is skipped with a loud note on stderr, so that a
//! laptop without PostgreSQL can still run the SQLite half.

#![allow(dead_code)]

use onramp_store::Store;
use sqlx::{Connection, PgConnection};
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Databases made by these tests are named `onramp_t_<unix seconds>_<random hex>`.
const DB_PREFIX: &str = "onramp_t_";
/// Leftovers of earlier runs (a test killed before its guard could drop its database) older
/// than this are dropped when a run starts.
const LEFTOVER_AGE: Duration = Duration::from_secs(2 * 60 * 60);

/// Writes each test once and runs it on both backends: `both_backends!(name, |store| async
/// move { … })` makes the module `name` with the tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $test:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::support::on_sqlite($test).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::support::on_postgres($test).await;
            }
        }
    };
}

/// Runs `test` on a fresh, migrated SQLite store.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = sqlite().await;
    test(db.store.clone()).await;
    db.store.close().await;
}

/// Runs `test` on a fresh, migrated PostgreSQL store (or skips it, see the module docs).
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = postgres().await else { return };
    test(db.store.clone()).await;
    db.finish().await;
}

/// As [`on_sqlite`], with the test in a task of its own, so that a multi-threaded test's
/// panic still lets the store close.
pub async fn spawned_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = sqlite().await;
    let outcome = tokio::spawn(test(db.store.clone())).await;
    db.store.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// As [`on_postgres`], with the test in a task of its own, so that a panic still drops the
/// database.
pub async fn spawned_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = postgres().await else { return };
    let outcome = tokio::spawn(test(db.store.clone())).await;
    db.finish().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs each named scenario (`async fn(Store)`) on both backends in multi-threaded tests,
/// as `<scenario>::sqlite` and `<scenario>::postgres`.
#[macro_export]
macro_rules! spawned_on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::spawned_on_sqlite(super::$scenario).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::spawned_on_postgres(super::$scenario).await
            }
        }
    )*};
}

/// A SQLite store in a temporary directory, removed when this is dropped.
pub struct SqliteDb {
    pub store: Store,
    _dir: TempDir,
}

pub async fn sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .expect("open SQLite store");
    store.migrate().await.expect("migrate SQLite store");
    SqliteDb { store, _dir: dir }
}

/// A PostgreSQL store on a database of its own, dropped with this guard.
pub struct PostgresDb {
    pub store: Store,
    admin_url: String,
    name: String,
    dropped: bool,
}

fn admin_url() -> String {
    std::env::var("ONRAMP_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

fn postgres_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("ONRAMP_REQUIRE_POSTGRES").is_ok_and(|v| v.trim() == "1")
}

/// Set once PostgreSQL was found unreachable, so that later tests skip at once.
static POSTGRES_DOWN: AtomicBool = AtomicBool::new(false);
static SKIP_NOTE: Once = Once::new();
static SWEEP: Once = Once::new();

/// Writes straight to stderr: libtest captures `eprintln!` of passing tests, and a skip must
/// be seen.
fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// `url` with its database name replaced by `db` (query parameters kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{root}/{db}{query}")
}

async fn admin_connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out after 5 s".into()),
    }
}

fn unavailable(url: &str, why: &str) -> Option<PostgresDb> {
    if postgres_required() {
        panic!(
            "PostgreSQL is required (CI or ONRAMP_REQUIRE_POSTGRES=1 is set) but {url} cannot be \
             reached: {why}. Start PostgreSQL or point ONRAMP_TEST_DATABASE_URL at a server \
             where this user may CREATE DATABASE."
        );
    }
    POSTGRES_DOWN.store(true, Ordering::SeqCst);
    SKIP_NOTE.call_once(|| {
        loud(&format!(
            "\n\
             ********************************************************************************\n\
             ** SKIPPING the PostgreSQL half of every store test: cannot reach {url}\n\
             ** ({why}).\n\
             ** Only SQLite was tested. Set ONRAMP_TEST_DATABASE_URL to a PostgreSQL server, or\n\
             ** ONRAMP_REQUIRE_POSTGRES=1 (or CI) to make this a failure.\n\
             ********************************************************************************\n"
        ));
    });
    None
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Drops the databases older runs left behind (named with their creation time).
async fn sweep_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'onramp\\_t\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    {
        Ok(n) => n,
        Err(e) => {
            loud(&format!(
                "store tests: could not list leftover test databases: {e}"
            ));
            return;
        }
    };
    let cutoff = unix_now().saturating_sub(LEFTOVER_AGE.as_secs());
    for name in names {
        let created = name
            .strip_prefix(DB_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if let Err(e) = sqlx::query(&sql).execute(&mut *admin).await {
                loud(&format!(
                    "store tests: could not drop leftover database {name}: {e}"
                ));
            }
        }
    }
}

/// A fresh, migrated PostgreSQL store, or None when PostgreSQL is unreachable and not required.
pub async fn postgres() -> Option<PostgresDb> {
    let url = admin_url();
    if POSTGRES_DOWN.load(Ordering::SeqCst) {
        return unavailable(&url, "an earlier test could not connect");
    }
    let mut admin = match admin_connect(&url).await {
        Ok(c) => c,
        Err(why) => return unavailable(&url, &why),
    };
    let mut first = false;
    SWEEP.call_once(|| first = true);
    if first {
        sweep_leftovers(&mut admin).await;
    }

    let name = format!("{DB_PREFIX}{}_{:016x}", unix_now(), rand::random::<u64>());
    let create = format!("CREATE DATABASE \"{name}\"");
    let mut tries = 0;
    loop {
        match sqlx::query(&create).execute(&mut admin).await {
            Ok(_) => break,
            // Concurrent CREATE DATABASE can trip over each other on the template; try again.
            Err(e) if tries < 5 => {
                tries += 1;
                loud(&format!(
                    "store tests: CREATE DATABASE {name} failed ({e}); retrying"
                ));
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
            Err(e) => panic!("cannot create test database {name} on {url}: {e}"),
        }
    }
    let _ = admin.close().await;

    // From here the guard owns the database, so a failure below still drops it.
    let db_url = with_database(&url, &name);
    let store = Store::open_postgres(&db_url, 4)
        .await
        .unwrap_or_else(|e| panic!("open PostgreSQL store on {db_url}: {e}"));
    let db = PostgresDb {
        store,
        admin_url: url,
        name,
        dropped: false,
    };
    db.store.migrate().await.expect("migrate PostgreSQL store");
    Some(db)
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = admin_connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let _ = admin.close().await;
    Ok(())
}

impl PostgresDb {
    /// Closes the store and drops its database.
    pub async fn finish(mut self) {
        self.store.close().await;
        if let Err(e) = drop_database(&self.admin_url, &self.name).await {
            loud(&format!(
                "store tests: could not drop test database {}: {e}",
                self.name
            ));
        }
        self.dropped = true;
    }
}

impl Drop for PostgresDb {
    /// The path taken when a test panicked before [`PostgresDb::finish`]: drop the database
    /// from a thread with a runtime of its own (this runs inside the test's runtime).
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(drop_database(&url, &name))
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            loud(&format!(
                "store tests: could not drop test database {}; a later run removes it",
                self.name
            ));
        }
    }
}

#[test]
fn with_database_replaces_the_database_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
    assert_eq!(
        with_database("postgres://h?sslmode=disable", "x"),
        "postgres://h/x?sslmode=disable"
    );
}
