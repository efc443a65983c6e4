//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document at `/api/openapi.json`.
//!
//! Clients authenticate with `Authorization: Bearer <token>` (tokens are created on the
//! account page); cookies are not accepted, so no CSRF token is needed. Errors are RFC 9457
//! problem details ([`problem`]). Handlers call the same services as the pages, which check
//! every permission. The OpenAPI document is generated from the handlers' annotations and
//! the types below, so it cannot drift from the code.

/// Declares a page of `$item`s, as list endpoints return it.
macro_rules! page_type {
    ($name:ident, $item:ident, $doc:literal) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[schema(description = $doc)]
        pub struct $name {
            pub items: Vec<$item>,
            /// How many items match, over all pages.
            pub total: i64,
            /// This page's number, from 1.
            pub page: i64,
            pub per_page: i64,
        }

        impl $name {
            pub fn from_page<T: Into<$item>>(p: onramp_store::Page<T>) -> Self {
                Self {
                    items: p.items.into_iter().map(Into::into).collect(),
                    total: p.total,
                    page: p.page,
                    per_page: p.per_page,
                }
            }
        }
    };
}
pub(crate) use page_type;

pub mod agencies;
pub mod audit;
pub mod catalogues;
pub mod contract;
pub mod extract;
pub mod me;
pub mod people;
pub mod problem;
pub mod projects;
pub mod requests;
pub mod roles;
pub mod values;

pub use extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
pub use problem::{ApiError, ApiResult, FieldProblem, Problem};

use crate::Route;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use onramp_app::AppError;
use onramp_store::PageRequest;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Items per page when the client does not say.
pub const DEFAULT_PER_PAGE: i64 = 50;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/openapi.json", get(openapi_json)),
        Route::get("/api/v1/me", get(me::me)),
        Route::get("/api/v1/agencies", get(agencies::list)),
        Route::post("/api/v1/agencies", post(agencies::create)),
        Route::get("/api/v1/agencies/{id}", get(agencies::show)),
        Route::new(Method::PUT, "/api/v1/agencies/{id}", put(agencies::update)),
        Route::get("/api/v1/projects", get(projects::list)),
        Route::post("/api/v1/projects", post(projects::create)),
        Route::get("/api/v1/projects/{id}", get(projects::show)),
        Route::new(Method::PUT, "/api/v1/projects/{id}", put(projects::update)),
        Route::get("/api/v1/people", get(people::list)),
        Route::post("/api/v1/people", post(people::create)),
        Route::get("/api/v1/people/{id}", get(people::show)),
        Route::new(Method::PUT, "/api/v1/people/{id}", put(people::update)),
        Route::get("/api/v1/access-levels", get(catalogues::access_levels)),
        Route::get(
            "/api/v1/responsibilities",
            get(catalogues::responsibilities),
        ),
        Route::get("/api/v1/audit", get(audit::list)),
        Route::get("/api/v1/requests", get(requests::list)),
        Route::post("/api/v1/requests", post(requests::submit)),
        Route::get("/api/v1/requests/{id}", get(requests::show)),
    ]
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Onramp API",
        version = "1",
        description = "Onramp's JSON API: the same services as the web pages, with the same permissions.\n\n\
            Authenticate with `Authorization: Bearer <token>`; create a token on your account page \
            (or with `onramp admin create-api-token`). Every operation but this document needs one.\n\n\
            Errors are RFC 9457 problem details (`application/problem+json`), with `errors` naming \
            each field or parameter at fault:\n\n\
            - **400**: the request cannot be read: malformed JSON, a query parameter or URL id of \
            the wrong type, a query parameter given twice.\n\
            - **422**: the body or a query parameter breaks a rule this document states (required, \
            type, enum, length, range, pattern, format). Bodies refuse unknown fields \
            (`additionalProperties: false`); unknown query parameters are ignored.\n\
            - **409**: the request meets this document but conflicts with what is stored (a name or \
            email already taken, an id or code that names nothing usable in this implementation).\n\
            - **404**: the URL names nothing, or nothing the token's holder may know of.\n\
            - **401** / **403**: no valid token / the holder's roles do not allow it.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    paths(
        me::me,
        agencies::list,
        agencies::create,
        agencies::show,
        agencies::update,
        projects::list,
        projects::create,
        projects::show,
        projects::update,
        people::list,
        people::create,
        people::show,
        people::update,
        catalogues::access_levels,
        catalogues::responsibilities,
        audit::list,
        requests::list,
        requests::show,
        requests::submit,
    ),
    components(
        schemas(
            Problem,
            FieldProblem,
            me::Me,
            roles::RoleName,
            roles::ImplementationRoleName,
            roles::AgencyRoleName,
            roles::AgencyRoleGrant,
            roles::ParticipationStatus,
            agencies::Agency,
            agencies::AgencyPage,
            agencies::AgencyCreate,
            agencies::AgencyUpdate,
            projects::Project,
            projects::ProjectPage,
            projects::ProjectCreate,
            projects::ProjectUpdate,
            people::Person,
            people::PersonDetail,
            people::PersonPage,
            people::PersonCreate,
            people::PersonUpdate,
            catalogues::CatalogueEntry,
            catalogues::CatalogueEntryPage,
            audit::AuditEvent,
            audit::AuditEventPage,
            requests::RequestSummary,
            requests::RequestPage,
            requests::RequestStep,
            requests::RequestDetail,
            requests::RequestCreate,
            values::PersonName,
            values::OrganisationName,
            values::EmailAddress,
            values::RequestNote,
            values::CatalogueCode,
            values::RecordId,
            values::HudProjectTypeCode,
            values::RequestStatusName,
            values::StepStatusName,
            values::StepKindName,
            values::HeldRoleName,
        ),
        responses(
            problem::BadRequest,
            problem::Unauthorized,
            problem::Forbidden,
            problem::NotFound,
            problem::Conflict,
            problem::UnsupportedMediaType,
            problem::Unprocessable,
            problem::TooManyRequests,
            problem::InternalError,
        )
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "me", description = "The token's holder"),
        (name = "agencies", description = "Participating agencies"),
        (name = "projects", description = "Agencies' HUD projects"),
        (name = "people", description = "People, their roles and accounts"),
        (name = "catalogues", description = "Access levels and responsibilities"),
        (name = "audit", description = "The audit trail"),
        (name = "requests", description = "Access requests and their steps"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer-token security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token created on the account page, sent as `Authorization: Bearer <token>`."))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI document as served. utoipa writes a response link's keys in snake case, so
/// the link from a submitted request to its detail (`GET /api/v1/requests/{id}`), which
/// lets a client or a stateful contract test follow the id it was given, is added here.
pub fn openapi_document() -> Result<serde_json::Value, serde_json::Error> {
    let mut doc = serde_json::to_value(openapi())?;
    if let Some(response) = doc
        .pointer_mut("/paths/~1api~1v1~1requests/post/responses/201")
        .and_then(|r| r.as_object_mut())
    {
        response.insert(
            "links".into(),
            serde_json::json!({
                "GetRequest": {
                    "operationId": "get_request",
                    "parameters": {"id": "$response.body#/id"},
                    "description": "The request just submitted, with its steps"
                }
            }),
        );
    }
    Ok(doc)
}

/// `GET /api/openapi.json`: public, so clients can be generated before holding a token.
async fn openapi_json() -> Response {
    match openapi_document().and_then(|doc| serde_json::to_string_pretty(&doc)) {
        Ok(json) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json,
        )
            .into_response(),
        Err(e) => {
            ApiError::App(AppError::Internal(format!("OpenAPI document: {e}"))).into_response()
        }
    }
}

/// A 201 response with the new resource's URL in `Location` and the resource as the body.
#[derive(Debug)]
pub struct Created<T> {
    pub location: String,
    pub body: T,
}

pub fn created<T>(location: String, body: T) -> Created<T> {
    Created { location, body }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        match HeaderValue::try_from(self.location) {
            Ok(location) => (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                ApiJson(self.body),
            )
                .into_response(),
            Err(e) => {
                ApiError::App(AppError::Internal(format!("Location header: {e}"))).into_response()
            }
        }
    }
}

/// The page asked for, with defaults (page 1, [`DEFAULT_PER_PAGE`] items) and limits.
pub fn page_request(page: Option<i64>, per_page: Option<i64>) -> PageRequest {
    PageRequest::new(page.unwrap_or(1), per_page.unwrap_or(DEFAULT_PER_PAGE))
}

/// A trimmed text parameter; empty means not given.
pub fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}
