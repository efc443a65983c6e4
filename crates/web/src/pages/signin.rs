//! Signing in and out, the MFA step, invitations and password resets.

use super::render;
use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::{
    pre_session_cookie, removal, safe_next, session_cookie, stage_path, urlencode, MaybeSession,
    PartialViewer, SourceAddr,
};
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth::{self, LinkKind, Stage};
use onramp_app::AppError;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/signin", get(signin_page)),
        Route::post("/signin", post(signin_submit)),
        Route::post("/signout", post(signout)),
        Route::get("/signin/mfa", get(mfa_page)),
        Route::post("/signin/mfa", post(mfa_submit)),
        Route::get("/password-reset", get(reset_request_page)),
        Route::post("/password-reset", post(reset_request_submit)),
        Route::get("/password-reset/{token}", get(reset_page)),
        Route::post("/password-reset/{token}", post(reset_submit)),
        Route::get("/invitation/{token}", get(invitation_page)),
        Route::post("/invitation/{token}", post(invitation_submit)),
    ]
}

/// The pre-session token for anonymous forms: reuse the cookie, or make one.
fn pre_session(jar: CookieJar, state: &AppState) -> (CookieJar, String) {
    if let Some(c) = jar.get(state.pre_session_cookie_name()) {
        let v = c.value().to_string();
        return (jar, v);
    }
    let token = auth::random_token();
    (jar.add(pre_session_cookie(state, token.clone())), token)
}

#[derive(Template)]
#[template(path = "signin/signin.html")]
struct SigninPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn signin_page(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    Query(q): Query<NextQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    if let Some(s) = s {
        return Ok(Redirect::to(stage_path(s.stage)).into_response());
    }
    let (jar, csrf) = pre_session(jar, &state);
    let (mut chrome, jar) = Chrome::bare("Sign in").with_flash(&jar);
    chrome.csrf = csrf;
    Ok((
        jar,
        render(&SigninPage {
            chrome,
            errors: FormErrors::default(),
            email: String::new(),
            next: safe_next(q.next.as_deref()),
        })?,
    )
        .into_response())
}

#[derive(Deserialize)]
struct SigninForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn signin_submit(
    State(state): State<AppState>,
    SourceAddr(addr): SourceAddr,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<SigninForm>,
) -> WebResult<Response> {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut errors = Vec::new();
    if f.email.trim().is_empty() {
        errors.push(onramp_domain::FieldError::new(
            "email",
            "Enter your email address",
        ));
    }
    if f.password.is_empty() {
        errors.push(onramp_domain::FieldError::new(
            "password",
            "Enter your password",
        ));
    }
    let result = if errors.is_empty() {
        auth::sign_in(&state.app, &f.email, &f.password, &addr, ua).await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(signed) => {
            let jar = jar
                .add(session_cookie(&state, signed.session_token))
                .remove(removal(state.pre_session_cookie_name()));
            let next = safe_next(Some(&f.next));
            let to = match signed.stage {
                Stage::Active => next,
                // The code step keeps where the person was going.
                Stage::Mfa if next != "/" => format!("/signin/mfa?next={}", urlencode(&next)),
                other => stage_path(other).to_string(),
            };
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Err(e) => {
            let status = if matches!(e, AppError::RateLimited) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let errors = match e {
                AppError::RateLimited => {
                    FormErrors(vec![onramp_domain::FieldError::new("email", RATE_LIMITED)])
                }
                other => FormErrors::from_app(other)?,
            };
            let (jar, csrf) = pre_session(jar, &state);
            let mut chrome = Chrome::bare("Sign in");
            chrome.csrf = csrf;
            Ok((
                status,
                jar,
                render(&SigninPage {
                    chrome,
                    errors,
                    email: f.email,
                    next: safe_next(Some(&f.next)),
                })?,
            )
                .into_response())
        }
    }
}

async fn signout(
    State(state): State<AppState>,
    MaybeSession(s): MaybeSession,
    SourceAddr(addr): SourceAddr,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> WebResult<Response> {
    if let Some(s) = s {
        auth::sign_out(&state.app, &s, &addr).await?;
    }
    let jar = jar
        .remove(removal(state.session_cookie_name()))
        .add(flash("You are signed out."));
    Ok((jar, Redirect::to("/signin")).into_response())
}

#[derive(Template)]
#[template(path = "signin/mfa_verify.html")]
struct MfaPage {
    chrome: Chrome,
    errors: FormErrors,
    next: String,
}

fn partial_chrome(v: &PartialViewer, title: &str) -> Chrome {
    let mut c = Chrome::bare(title);
    c.csrf = v.session.csrf_token.clone();
    c
}

async fn mfa_page(v: PartialViewer, Query(q): Query<NextQuery>) -> WebResult<Response> {
    if v.session.stage != Stage::Mfa {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    Ok(render(&MfaPage {
        chrome: partial_chrome(&v, "Authentication code"),
        errors: FormErrors::default(),
        next: safe_next(q.next.as_deref()),
    })?
    .into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

async fn mfa_submit(
    State(state): State<AppState>,
    v: PartialViewer,
    SourceAddr(addr): SourceAddr,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> WebResult<Response> {
    let next = safe_next(Some(&f.next));
    match auth::mfa_verify(&state.app, &v.session, &f.code, &addr).await {
        Ok(Some(rotated)) => {
            let to = match rotated.stage {
                Stage::Active => next,
                other => stage_path(other).to_string(),
            };
            let jar = jar.add(session_cookie(&state, rotated.session_token));
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Ok(None) => Ok(Redirect::to(stage_path(v.session.stage)).into_response()),
        Err(AppError::Unauthenticated) => Ok((
            jar.remove(removal(state.session_cookie_name())).add(flash(
                "Your account is locked after repeated failures. Try again later, or reset your password.",
            )),
            Redirect::to("/signin"),
        )
            .into_response()),
        Err(AppError::RateLimited) => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            render(&MfaPage {
                chrome: partial_chrome(&v, "Authentication code"),
                errors: FormErrors(vec![onramp_domain::FieldError::new(
                    "code",
                    RATE_LIMITED,
                )]),
                next,
            })?,
        )
            .into_response()),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&MfaPage {
                    chrome: partial_chrome(&v, "Authentication code"),
                    errors,
                    next,
                })?,
            )
                .into_response())
        }
    }
}

const RATE_LIMITED: &str =
    "Too many failed sign-ins from your network: wait 15 minutes and try again";

// ---------------------------------------------------------------- links

#[derive(Template)]
#[template(path = "signin/reset_request.html")]
struct ResetRequestPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    sent: bool,
}

async fn reset_request_page(State(state): State<AppState>, jar: CookieJar) -> WebResult<Response> {
    let (jar, csrf) = pre_session(jar, &state);
    let mut chrome = Chrome::bare("Reset your password");
    chrome.csrf = csrf;
    Ok((
        jar,
        render(&ResetRequestPage {
            chrome,
            errors: FormErrors::default(),
            email: String::new(),
            sent: false,
        })?,
    )
        .into_response())
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn reset_request_submit(
    State(state): State<AppState>,
    SourceAddr(addr): SourceAddr,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<EmailForm>,
) -> WebResult<Response> {
    let (jar, csrf) = pre_session(jar, &state);
    let mut chrome = Chrome::bare("Reset your password");
    chrome.csrf = csrf;
    match auth::request_password_reset(&state.app, &f.email, &addr).await {
        Ok(()) => Ok((
            jar,
            render(&ResetRequestPage {
                chrome,
                errors: FormErrors::default(),
                email: String::new(),
                sent: true,
            })?,
        )
            .into_response()),
        Err(AppError::RateLimited) => Err(AppError::RateLimited.into()),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                render(&ResetRequestPage {
                    chrome,
                    errors,
                    email: f.email,
                    sent: false,
                })?,
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "signin/set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    errors: FormErrors,
    heading: &'static str,
    email: String,
    action: String,
    rules: String,
}

fn rules_hint(state: &AppState) -> String {
    format!(
        "At least {} characters, with a letter and a digit. Not your email, and not a commonly used password.",
        state.app.config.password_policy.min_length.max(8)
    )
}

async fn link_page(
    state: AppState,
    kind: LinkKind,
    token: String,
    jar: CookieJar,
) -> WebResult<Response> {
    let (_, email) = auth::link_holder(&state.app, kind, &token).await?;
    let (jar, csrf) = pre_session(jar, &state);
    let (heading, path) = link_texts(kind);
    let mut chrome = Chrome::bare(heading);
    chrome.csrf = csrf;
    let page = SetPasswordPage {
        chrome,
        errors: FormErrors::default(),
        heading,
        email,
        action: format!("/{path}/{token}"),
        rules: rules_hint(&state),
    };
    Ok((
        jar,
        [(header::REFERRER_POLICY, "no-referrer")],
        render(&page)?,
    )
        .into_response())
}

fn link_texts(kind: LinkKind) -> (&'static str, &'static str) {
    match kind {
        LinkKind::Invitation => ("Welcome to Onramp: choose your password", "invitation"),
        LinkKind::PasswordReset => ("Choose a new password", "password-reset"),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn link_submit(
    state: AppState,
    kind: LinkKind,
    token: String,
    addr: String,
    jar: CookieJar,
    f: PasswordForm,
) -> WebResult<Response> {
    match auth::use_link(&state.app, kind, &token, &f.password, &f.confirm, &addr).await {
        Ok(()) => Ok((
            jar.add(flash("Your password is set. Sign in with it now.")),
            Redirect::to("/signin"),
        )
            .into_response()),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let (_, email) = auth::link_holder(&state.app, kind, &token).await?;
            let (jar, csrf) = pre_session(jar, &state);
            let (heading, path) = link_texts(kind);
            let mut chrome = Chrome::bare(heading);
            chrome.csrf = csrf;
            let page = SetPasswordPage {
                chrome,
                errors,
                heading,
                email,
                action: format!("/{path}/{token}"),
                rules: rules_hint(&state),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                [(header::REFERRER_POLICY, "no-referrer")],
                render(&page)?,
            )
                .into_response())
        }
    }
}

async fn reset_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    jar: CookieJar,
) -> WebResult<Response> {
    link_page(state, LinkKind::PasswordReset, token, jar).await
}

async fn reset_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    SourceAddr(addr): SourceAddr,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    link_submit(state, LinkKind::PasswordReset, token, addr, jar, f).await
}

async fn invitation_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    jar: CookieJar,
) -> WebResult<Response> {
    link_page(state, LinkKind::Invitation, token, jar).await
}

async fn invitation_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    SourceAddr(addr): SourceAddr,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    link_submit(state, LinkKind::Invitation, token, addr, jar, f).await
}
