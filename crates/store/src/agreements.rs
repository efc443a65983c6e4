//! Agreements, their versions, and signatures.

use crate::{
    exec, on_conn, read_all, read_optional, AgreementRow, AgreementVersion, Reads, Result,
    Signature, Tx,
};
use chrono::{DateTime, Utc};
use std::future::Future;

#[derive(Debug, Clone)]
pub struct NewSignature<'a> {
    pub agreement_version_id: i64,
    pub request_id: Option<i64>,
    pub subject_person_id: i64,
    pub signer_person_id: i64,
    pub signer_role: &'a str,
    pub typed_name: &'a str,
    pub signed_at: DateTime<Utc>,
    pub source_addr: &'a str,
    pub user_agent: &'a str,
    pub text_sha256: &'a str,
}

impl Tx {
    pub async fn agreement_create(
        &mut self,
        implementation_id: i64,
        key: &str,
        title: &str,
        kind: &str,
        resign_yearly: bool,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO agreements (implementation_id, key, title, kind, resign_yearly, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id")
            .bind(implementation_id).bind(key).bind(title).bind(kind).bind(resign_yearly).bind(now).fetch_one(c).await)?)
    }

    pub async fn agreement_update(
        &mut self,
        implementation_id: i64,
        id: i64,
        title: &str,
        resign_yearly: bool,
        active: bool,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE agreements SET title = $1, resign_yearly = $2, active = $3 WHERE id = $4 AND implementation_id = $5")
            .bind(title).bind(resign_yearly).bind(active).bind(id).bind(implementation_id).execute(c).await)?;
        Ok(())
    }

    pub async fn agreement_get(&mut self, implementation_id: i64, id: i64) -> Result<AgreementRow> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AgreementRow>("SELECT * FROM agreements WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn agreements_list(&mut self, implementation_id: i64) -> Result<Vec<AgreementRow>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AgreementRow>("SELECT * FROM agreements WHERE implementation_id = $1 ORDER BY title, id")
            .bind(implementation_id).fetch_all(c).await)?,
        )
    }

    /// Adds a version of an agreement's text; returns (id, version).
    pub async fn agreement_version_add(
        &mut self,
        agreement_id: i64,
        body: &str,
        sha256: &str,
        now: DateTime<Utc>,
        by: Option<i64>,
    ) -> Result<(i64, i32)> {
        let current: Option<i32> = on_conn!(self, c => sqlx::query_scalar("SELECT MAX(version) FROM agreement_versions WHERE agreement_id = $1")
            .bind(agreement_id).fetch_one(c).await)?;
        let version = current.unwrap_or(0) + 1;
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO agreement_versions (agreement_id, version, body, sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(agreement_id).bind(version).bind(body).bind(sha256).bind(now).bind(by).fetch_one(c).await)?;
        Ok((id, version))
    }

    pub async fn agreement_version_get(&mut self, id: i64) -> Result<AgreementVersion> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AgreementVersion>("SELECT * FROM agreement_versions WHERE id = $1")
            .bind(id).fetch_one(c).await)?,
        )
    }

    pub async fn agreement_versions(&mut self, agreement_id: i64) -> Result<Vec<AgreementVersion>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AgreementVersion>("SELECT * FROM agreement_versions WHERE agreement_id = $1 ORDER BY version DESC")
            .bind(agreement_id).fetch_all(c).await)?,
        )
    }

    pub async fn signature_add(&mut self, s: &NewSignature<'_>) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO signatures (agreement_version_id, request_id, subject_person_id, signer_person_id, signer_role, typed_name, signed_at, source_addr, user_agent, text_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(s.agreement_version_id).bind(s.request_id).bind(s.subject_person_id).bind(s.signer_person_id).bind(s.signer_role).bind(s.typed_name)
            .bind(s.signed_at).bind(s.source_addr).bind(s.user_agent).bind(s.text_sha256).fetch_one(c).await)?)
    }

    /// Signatures about a person on any version of an agreement, newest first.
    pub async fn signatures_for(
        &mut self,
        subject_person_id: i64,
        agreement_id: i64,
    ) -> Result<Vec<Signature>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Signature>(
            "SELECT g.* FROM signatures g JOIN agreement_versions v ON v.id = g.agreement_version_id WHERE g.subject_person_id = $1 AND v.agreement_id = $2 ORDER BY g.signed_at DESC, g.id DESC")
            .bind(subject_person_id).bind(agreement_id).fetch_all(c).await)?)
    }

    pub async fn signature_get(&mut self, id: i64) -> Result<Signature> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Signature>("SELECT * FROM signatures WHERE id = $1").bind(id).fetch_one(c).await)?,
        )
    }
}

/// The reads of an agreement step's signing state, on a [`Tx`] or a [`crate::Snapshot`].
pub trait AgreementReads: Reads {
    fn agreement_by_key(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> impl Future<Output = Result<Option<AgreementRow>>> + Send {
        async move {
            read_optional!(
                self,
                AgreementRow,
                "SELECT * FROM agreements WHERE implementation_id = $1 AND key = $2",
                implementation_id,
                key
            )
        }
    }

    fn agreement_version_latest(
        &mut self,
        agreement_id: i64,
    ) -> impl Future<Output = Result<Option<AgreementVersion>>> + Send {
        async move {
            read_optional!(self, AgreementVersion, "SELECT * FROM agreement_versions WHERE agreement_id = $1 ORDER BY version DESC LIMIT 1", agreement_id)
        }
    }

    fn signatures_of_request(
        &mut self,
        request_id: i64,
    ) -> impl Future<Output = Result<Vec<Signature>>> + Send {
        async move {
            read_all!(
                self,
                Signature,
                "SELECT * FROM signatures WHERE request_id = $1 ORDER BY signed_at, id",
                request_id
            )
        }
    }
}

impl<R: Reads> AgreementReads for R {}
