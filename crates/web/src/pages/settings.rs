//! The implementation's settings: its name, its HMIS Lead and the CoCs it covers, and who
//! must use two-step sign-in.

use super::list;
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth;
use onramp_app::organisation::{self, SettingsInput};
use onramp_domain::authz::{MfaPolicy, Permission};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/settings", get(settings_page)),
        Route::post("/admin/settings", post(save)),
        Route::post("/admin/settings/two-step-sign-in", post(save_mfa_policy)),
    ]
}

/// The settings form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    hmis_lead_name: String,
    #[serde(default)]
    cocs: String,
}

impl SettingsForm {
    fn input(&self) -> SettingsInput {
        SettingsInput {
            name: self.name.clone(),
            hmis_lead_name: self.hmis_lead_name.clone(),
            cocs: self.cocs.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    errors: FormErrors,
    form: SettingsForm,
    slug: String,
    can_manage: bool,
    /// Every role that reads others must use two-step sign-in (else only the admin roles).
    mfa_for_all_readers: bool,
}

async fn page(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    form: Option<SettingsForm>,
) -> WebResult<SettingsPage> {
    let s = organisation::settings(&state.app, &v.ctx).await?;
    let form = form.unwrap_or_else(|| SettingsForm {
        name: s.implementation.name.clone(),
        hmis_lead_name: s.implementation.hmis_lead_name.clone(),
        cocs: s.cocs.join("\n"),
    });
    Ok(SettingsPage {
        chrome: Chrome::for_viewer(v, "Settings", "/admin/settings"),
        errors,
        form,
        slug: s.implementation.slug,
        can_manage: v.ctx.actor.may(Permission::ManageImplementation),
        mfa_for_all_readers: auth::implementation_mfa_policy(&state.app, &v.ctx).await?
            == MfaPolicy::EveryoneWhoReadsOthers,
    })
}

async fn settings_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut p = page(&state, &v, FormErrors::default(), None).await?;
    let (chrome, jar) = p.chrome.with_flash(&jar);
    p.chrome = chrome;
    Ok((jar, render(&p)?).into_response())
}

async fn save(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> WebResult<Response> {
    match organisation::update_settings(&state.app, &v.ctx, &f.input()).await {
        Ok(()) => Ok(list::saved(jar, "Settings saved.", "/admin/settings")),
        Err(e) => Ok(list::unprocessable(render(
            &page(&state, &v, FormErrors::from_app(e)?, Some(f)).await?,
        )?)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MfaPolicyForm {
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    mfa_for_all_readers: Option<String>,
}

async fn save_mfa_policy(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<MfaPolicyForm>,
) -> WebResult<Response> {
    let policy = if f.mfa_for_all_readers.is_some() {
        MfaPolicy::EveryoneWhoReadsOthers
    } else {
        MfaPolicy::AdminRoles
    };
    auth::set_implementation_mfa_policy(&state.app, &v.ctx, policy).await?;
    Ok(list::saved(
        jar,
        "Two-step sign-in setting saved.",
        "/admin/settings",
    ))
}
