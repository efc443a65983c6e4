//! `GET /api/v1/me`: who the token belongs to.

use super::extract::{ApiActor, ApiJson};
use super::problem::ApiResult;
use super::roles::{AgencyRoleGrant, ImplementationRoleName, RoleName};
use crate::AppState;
use axum::extract::State;
use onramp_app::people;
use serde::Serialize;
use utoipa::ToSchema;

/// The person an API token acts for, with their roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub person_id: i64,
    pub implementation_id: i64,
    /// Given and family name.
    pub name: String,
    pub email: String,
    /// The agency the person works for, if any.
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    /// The product roles the person holds (everyone is a trainee of their own records).
    pub roles: Vec<RoleName>,
    /// Roles across the implementation.
    pub implementation_roles: Vec<ImplementationRoleName>,
    /// Roles within agencies.
    pub agency_roles: Vec<AgencyRoleGrant>,
}

/// Who am I
///
/// The person the bearer token belongs to, with their roles.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    operation_id = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's holder", body = Me),
        (status = 401, response = super::problem::Unauthorized),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
) -> ApiResult<ApiJson<Me>> {
    let detail = people::get(&state.app, &ctx, ctx.actor.person_id).await?;
    let a = &ctx.actor;
    Ok(ApiJson(Me {
        person_id: a.person_id,
        implementation_id: a.implementation_id,
        name: a.display_name.clone(),
        email: detail.person.email,
        agency_id: detail.person.agency_id,
        agency_name: detail.person.agency_name,
        roles: a.roles().into_iter().map(RoleName::from).collect(),
        implementation_roles: a
            .implementation_roles
            .iter()
            .copied()
            .map(ImplementationRoleName::from)
            .collect(),
        agency_roles: a
            .agency_roles
            .iter()
            .map(|(agency_id, role)| AgencyRoleGrant {
                agency_id: *agency_id,
                role: (*role).into(),
            })
            .collect(),
    }))
}
