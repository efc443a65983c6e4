//! Server-rendered pages.

pub mod account;
pub mod agencies;
pub mod agreements;
pub mod audit;
pub mod catalogues;
pub mod hmis_accounts;
pub mod list;
pub mod outbox;
pub mod people;
pub mod processes;
pub mod projects;
pub mod requests;
pub mod settings;
pub mod signin;

use crate::chrome::Chrome;
use crate::error::{WebError, WebResult};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use onramp_app::AppError;
use onramp_domain::authz::Permission;

pub fn routes() -> Vec<Route> {
    let mut r = vec![Route::get("/", get(home))];
    r.extend(signin::routes());
    r.extend(account::routes());
    r.extend(agencies::routes());
    r.extend(projects::routes());
    r.extend(requests::routes());
    r.extend(people::routes());
    r.extend(catalogues::routes());
    r.extend(settings::routes());
    r.extend(processes::routes());
    r.extend(audit::routes());
    r.extend(outbox::routes());
    r.extend(agreements::routes());
    r.extend(hmis_accounts::routes());
    r
}

pub async fn not_found() -> Response {
    WebError::App(AppError::NotFound).into_response()
}

/// Renders a template into a response.
pub fn render(t: &impl Template) -> WebResult<Html<String>> {
    Ok(Html(t.render()?))
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
    name: String,
    implementation: String,
    roles: String,
    cards: Vec<(&'static str, &'static str, &'static str)>,
    overview: onramp_app::access::Overview,
}

async fn home(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<impl IntoResponse> {
    let a = &v.ctx.actor;
    let implementation = {
        let mut tx = state.app.store.read().await.map_err(AppError::from)?;
        tx.implementation_get(a.implementation_id)
            .await
            .map_err(AppError::from)?
            .name
    };
    let roles: Vec<String> = a
        .roles()
        .iter()
        .map(|r| {
            match r {
                onramp_domain::Role::LeadAdmin => "Lead admin",
                onramp_domain::Role::TrainingCoordinator => "training coordinator",
                onramp_domain::Role::Proctor => "proctor",
                onramp_domain::Role::AgencyAdministrator => "agency administrator",
                onramp_domain::Role::ExecutiveDirector => "executive director",
                onramp_domain::Role::Trainee => "trainee",
                onramp_domain::Role::Auditor => "auditor",
            }
            .to_string()
        })
        .collect();
    let mut cards = Vec::new();
    if a.may(Permission::ViewOrganisation) || !a.overseen_agencies().is_empty() {
        cards.push((
            "/admin/agencies",
            "Agencies",
            "Participating agencies and their HMIS projects.",
        ));
        cards.push((
            "/admin/people",
            "People",
            "Staff, their roles and their Onramp accounts.",
        ));
    }
    if a.may(Permission::ViewAudit) {
        cards.push((
            "/admin/audit",
            "Audit trail",
            "Every change, who made it and when, in a verifiable chain.",
        ));
    }
    if a.may(Permission::ManageOutbox) {
        cards.push((
            "/admin/outbox",
            "Outbox",
            "Email sent by Onramp, and what is still waiting.",
        ));
    }
    cards.push((
        "/account",
        "My account",
        "Password, two-step sign-in and API tokens.",
    ));
    let overview = onramp_app::access::overview(&state.app, &v.ctx).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Home", "/").with_flash(&jar);
    Ok((
        jar,
        render(&Home {
            chrome,
            name: a.display_name.clone(),
            implementation,
            roles: roles.join(", "),
            cards,
            overview,
        })?,
    ))
}
