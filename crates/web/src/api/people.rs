//! `/api/v1/people`: the people of the implementation.

use super::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use super::problem::{self, ApiResult};
use super::roles::{AgencyRoleGrant, ImplementationRoleName};
use super::values::{EmailAddress, HeldRoleName, PersonName};
use super::{created, page_request, Created};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use onramp_app::people::{self, PersonInput};
use onramp_store::people::PeopleFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A person, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// The agency the person works for; none for Lead staff.
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<onramp_store::Person> for Person {
    fn from(p: onramp_store::Person) -> Self {
        Self {
            id: p.id,
            given_name: p.given_name,
            family_name: p.family_name,
            email: p.email,
            agency_id: p.agency_id,
            agency_name: p.agency_name,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

super::page_type!(PersonPage, Person, "A page of people.");

/// A person with their roles and account state.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDetail {
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub implementation_roles: Vec<ImplementationRoleName>,
    pub agency_roles: Vec<AgencyRoleGrant>,
    /// Whether the person has set a password (an invited person has not yet).
    pub has_password: bool,
    pub mfa_enabled: bool,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl From<people::PersonDetail> for PersonDetail {
    fn from(d: people::PersonDetail) -> Self {
        let p = d.person;
        Self {
            id: p.id,
            given_name: p.given_name,
            family_name: p.family_name,
            email: p.email,
            agency_id: p.agency_id,
            agency_name: p.agency_name,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
            implementation_roles: d.implementation_roles.into_iter().map(Into::into).collect(),
            agency_roles: d
                .agency_roles
                .into_iter()
                .map(|(agency_id, role)| AgencyRoleGrant {
                    agency_id,
                    role: role.into(),
                })
                .collect(),
            has_password: d.has_password,
            mfa_enabled: d.mfa_enabled,
            last_sign_in_at: d.last_sign_in_at,
        }
    }
}

/// A new person. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonCreate {
    #[schema(value_type = PersonName, example = "Sam")]
    pub given_name: String,
    #[schema(value_type = PersonName, example = "Ortiz")]
    pub family_name: String,
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// The agency the person works for; null or absent for Lead staff (409 when it names no
    /// agency of this implementation).
    #[schema(minimum = 1)]
    pub agency_id: Option<i64>,
    /// Create their account and email them an invitation to set a password.
    #[serde(default)]
    pub invite: bool,
}

/// A person's new state (every field is replaced). Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    #[schema(value_type = PersonName)]
    pub given_name: String,
    #[schema(value_type = PersonName)]
    pub family_name: String,
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// The agency the person works for; null or absent for Lead staff (409 when it names no
    /// agency of this implementation).
    #[schema(minimum = 1)]
    pub agency_id: Option<i64>,
    /// `false` deactivates the person and signs them out everywhere.
    pub active: bool,
}

/// Filters and paging of the people list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Words in the person's name or email.
    pub q: Option<String>,
    /// Only people of this agency.
    pub agency_id: Option<i64>,
    /// Only active (`true`) or inactive (`false`) people.
    pub active: Option<bool>,
    /// Only holders of this implementation or agency role (e.g. `auditor`, `agency_administrator`).
    #[param(value_type = Option<HeldRoleName>)]
    pub role: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<i64>,
}

fn input(
    given_name: String,
    family_name: String,
    email: String,
    agency_id: Option<i64>,
    active: bool,
) -> PersonInput {
    PersonInput {
        given_name,
        family_name,
        email,
        agency_id: agency_id.map(|a| a.to_string()).unwrap_or_default(),
        active,
    }
}

/// List people
///
/// Lead staff see everyone; agency administrators and executive directors see their agencies' staff.
#[utoipa::path(
    get,
    path = "/api/v1/people",
    tag = "people",
    operation_id = "list_people",
    security(("bearer" = [])),
    params(PeopleQuery),
    responses(
        (status = 200, description = "The people the token's holder may see", body = PersonPage),
        (status = 400, response = problem::BadRequest),
        (status = 422, response = problem::Unprocessable),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Forbidden),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiActor { ctx }: ApiActor,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> ApiResult<ApiJson<PersonPage>> {
    let f = PeopleFilter {
        search: super::non_empty(q.q),
        agency_id: q.agency_id,
        active: q.active,
        role: super::non_empty(q.role),
        ..Default::default()
    };
    let page = people::list(&state.app, &ctx, f, page_request(q.page, q.per_page)).await?;
    Ok(ApiJson(PersonPage::from_page(page)))
}

/// Get a person
///
/// Anyone may read their own record; Lead staff anyone's; agency administrators and executive
/// directors their agencies' staff.
#[utoipa::path(
    get,
    path = "/api/v1/people/{id}",
    tag = "people",
    operation_id = "get_person",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The person's id")),
    responses(
        (status = 200, description = "The person", body = PersonDetail),
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
) -> ApiResult<ApiJson<PersonDetail>> {
    Ok(ApiJson(people::get(&state.app, &ctx, id).await?.into()))
}

/// Add a person
///
/// Lead admins and training coordinators add anyone; agency administrators add staff of their
/// agencies. With `invite`, the person's account is created and an invitation emailed.
#[utoipa::path(
    post,
    path = "/api/v1/people",
    tag = "people",
    operation_id = "create_person",
    security(("bearer" = [])),
    request_body = PersonCreate,
    responses(
        (status = 201, description = "Created", body = PersonDetail, headers(("Location" = String, description = "The new person's URL"))),
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
    ApiJson(body): ApiJson<PersonCreate>,
) -> ApiResult<Created<PersonDetail>> {
    let id = people::create(
        &state.app,
        &ctx,
        &input(
            body.given_name,
            body.family_name,
            body.email,
            body.agency_id,
            true,
        ),
        body.invite,
    )
    .await?;
    let person = people::get(&state.app, &ctx, id).await?;
    Ok(created(format!("/api/v1/people/{id}"), person.into()))
}

/// Replace a person
///
/// Both the agency the person leaves and the one they join must be the token holder's to manage.
#[utoipa::path(
    put,
    path = "/api/v1/people/{id}",
    tag = "people",
    operation_id = "update_person",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The person's id")),
    request_body = PersonUpdate,
    responses(
        (status = 200, description = "The person as saved", body = PersonDetail),
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
    ApiJson(body): ApiJson<PersonUpdate>,
) -> ApiResult<ApiJson<PersonDetail>> {
    people::update(
        &state.app,
        &ctx,
        id,
        &input(
            body.given_name,
            body.family_name,
            body.email,
            body.agency_id,
            body.active,
        ),
    )
    .await?;
    Ok(ApiJson(people::get(&state.app, &ctx, id).await?.into()))
}
