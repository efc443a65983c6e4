//! Browser sessions, stored in the database so that several app nodes can serve one deployment.

use crate::{exec, on_conn, Result, Session, Tx};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub person_id: i64,
    pub stage: &'a str,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub source_addr: &'a str,
    pub user_agent: &'a str,
}

impl Tx {
    pub async fn session_create(&mut self, s: &NewSession<'_>) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO sessions (token_hash, person_id, stage, csrf_token, created_at, last_seen_at, expires_at, source_addr, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)")
            .bind(s.token_hash).bind(s.person_id).bind(s.stage).bind(s.csrf_token).bind(s.now).bind(s.expires_at).bind(s.source_addr).bind(s.user_agent)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn session_get(&mut self, token_hash: &str) -> Result<Option<Session>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Session>("SELECT * FROM sessions WHERE token_hash = $1")
            .bind(token_hash).fetch_optional(c).await)?,
        )
    }

    pub async fn session_touch(&mut self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now).bind(token_hash).execute(c).await)?;
        Ok(())
    }

    pub async fn session_set_stage(&mut self, token_hash: &str, stage: &str) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE sessions SET stage = $1 WHERE token_hash = $2")
            .bind(stage).bind(token_hash).execute(c).await)?;
        Ok(())
    }

    /// Gives a session a new token, a new CSRF token and a stage, so that the token it had
    /// before is worthless; false when no session had `old_hash`.
    pub async fn session_rotate(
        &mut self,
        old_hash: &str,
        new_hash: &str,
        csrf_token: &str,
        stage: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query(
            "UPDATE sessions SET token_hash = $1, csrf_token = $2, stage = $3, last_seen_at = $4, mfa_needs_password = FALSE, mfa_pending_secret = NULL WHERE token_hash = $5")
            .bind(new_hash).bind(csrf_token).bind(stage).bind(now).bind(old_hash).execute(c).await)?;
        Ok(n == 1)
    }

    /// Sends a signed-in session back to MFA enrolment (a role that needs MFA was granted);
    /// the password is asked again before set-up.
    pub async fn session_require_enrolment(&mut self, token_hash: &str, stage: &str) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE sessions SET stage = $1, mfa_needs_password = TRUE WHERE token_hash = $2")
            .bind(stage).bind(token_hash).execute(c).await)?;
        Ok(())
    }

    /// The authenticator secret this session is setting up (None ends the set-up).
    pub async fn session_set_pending_mfa(
        &mut self,
        token_hash: &str,
        secret: Option<&str>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE sessions SET mfa_pending_secret = $1 WHERE token_hash = $2")
            .bind(secret).bind(token_hash).execute(c).await)?;
        Ok(())
    }

    pub async fn session_delete(&mut self, token_hash: &str) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(c).await)?;
        Ok(())
    }

    /// Ends every session of a person but one (`keep`); returns how many ended.
    pub async fn sessions_delete_for(&mut self, person_id: i64, keep: Option<&str>) -> Result<u64> {
        let n = exec!(self, c => sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND token_hash <> $2")
            .bind(person_id).bind(keep.unwrap_or("")).execute(c).await)?;
        Ok(n)
    }

    pub async fn sessions_count_for(&mut self, person_id: i64) -> Result<i64> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE person_id = $1")
            .bind(person_id).fetch_one(c).await)?,
        )
    }

    /// Removes sessions idle since before `idle_before` or past their absolute expiry.
    pub async fn sessions_prune(
        &mut self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let n = exec!(self, c => sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR expires_at < $2")
            .bind(idle_before).bind(now).execute(c).await)?;
        Ok(n)
    }
}
