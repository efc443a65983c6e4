//! Form bodies with their CSRF token checked, and field errors for re-rendered forms.

use crate::error::WebError;
use crate::session::MaybeSession;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth::csrf_matches;
use onramp_app::AppError;
use onramp_domain::FieldError;
use serde::de::DeserializeOwned;

/// A urlencoded form whose `_csrf` field matched the session's token (or, with no
/// session, the pre-session cookie) and whose Origin, when sent, is this site.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        if let (Some(origin), Some(host)) = (
            parts.headers.get(header::ORIGIN),
            parts.headers.get(header::HOST),
        ) {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            if origin != "null" && origin_host != host {
                return Err(WebError::Csrf);
            }
        }
        let MaybeSession(session) = MaybeSession::from_request_parts(&mut parts, state).await?;
        let expected = match &session {
            Some(s) => Some(s.csrf_token.clone()),
            None => CookieJar::from_headers(&parts.headers)
                .get(state.pre_session_cookie_name())
                .map(|c| c.value().to_string()),
        };
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| WebError::BadRequest("The form could not be read".into()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::BadRequest("The form could not be read".into()))?;
        let submitted = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match expected {
            Some(e) if !e.is_empty() && csrf_matches(&e, submitted) => {}
            _ => return Err(WebError::Csrf),
        }
        let value = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}")))?;
        Ok(CsrfForm(value))
    }
}

/// Field errors of a form being shown again.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn from_app(e: AppError) -> Result<Self, AppError> {
        match e {
            AppError::Invalid(v) => Ok(Self(v)),
            other => Err(other),
        }
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn all(&self) -> &[FieldError] {
        &self.0
    }
}

/// Checkbox fields arrive only when ticked.
pub fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(matches!(v.as_deref(), Some("on" | "true" | "1" | "yes")))
}
