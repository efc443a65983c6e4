//! Browser sessions, stored in the database so that several app nodes can serve one deployment.

use crate::{exec, on_conn, Person, Result, Session, Tx};
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

/// A session with everything a request needs to know of who holds it: their person, their
/// implementation's name, their account, the two-step sign-in setting and their roles, read
/// in one statement.
#[derive(Debug, Clone)]
pub struct SessionHolder {
    pub session: Session,
    pub person: Person,
    pub implementation_name: String,
    /// The account's email and when two-step sign-in was turned on; `None` without an account.
    pub account: Option<(String, Option<DateTime<Utc>>)>,
    /// The implementation's two-step sign-in setting, when set.
    pub mfa_for_all_readers: Option<String>,
    /// (agency, role): implementation roles first (no agency), then agency roles.
    pub roles: Vec<(Option<i64>, String)>,
}

/// Decoded by sqlx on a transaction and by serde on an inline snapshot (so no `flatten`:
/// serde would buffer the session's columns and lose SQLite's integer booleans).
#[derive(sqlx::FromRow, serde::Deserialize)]
struct HolderRow {
    token_hash: String,
    person_id: i64,
    stage: String,
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    source_addr: String,
    user_agent: String,
    mfa_needs_password: bool,
    mfa_pending_secret: Option<String>,
    p_implementation_id: i64,
    p_given_name: String,
    p_family_name: String,
    p_email: String,
    p_agency_id: Option<i64>,
    p_agency_name: Option<String>,
    p_active: bool,
    p_created_at: DateTime<Utc>,
    p_updated_at: DateTime<Utc>,
    implementation_name: String,
    account_email: Option<String>,
    mfa_enabled_at: Option<DateTime<Utc>>,
    mfa_setting: Option<String>,
    role_agency_id: Option<i64>,
    role: Option<String>,
}

/// One row per role (one row with no role for a person who holds none). The roles are
/// looked up by the session's person inside the union, so that neither table is scanned.
/// `$2` is the key of the two-step sign-in setting.
const HOLDER_SQL: &str = "SELECT s.token_hash, s.person_id, s.stage, s.csrf_token, s.created_at, \
     s.last_seen_at, s.expires_at, s.source_addr, s.user_agent, s.mfa_needs_password, s.mfa_pending_secret, \
     p.implementation_id AS p_implementation_id, p.given_name AS p_given_name, \
     p.family_name AS p_family_name, p.email AS p_email, p.agency_id AS p_agency_id, \
     ag.name AS p_agency_name, p.active AS p_active, p.created_at AS p_created_at, \
     p.updated_at AS p_updated_at, i.name AS implementation_name, \
     acc.email AS account_email, acc.mfa_enabled_at, st.value AS mfa_setting, \
     r.agency_id AS role_agency_id, r.role \
     FROM sessions s \
     JOIN people p ON p.id = s.person_id \
     JOIN implementations i ON i.id = p.implementation_id \
     LEFT JOIN agencies ag ON ag.id = p.agency_id \
     LEFT JOIN accounts acc ON acc.person_id = s.person_id \
     LEFT JOIN implementation_settings st ON st.implementation_id = p.implementation_id AND st.key = $2 \
     LEFT JOIN (SELECT 0 AS kind, person_id, CAST(NULL AS BIGINT) AS agency_id, role FROM implementation_roles \
                WHERE person_id = (SELECT person_id FROM sessions WHERE token_hash = $1) \
                UNION ALL SELECT 1 AS kind, person_id, agency_id, role FROM agency_roles \
                WHERE person_id = (SELECT person_id FROM sessions WHERE token_hash = $1)) r ON r.person_id = s.person_id \
     WHERE s.token_hash = $1 \
     ORDER BY r.kind, r.agency_id, r.role";

impl crate::Store {
    /// The session of this token hash and who holds it, in one statement outside any
    /// transaction (one statement reads one snapshot; inline on SQLite), with the implementation setting
    /// `mfa_setting_key` (the two-step sign-in policy).
    pub async fn session_holder(
        &self,
        token_hash: &str,
        mfa_setting_key: &str,
    ) -> Result<Option<SessionHolder>> {
        let rows = crate::read_all!(
            &mut self.single().await?,
            HolderRow,
            HOLDER_SQL,
            token_hash,
            mfa_setting_key
        )?;
        Ok(holder_of(rows))
    }
}

fn holder_of(mut rows: Vec<HolderRow>) -> Option<SessionHolder> {
    // A role is never NULL in its table: a NULL role is the row of a person holding none.
    let roles = rows
        .iter_mut()
        .filter_map(|r| r.role.take().map(|role| (r.role_agency_id, role)))
        .collect();
    let first = rows.into_iter().next()?;
    let person = Person {
        id: first.person_id,
        implementation_id: first.p_implementation_id,
        given_name: first.p_given_name,
        family_name: first.p_family_name,
        email: first.p_email,
        agency_id: first.p_agency_id,
        agency_name: first.p_agency_name,
        active: first.p_active,
        created_at: first.p_created_at,
        updated_at: first.p_updated_at,
    };
    Some(SessionHolder {
        account: first.account_email.map(|e| (e, first.mfa_enabled_at)),
        session: Session {
            token_hash: first.token_hash,
            person_id: first.person_id,
            stage: first.stage,
            csrf_token: first.csrf_token,
            created_at: first.created_at,
            last_seen_at: first.last_seen_at,
            expires_at: first.expires_at,
            source_addr: first.source_addr,
            user_agent: first.user_agent,
            mfa_needs_password: first.mfa_needs_password,
            mfa_pending_secret: first.mfa_pending_secret,
        },
        person,
        implementation_name: first.implementation_name,
        mfa_for_all_readers: first.mfa_setting,
        roles,
    })
}
