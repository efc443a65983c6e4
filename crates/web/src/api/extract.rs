//! Extractors of the API: the bearer-token actor, and JSON body, query and path extractors
//! whose failures are problem+json rather than axum's plain text. The body and query
//! extractors hold every request to the published contract first ([`super::contract`]).

use super::contract::{self, QueryProblem};
use super::problem::ApiError;
use crate::session::SourceAddr;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use onramp_app::auth;
use onramp_app::{AppError, Ctx};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};

/// Tokens are 47 characters; anything much longer is not one of ours.
const MAX_TOKEN_LEN: usize = 512;

/// The person behind the request's bearer token. Cookies are not accepted, so API requests
/// cannot be forged by another site and need no CSRF token.
#[derive(Debug, Clone)]
pub struct ApiActor {
    pub ctx: Ctx,
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::MissingToken)?;
    let value = value.to_str().map_err(|_| ApiError::BadToken)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::BadToken)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::BadToken);
    }
    Ok(token)
}

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        let actor = match auth::api_actor(&state.app, token).await {
            Ok(a) => a,
            Err(AppError::Unauthenticated | AppError::NotFound) => return Err(ApiError::BadToken),
            Err(e) => return Err(e.into()),
        };
        let Ok(SourceAddr(source)) = SourceAddr::from_request_parts(parts, state).await;
        Ok(ApiActor {
            ctx: Ctx::new(actor, source),
        })
    }
}

/// A JSON body, checked against the schema the OpenAPI document publishes for `T` (422 with
/// every broken field otherwise); a body that is not JSON is a 400 or 415 problem+json.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + ToSchema,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(mut value) = Json::<Value>::from_request(req, state).await?;
        let name = T::name();
        let Some(schema) = contract::component(&name) else {
            return Err(ApiError::App(AppError::Internal(format!(
                "the API document has no schema {name}"
            ))));
        };
        let mut errors = Vec::new();
        contract::check(schema, &mut value, "", &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Unreadable {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: "Some fields need fixing: see `errors`.".into(),
                errors,
            });
        }
        match serde_json::from_value::<T>(value) {
            Ok(v) => Ok(ApiJson(v)),
            // The schema allowed it, so this is a gap in the document: still the client's
            // input, still named.
            Err(e) => Err(ApiError::Unreadable {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: format!("The JSON body does not have the expected shape: {e}"),
                errors: vec![onramp_domain::FieldError::new("body", e.to_string())],
            }),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Query parameters, checked against the parameters the OpenAPI document publishes for `T`:
/// a value of the wrong type (`page=first`) is a 400, a value out of range or not among the
/// listed ones (`per_page=0`, `status=AAA`) a 422, each naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + IntoParams,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let params = T::into_params(|| Some(ParameterIn::Query));
        let query = match contract::check_query(&params, parts.uri.query().unwrap_or_default()) {
            Ok(normalised) => normalised,
            Err(QueryProblem::Unreadable(errors)) => {
                return Err(ApiError::Unreadable {
                    status: StatusCode::BAD_REQUEST,
                    detail: "The query string could not be read: see `errors`.".into(),
                    errors,
                })
            }
            Err(QueryProblem::Invalid(errors)) => {
                return Err(ApiError::Unreadable {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    detail: "Some query parameters need fixing: see `errors`.".into(),
                    errors,
                })
            }
        };
        match serde_urlencoded::from_str::<T>(&query) {
            Ok(value) => Ok(ApiQuery(value)),
            Err(e) => Err(ApiError::Unreadable {
                status: StatusCode::BAD_REQUEST,
                detail: format!("The query string could not be read: {e}"),
                errors: vec![],
            }),
        }
    }
}

/// A path parameter; an unreadable one (`/agencies/abc`) is a problem+json.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

/// A value a single path parameter stands for.
pub trait PathParam: Sized {
    /// The value of the text, or what was expected.
    fn from_path_text(raw: &str) -> Result<Self, &'static str>;
}

impl PathParam for i64 {
    /// A whole number; an integral decimal (`/agencies/1.0`) is the integer JSON Schema
    /// takes it for.
    fn from_path_text(raw: &str) -> Result<Self, &'static str> {
        contract::integer_text(raw).ok_or("expected a whole number")
    }
}

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: PathParam + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        match T::from_path_text(&raw) {
            Ok(value) => Ok(ApiPath(value)),
            Err(expected) => Err(ApiError::Unreadable {
                status: StatusCode::BAD_REQUEST,
                detail: format!("The URL could not be read: {expected}, not `{raw}`."),
                errors: vec![],
            }),
        }
    }
}
