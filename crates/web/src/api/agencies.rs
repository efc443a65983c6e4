//! `/api/v1/agencies`: participating agencies.

use super::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use super::problem::{self, ApiResult};
use super::roles::ParticipationStatus;
use super::values::OrganisationName;
use super::{created, page_request, Created};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use onramp_app::organisation::{self, AgencyInput};
use onramp_store::organisation::AgencyFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A participating agency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Agency {
    pub id: i64,
    pub name: String,
    #[schema(value_type = ParticipationStatus)]
    pub participation_status: String,
    /// When the agency started (or stopped) taking part.
    pub participation_date: Option<NaiveDate>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<onramp_store::Agency> for Agency {
    fn from(a: onramp_store::Agency) -> Self {
        Self {
            id: a.id,
            name: a.name,
            participation_status: a.participation_status,
            participation_date: a.participation_date,
            active: a.active,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

super::page_type!(AgencyPage, Agency, "A page of agencies.");

/// A new agency. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyCreate {
    #[schema(value_type = OrganisationName, example = "Harbor House")]
    pub name: String,
    #[schema(value_type = ParticipationStatus)]
    pub participation_status: String,
    /// YYYY-MM-DD.
    #[schema(format = Date, example = "2026-07-01")]
    pub participation_date: Option<String>,
}

/// An agency's new state (every field is replaced). Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyUpdate {
    #[schema(value_type = OrganisationName)]
    pub name: String,
    #[schema(value_type = ParticipationStatus)]
    pub participation_status: String,
    /// YYYY-MM-DD; null or absent clears it.
    #[schema(format = Date, example = "2026-07-01")]
    pub participation_date: Option<String>,
    /// `false` deactivates the agency.
    pub active: bool,
}

/// Filters and paging of the agency list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    /// Words in the agency's name.
    pub q: Option<String>,
    /// Only agencies with this participation status.
    #[param(value_type = Option<ParticipationStatus>)]
    pub status: Option<String>,
    /// Only active (`true`) or inactive (`false`) agencies.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

/// List agencies
///
/// Lead staff see every agency; agency administrators and executive directors see their own.
#[utoipa::path(
    get,
    path = "/api/v1/agencies",
    tag = "agencies",
    operation_id = "list_agencies",
    security(("bearer" = [])),
    params(AgencyQuery),
    responses(
        (status = 200, description = "The agencies the token's holder may see", body = AgencyPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiQuery(q): ApiQuery<AgencyQuery>,
) -> ApiResult<ApiJson<AgencyPage>> {
    let f = AgencyFilter {
        search: super::non_empty(q.q),
        status: super::non_empty(q.status),
        active: q.active,
        ..Default::default()
    };
    let page =
        organisation::agencies(&state.app, &ctx, f, page_request(q.page, q.per_page)).await?;
    Ok(ApiJson(AgencyPage::from_page(page)))
}

/// Get an agency
#[utoipa::path(
    get,
    path = "/api/v1/agencies/{id}",
    tag = "agencies",
    operation_id = "get_agency",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The agency's id")),
    responses(
        (status = 200, description = "The agency", body = Agency),
        (status = 400, response = problem::BadRequest),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
        (status = 404, response = problem::NotFound),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ApiJson<Agency>> {
    Ok(ApiJson(
        organisation::agency(&state.app, &ctx, id).await?.into(),
    ))
}

/// Create an agency
///
/// Lead admins only.
#[utoipa::path(
    post,
    path = "/api/v1/agencies",
    tag = "agencies",
    operation_id = "create_agency",
    security(("bearer" = [])),
    request_body = AgencyCreate,
    responses(
        (status = 201, description = "Created", body = Agency, headers(("Location" = String, description = "The new agency's URL"))),
        (status = 400, response = problem::BadRequest),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
        (status = 409, response = problem::Conflict),
        (status = 415, response = problem::UnsupportedMediaType),
        (status = 422, response = problem::Unprocessable),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiJson(body): ApiJson<AgencyCreate>,
) -> ApiResult<Created<Agency>> {
    let input = AgencyInput {
        name: body.name,
        participation_status: body.participation_status,
        participation_date: body.participation_date.unwrap_or_default(),
        active: true,
    };
    let id = organisation::agency_create(&state.app, &ctx, &input).await?;
    let agency = organisation::agency(&state.app, &ctx, id).await?;
    Ok(created(format!("/api/v1/agencies/{id}"), agency.into()))
}

/// Replace an agency
///
/// Lead admins only. Setting `active` to false deactivates the agency.
#[utoipa::path(
    put,
    path = "/api/v1/agencies/{id}",
    tag = "agencies",
    operation_id = "update_agency",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The agency's id")),
    request_body = AgencyUpdate,
    responses(
        (status = 200, description = "The agency as saved", body = Agency),
        (status = 400, response = problem::BadRequest),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
        (status = 404, response = problem::NotFound),
        (status = 409, response = problem::Conflict),
        (status = 415, response = problem::UnsupportedMediaType),
        (status = 422, response = problem::Unprocessable),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AgencyUpdate>,
) -> ApiResult<ApiJson<Agency>> {
    let input = AgencyInput {
        name: body.name,
        participation_status: body.participation_status,
        participation_date: body.participation_date.unwrap_or_default(),
        active: body.active,
    };
    organisation::agency_update(&state.app, &ctx, id, &input).await?;
    Ok(ApiJson(
        organisation::agency(&state.app, &ctx, id).await?.into(),
    ))
}
