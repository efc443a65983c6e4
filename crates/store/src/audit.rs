//! The append-only, hash-chained audit trail, keyed with the audit key (which the store
//! never keeps: the caller passes it).

use crate::query::{Arg, Filter};
use crate::{exec, on_conn, AuditEvent, Page, PageRequest, Result, StoreError, Tx};
use chrono::{DateTime, SecondsFormat, Utc};
use onramp_domain::audit::{event_hash, AuditFields, AuditKey, StoredEvent};

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub implementation_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub summary: &'a str,
    pub source_addr: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub actor_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The canonical text of an audit time, which the hash covers.
pub fn audit_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

impl Tx {
    /// Appends an event to the chain, its hash keyed with `key`. Taking the chain head
    /// first serialises writers on both backends (a row lock on PostgreSQL; the one writer
    /// connection on SQLite).
    pub async fn audit_append(&mut self, key: &AuditKey, e: &NewAuditEvent<'_>) -> Result<i64> {
        let (seq, prev): (i64, String) = on_conn!(self, c => sqlx::query_as(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash")
            .fetch_one(c).await)?;
        let at = to_micros(e.occurred_at);
        let at_text = audit_time(at);
        let hash = event_hash(
            key,
            &prev,
            &AuditFields {
                seq,
                implementation_id: e.implementation_id,
                occurred_at: &at_text,
                actor_id: e.actor_id,
                actor_label: e.actor_label,
                action: e.action,
                subject_type: e.subject_type,
                subject_id: e.subject_id,
                summary: e.summary,
                source_addr: e.source_addr,
            },
        );
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO audit_events (seq, implementation_id, occurred_at, actor_id, actor_label, action, subject_type, subject_id, summary, source_addr, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(seq).bind(e.implementation_id).bind(at).bind(e.actor_id).bind(e.actor_label).bind(e.action)
            .bind(e.subject_type).bind(e.subject_id).bind(e.summary).bind(e.source_addr).bind(&prev).bind(&hash)
            .fetch_one(c).await)?;
        exec!(self, c => sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(&hash).execute(c).await)?;
        Ok(id)
    }

    pub async fn audit_head_seq(&mut self) -> Result<i64> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_one(c).await)?,
        )
    }

    /// The chain head: the sequence number and hash of the last event written.
    pub async fn audit_head(&mut self) -> Result<(i64, String)> {
        Ok(
            on_conn!(self, c => sqlx::query_as("SELECT seq, last_hash FROM audit_head WHERE id = 1").fetch_one(c).await)?,
        )
    }

    /// Events in chain order, `after` a sequence number, at most `limit` of them.
    pub async fn audit_chain_batch(&mut self, after: i64, limit: i64) -> Result<Vec<StoredEvent>> {
        let rows = on_conn!(self, c => sqlx::query_as::<_, AuditEvent>("SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after).bind(limit).fetch_all(c).await)?;
        Ok(rows
            .into_iter()
            .map(|r| StoredEvent {
                id: r.id,
                seq: r.seq,
                implementation_id: r.implementation_id,
                occurred_at: audit_time(r.occurred_at),
                actor_id: r.actor_id,
                actor_label: r.actor_label,
                action: r.action,
                subject_type: r.subject_type,
                subject_id: r.subject_id,
                summary: r.summary,
                source_addr: r.source_addr,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect())
    }

    pub async fn audit_list(
        &mut self,
        implementation_id: i64,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let mut f = Filter::new("implementation_id = ?", Arg::I64(implementation_id));
        // An exact prefix: LIKE would ignore case on SQLite and treat `_` as a wildcard.
        f.and_some(
            "SUBSTR(action, 1, LENGTH(?)) = ?",
            filter.action.clone(),
            Arg::Text,
        )
        .and_some("subject_type = ?", filter.subject_type.clone(), Arg::Text)
        .and_some("actor_id = ?", filter.actor_id, Arg::I64)
        .and_some("occurred_at >= ?", filter.from, Arg::Time)
        .and_some("occurred_at < ?", filter.to, Arg::Time);
        crate::query::page_of(self, "SELECT *", "FROM audit_events", &f, "seq DESC", page).await
    }

    /// For tests and `audit verify` demonstrations: an event by id.
    pub async fn audit_get(&mut self, id: i64) -> Result<AuditEvent> {
        on_conn!(self, c => sqlx::query_as::<_, AuditEvent>("SELECT * FROM audit_events WHERE id = $1").bind(id).fetch_optional(c).await)?
            .ok_or(StoreError::NotFound)
    }
}
