//! Agencies: list with search, filters, pages and CSV export; create and edit.

use super::render;
use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{checkbox, CsrfForm, FormErrors};
use crate::session::{urlencode, Viewer};
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::organisation::{self, AgencyInput};
use onramp_domain::authz::Permission;
use onramp_domain::ParticipationStatus;
use onramp_store::organisation::AgencyFilter;
use onramp_store::{Agency, Page, PageRequest};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/agencies", get(list)),
        Route::get("/admin/agencies.csv", get(export)),
        Route::get("/admin/agencies/new", get(new_form)),
        Route::post("/admin/agencies/new", post(create)),
        Route::get("/admin/agencies/{id}", get(edit_form)),
        Route::post("/admin/agencies/{id}", post(update)),
    ]
}

/// Filters of the agency list, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    /// "active", "inactive" or empty for both.
    #[serde(default)]
    show: String,
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> AgencyFilter {
        AgencyFilter {
            search: Some(self.q.trim().to_string()).filter(|s| !s.is_empty()),
            status: ParticipationStatus::parse(&self.status)
                .ok()
                .map(|s| s.as_str().to_string()),
            active: match self.show.as_str() {
                "active" => Some(true),
                "inactive" => Some(false),
                _ => None,
            },
            only: None,
        }
    }
    /// The query string without the page, ending in `&` (or `?`) for the pager.
    fn base(&self, path: &str) -> String {
        format!(
            "{path}?q={}&status={}&show={}&",
            urlencode(&self.q),
            urlencode(&self.status),
            urlencode(&self.show)
        )
    }
}

pub struct StatusOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn statuses() -> Vec<StatusOption> {
    ParticipationStatus::ALL
        .iter()
        .map(|s| StatusOption {
            value: s.as_str(),
            label: s.label(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<Agency>,
    q: ListQuery,
    base: String,
    csv: String,
    statuses: Vec<StatusOption>,
    can_manage: bool,
}

async fn list(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let page = organisation::agencies(
        &state.app,
        &v.ctx,
        q.filter(),
        PageRequest::new(q.page.unwrap_or(1), 25),
    )
    .await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Agencies", "/admin/agencies").with_flash(&jar);
    let base = q.base("/admin/agencies");
    let csv = q.base("/admin/agencies.csv");
    let can_manage = v.ctx.actor.may(Permission::ManageImplementation);
    Ok((
        jar,
        render(&ListPage {
            chrome,
            page,
            q,
            base,
            csv,
            statuses: statuses(),
            can_manage,
        })?,
    )
        .into_response())
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let csv = organisation::agencies_csv(&state.app, &v.ctx, q.filter()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"agencies.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// The agency form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct AgencyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    participation_status: String,
    #[serde(default)]
    participation_date: String,
    #[serde(default, deserialize_with = "checkbox")]
    active: bool,
}

impl AgencyForm {
    fn input(&self) -> AgencyInput {
        AgencyInput {
            name: self.name.clone(),
            participation_status: self.participation_status.clone(),
            participation_date: self.participation_date.clone(),
            active: self.active,
        }
    }
    fn from_agency(a: &Agency) -> Self {
        Self {
            name: a.name.clone(),
            participation_status: a.participation_status.clone(),
            participation_date: a
                .participation_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
            active: a.active,
        }
    }
}

#[derive(Template)]
#[template(path = "agency_form.html")]
struct FormPage {
    chrome: Chrome,
    errors: FormErrors,
    form: AgencyForm,
    statuses: Vec<StatusOption>,
    /// None when creating.
    id: Option<i64>,
    can_manage: bool,
    /// Whether the viewer may see the agency's training credits.
    sees_credits: bool,
}

fn form_page(v: &Viewer, errors: FormErrors, form: AgencyForm, id: Option<i64>) -> FormPage {
    let title = if id.is_some() {
        "Edit agency"
    } else {
        "New agency"
    };
    FormPage {
        chrome: Chrome::for_viewer(v, title, "/admin/agencies"),
        errors,
        form,
        statuses: statuses(),
        id,
        can_manage: v.ctx.actor.may(Permission::ManageImplementation),
        sees_credits: id.is_some_and(|a| v.ctx.actor.may(Permission::ViewTrainingCredits(a))),
    }
}

async fn new_form(v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageImplementation)?;
    let form = AgencyForm {
        participation_status: "participating".into(),
        active: true,
        ..Default::default()
    };
    Ok(render(&form_page(&v, FormErrors::default(), form, None))?.into_response())
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(mut f): CsrfForm<AgencyForm>,
) -> WebResult<Response> {
    f.active = true;
    match organisation::agency_create(&state.app, &v.ctx, &f.input()).await {
        Ok(id) => Ok((
            jar.add(flash("Agency created.")),
            Redirect::to(&format!("/admin/agencies/{id}")),
        )
            .into_response()),
        Err(e) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&form_page(&v, FormErrors::from_app(e)?, f, None))?,
        )
            .into_response()),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let a = organisation::agency(&state.app, &v.ctx, id).await?;
    let mut page = form_page(
        &v,
        FormErrors::default(),
        AgencyForm::from_agency(&a),
        Some(id),
    );
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<AgencyForm>,
) -> WebResult<Response> {
    match organisation::agency_update(&state.app, &v.ctx, id, &f.input()).await {
        Ok(()) => Ok((
            jar.add(flash("Agency saved.")),
            Redirect::to(&format!("/admin/agencies/{id}")),
        )
            .into_response()),
        Err(e) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&form_page(&v, FormErrors::from_app(e)?, f, Some(id)))?,
        )
            .into_response()),
    }
}
