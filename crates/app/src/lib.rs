//! Onramp's use cases. Every service takes a [`Ctx`] (who is acting, from where), checks
//! permissions with [`onramp_domain::authz`], and runs in one store transaction that also
//! writes the audit event and any email the change causes.

pub mod access;
pub mod agreements;
pub mod audit;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod home;
pub mod learning;
pub mod mail;
pub mod notices;
pub mod organisation;
pub mod outbox;
pub mod people;
pub mod processes;
pub mod provisioning;

use onramp_domain::authz::{Actor, Permission};
use onramp_domain::clock::Clock;
use onramp_store::Store;
use std::sync::Arc;

pub use config::AppConfig;
pub use error::{AppError, AppResult};

/// The application: the store, where stored files live, the clock, the settings.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub files: onramp_store::files::FileStore,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<AppConfig>,
    /// Process templates already parsed, by (implementation, id): a stored version never
    /// changes (editing saves a new one), so an entry never goes stale.
    pub(crate) templates: Arc<processes::ParsedTemplates>,
    /// Each implementation's courses, kept until they change.
    pub(crate) catalogue: Arc<learning::catalogue::CourseCatalogues>,
}

/// Who is acting, and from where (for the audit trail).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub source_addr: String,
}

impl Ctx {
    pub fn new(actor: Actor, source_addr: impl Into<String>) -> Self {
        Self {
            actor,
            source_addr: source_addr.into(),
        }
    }
    pub fn implementation_id(&self) -> i64 {
        self.actor.implementation_id
    }
    /// Fails with `Forbidden` unless the actor holds the permission.
    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.actor.may(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl App {
    /// An application whose files are kept in the database (see [`App::with_files`]).
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: AppConfig) -> Self {
        Self {
            store,
            files: onramp_store::files::FileStore::Database,
            clock,
            config: Arc::new(config),
            templates: Arc::default(),
            catalogue: Arc::default(),
        }
    }
    /// Keeps stored files where `files` says.
    pub fn with_files(mut self, files: onramp_store::files::FileStore) -> Self {
        self.files = files;
        self
    }
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
