//! The outbox worker: claims due messages, delivers them, records the outcome.

use crate::mailer::{DeliveryError, Mailer};
use crate::payload::{EmailPayload, KIND_EMAIL};
use crate::webhook::{WebhookPayload, WebhookSender, KIND_WEBHOOK};
use crate::Result;
use chrono::{DateTime, Utc};
use onramp_domain::clock::Clock;
use onramp_store::{OutboxMessage, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Exponential delay between attempts: `initial`, then doubling, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 30 s, 1 min, 2 min, … capped at 1 h.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th failed attempt (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// How the worker paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Messages claimed per round (default 20).
    pub batch_size: i64,
    /// How long a claim holds a message before another worker may take it (default 60 s).
    /// A delivery still running when its lease ends is abandoned and counted as a failure.
    pub lease: Duration,
    /// Attempts before a message is given up as `failed` (default 8).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Pause between rounds when there is nothing more to do (default 1000 ms).
    pub poll_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch_size: 20,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            backoff: Backoff::default(),
            poll_interval: Duration::from_millis(1000),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Delivered and recorded as `sent`.
    pub sent: usize,
    /// Failed this time, to be tried again after the backoff.
    pub retrying: usize,
    /// Given up: recorded as `failed`.
    pub failed: usize,
    /// Not attempted because their lease ran out first; they are due again.
    pub released: usize,
}

enum Outcome {
    Sent,
    Failed(DeliveryError),
}

/// Delivers the outbox. Cheap to share behind an `Arc`; several workers (even in several
/// processes, on PostgreSQL) may run at once without delivering a message twice.
pub struct OutboxWorker {
    store: Store,
    clock: Arc<dyn Clock>,
    mailer: Mailer,
    /// The HTTP client for `webhook` messages, or why it could not be set up (those
    /// messages are then retried, and the reason recorded on them).
    webhooks: std::result::Result<WebhookSender, String>,
    config: WorkerConfig,
}

impl OutboxWorker {
    /// A worker delivering email through `mailer` and webhooks with a
    /// [`WebhookSender`] whose calls time out after 10 s.
    pub fn new(store: Store, clock: Arc<dyn Clock>, mailer: Mailer, config: WorkerConfig) -> Self {
        let mut config = config;
        config.batch_size = config.batch_size.max(1);
        config.max_attempts = config.max_attempts.max(1);
        let webhooks = WebhookSender::new(crate::webhook::DEFAULT_TIMEOUT).map_err(|e| {
            tracing::error!(error = %e, "webhook client cannot be set up; webhooks will be retried");
            e.to_string()
        });
        Self {
            store,
            clock,
            mailer,
            webhooks,
            config,
        }
    }

    /// Delivers webhooks with `sender` instead (another timeout, for instance).
    pub fn with_webhooks(mut self, sender: WebhookSender) -> Self {
        self.webhooks = Ok(sender);
        self
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// One round: claims due messages (one committed transaction), delivers each outside
    /// any transaction, and records each outcome in its own transaction right after its
    /// delivery. A database error stops the round; messages not yet recorded are retried
    /// once their lease ends.
    pub async fn run_once(&self) -> Result<RunReport> {
        let now = self.clock.now();
        let lease_until = now + chrono_duration(self.config.lease);
        let claimed = {
            let mut tx = self.store.begin().await?;
            let rows = tx
                .outbox_claim_due(now, lease_until, self.config.batch_size)
                .await?;
            tx.commit().await?;
            rows
        };
        let mut report = RunReport {
            claimed: claimed.len(),
            ..RunReport::default()
        };
        for message in &claimed {
            let Some(remaining) = remaining(self.clock.now(), lease_until) else {
                tracing::debug!(
                    outbox_id = message.id,
                    "lease ran out before delivery; left for the next round"
                );
                report.released += 1;
                continue;
            };
            let outcome = match tokio::time::timeout(remaining, self.deliver(message)).await {
                Ok(Ok(())) => Outcome::Sent,
                Ok(Err(e)) => Outcome::Failed(e),
                Err(_) => Outcome::Failed(DeliveryError::Transient(format!(
                    "delivery did not finish within the {} s lease",
                    self.config.lease.as_secs()
                ))),
            };
            self.record(message, outcome, &mut report).await?;
        }
        if report.claimed > 0 {
            tracing::info!(
                claimed = report.claimed,
                sent = report.sent,
                retrying = report.retrying,
                failed = report.failed,
                released = report.released,
                "outbox round"
            );
        }
        Ok(report)
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        if message.kind == KIND_WEBHOOK {
            return self.deliver_webhook(message).await;
        }
        if message.kind != KIND_EMAIL {
            return Err(DeliveryError::Permanent(format!(
                "unknown outbox message kind '{}': no worker delivers it",
                message.kind
            )));
        }
        let email = EmailPayload::from_outbox(message).map_err(|e| {
            DeliveryError::Permanent(format!("email payload is not valid JSON for an email: {e}"))
        })?;
        let message_id = self
            .mailer
            .outbox_message_id(message.id, message.created_at);
        self.mailer.send(&email, &message_id).await
    }

    async fn deliver_webhook(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let sender = self.webhooks.as_ref().map_err(|e| {
            DeliveryError::Transient(format!("webhook client cannot be set up: {e}"))
        })?;
        let payload = WebhookPayload::from_outbox(message).map_err(|e| {
            DeliveryError::Permanent(format!(
                "webhook payload is not valid JSON for a webhook: {e}"
            ))
        })?;
        let secret = match message.implementation_id {
            Some(imp) => {
                let mut tx = self.store.read().await.map_err(|e| {
                    DeliveryError::Transient(format!("webhook secret cannot be read: {e}"))
                })?;
                tx.setting_get(imp, onramp_domain::webhook::SECRET_SETTING)
                    .await
                    .map_err(|e| {
                        DeliveryError::Transient(format!("webhook secret cannot be read: {e}"))
                    })?
                    .unwrap_or_default()
            }
            None => String::new(),
        };
        sender
            .send(&payload, message.id, &secret, self.clock.now())
            .await
    }

    async fn record(
        &self,
        message: &OutboxMessage,
        outcome: Outcome,
        report: &mut RunReport,
    ) -> Result<()> {
        let attempt = u32::try_from(message.attempts.max(0))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        match outcome {
            Outcome::Sent => {
                tx.outbox_mark_sent(message.id, now).await?;
                if message.kind == KIND_EMAIL {
                    // One-time links are not kept usable in the outbox once delivered. Masking
                    // a masked copy changes nothing, so a repeated delivery is harmless.
                    let masked = onramp_domain::links::mask(
                        &message.payload,
                        self.mailer.links_to_mask_after_delivery(),
                        onramp_domain::links::MASKED,
                    );
                    if masked != message.payload {
                        tx.outbox_set_payload(message.id, &masked).await?;
                    }
                }
                tx.commit().await?;
                report.sent += 1;
                tracing::info!(outbox_id = message.id, kind = %message.kind, attempt, "outbox message sent");
            }
            Outcome::Failed(error) => {
                let text = error.to_string();
                let retry_at = if error.is_permanent() || attempt >= self.config.max_attempts {
                    None
                } else {
                    Some(now + chrono_duration(self.config.backoff.delay(attempt)))
                };
                tx.outbox_mark_failed(message.id, &text, retry_at).await?;
                tx.commit().await?;
                match retry_at {
                    Some(at) => {
                        report.retrying += 1;
                        tracing::warn!(outbox_id = message.id, kind = %message.kind, attempt, retry_at = %at, error = %text, "outbox delivery failed; will retry");
                    }
                    None => {
                        report.failed += 1;
                        tracing::error!(outbox_id = message.id, kind = %message.kind, attempt, error = %text, "outbox delivery failed; giving up");
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs rounds every `poll_interval` (at once while full batches keep coming) until
    /// `shutdown` turns true or its sender is dropped. A round in progress is finished.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(mailer = %self.mailer.describe(), "outbox worker started");
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            let busy = match self.run_once().await {
                Ok(r) => r.claimed as i64 >= self.config.batch_size && r.released == 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox round failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Time left on a lease, if any.
fn remaining(now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Option<Duration> {
    (lease_until - now).to_std().ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30s_and_caps_at_an_hour() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=10).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(
            secs,
            vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
        );
        assert_eq!(b.delay(0).as_secs(), 30);
        assert_eq!(b.delay(u32::MAX).as_secs(), 3600);
    }
}
