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

/// Whether the request's Origin, when sent, is this site.
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            origin == "null" || origin_host == host
        }
        _ => true,
    }
}

/// The first value of a field among a form's (name, value) pairs; empty when absent.
pub fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value of a repeated field among a form's (name, value) pairs, in order.
pub fn repeated(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// A file sent with an [`UploadForm`].
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub name: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A form that may carry files: `multipart/form-data` (or urlencoded, without files), with
/// its CSRF token and origin checked as for [`CsrfForm`]. The body is read within the
/// largest upload the settings allow, plus room for the form's other fields; a larger body
/// is refused whole.
#[derive(Debug, Clone, Default)]
pub struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

/// Room in an upload form's body for its other fields and the multipart framing.
pub const UPLOAD_FORM_OVERHEAD: usize = 1 << 20;

impl UploadForm {
    /// A text field's value (empty when absent).
    pub fn text(&self, name: &str) -> String {
        field(&self.fields, name)
    }
    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<String> {
        repeated(&self.fields, name)
    }
    /// The file chosen in a file field, if one was (an empty file input sends nothing).
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files
            .iter()
            .find(|f| f.name == name && !(f.filename.is_empty() && f.bytes.is_empty()))
    }
    /// The most bytes an upload form's body may hold with these limits.
    pub fn body_limit(limits: &onramp_domain::files::UploadLimits) -> usize {
        let largest = [limits.video, limits.pdf, limits.image, limits.captions]
            .into_iter()
            .max()
            .unwrap_or(0);
        usize::try_from(largest)
            .unwrap_or(usize::MAX)
            .saturating_add(UPLOAD_FORM_OVERHEAD)
    }
}

impl FromRequest<AppState> for UploadForm {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let Some(boundary) = crate::pages::processes::multipart_boundary(&content_type) else {
            // Read within the ordinary limit: without files, a form is small.
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
                .await
                .map_err(|_| WebError::TooLarge("The form is too large.".into()))?;
            let CsrfForm(fields) = CsrfForm::<Vec<(String, String)>>::from_request(
                Request::from_parts(parts, axum::body::Body::from(bytes)),
                state,
            )
            .await?;
            return Ok(UploadForm {
                fields,
                files: Vec::new(),
            });
        };
        let (mut parts, body) = req.into_parts();
        if !same_origin(&parts.headers) {
            return Err(WebError::Csrf);
        }
        let MaybeSession(session) = MaybeSession::from_request_parts(&mut parts, state).await?;
        let limit = Self::body_limit(&state.app.config.upload_limits);
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            WebError::TooLarge(format!(
                "The upload is larger than Onramp accepts (at most {} MB in one form). Choose a smaller file.",
                (limit - UPLOAD_FORM_OVERHEAD) >> 20
            ))
        })?;
        let parts = crate::pages::processes::parse_multipart(&bytes, &boundary)
            .ok_or_else(|| WebError::BadRequest("The form could not be read".into()))?;
        let mut form = UploadForm::default();
        for p in parts {
            match p.filename {
                Some(filename) => form.files.push(UploadedFile {
                    name: p.name,
                    filename,
                    bytes: p.data,
                }),
                None => form
                    .fields
                    .push((p.name, String::from_utf8_lossy(&p.data).into_owned())),
            }
        }
        let submitted = form.text("_csrf");
        match session {
            Some(s) if !s.csrf_token.is_empty() && csrf_matches(&s.csrf_token, &submitted) => {}
            _ => return Err(WebError::Csrf),
        }
        Ok(form)
    }
}
