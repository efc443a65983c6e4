//! `/api/v1/audit`: the audit trail.

use super::extract::{ApiActor, ApiJson, ApiQuery};
use super::page_request;
use super::problem::{self, ApiResult};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use onramp_store::audit::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One event of the append-only, hash-chained audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// Position in the chain.
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    /// Who acted; none for the system.
    pub actor_id: Option<i64>,
    pub actor_label: String,
    #[schema(example = "agency.create")]
    pub action: String,
    #[schema(example = "agency")]
    pub subject_type: String,
    pub subject_id: Option<i64>,
    /// What changed (often `before` and `after`).
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// The address the change came from.
    pub source_addr: String,
    /// The previous event's hash (hex SHA-256).
    pub prev_hash: String,
    /// This event's hash (hex SHA-256).
    pub hash: String,
}

impl From<onramp_store::AuditEvent> for AuditEvent {
    fn from(e: onramp_store::AuditEvent) -> Self {
        let summary =
            serde_json::from_str(&e.summary).unwrap_or(serde_json::Value::String(e.summary));
        Self {
            id: e.id,
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            actor_label: e.actor_label,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            summary,
            source_addr: e.source_addr,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

super::page_type!(
    AuditEventPage,
    AuditEvent,
    "A page of audit events, newest first."
);

/// Filters and paging of the audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events of this action (e.g. `agency.create`).
    pub action: Option<String>,
    /// Only events about this kind of subject (e.g. `agency`, `person`).
    pub subject_type: Option<String>,
    /// Only events by this person.
    pub actor_id: Option<i64>,
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

/// Read the audit trail
///
/// Lead admins and auditors only.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    operation_id = "list_audit_events",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit events, newest first", body = AuditEventPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<AuditEventPage>> {
    let f = AuditFilter {
        action: super::non_empty(q.action),
        subject_type: super::non_empty(q.subject_type),
        actor_id: q.actor_id,
        ..Default::default()
    };
    let page =
        onramp_app::audit::list(&state.app, &ctx, &f, page_request(q.page, q.per_page)).await?;
    Ok(ApiJson(AuditEventPage::from_page(page)))
}
