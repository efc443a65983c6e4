//! Projects: list with search, filters, pages and CSV export; create and edit.

use super::list::{self, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{checkbox, CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::organisation::{self, ProjectInput};
use onramp_domain::authz::Permission;
use onramp_domain::HudProjectType;
use onramp_store::organisation::ProjectFilter;
use onramp_store::{Page, Project};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/projects", get(list_page)),
        Route::get("/admin/projects.csv", get(export)),
        Route::get("/admin/projects/new", get(new_form)),
        Route::post("/admin/projects/new", post(create)),
        Route::get("/admin/projects/{id}", get(edit_form)),
        Route::post("/admin/projects/{id}", post(update)),
    ]
}

/// Filters of the project list, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    agency: String,
    /// A HUD project type code.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    show: String,
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> ProjectFilter {
        ProjectFilter {
            search: list::search_text(&self.q),
            agency_id: list::parse_id(&self.agency),
            project_type: HudProjectType::parse(&self.kind).ok().map(|t| t.code()),
            active: list::show_filter(&self.show),
            only_agencies: None,
        }
    }
    fn base(&self, path: &str) -> String {
        list::query_base(
            path,
            &[
                ("q", &self.q),
                ("agency", &self.agency),
                ("kind", &self.kind),
                ("show", &self.show),
            ],
        )
    }
}

/// The HUD project types as options, "code – label", after `first`.
fn type_options(first: &str) -> Vec<SelectOption> {
    std::iter::once(SelectOption::new("", first))
        .chain(HudProjectType::ALL.iter().map(|t| {
            SelectOption::new(
                t.code().to_string(),
                format!("{} \u{2013} {}", t.code(), t.label()),
            )
        }))
        .collect()
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<Project>,
    q: ListQuery,
    base: String,
    csv: String,
    agencies: Vec<SelectOption>,
    types: Vec<SelectOption>,
    shows: Vec<SelectOption>,
    can_manage: bool,
}

impl ListPage {
    /// "code – label" of a stored project type.
    fn type_label(&self, code: &i32) -> String {
        let code = *code;
        match HudProjectType::from_code(code) {
            Some(t) => format!("{code} \u{2013} {}", t.label()),
            None => format!("{code} \u{2013} unknown"),
        }
    }
}

async fn list_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let page =
        organisation::projects(&state.app, &v.ctx, q.filter(), list::page_request(q.page)).await?;
    let agencies =
        list::agency_options(&state, &v.ctx, Some(SelectOption::new("", "Any agency"))).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Projects", "/admin/projects").with_flash(&jar);
    let base = q.base("/admin/projects");
    let csv = q.base("/admin/projects.csv");
    let can_manage = v.ctx.actor.may(Permission::ManageImplementation);
    let page = ListPage {
        chrome,
        page,
        q,
        base,
        csv,
        agencies,
        types: type_options("Any type"),
        shows: list::show_options(),
        can_manage,
    };
    Ok((jar, render(&page)?).into_response())
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let csv = organisation::projects_csv(&state.app, &v.ctx, q.filter()).await?;
    Ok(list::csv_download("projects.csv", csv))
}

/// The project form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectForm {
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    hud_project_type: String,
    #[serde(default, deserialize_with = "checkbox")]
    active: bool,
}

impl ProjectForm {
    fn input(&self) -> ProjectInput {
        ProjectInput {
            agency_id: self.agency_id.clone(),
            name: self.name.clone(),
            hud_project_type: self.hud_project_type.clone(),
            active: self.active,
        }
    }
    fn from_project(p: &Project) -> Self {
        Self {
            agency_id: p.agency_id.to_string(),
            name: p.name.clone(),
            hud_project_type: p.hud_project_type.to_string(),
            active: p.active,
        }
    }
}

#[derive(Template)]
#[template(path = "project_form.html")]
struct FormPage {
    chrome: Chrome,
    errors: FormErrors,
    form: ProjectForm,
    agencies: Vec<SelectOption>,
    types: Vec<SelectOption>,
    /// None when creating.
    id: Option<i64>,
    can_manage: bool,
}

async fn form_page(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    form: ProjectForm,
    id: Option<i64>,
) -> WebResult<FormPage> {
    let title = if id.is_some() {
        "Edit project"
    } else {
        "New project"
    };
    let agencies = list::agency_options(
        state,
        &v.ctx,
        Some(SelectOption::new("", "Choose an agency")),
    )
    .await?;
    Ok(FormPage {
        chrome: Chrome::for_viewer(v, title, "/admin/projects"),
        errors,
        form,
        agencies,
        types: type_options("Choose a project type"),
        id,
        can_manage: v.ctx.actor.may(Permission::ManageImplementation),
    })
}

async fn new_form(
    State(state): State<AppState>,
    v: Viewer,
    Query(pre): Query<NewQuery>,
) -> WebResult<Response> {
    v.ctx.require(Permission::ManageImplementation)?;
    let form = ProjectForm {
        agency_id: pre.agency,
        active: true,
        ..Default::default()
    };
    Ok(render(&form_page(&state, &v, FormErrors::default(), form, None).await?)?.into_response())
}

/// `/admin/projects/new?agency=ID` preselects the agency.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    agency: String,
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(mut f): CsrfForm<ProjectForm>,
) -> WebResult<Response> {
    f.active = true;
    match organisation::project_create(&state.app, &v.ctx, &f.input()).await {
        Ok(id) => Ok(list::saved(
            jar,
            "Project created.",
            &format!("/admin/projects/{id}"),
        )),
        Err(e) => Ok(list::unprocessable(render(
            &form_page(&state, &v, FormErrors::from_app(e)?, f, None).await?,
        )?)),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let p = organisation::project(&state.app, &v.ctx, id).await?;
    let mut page = form_page(
        &state,
        &v,
        FormErrors::default(),
        ProjectForm::from_project(&p),
        Some(id),
    )
    .await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<ProjectForm>,
) -> WebResult<Response> {
    match organisation::project_update(&state.app, &v.ctx, id, &f.input()).await {
        Ok(()) => Ok(list::saved(
            jar,
            "Project saved.",
            &format!("/admin/projects/{id}"),
        )),
        Err(e) => Ok(list::unprocessable(render(
            &form_page(&state, &v, FormErrors::from_app(e)?, f, Some(id)).await?,
        )?)),
    }
}
