//! API errors as RFC 9457 problem details (`application/problem+json`).
//!
//! Every failure of an API request, including a body, query or path that cannot be read,
//! becomes a [`Problem`]. Internal details are logged and never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use onramp_app::AppError;
use onramp_domain::FieldError;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `WWW-Authenticate` challenge sent with every 401.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"onramp\"";
const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"onramp\", error=\"invalid_token\"";

/// A problem detail (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:onramp:problem:invalid-input",
    "title": "Invalid input",
    "status": 422,
    "detail": "Some fields need fixing: see `errors`.",
    "errors": [{"field": "name", "message": "Enter the agency's name"}]
}))]
pub struct Problem {
    /// A URI identifying the kind of problem (`urn:onramp:problem:…`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened in this case, in words meant for the person using the client.
    pub detail: String,
    /// For invalid input: one entry per field that needs fixing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}

/// A problem with one input field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name (a JSON path for nested fields).
    pub field: String,
    pub message: String,
}

/// Why an API request failed.
#[derive(Debug)]
pub enum ApiError {
    /// A service refused or failed.
    App(AppError),
    /// No `Authorization: Bearer …` header.
    MissingToken,
    /// A bearer token that is unknown, revoked, expired, or whose person is deactivated.
    BadToken,
    /// The body, query string or path could not be read.
    Unreadable {
        status: StatusCode,
        detail: String,
        errors: Vec<FieldError>,
    },
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let text = r.body_text();
        match r {
            JsonRejection::JsonDataError(_) => {
                let (field, message) = split_serde_message(&text);
                ApiError::Unreadable {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    detail: format!("The JSON body does not have the expected shape: {message}"),
                    errors: vec![FieldError::new(
                        field.unwrap_or_else(|| "body".into()),
                        message,
                    )],
                }
            }
            JsonRejection::JsonSyntaxError(_) => ApiError::Unreadable {
                status: StatusCode::BAD_REQUEST,
                detail: format!(
                    "The body is not valid JSON: {}",
                    split_serde_message(&text).1
                ),
                errors: vec![],
            },
            JsonRejection::MissingJsonContentType(_) => ApiError::Unreadable {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail: "Send the body as JSON, with `Content-Type: application/json`.".into(),
                errors: vec![],
            },
            _ => ApiError::Unreadable {
                status: if status.is_server_error() {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                },
                detail: "The request body could not be read.".into(),
                errors: vec![],
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let (field, message) = split_serde_message(&r.body_text());
        ApiError::Unreadable {
            status: StatusCode::BAD_REQUEST,
            detail: format!("The query string could not be read: {message}"),
            errors: field
                .map(|f| vec![FieldError::new(f, message)])
                .unwrap_or_default(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        match r {
            PathRejection::FailedToDeserializePathParams(e) => ApiError::Unreadable {
                status: StatusCode::BAD_REQUEST,
                detail: format!(
                    "The URL could not be read: {}",
                    split_serde_message(&e.body_text()).1
                ),
                errors: vec![],
            },
            other => ApiError::App(AppError::Internal(other.body_text())),
        }
    }
}

/// Splits axum's rejection text (`<what failed>: [<path>: ]<serde message> at line L column C`)
/// into the field it names, if any, and the message.
fn split_serde_message(text: &str) -> (Option<String>, String) {
    // axum's own prefix ("Failed to deserialize …") never contains ": ".
    let rest = text.split_once(": ").map(|(_, r)| r).unwrap_or(text);
    let rest = strip_position(rest);
    let (path, message) = match rest.split_once(": ") {
        Some((p, m)) if !p.is_empty() && !p.contains(char::is_whitespace) => {
            (Some(p.to_string()), m.to_string())
        }
        _ => (None, rest.to_string()),
    };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split_once('`'))
        .map(|(f, _)| f.to_string());
    let field = match (path, missing) {
        (Some(p), Some(m)) => Some(format!("{p}.{m}")),
        (None, Some(m)) => Some(m),
        (p, None) => p,
    };
    (field, message)
}

/// Drops serde_json's " at line 1 column 9" suffix.
fn strip_position(s: &str) -> &str {
    match s.rfind(" at line ") {
        Some(i)
            if s[i + " at line ".len()..]
                .split(" column ")
                .all(|n| n.chars().all(|c| c.is_ascii_digit())) =>
        {
            &s[..i]
        }
        _ => s,
    }
}

impl ApiError {
    /// The problem this error is shown as, and the `WWW-Authenticate` challenge for 401s.
    pub fn problem(self) -> (Problem, Option<&'static str>) {
        let p = |status: StatusCode, kind: &str, title: &str, detail: String| Problem {
            kind: format!("urn:onramp:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors: None,
        };
        match self {
            ApiError::MissingToken => (
                p(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required", "Send an API token as `Authorization: Bearer <token>`. Create one on your account page.".into()),
                Some(BEARER_CHALLENGE),
            ),
            ApiError::BadToken => (
                p(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required", "The API token is not valid: it is unknown, revoked or expired, or its holder is deactivated.".into()),
                Some(INVALID_TOKEN_CHALLENGE),
            ),
            ApiError::App(AppError::Unauthenticated) => (
                p(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required", "Sign-in is required for this request.".into()),
                Some(BEARER_CHALLENGE),
            ),
            ApiError::App(AppError::Forbidden) => (
                p(StatusCode::FORBIDDEN, "forbidden", "Not allowed", "Your roles do not allow this. If you need it, ask your HMIS Lead.".into()),
                None,
            ),
            ApiError::App(AppError::NotFound) => (p(StatusCode::NOT_FOUND, "not-found", "Not found", "There is no such resource.".into()), None),
            // Every body and query string has already met the published contract
            // (`contract`), so what a service still refuses is a conflict with what is
            // stored: a name already taken, an id naming nothing usable.
            ApiError::App(AppError::Invalid(errors)) => {
                let mut problem = p(StatusCode::CONFLICT, "conflict", "Conflict", "The request is well-formed but conflicts with what is stored: see `errors`.".into());
                problem.errors = Some(errors.into_iter().map(|e| FieldProblem { field: e.field, message: e.message }).collect());
                (problem, None)
            }
            ApiError::App(AppError::Conflict(message)) => (p(StatusCode::CONFLICT, "conflict", "Conflict", message), None),
            ApiError::App(AppError::RateLimited) => (
                p(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", "Too many attempts: wait a few minutes and try again.".into()),
                None,
            ),
            ApiError::App(AppError::Internal(e)) => {
                tracing::error!(error = %e, "API request failed");
                (
                    p(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "Something went wrong on the server. The problem has been logged; try again later.".into()),
                    None,
                )
            }
            ApiError::Unreadable { status, detail, errors } => {
                let (kind, title) = match status {
                    StatusCode::UNPROCESSABLE_ENTITY => ("invalid-input", "Invalid input"),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
                    StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Payload too large"),
                    _ => ("malformed-request", "Malformed request"),
                };
                let mut problem = p(status, kind, title, detail);
                if !errors.is_empty() || status == StatusCode::UNPROCESSABLE_ENTITY {
                    problem.errors = Some(errors.into_iter().map(|e| FieldProblem { field: e.field, message: e.message }).collect());
                }
                (problem, None)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (problem, challenge) = self.problem();
        problem_response(&problem, challenge)
    }
}

/// Renders a problem with its content type (and challenge, for 401s).
pub fn problem_response(problem: &Problem, challenge: Option<&'static str>) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(c) = challenge {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    res
}

// ---------------------------------------------------------------- reusable responses (OpenAPI)

/// The body, query string or URL could not be read: malformed JSON, a query parameter or
/// an id in the URL of the wrong type, or a query parameter given twice. `errors` names the
/// parameters.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No valid API token: send `Authorization: Bearer <token>`.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"onramp\"`, with `error=\"invalid_token\"` when a token was sent but is not valid"))
)]
pub struct Unauthorized(pub Problem);

/// The token's holder is not allowed to do this, or the resource is outside their scope.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// There is no such resource (the URL's id, or a person named by `confirm_person`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The request is well-formed but conflicts with what is stored: a name or email already
/// taken, an id in the body (`agency_id`, `project_ids`, …) or a code (`access_level`, …) that
/// names nothing usable in this implementation, an access request already in progress, a
/// change the holder may not make to their own record. `errors` names the fields, where the
/// conflict is with one.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// The body is not JSON (`Content-Type: application/json` is required).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub Problem);

/// The body or a query parameter breaks a rule this document states (a required field, a
/// type, an enum, a length, a range, a pattern, a format, an unknown field); `errors` lists
/// each field (a JSON path in the body, or the parameter's name) with its message.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// Too many attempts; try again in a few minutes.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct TooManyRequests(pub Problem);

/// Something went wrong on the server; no details are given.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(pub Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            split_serde_message("Failed to deserialize the JSON body into the target type: hud_project_type: invalid type: string \"x\", expected i32 at line 1 column 30"),
            (Some("hud_project_type".into()), "invalid type: string \"x\", expected i32".into())
        );
        assert_eq!(
            split_serde_message("Failed to deserialize the JSON body into the target type: missing field `name` at line 1 column 2"),
            (Some("name".into()), "missing field `name`".into())
        );
        assert_eq!(
            split_serde_message("Failed to deserialize the JSON body into the target type: b[0]: missing field `y` at line 1 column 23"),
            (Some("b[0].y".into()), "missing field `y`".into())
        );
        assert_eq!(
            split_serde_message(
                "Failed to parse the request body as JSON: trailing characters at line 1 column 18"
            ),
            (None, "trailing characters".into())
        );
    }

    #[test]
    fn internal_details_never_leak() {
        let (p, _) =
            ApiError::App(AppError::Internal("database password is hunter2".into())).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("hunter2"));
    }
}
