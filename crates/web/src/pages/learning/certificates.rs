//! Certificates: the public verification page (a form for the code, and what a code
//! certifies, with no sign-in, rate limited per client address and kept out of search
//! engines), and, signed in, the person's own certificates with their PDF downloads.

use crate::chrome::Chrome;
use crate::error::{WebError, WebResult};
use crate::forms::FormErrors;
use crate::pages::render;
use crate::session::{SourceAddr, Viewer};
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use onramp_app::learning::certificates::{self, PublicCertificate};
use onramp_app::AppError;
use onramp_domain::learning::certificate::{CertificateStatus, VerificationCode};
use onramp_domain::FieldError;
use onramp_formats::certificate_pdf::long_date;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/verify", get(verify_form)),
        Route::get("/verify/{code}", get(verify_code)),
        Route::get("/certificates", get(mine)),
        Route::get("/certificates/{id}/pdf", get(download)),
    ]
}

/// What the page says when a code matches nothing.
pub const UNKNOWN: &str = "No certificate has this code.";

#[derive(Template)]
#[template(path = "learning/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    errors: FormErrors,
    code: String,
    /// Said when the code was looked up and matched nothing.
    unknown: Option<&'static str>,
}

/// What a code certifies, in words.
struct Shown {
    name: String,
    title: String,
    completed: String,
    status: &'static str,
    status_class: &'static str,
    /// "Valid until March 1, 2027", "Expired on March 1, 2027", "Does not expire".
    validity: String,
}

#[derive(Template)]
#[template(path = "learning/verified.html")]
struct VerifiedPage {
    chrome: Chrome,
    code: String,
    c: Shown,
}

#[derive(Template)]
#[template(path = "learning/verify_limited.html")]
struct LimitedPage {
    chrome: Chrome,
    minutes: i64,
}

/// Public pages about certificates: no index, no referrer.
fn public(status: StatusCode, html: impl IntoResponse) -> Response {
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn form_page(
    status: StatusCode,
    code: String,
    errors: FormErrors,
    unknown: bool,
) -> WebResult<Response> {
    Ok(public(
        status,
        render(&VerifyPage {
            chrome: Chrome::bare("Check a certificate"),
            errors,
            code,
            unknown: unknown.then_some(UNKNOWN),
        })?,
    ))
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

/// The form; submitted (`?code=`), it goes to the code's page, or says what is wrong.
async fn verify_form(Query(q): Query<CodeQuery>) -> WebResult<Response> {
    let Some(typed) = q.code else {
        return form_page(StatusCode::OK, String::new(), FormErrors::default(), false);
    };
    match VerificationCode::parse(&typed) {
        Ok(code) => Ok(public(
            StatusCode::SEE_OTHER,
            Redirect::to(&format!("/verify/{code}")),
        )),
        Err(message) => form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            FormErrors(vec![FieldError::new("code", message)]),
            false,
        ),
    }
}

fn shown(p: PublicCertificate) -> Shown {
    let until = p.valid_until.map(|d| long_date(d.date_naive()));
    let (status, status_class, validity) = match (p.status, until) {
        (CertificateStatus::Valid, Some(d)) => ("Valid", "ok", format!("Valid until {d}")),
        (CertificateStatus::Valid, None) => ("Valid", "ok", "Does not expire".to_string()),
        (CertificateStatus::Expired, Some(d)) => ("Expired", "bad", format!("Expired on {d}")),
        (CertificateStatus::Expired, None) => ("Expired", "bad", String::new()),
        (CertificateStatus::Revoked, _) => (
            "Revoked",
            "bad",
            "Withdrawn by the HMIS Lead: it no longer certifies anything".to_string(),
        ),
    };
    Shown {
        name: p.name,
        title: p.title,
        completed: long_date(p.completed_at.date_naive()),
        status,
        status_class,
        validity,
    }
}

/// What a code certifies, for anyone.
async fn verify_code(
    State(state): State<AppState>,
    SourceAddr(addr): SourceAddr,
    Path(typed): Path<String>,
) -> WebResult<Response> {
    let code = match VerificationCode::parse(&typed) {
        Ok(c) => c,
        Err(message) => {
            return form_page(
                StatusCode::NOT_FOUND,
                typed,
                FormErrors(vec![FieldError::new("code", message)]),
                false,
            )
        }
    };
    if code.as_str() != typed {
        // One address per certificate: the code as printed.
        return Ok(public(
            StatusCode::SEE_OTHER,
            Redirect::to(&format!("/verify/{code}")),
        ));
    }
    match certificates::verify_public(&state.app, &addr, &code, state.app.now()).await {
        Ok(Some(p)) => Ok(public(
            StatusCode::OK,
            render(&VerifiedPage {
                chrome: Chrome::bare("Certificate check"),
                code: code.to_string(),
                c: shown(p),
            })?,
        )),
        Ok(None) => form_page(
            StatusCode::NOT_FOUND,
            code.to_string(),
            FormErrors::default(),
            true,
        ),
        Err(AppError::RateLimited) => {
            let minutes = state.app.config.rate_limit_window_minutes;
            let mut res = public(
                StatusCode::TOO_MANY_REQUESTS,
                render(&LimitedPage {
                    chrome: Chrome::bare("Too many certificate checks"),
                    minutes,
                })?,
            );
            if let Ok(v) = HeaderValue::from_str(&(minutes * 60).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(res)
        }
        Err(e) => Err(WebError::App(e)),
    }
}

/// One of the person's certificates, as listed.
struct Row {
    id: i64,
    title: String,
    completed: String,
    validity: String,
    status: &'static str,
    status_class: &'static str,
    code: String,
}

#[derive(Template)]
#[template(path = "learning/certificates.html")]
struct MinePage {
    chrome: Chrome,
    rows: Vec<Row>,
}

fn day(t: DateTime<Utc>) -> String {
    long_date(t.date_naive())
}

/// The signed-in person's certificates, with their downloads.
async fn mine(State(state): State<AppState>, v: Viewer) -> WebResult<Response> {
    let list = certificates::mine(&state.app, &v.ctx).await?;
    let rows = list
        .into_iter()
        .map(|view| {
            let c = view.certificate;
            Row {
                id: c.id,
                completed: day(c.completed_at),
                validity: c
                    .valid_until
                    .map(day)
                    .unwrap_or_else(|| "Does not expire".into()),
                status: view.status.label(),
                status_class: match view.status {
                    CertificateStatus::Valid => "ok",
                    _ => "bad",
                },
                title: c.title,
                code: c.code,
            }
        })
        .collect();
    Ok(render(&MinePage {
        chrome: Chrome::for_viewer(&v, "My certificates", "/certificates"),
        rows,
    })?
    .into_response())
}

/// A certificate's PDF, as a download.
async fn download(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let file = certificates::pdf(&state.app, &v.ctx, id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response())
}
