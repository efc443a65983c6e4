//! Onramp's background work: the outbox worker that delivers email and webhooks with retries.
//!
//! A state change and the email (or webhook call) it causes are written in one transaction
//! (`onramp_store::outbox`); the [`OutboxWorker`] here claims due messages, delivers them
//! — email through a [`Mailer`] (SMTP with lettre, or a maildir directory when no SMTP
//! server is configured), webhooks as signed HTTP POSTs through a [`WebhookSender`]
//! ([`webhook`]) — and records the outcome: `sent`, a retry after an exponential [`Backoff`],
//! or `failed` once the attempts run out or the error is permanent.
//!
//! Delivery is at-least-once: a message is only claimed while `pending`, so once recorded
//! as `sent` it is never delivered again. Each message carries a stable `Message-ID`
//! derived from its outbox row, so the rare duplicate (a crash between delivery and
//! recording) can be recognised downstream; the maildir transport even overwrites it.
//! A webhook call carries the outbox id in `X-Onramp-Delivery` for the same purpose.
//!
//! [`testing`] holds a real, minimal SMTP server for tests of this and other crates.

pub mod mailer;
pub mod payload;
pub mod testing;
pub mod webhook;
pub mod worker;

pub use mailer::{DeliveryError, MaildirMailer, Mailer, SmtpConfig, SmtpMailer, TlsMode};
pub use payload::{EmailPayload, KIND_EMAIL};
pub use webhook::{WebhookPayload, WebhookSender, KIND_WEBHOOK};
pub use worker::{Backoff, OutboxWorker, RunReport, WorkerConfig};

/// What can go wrong in the jobs crate outside of a single delivery.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// A setting is wrong; the text names it.
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] onramp_store::StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = JobsError> = std::result::Result<T, E>;
