//! Sign-in accounts, one-time tokens, API tokens and sign-in attempts.

use crate::{exec, on_conn, Account, ApiToken, OneTimeToken, Result, Tx};
use chrono::{DateTime, Utc};

impl Tx {
    pub async fn account_create(&mut self, person_id: i64, email: &str) -> Result<()> {
        exec!(self, c => sqlx::query("INSERT INTO accounts (person_id, email) VALUES ($1, $2)")
            .bind(person_id).bind(email).execute(c).await)?;
        Ok(())
    }

    pub async fn account_get(&mut self, person_id: i64) -> Result<Option<Account>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Account>("SELECT * FROM accounts WHERE person_id = $1")
            .bind(person_id).fetch_optional(c).await)?,
        )
    }

    pub async fn account_by_email(&mut self, email: &str) -> Result<Option<Account>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Account>("SELECT * FROM accounts WHERE email = $1")
            .bind(email).fetch_optional(c).await)?,
        )
    }

    pub async fn account_set_email(&mut self, person_id: i64, email: &str) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET email = $1 WHERE person_id = $2")
            .bind(email).bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn account_set_password(
        &mut self,
        person_id: i64,
        hash: &str,
        must_change: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_set_at = $2, must_change_password = $3, failed_attempts = 0, locked_until = NULL WHERE person_id = $4")
            .bind(hash).bind(now).bind(must_change).bind(person_id).execute(c).await)?;
        Ok(())
    }

    /// Records a failed password; returns the new count of consecutive failures.
    pub async fn account_record_failure(
        &mut self,
        person_id: i64,
        lock_until: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        let n: i32 = on_conn!(self, c => sqlx::query_scalar(
            "UPDATE accounts SET failed_attempts = failed_attempts + 1, locked_until = COALESCE($1, locked_until) WHERE person_id = $2 RETURNING failed_attempts")
            .bind(lock_until).bind(person_id).fetch_one(c).await)?;
        Ok(n)
    }

    pub async fn account_lock(&mut self, person_id: i64, until: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET locked_until = $1 WHERE person_id = $2")
            .bind(until).bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn account_record_success(
        &mut self,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $1 WHERE person_id = $2")
            .bind(now).bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn account_set_pending_mfa(
        &mut self,
        person_id: i64,
        secret: Option<&str>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET mfa_pending_secret = $1 WHERE person_id = $2")
            .bind(secret).bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn account_enable_mfa(
        &mut self,
        person_id: i64,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET mfa_secret = $1, mfa_pending_secret = NULL, mfa_enabled_at = $2 WHERE person_id = $3")
            .bind(secret).bind(now).bind(person_id).execute(c).await)?;
        Ok(())
    }

    /// Accepts a TOTP time step once: true when it is later than every step accepted before
    /// (and records it), false for a replayed or older code.
    pub async fn account_use_mfa_step(&mut self, person_id: i64, step: i64) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("UPDATE accounts SET mfa_last_step = $1 WHERE person_id = $2 AND (mfa_last_step IS NULL OR mfa_last_step < $1)")
            .bind(step).bind(person_id).execute(c).await)?;
        Ok(n == 1)
    }

    /// Sets the last accepted TOTP step outright (a new secret starts its own count).
    pub async fn account_set_mfa_step(&mut self, person_id: i64, step: Option<i64>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET mfa_last_step = $1 WHERE person_id = $2")
            .bind(step).bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn account_disable_mfa(&mut self, person_id: i64) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE accounts SET mfa_secret = NULL, mfa_pending_secret = NULL, mfa_enabled_at = NULL, mfa_last_step = NULL WHERE person_id = $1")
            .bind(person_id).execute(c).await)?;
        exec!(self, c => sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1").bind(person_id).execute(c).await)?;
        Ok(())
    }

    pub async fn recovery_codes_replace(
        &mut self,
        person_id: i64,
        hashes: &[String],
    ) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1").bind(person_id).execute(c).await)?;
        for h in hashes {
            exec!(self, c => sqlx::query("INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)")
                .bind(person_id).bind(h).execute(c).await)?;
        }
        Ok(())
    }

    /// Marks an unused recovery code as used; false when there was none.
    pub async fn recovery_code_use(
        &mut self,
        person_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE person_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now).bind(person_id).bind(hash).execute(c).await)?;
        Ok(n == 1)
    }

    pub async fn recovery_codes_left(&mut self, person_id: i64) -> Result<i64> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE person_id = $1 AND used_at IS NULL")
            .bind(person_id).fetch_one(c).await)?,
        )
    }

    // ---- one-time tokens (invitations, password resets) ----

    pub async fn token_create(
        &mut self,
        kind: &str,
        token_hash: &str,
        person_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO one_time_tokens (kind, token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(kind).bind(token_hash).bind(person_id).bind(now).bind(expires_at).fetch_one(c).await)?)
    }

    pub async fn token_find(
        &mut self,
        kind: &str,
        token_hash: &str,
    ) -> Result<Option<OneTimeToken>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, OneTimeToken>(
            "SELECT id, kind, person_id, created_at, expires_at, used_at FROM one_time_tokens WHERE kind = $1 AND token_hash = $2")
            .bind(kind).bind(token_hash).fetch_optional(c).await)?)
    }

    /// Uses a token once: false when it was already used.
    pub async fn token_use(&mut self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("UPDATE one_time_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now).bind(id).execute(c).await)?;
        Ok(n == 1)
    }

    /// Retires a person's unused tokens of a kind (a new invitation replaces the old).
    pub async fn tokens_retire(
        &mut self,
        kind: &str,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE one_time_tokens SET used_at = $1 WHERE kind = $2 AND person_id = $3 AND used_at IS NULL")
            .bind(now).bind(kind).bind(person_id).execute(c).await)?;
        Ok(())
    }

    // ---- API tokens ----

    pub async fn api_token_create(
        &mut self,
        person_id: i64,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        self.api_token_create_expiring(person_id, name, token_hash, now, None)
            .await
    }

    /// A token that stops working at `expires_at` (never when None).
    pub async fn api_token_create_expiring(
        &mut self,
        person_id: i64,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO api_tokens (person_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(person_id).bind(name).bind(token_hash).bind(now).bind(expires_at).fetch_one(c).await)?)
    }

    /// The unrevoked token with this hash, if any (expired or not: the caller decides).
    pub async fn api_token_find(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, ApiToken>(
            "SELECT id, person_id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash).fetch_optional(c).await)?)
    }

    pub async fn api_token_touch(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn api_tokens_of(&mut self, person_id: i64) -> Result<Vec<ApiToken>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, ApiToken>(
            "SELECT id, person_id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens WHERE person_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(person_id).fetch_all(c).await)?)
    }

    pub async fn api_token_revoke(
        &mut self,
        person_id: i64,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND person_id = $3 AND revoked_at IS NULL")
            .bind(now).bind(id).bind(person_id).execute(c).await)?;
        Ok(n == 1)
    }

    /// Revokes every live token of a person; returns how many.
    pub async fn api_tokens_revoke_all(
        &mut self,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let n = exec!(self, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL")
            .bind(now).bind(person_id).execute(c).await)?;
        Ok(n)
    }

    // ---- sign-in attempts (rate limiting by source address) ----

    pub async fn sign_in_attempt_record(
        &mut self,
        email: &str,
        source_addr: &str,
        now: DateTime<Utc>,
        succeeded: bool,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("INSERT INTO sign_in_attempts (email, source_addr, at, succeeded) VALUES ($1, $2, $3, $4)")
            .bind(email).bind(source_addr).bind(now).bind(succeeded).execute(c).await)?;
        Ok(())
    }

    /// Failed attempts from an address since a time.
    pub async fn sign_in_failures_since(
        &mut self,
        source_addr: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_attempts WHERE source_addr = $1 AND at >= $2 AND succeeded = FALSE")
            .bind(source_addr).bind(since).fetch_one(c).await)?)
    }

    pub async fn sign_in_attempts_prune(&mut self, before: DateTime<Utc>) -> Result<u64> {
        let n = exec!(self, c => sqlx::query("DELETE FROM sign_in_attempts WHERE at < $1").bind(before).execute(c).await)?;
        Ok(n)
    }
}
