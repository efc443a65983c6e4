//! Rows as the store returns them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Implementation {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub hmis_lead_name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct Agency {
    pub id: i64,
    pub implementation_id: i64,
    pub name: String,
    pub participation_status: String,
    pub participation_date: Option<NaiveDate>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct Project {
    pub id: i64,
    pub implementation_id: i64,
    pub agency_id: i64,
    pub agency_name: String,
    pub name: String,
    pub hud_project_type: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct Person {
    pub id: i64,
    pub implementation_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Person {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// An entry of a per-implementation catalogue (access levels, responsibilities).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct CatalogueEntry {
    pub id: i64,
    pub implementation_id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub active: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub person_id: i64,
    pub email: String,
    pub password_hash: Option<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub mfa_secret: Option<String>,
    pub mfa_pending_secret: Option<String>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The last TOTP time step accepted; codes of that step or earlier are refused.
    pub mfa_last_step: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub token_hash: String,
    pub person_id: i64,
    pub stage: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub source_addr: String,
    pub user_agent: String,
    /// Moved to MFA enrolment while signed in: the password is asked again before set-up.
    pub mfa_needs_password: bool,
    /// The authenticator secret this session is setting up.
    pub mfa_pending_secret: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OneTimeToken {
    pub id: i64,
    pub kind: String,
    pub person_id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// None: the token does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub seq: i64,
    pub implementation_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub summary: String,
    pub source_addr: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub implementation_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct EmailTemplate {
    pub implementation_id: i64,
    pub key: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct ProcessTemplateRow {
    pub id: i64,
    pub implementation_id: i64,
    pub key: String,
    pub version: i32,
    pub name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct AgreementRow {
    pub id: i64,
    pub implementation_id: i64,
    pub key: String,
    pub title: String,
    pub kind: String,
    pub resign_yearly: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct AgreementVersion {
    pub id: i64,
    pub agreement_id: i64,
    pub version: i32,
    pub body: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct AccessRequest {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub agency_id: i64,
    pub requested_by: i64,
    pub template_id: i64,
    pub status: String,
    pub is_returning: bool,
    pub access_level: String,
    /// Comma-separated responsibility codes.
    pub responsibilities: String,
    pub note: String,
    pub status_reason: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the welcome email (with the invitation to Onramp) went out.
    pub welcomed_at: Option<DateTime<Utc>>,
}

/// A request with the names a list needs.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct AccessRequestSummary {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub person_email: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub status: String,
    pub is_returning: bool,
    pub access_level: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The earliest open step's SLA due time, if any.
    pub next_sla_due_at: Option<DateTime<Utc>>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub sla_breached: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct RequestStep {
    pub request_id: i64,
    pub step_key: String,
    pub position: i32,
    pub status: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<i64>,
    pub note: String,
    pub due_at: Option<DateTime<Utc>>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
    pub warned_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RequestMessage {
    pub id: i64,
    pub request_id: i64,
    pub author_id: Option<i64>,
    pub author_label: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct Signature {
    pub id: i64,
    pub agreement_version_id: i64,
    pub request_id: Option<i64>,
    pub subject_person_id: i64,
    pub signer_person_id: i64,
    pub signer_role: String,
    pub typed_name: String,
    pub signed_at: DateTime<Utc>,
    pub source_addr: String,
    pub user_agent: String,
    pub text_sha256: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TrainingRecord {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub step_key: String,
    pub request_id: Option<i64>,
    pub completed_at: DateTime<Utc>,
    pub how: String,
    pub note: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StaffVerification {
    pub id: i64,
    pub request_id: i64,
    pub person_id: i64,
    pub attested_by: i64,
    pub background_check_on: NaiveDate,
    pub attested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct HmisAccount {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub request_id: Option<i64>,
    pub username: String,
    pub access_level: String,
    pub agency_id: i64,
    /// Comma-separated project ids.
    pub projects: String,
    pub status: String,
    pub first_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct HmisAccountEvent {
    pub id: i64,
    pub account_id: i64,
    pub status: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub note: String,
}
