//! The outbox: messages written in the same transaction as the change that caused them,
//! delivered later by a worker.

use crate::query::{Arg, Filter};
use crate::{exec, on_conn, EmailTemplate, OutboxMessage, Page, PageRequest, Result, Tx, TxInner};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewOutboxMessage<'a> {
    pub implementation_id: Option<i64>,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    /// JSON.
    pub payload: &'a str,
}

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_FAILED: &str = "failed";

impl Tx {
    pub async fn outbox_enqueue(
        &mut self,
        m: &NewOutboxMessage<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO outbox (implementation_id, kind, recipient, subject, payload, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) RETURNING id")
            .bind(m.implementation_id).bind(m.kind).bind(m.recipient).bind(m.subject).bind(m.payload).bind(now)
            .fetch_one(c).await)?)
    }

    /// Claims up to `limit` due messages for delivery. On PostgreSQL concurrent workers
    /// skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the single writer
    /// connection serialises claims. A claim pushes `next_attempt_at` to `lease_until`, so
    /// a worker that dies mid-delivery leaves the message to be retried after the lease.
    pub async fn outbox_claim_due(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<OutboxMessage> = match &mut self.inner {
            TxInner::Postgres(t) => sqlx::query_as::<_, OutboxMessage>(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED")
                .bind(now).bind(limit).fetch_all(&mut **t).await?,
            TxInner::Sqlite(t) => sqlx::query_as::<_, OutboxMessage>(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2")
                .bind(now).bind(limit).fetch_all(&mut **t).await?,
        };
        for m in &rows {
            exec!(self, c => sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE id = $2").bind(lease_until).bind(m.id).execute(c).await)?;
        }
        Ok(rows)
    }

    pub async fn outbox_mark_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
            .bind(now).bind(id).execute(c).await)?;
        Ok(())
    }

    /// Replaces the stored copy of a message (e.g. with its one-time links masked).
    pub async fn outbox_set_payload(&mut self, id: i64, payload: &str) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE outbox SET payload = $1 WHERE id = $2")
            .bind(payload).bind(id).execute(c).await)?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or given up (`failed`) when None.
    pub async fn outbox_mark_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        match retry_at {
            Some(at) => {
                exec!(self, c => sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(error).bind(at).bind(id).execute(c).await)?
            }
            None => {
                exec!(self, c => sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, status = 'failed' WHERE id = $2")
                .bind(error).bind(id).execute(c).await)?
            }
        };
        Ok(())
    }

    /// Puts a failed message back in the queue.
    pub async fn outbox_retry(
        &mut self,
        implementation_id: i64,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("UPDATE outbox SET status = 'pending', next_attempt_at = $1 WHERE id = $2 AND implementation_id = $3 AND status = 'failed'")
            .bind(now).bind(id).bind(implementation_id).execute(c).await)?;
        Ok(n == 1)
    }

    pub async fn outbox_get(&mut self, implementation_id: i64, id: i64) -> Result<OutboxMessage> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, OutboxMessage>("SELECT * FROM outbox WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn outbox_list(
        &mut self,
        implementation_id: i64,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        let mut f = Filter::new("implementation_id = ?", Arg::I64(implementation_id));
        f.and_some("status = ?", status.map(str::to_string), Arg::Text);
        crate::query::page_of(self, "SELECT *", "FROM outbox", &f, "id DESC", page).await
    }

    /// Counts by status, for metrics and the outbox page.
    pub async fn outbox_counts(&mut self) -> Result<Vec<(String, i64)>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, (String, i64)>("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")
            .fetch_all(c).await)?,
        )
    }

    // ---- email templates ----

    pub async fn email_template_get(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> Result<Option<EmailTemplate>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, EmailTemplate>("SELECT * FROM email_templates WHERE implementation_id = $1 AND key = $2")
            .bind(implementation_id).bind(key).fetch_optional(c).await)?,
        )
    }

    pub async fn email_template_put(&mut self, t: &EmailTemplate) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO email_templates (implementation_id, key, subject, text_body, html_body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (implementation_id, key) DO UPDATE SET subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body, updated_at = excluded.updated_at")
            .bind(t.implementation_id).bind(&t.key).bind(&t.subject).bind(&t.text_body).bind(&t.html_body).bind(t.updated_at)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn email_template_delete(&mut self, implementation_id: i64, key: &str) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM email_templates WHERE implementation_id = $1 AND key = $2")
            .bind(implementation_id).bind(key).execute(c).await)?;
        Ok(())
    }
}
