//! Errors of page handlers, mapped to safe responses: a page that says what happened and
//! what to do, never an internal detail.

use crate::chrome::Chrome;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use onramp_app::AppError;

#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// Go elsewhere first (sign in, finish MFA…).
    Redirect(String),
    /// The form's CSRF token or origin did not match.
    Csrf,
    BadRequest(String),
    /// The request's body is larger than the route accepts.
    TooLarge(String),
    Render(String),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Render(e.to_string())
    }
}

pub type WebResult<T> = Result<T, WebError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    message: String,
    details: Vec<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, heading, message, details) = match self {
            WebError::Redirect(to) => return Redirect::to(&to).into_response(),
            WebError::App(AppError::Unauthenticated) => {
                return Redirect::to("/signin").into_response()
            }
            WebError::App(AppError::Forbidden) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this. If you need it, ask your HMIS Lead.".to_string(),
                vec![],
            ),
            WebError::App(AppError::NotFound) => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here, or the link has expired or was already used.".to_string(),
                vec![],
            ),
            WebError::App(AppError::Invalid(v)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Some input needs fixing",
                "Go back, correct these and try again:".to_string(),
                v.into_iter().map(|e| e.message).collect(),
            ),
            WebError::App(AppError::Conflict(m)) => {
                (StatusCode::CONFLICT, "That cannot be done now", m, vec![])
            }
            WebError::App(AppError::RateLimited) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Wait a few minutes and try again.".to_string(),
                vec![],
            ),
            WebError::App(AppError::Internal(e)) | WebError::Render(e) => {
                tracing::error!(error = %e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "The problem has been logged. Try again, and tell your HMIS Lead if it happens again.".to_string(), vec![])
            }
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "The form expired",
                "Reload the page and submit the form again.".to_string(),
                vec![],
            ),
            WebError::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The upload is too large",
                m,
                vec![],
            ),
            WebError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "The request could not be read",
                m,
                vec![],
            ),
        };
        let page = ErrorPage {
            chrome: Chrome::bare(heading),
            heading: heading.to_string(),
            message,
            details,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, heading.to_string()).into_response(),
        }
    }
}
