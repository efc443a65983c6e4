//! `/api/v1/access-levels` and `/api/v1/responsibilities`: the implementation's catalogues.

use super::extract::{ApiActor, ApiJson, ApiQuery};
use super::page_request;
use super::problem::{self, ApiResult};
use crate::AppState;
use axum::extract::State;
use onramp_app::organisation::{self, CatalogueKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An entry of a catalogue: an HMIS access level, or a responsibility.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueEntry {
    pub id: i64,
    /// A stable code, used in requirement rules.
    #[schema(example = "end_user")]
    pub code: String,
    #[schema(example = "End user / case manager")]
    pub name: String,
    pub description: String,
    pub active: bool,
}

impl From<onramp_store::CatalogueEntry> for CatalogueEntry {
    fn from(c: onramp_store::CatalogueEntry) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
            description: c.description,
            active: c.active,
        }
    }
}

super::page_type!(
    CatalogueEntryPage,
    CatalogueEntry,
    "A page of catalogue entries."
);

/// Filters and paging of a catalogue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Words in the entry's code or name.
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) entries.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

async fn catalogue(
    state: &AppState,
    actor: &ApiActor,
    kind: CatalogueKind,
    q: CatalogueQuery,
) -> ApiResult<ApiJson<CatalogueEntryPage>> {
    let search = super::non_empty(q.q);
    let page = organisation::catalogue(
        &state.app,
        &actor.ctx,
        kind,
        search.as_deref(),
        q.active,
        page_request(q.page, q.per_page),
    )
    .await?;
    Ok(ApiJson(CatalogueEntryPage::from_page(page)))
}

/// List access levels
///
/// The HMIS access levels a person may be given. Anyone signed in may read them.
#[utoipa::path(
    get,
    path = "/api/v1/access-levels",
    tag = "catalogues",
    operation_id = "list_access_levels",
    security(("bearer" = [])),
    params(CatalogueQuery),
    responses(
        (status = 200, description = "Access levels", body = CatalogueEntryPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
    )
)]
pub async fn access_levels(
    State(state): State<AppState>,
    actor: ApiActor,
    ApiQuery(q): ApiQuery<CatalogueQuery>,
) -> ApiResult<ApiJson<CatalogueEntryPage>> {
    catalogue(&state, &actor, CatalogueKind::AccessLevels, q).await
}

/// List responsibilities
///
/// What a person may do in the HMIS (enroll clients, assessments…). Anyone signed in may read them.
#[utoipa::path(
    get,
    path = "/api/v1/responsibilities",
    tag = "catalogues",
    operation_id = "list_responsibilities",
    security(("bearer" = [])),
    params(CatalogueQuery),
    responses(
        (status = 200, description = "Responsibilities", body = CatalogueEntryPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
    )
)]
pub async fn responsibilities(
    State(state): State<AppState>,
    actor: ApiActor,
    ApiQuery(q): ApiQuery<CatalogueQuery>,
) -> ApiResult<ApiJson<CatalogueEntryPage>> {
    catalogue(&state, &actor, CatalogueKind::Responsibilities, q).await
}
