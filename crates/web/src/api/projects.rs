//! `/api/v1/projects`: agencies' HUD projects.

use super::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use super::problem::{self, ApiResult};
use super::values::{HudProjectTypeCode, OrganisationName};
use super::{created, page_request, Created};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use onramp_app::organisation::{self, ProjectInput};
use onramp_domain::HudProjectType;
use onramp_store::organisation::ProjectFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An agency's HUD project.
#[derive(Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: i64,
    pub agency_id: i64,
    pub agency_name: String,
    pub name: String,
    #[schema(value_type = HudProjectTypeCode)]
    pub hud_project_type: i32,
    /// HUD's name of the project type.
    #[schema(example = "PH \u{2013} Rapid Re-Housing")]
    pub hud_project_type_label: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<onramp_store::Project> for Project {
    fn from(p: onramp_store::Project) -> Self {
        Self {
            id: p.id,
            agency_id: p.agency_id,
            agency_name: p.agency_name,
            name: p.name,
            hud_project_type: p.hud_project_type,
            hud_project_type_label: HudProjectType::from_code(p.hud_project_type)
                .map(|t| t.label().to_string()),
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

super::page_type!(ProjectPage, Project, "A page of projects.");

/// A new project. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreate {
    /// The agency that runs the project (409 when it names no agency of this implementation).
    #[schema(minimum = 1)]
    pub agency_id: i64,
    #[schema(value_type = OrganisationName, example = "Harbor House Rapid Re-Housing")]
    pub name: String,
    #[schema(value_type = HudProjectTypeCode)]
    pub hud_project_type: i32,
}

/// A project's new state (every field is replaced). Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdate {
    /// The agency that runs the project (409 when it names no agency of this implementation).
    #[schema(minimum = 1)]
    pub agency_id: i64,
    #[schema(value_type = OrganisationName)]
    pub name: String,
    #[schema(value_type = HudProjectTypeCode)]
    pub hud_project_type: i32,
    /// `false` deactivates the project.
    pub active: bool,
}

/// Filters and paging of the project list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Words in the project's name.
    pub q: Option<String>,
    /// Only projects of this agency.
    pub agency_id: Option<i64>,
    /// Only projects of this HUD project type.
    #[param(value_type = Option<HudProjectTypeCode>)]
    pub hud_project_type: Option<i32>,
    /// Only active (`true`) or inactive (`false`) projects.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

fn input(agency_id: i64, name: String, hud_project_type: i32, active: bool) -> ProjectInput {
    ProjectInput {
        agency_id: agency_id.to_string(),
        name,
        hud_project_type: hud_project_type.to_string(),
        active,
    }
}

/// List projects
///
/// Lead staff see every project; agency administrators and executive directors see their agencies'.
#[utoipa::path(
    get,
    path = "/api/v1/projects",
    tag = "projects",
    operation_id = "list_projects",
    security(("bearer" = [])),
    params(ProjectQuery),
    responses(
        (status = 200, description = "The projects the token's holder may see", body = ProjectPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiQuery(q): ApiQuery<ProjectQuery>,
) -> ApiResult<ApiJson<ProjectPage>> {
    let f = ProjectFilter {
        search: super::non_empty(q.q),
        agency_id: q.agency_id,
        project_type: q.hud_project_type,
        active: q.active,
        ..Default::default()
    };
    let page =
        organisation::projects(&state.app, &ctx, f, page_request(q.page, q.per_page)).await?;
    Ok(ApiJson(ProjectPage::from_page(page)))
}

/// Get a project
#[utoipa::path(
    get,
    path = "/api/v1/projects/{id}",
    tag = "projects",
    operation_id = "get_project",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The project's id")),
    responses(
        (status = 200, description = "The project", body = Project),
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
) -> ApiResult<ApiJson<Project>> {
    Ok(ApiJson(
        organisation::project(&state.app, &ctx, id).await?.into(),
    ))
}

/// Create a project
///
/// Lead admins only.
#[utoipa::path(
    post,
    path = "/api/v1/projects",
    tag = "projects",
    operation_id = "create_project",
    security(("bearer" = [])),
    request_body = ProjectCreate,
    responses(
        (status = 201, description = "Created", body = Project, headers(("Location" = String, description = "The new project's URL"))),
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
    ApiJson(body): ApiJson<ProjectCreate>,
) -> ApiResult<Created<Project>> {
    let id = organisation::project_create(
        &state.app,
        &ctx,
        &input(body.agency_id, body.name, body.hud_project_type, true),
    )
    .await?;
    let project = organisation::project(&state.app, &ctx, id).await?;
    Ok(created(format!("/api/v1/projects/{id}"), project.into()))
}

/// Replace a project
///
/// Lead admins only. Setting `active` to false deactivates the project.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{id}",
    tag = "projects",
    operation_id = "update_project",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The project's id")),
    request_body = ProjectUpdate,
    responses(
        (status = 200, description = "The project as saved", body = Project),
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
    ApiJson(body): ApiJson<ProjectUpdate>,
) -> ApiResult<ApiJson<Project>> {
    organisation::project_update(
        &state.app,
        &ctx,
        id,
        &input(
            body.agency_id,
            body.name,
            body.hud_project_type,
            body.active,
        ),
    )
    .await?;
    Ok(ApiJson(
        organisation::project(&state.app, &ctx, id).await?.into(),
    ))
}
