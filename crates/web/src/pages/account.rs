//! The signed-in person's own account: MFA, password, sessions, API tokens.
//!
//! Setting up a new authenticator app (or turning two-step sign-in off) asks for the
//! current password or a current code; a session's token changes at every stage it passes.

use super::render;
use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::{removal, session_cookie, stage_path, PartialViewer, Viewer};
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth::{self, IdentityCheck, Stage};
use onramp_app::AppError;
use onramp_store::ApiToken;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/account", get(account_page)),
        Route::get("/account/mfa", get(mfa_setup_page)),
        Route::post("/account/mfa", post(mfa_setup_submit)),
        Route::post("/account/mfa/off", post(mfa_off_submit)),
        Route::get("/account/password", get(password_page)),
        Route::post("/account/password", post(password_submit)),
        Route::post("/account/sign-out-everywhere", post(sign_out_everywhere)),
        Route::post("/account/api-tokens", post(token_create)),
        Route::post("/account/api-tokens/{id}/revoke", post(token_revoke)),
    ]
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    errors: FormErrors,
    name: String,
    email: String,
    mfa_enabled: bool,
    /// The person's roles require two-step sign-in: it cannot be turned off.
    mfa_required: bool,
    recovery_left: i64,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    lifetimes: &'static [(&'static str, &'static str)],
    token_name: String,
    token_expires: String,
}

/// One API token as the account page lists it.
struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    last_used: String,
    status: &'static str,
    live: bool,
}

impl TokenRow {
    fn of(t: ApiToken, now: chrono::DateTime<chrono::Utc>) -> TokenRow {
        let when = |d: Option<chrono::DateTime<chrono::Utc>>| {
            d.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "never".into())
        };
        let status = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        TokenRow {
            id: t.id,
            created: t.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            expires: when(t.expires_at),
            last_used: when(t.last_used_at),
            status,
            live: t.revoked_at.is_none(),
            name: t.name,
        }
    }
}

async fn account_view(
    state: &AppState,
    v: &Viewer,
    chrome: Chrome,
    errors: FormErrors,
    new_token: Option<String>,
) -> WebResult<AccountPage> {
    let (mfa_enabled, recovery_left) = auth::mfa_status(&state.app, &v.ctx).await?;
    let mfa_required = auth::mfa_required(&state.app, &v.ctx).await?;
    let now = state.app.now();
    let tokens = auth::api_tokens(&state.app, &v.ctx)
        .await?
        .into_iter()
        .map(|t| TokenRow::of(t, now))
        .collect();
    Ok(AccountPage {
        chrome,
        errors,
        name: v.ctx.actor.display_name.clone(),
        email: v.session.email.clone(),
        mfa_enabled,
        mfa_required,
        recovery_left,
        tokens,
        new_token,
        lifetimes: auth::API_TOKEN_LIFETIMES,
        token_name: String::new(),
        token_expires: "90".into(),
    })
}

async fn account_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let (chrome, jar) = Chrome::for_viewer(&v, "My account", "/account").with_flash(&jar);
    let page = account_view(&state, &v, chrome, FormErrors::default(), None).await?;
    Ok((jar, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "signin/mfa_setup.html")]
struct MfaSetupPage {
    chrome: Chrome,
    errors: FormErrors,
    required: bool,
    /// Replacing an app that is on (rather than setting up the first).
    replacing: bool,
    /// What is asked besides the new code: nothing, the password, or the password or a code.
    ask_password: bool,
    ask_code_too: bool,
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "signin/mfa_codes.html")]
struct MfaCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
    next: String,
}

fn stage_chrome(v: &PartialViewer, title: &str) -> Chrome {
    let mut c = Chrome::bare(title);
    c.csrf = v.session.csrf_token.clone();
    c
}

/// Reachable when fully signed in, or when enrolment is the step still owed.
fn may_enrol(v: &PartialViewer) -> bool {
    matches!(v.session.stage, Stage::Active | Stage::MfaEnrol)
}

async fn setup_page(
    state: &AppState,
    v: &PartialViewer,
    errors: FormErrors,
) -> WebResult<MfaSetupPage> {
    let e = auth::mfa_begin(&state.app, &v.ctx, &v.session.token_hash).await?;
    let check = auth::mfa_identity_check(&state.app, &v.session).await?;
    Ok(MfaSetupPage {
        chrome: stage_chrome(v, "Set up two-step sign-in"),
        errors,
        required: v.session.stage == Stage::MfaEnrol,
        replacing: check == IdentityCheck::PasswordOrCode,
        ask_password: check != IdentityCheck::None,
        ask_code_too: check == IdentityCheck::PasswordOrCode,
        secret: e.secret,
        qr_svg: e.qr_svg,
    })
}

async fn mfa_setup_page(State(state): State<AppState>, v: PartialViewer) -> WebResult<Response> {
    if !may_enrol(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    let page = setup_page(&state, &v, FormErrors::default()).await?;
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    /// The current password, or a code from the app in use now.
    #[serde(default)]
    current: String,
}

async fn mfa_setup_submit(
    State(state): State<AppState>,
    v: PartialViewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> WebResult<Response> {
    if !may_enrol(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    match auth::mfa_confirm(
        &state.app,
        &v.ctx,
        &v.session.token_hash,
        &f.code,
        &f.current,
    )
    .await
    {
        Ok(done) => {
            let mut chrome = stage_chrome(&v, "Recovery codes");
            let (jar, next) = match done.rotated {
                // Enrolment was the step owed: the session moved on, with a new token.
                Some(r) => {
                    chrome.csrf = r.csrf_token.clone();
                    (
                        jar.add(session_cookie(&state, r.session_token)),
                        stage_path(r.stage).to_string(),
                    )
                }
                None => (jar, "/account".to_string()),
            };
            Ok((
                jar,
                render(&MfaCodesPage {
                    chrome,
                    codes: done.recovery_codes,
                    next,
                })?,
            )
                .into_response())
        }
        Err(AppError::RateLimited) => {
            let errors = FormErrors(vec![onramp_domain::FieldError::new(
                "current",
                "Too many failed attempts from your network: wait 15 minutes and try again",
            )]);
            let page = setup_page(&state, &v, errors).await?;
            Ok((StatusCode::TOO_MANY_REQUESTS, render(&page)?).into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let page = setup_page(&state, &v, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
struct MfaOffForm {
    #[serde(default)]
    current: String,
}

async fn mfa_off_submit(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<MfaOffForm>,
) -> WebResult<Response> {
    match auth::mfa_turn_off(&state.app, &v.ctx, &f.current).await {
        Ok(()) => Ok((
            jar.add(flash("Two-step sign-in is off.")),
            Redirect::to("/account"),
        )
            .into_response()),
        Err(e) => {
            let (status, errors) = match e {
                AppError::RateLimited => (
                    StatusCode::TOO_MANY_REQUESTS,
                    FormErrors(vec![onramp_domain::FieldError::new(
                        "current",
                        "Too many failed attempts from your network: wait 15 minutes and try again",
                    )]),
                ),
                other => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    FormErrors::from_app(other)?,
                ),
            };
            let page = account_view(
                &state,
                &v,
                Chrome::for_viewer(&v, "My account", "/account"),
                errors,
                None,
            )
            .await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "signin/password_change.html")]
struct PasswordPage {
    chrome: Chrome,
    errors: FormErrors,
    forced: bool,
    rules: String,
}

fn may_change_password(v: &PartialViewer) -> bool {
    matches!(v.session.stage, Stage::Active | Stage::PasswordChange)
}

fn password_rules(state: &AppState) -> String {
    format!(
        "At least {} characters, with a letter and a digit. Not your email, and not a commonly used password.",
        state.app.config.password_policy.min_length.max(8)
    )
}

async fn password_page(State(state): State<AppState>, v: PartialViewer) -> WebResult<Response> {
    if !may_change_password(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    let page = PasswordPage {
        chrome: stage_chrome(&v, "Change your password"),
        errors: FormErrors::default(),
        forced: v.session.stage == Stage::PasswordChange,
        rules: password_rules(&state),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn password_submit(
    State(state): State<AppState>,
    v: PartialViewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    if !may_change_password(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    match auth::change_password(
        &state.app,
        &v.ctx,
        Some(&v.session.token_hash),
        &f.current,
        &f.password,
        &f.confirm,
    )
    .await
    {
        Ok(rotated) => {
            let jar = match rotated {
                Some(r) => jar.add(session_cookie(&state, r.session_token)),
                None => jar,
            };
            Ok((
                jar.add(flash("Your password has been changed.")),
                Redirect::to("/"),
            )
                .into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let page = PasswordPage {
                chrome: stage_chrome(&v, "Change your password"),
                errors,
                forced: v.session.stage == Stage::PasswordChange,
                rules: password_rules(&state),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> WebResult<Response> {
    auth::sign_out_everywhere(&state.app, &v.ctx).await?;
    let jar = jar.remove(removal(state.session_cookie_name())).add(flash(
        "You are signed out on every device, and your API tokens are revoked.",
    ));
    Ok((jar, Redirect::to("/signin")).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    /// Days the token works (one of the offered lifetimes), empty for no expiry.
    #[serde(default)]
    expires: String,
}

async fn token_create(
    State(state): State<AppState>,
    v: Viewer,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> WebResult<Response> {
    match auth::api_token_create_expiring(&state.app, &v.ctx, &f.name, &f.expires).await {
        Ok((_, token)) => {
            let page = account_view(
                &state,
                &v,
                Chrome::for_viewer(&v, "My account", "/account"),
                FormErrors::default(),
                Some(token),
            )
            .await?;
            Ok(render(&page)?.into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let mut page = account_view(
                &state,
                &v,
                Chrome::for_viewer(&v, "My account", "/account"),
                errors,
                None,
            )
            .await?;
            page.token_name = f.name;
            page.token_expires = f.expires;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

async fn token_revoke(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> WebResult<Response> {
    auth::api_token_revoke(&state.app, &v.ctx, id).await?;
    Ok((
        jar.add(flash("The token is revoked.")),
        Redirect::to("/account"),
    )
        .into_response())
}
