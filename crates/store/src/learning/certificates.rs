//! Certificates, and the look-ups of the public verification page (for its rate limit).

use crate::{exec, on_conn, Result, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A certificate as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Certificate {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    /// The name as certified, as it was on the day of issue.
    pub person_name: String,
    /// The verification code, as printed (`7KQ2-M9XD-4TRB`).
    pub code: String,
    /// `course` or `plan` (see `onramp_domain::learning::certificate::CertificateSubject`).
    pub subject_kind: String,
    pub subject_ref: String,
    /// What was completed, in words.
    pub title: String,
    pub completed_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCertificate<'a> {
    pub implementation_id: i64,
    pub person_id: i64,
    pub person_name: &'a str,
    pub code: &'a str,
    pub subject_kind: &'a str,
    pub subject_ref: &'a str,
    pub title: &'a str,
    pub completed_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Tx {
    /// Issues a certificate, unless the person has one for this subject already: then
    /// nothing is written and None comes back (even when two transactions race). A code
    /// that another certificate has is a `Conflict`.
    pub async fn certificate_insert(
        &mut self,
        c: &NewCertificate<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        Ok(on_conn!(self, conn => sqlx::query_scalar(
            "INSERT INTO certificates (implementation_id, person_id, person_name, code, subject_kind, subject_ref, title, completed_at, valid_until, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (person_id, subject_kind, subject_ref) DO NOTHING RETURNING id")
            .bind(c.implementation_id).bind(c.person_id).bind(c.person_name).bind(c.code)
            .bind(c.subject_kind).bind(c.subject_ref).bind(c.title).bind(c.completed_at)
            .bind(c.valid_until).bind(now)
            .fetch_optional(conn).await)?)
    }

    /// One certificate of the implementation.
    pub async fn certificate_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> Result<Certificate> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Certificate>(
            "SELECT * FROM certificates WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?)
    }

    /// The person's certificate for a subject, if they have one.
    pub async fn certificate_of_subject(
        &mut self,
        person_id: i64,
        subject_kind: &str,
        subject_ref: &str,
    ) -> Result<Option<Certificate>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Certificate>(
            "SELECT * FROM certificates WHERE person_id = $1 AND subject_kind = $2 AND subject_ref = $3")
            .bind(person_id).bind(subject_kind).bind(subject_ref).fetch_optional(c).await)?)
    }

    /// The certificate with this code, in any implementation (codes are unique across them).
    pub async fn certificate_by_code(&mut self, code: &str) -> Result<Option<Certificate>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Certificate>(
            "SELECT * FROM certificates WHERE code = $1")
            .bind(code).fetch_optional(c).await)?)
    }

    /// A person's certificates, newest first.
    pub async fn certificates_of_person(
        &mut self,
        implementation_id: i64,
        person_id: i64,
    ) -> Result<Vec<Certificate>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Certificate>(
            "SELECT * FROM certificates WHERE implementation_id = $1 AND person_id = $2 ORDER BY issued_at DESC, id DESC")
            .bind(implementation_id).bind(person_id).fetch_all(c).await)?)
    }

    /// Revokes a certificate that is not revoked yet; false when it already was (or is not
    /// the implementation's).
    pub async fn certificate_revoke(
        &mut self,
        implementation_id: i64,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query(
            "UPDATE certificates SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND implementation_id = $4 AND revoked_at IS NULL")
            .bind(now).bind(reason).bind(id).bind(implementation_id).execute(c).await)?;
        Ok(n == 1)
    }

    // ---- look-ups of the verification page (rate limiting by source address) ----

    pub async fn certificate_lookup_record(
        &mut self,
        source_addr: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("INSERT INTO certificate_lookups (source_addr, at) VALUES ($1, $2)")
            .bind(source_addr).bind(now).execute(c).await)?;
        Ok(())
    }

    /// Look-ups from an address since a time.
    pub async fn certificate_lookups_since(
        &mut self,
        source_addr: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificate_lookups WHERE source_addr = $1 AND at >= $2")
            .bind(source_addr).bind(since).fetch_one(c).await)?)
    }

    /// Forgets look-ups older than `before`.
    pub async fn certificate_lookups_prune(&mut self, before: DateTime<Utc>) -> Result<u64> {
        Ok(
            exec!(self, c => sqlx::query("DELETE FROM certificate_lookups WHERE at < $1").bind(before).execute(c).await)?,
        )
    }
}
