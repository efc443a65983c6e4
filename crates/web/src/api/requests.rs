//! `/api/v1/requests`: access requests, from an agency's submission to live HMIS credentials.

use super::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use super::problem::{self, ApiResult};
use super::values::{
    CatalogueCode, EmailAddress, PersonName, RecordId, RequestNote, RequestStatusName,
    StepKindName, StepStatusName,
};
use super::{created, page_request, Created};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use onramp_app::access::{self, RequestInput, Submitted};
use onramp_app::AppError;
use onramp_domain::request::RequestStatus;
use onramp_store::access::RequestFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An access request as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestSummary {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub person_email: String,
    pub agency_id: i64,
    pub agency_name: String,
    #[schema(value_type = RequestStatusName)]
    pub status: String,
    pub returning: bool,
    pub access_level: String,
    pub submitted_at: DateTime<Utc>,
    /// The earliest SLA due time of an open step.
    pub next_sla_due_at: Option<DateTime<Utc>>,
    /// The earliest deadline of an open step.
    pub next_due_at: Option<DateTime<Utc>>,
    pub sla_breached: bool,
}

impl From<onramp_store::AccessRequestSummary> for RequestSummary {
    fn from(r: onramp_store::AccessRequestSummary) -> Self {
        Self {
            id: r.id,
            person_id: r.person_id,
            person_name: r.person_name,
            person_email: r.person_email,
            agency_id: r.agency_id,
            agency_name: r.agency_name,
            status: r.status,
            returning: r.is_returning,
            access_level: r.access_level,
            submitted_at: r.submitted_at,
            next_sla_due_at: r.next_sla_due_at,
            next_due_at: r.next_due_at,
            sla_breached: r.sla_breached > 0,
        }
    }
}

super::page_type!(RequestPage, RequestSummary, "A page of access requests.");

/// One step of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestStep {
    pub key: String,
    pub title: String,
    #[schema(value_type = StepKindName)]
    pub kind: String,
    #[schema(value_type = StepStatusName)]
    pub status: String,
    pub due_at: Option<DateTime<Utc>>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub note: String,
    /// Whether the token's holder can act on it now.
    pub yours: bool,
}

/// An access request with its steps.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetail {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    #[schema(value_type = RequestStatusName)]
    pub status: String,
    pub status_reason: String,
    pub returning: bool,
    pub access_level: String,
    pub responsibilities: Vec<String>,
    pub project_ids: Vec<i64>,
    pub note: String,
    pub process: String,
    pub process_version: i32,
    pub submitted_at: DateTime<Utc>,
    pub hmis_username: Option<String>,
    pub steps: Vec<RequestStep>,
}

impl From<access::RequestView> for RequestDetail {
    fn from(v: access::RequestView) -> Self {
        Self {
            id: v.request.id,
            person_id: v.person.id,
            person_name: v.person.display_name(),
            agency_id: v.request.agency_id,
            agency_name: v.agency_name,
            status: v.request.status,
            status_reason: v.request.status_reason,
            returning: v.request.is_returning,
            access_level: v.request.access_level,
            responsibilities: v
                .request
                .responsibilities
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            project_ids: v.projects.iter().map(|p| p.0).collect(),
            note: v.request.note,
            process: v.process_name,
            process_version: v.process_version,
            submitted_at: v.request.submitted_at,
            hmis_username: v.hmis_account.map(|a| a.username),
            steps: v
                .steps
                .into_iter()
                .map(|s| RequestStep {
                    key: s.def.key,
                    title: s.def.title,
                    kind: s.def.kind.as_str().into(),
                    status: s.status.as_str().into(),
                    due_at: s.row.due_at,
                    sla_due_at: s.row.sla_due_at,
                    done_at: s.row.done_at,
                    note: s.row.note,
                    yours: s.mine,
                })
                .collect(),
        }
    }
}

/// A new access request, submitted by an agency administrator or supervisor. Unknown fields
/// are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestCreate {
    #[schema(value_type = PersonName)]
    pub given_name: String,
    #[schema(value_type = PersonName)]
    pub family_name: String,
    /// The person's agency email.
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// The agency the person works for; it must participate in the HMIS (409 otherwise, or
    /// when it names no agency of this implementation).
    #[schema(minimum = 1)]
    pub agency_id: i64,
    /// The access level's code, e.g. end_user (409 when no active access level has it).
    #[schema(value_type = CatalogueCode)]
    pub access_level: String,
    /// Responsibility codes (409 when one names no active responsibility); repeats count once.
    #[serde(default)]
    #[schema(value_type = Vec<CatalogueCode>)]
    pub responsibilities: Vec<String>,
    /// The agency's projects the person will work in, at least one (409 when one is not an
    /// active project of the agency); repeats count once.
    #[schema(value_type = Vec<RecordId>, min_items = 1)]
    pub project_ids: Vec<i64>,
    /// true when the person had HMIS access before; absent or null when unknown (Onramp checks).
    pub returning: Option<bool>,
    #[serde(default)]
    #[schema(value_type = RequestNote)]
    pub note: String,
    /// After a 409 naming people with the same name: the id of the one who is this person,
    /// or "new" for someone else.
    #[schema(pattern = "^(new|[1-9][0-9]{0,17})$", example = "new")]
    pub confirm_person: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// The person's name or email.
    pub q: Option<String>,
    /// One status; by default open and on-hold requests.
    #[param(value_type = Option<RequestStatusName>)]
    pub status: Option<String>,
    pub agency_id: Option<i64>,
    /// Only requests with a step past its SLA.
    pub sla_breached: Option<bool>,
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

/// List access requests
///
/// Lead staff see the queue; agency contacts their agency's requests; anyone else their own.
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    tag = "requests",
    operation_id = "list_requests",
    security(("bearer" = [])),
    params(RequestQuery),
    responses(
        (status = 200, description = "The requests the token's holder may see", body = RequestPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> ApiResult<ApiJson<RequestPage>> {
    let statuses = match super::non_empty(q.status) {
        None => RequestStatus::live_names(),
        Some(s) => match RequestStatus::parse(&s) {
            Some(st) => vec![st.as_str().into()],
            None => {
                return Err(AppError::field(
                    "status",
                    "Use open, on_hold, completed, withdrawn, rejected or expired",
                )
                .into())
            }
        },
    };
    let f = RequestFilter {
        statuses,
        agency_id: q.agency_id,
        search: super::non_empty(q.q),
        sla_breached: q.sla_breached.unwrap_or(false),
        ..Default::default()
    };
    let page = access::list(&state.app, &ctx, f, page_request(q.page, q.per_page)).await?;
    Ok(ApiJson(RequestPage::from_page(page)))
}

/// Get an access request with its steps
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    tag = "requests",
    operation_id = "get_request",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = RequestDetail),
        (status = 400, response = problem::BadRequest),
        (status = 401, response = problem::Unauthorized),
        (status = 404, response = problem::NotFound),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ApiJson<RequestDetail>> {
    Ok(ApiJson(access::view(&state.app, &ctx, id).await?.into()))
}

/// Submit an access request
///
/// For an agency's staff, by its agency administrators and supervisors (or Lead staff). A
/// returning person is found by email; when only the name matches someone already known, the
/// answer is 409 naming them, and the request is sent again with `confirm_person`.
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "requests",
    operation_id = "submit_request",
    security(("bearer" = [])),
    request_body = RequestCreate,
    responses(
        (status = 201, description = "Submitted", body = RequestDetail, headers(("Location" = String, description = "The new request's URL"))),
        (status = 400, response = problem::BadRequest),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
        (status = 409, response = problem::Conflict),
        (status = 415, response = problem::UnsupportedMediaType),
        (status = 422, response = problem::Unprocessable),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiJson(body): ApiJson<RequestCreate>,
) -> ApiResult<Created<RequestDetail>> {
    let input = RequestInput {
        given_name: body.given_name,
        family_name: body.family_name,
        email: body.email,
        agency_id: body.agency_id.to_string(),
        access_level: body.access_level,
        responsibilities: body.responsibilities,
        projects: body.project_ids.iter().map(|p| p.to_string()).collect(),
        new_or_returning: match body.returning {
            Some(true) => "returning".into(),
            Some(false) => "new".into(),
            None => String::new(),
        },
        note: body.note,
        confirm_person: body.confirm_person.unwrap_or_default(),
        process: String::new(),
    };
    match access::submit(&state.app, &ctx, &input).await? {
        // Waiting for Lead staff to decide an agency change: saved all the same; its status
        // and status_reason say what happens next.
        Submitted::Created(id) | Submitted::AwaitingMove(id) => {
            let view = access::view(&state.app, &ctx, id).await?;
            Ok(created(format!("/api/v1/requests/{id}"), view.into()))
        }
        Submitted::ConfirmPerson(people) => {
            let names: Vec<String> = people
                .iter()
                .map(|p| format!("{} ({}, person {})", p.display_name(), p.email, p.id))
                .collect();
            Err(AppError::Conflict(format!(
                "Someone with this name is already known: {}. Send the request again with confirm_person set to their id, or to \"new\" for a different person.",
                names.join("; ")
            ))
            .into())
        }
    }
}
