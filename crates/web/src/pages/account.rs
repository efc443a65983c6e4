//! The signed-in person's own account: MFA, password, sessions, API tokens.

use super::render;
use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::{removal, stage_path, PartialViewer, Viewer, SESSION_COOKIE};
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth::{self, Stage};
use onramp_store::ApiToken;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/account", get(account_page)),
        Route::get("/account/mfa", get(mfa_setup_page)),
        Route::post("/account/mfa", post(mfa_setup_submit)),
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
    recovery_left: i64,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
}

async fn account_view(
    state: &AppState,
    v: &Viewer,
    chrome: Chrome,
    errors: FormErrors,
    new_token: Option<String>,
) -> WebResult<AccountPage> {
    let (mfa_enabled, recovery_left) = auth::mfa_status(&state.app, &v.ctx).await?;
    let tokens = auth::api_tokens(&state.app, &v.ctx).await?;
    Ok(AccountPage {
        chrome,
        errors,
        name: v.ctx.actor.display_name.clone(),
        email: v.session.email.clone(),
        mfa_enabled,
        recovery_left,
        tokens,
        new_token,
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
#[template(path = "mfa_setup.html")]
struct MfaSetupPage {
    chrome: Chrome,
    errors: FormErrors,
    required: bool,
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "mfa_codes.html")]
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

async fn mfa_setup_page(State(state): State<AppState>, v: PartialViewer) -> WebResult<Response> {
    if !may_enrol(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    let e = auth::mfa_begin(&state.app, &v.ctx).await?;
    let page = MfaSetupPage {
        chrome: stage_chrome(&v, "Set up two-step sign-in"),
        errors: FormErrors::default(),
        required: v.session.stage == Stage::MfaEnrol,
        secret: e.secret,
        qr_svg: e.qr_svg,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn mfa_setup_submit(
    State(state): State<AppState>,
    v: PartialViewer,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> WebResult<Response> {
    if !may_enrol(&v) {
        return Ok(Redirect::to(stage_path(v.session.stage)).into_response());
    }
    match auth::mfa_confirm(&state.app, &v.ctx, Some(&v.session.token_hash), &f.code).await {
        Ok(codes) => {
            let next = if v.session.stage == Stage::MfaEnrol {
                // The session moved on; where to depends on whether a password change is owed.
                match auth::session_stage(&state.app, &v.session.token_hash).await? {
                    Some(s) => stage_path(s).to_string(),
                    None => "/signin".into(),
                }
            } else {
                "/account".into()
            };
            Ok(render(&MfaCodesPage {
                chrome: stage_chrome(&v, "Recovery codes"),
                codes,
                next,
            })?
            .into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let en = auth::mfa_begin(&state.app, &v.ctx).await?;
            let page = MfaSetupPage {
                chrome: stage_chrome(&v, "Set up two-step sign-in"),
                errors,
                required: v.session.stage == Stage::MfaEnrol,
                secret: en.secret,
                qr_svg: en.qr_svg,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "password_change.html")]
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
        Ok(()) => Ok((
            jar.add(flash("Your password has been changed.")),
            Redirect::to("/"),
        )
            .into_response()),
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
    let jar = jar
        .remove(removal(SESSION_COOKIE))
        .add(flash("You are signed out on every device."));
    Ok((jar, Redirect::to("/signin")).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn token_create(
    State(state): State<AppState>,
    v: Viewer,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> WebResult<Response> {
    match auth::api_token_create(&state.app, &v.ctx, &f.name).await {
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
            let page = account_view(
                &state,
                &v,
                Chrome::for_viewer(&v, "My account", "/account"),
                errors,
                None,
            )
            .await?;
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
