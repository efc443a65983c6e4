//! Extractors of the API: the bearer-token actor, and JSON body, query and path extractors
//! whose failures are problem+json rather than axum's plain text.

use super::problem::ApiError;
use crate::session::SourceAddr;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use onramp_app::auth;
use onramp_app::{AppError, Ctx};
use serde::de::DeserializeOwned;
use serde::Serialize;

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

/// A JSON body; a body that is not JSON, or not of the expected shape, is a problem+json.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Query parameters; unreadable ones are a problem+json.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// Path parameters; unreadable ones (`/agencies/abc`) are a problem+json.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}
