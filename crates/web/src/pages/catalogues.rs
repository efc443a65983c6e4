//! The implementation's catalogues, access levels and responsibilities: one set of pages
//! for both (list with search, filter, pages and CSV export; create and edit).

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
use onramp_app::organisation::{self, CatalogueInput};
use onramp_domain::authz::Permission;
use onramp_store::organisation::Catalogue;
use onramp_store::{CatalogueEntry, Page};
use serde::Deserialize;

/// What differs between the two catalogues: paths and words.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    cat: Catalogue,
    path: &'static str,
    csv_path: &'static str,
    new_path: &'static str,
    item_path: &'static str,
    csv_name: &'static str,
    /// "Access levels".
    plural: &'static str,
    /// "access level".
    singular: &'static str,
    hint: &'static str,
}

const ACCESS_LEVELS: Kind = Kind {
    cat: Catalogue::AccessLevels,
    path: "/admin/access-levels",
    csv_path: "/admin/access-levels.csv",
    new_path: "/admin/access-levels/new",
    item_path: "/admin/access-levels/{id}",
    csv_name: "access-levels.csv",
    plural: "Access levels",
    singular: "access level",
    hint: "The HMIS roles a person can be given, named as your HMIS vendor names them.",
};

const RESPONSIBILITIES: Kind = Kind {
    cat: Catalogue::Responsibilities,
    path: "/admin/responsibilities",
    csv_path: "/admin/responsibilities.csv",
    new_path: "/admin/responsibilities/new",
    item_path: "/admin/responsibilities/{id}",
    csv_name: "responsibilities.csv",
    plural: "Responsibilities",
    singular: "responsibility",
    hint: "What a person will do in the HMIS; training requirements can depend on them.",
};

pub fn routes() -> Vec<Route> {
    let mut r = kind_routes(ACCESS_LEVELS);
    r.extend(kind_routes(RESPONSIBILITIES));
    r
}

fn kind_routes(k: Kind) -> Vec<Route> {
    vec![
        Route::get(
            k.path,
            get(
                move |s: State<AppState>, v: Viewer, q: Query<ListQuery>, jar: CookieJar| {
                    list_page(k, s, v, q, jar)
                },
            ),
        ),
        Route::get(
            k.csv_path,
            get(move |s: State<AppState>, v: Viewer, q: Query<ListQuery>| export(k, s, v, q)),
        ),
        Route::get(k.new_path, get(move |v: Viewer| new_form(k, v))),
        Route::post(
            k.new_path,
            post(
                move |s: State<AppState>, v: Viewer, jar: CookieJar, f: CsrfForm<EntryForm>| {
                    create(k, s, v, jar, f)
                },
            ),
        ),
        Route::get(
            k.item_path,
            get(
                move |s: State<AppState>, v: Viewer, id: Path<i64>, jar: CookieJar| {
                    edit_form(k, s, v, id, jar)
                },
            ),
        ),
        Route::post(
            k.item_path,
            post(
                move |s: State<AppState>,
                      v: Viewer,
                      id: Path<i64>,
                      jar: CookieJar,
                      f: CsrfForm<EntryForm>| update(k, s, v, id, jar, f),
            ),
        ),
    ]
}

/// Filters of a catalogue list, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    show: String,
    page: Option<i64>,
}

impl ListQuery {
    fn base(&self, path: &str) -> String {
        list::query_base(path, &[("q", &self.q), ("show", &self.show)])
    }
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct ListPage {
    chrome: Chrome,
    kind: Kind,
    page: Page<CatalogueEntry>,
    q: ListQuery,
    base: String,
    csv: String,
    shows: Vec<SelectOption>,
    can_manage: bool,
}

async fn list_page(
    k: Kind,
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let search = list::search_text(&q.q);
    let page = organisation::catalogue(
        &state.app,
        &v.ctx,
        k.cat,
        search.as_deref(),
        list::show_filter(&q.show),
        list::page_request(q.page),
    )
    .await?;
    let (chrome, jar) = Chrome::for_viewer(&v, k.plural, k.path).with_flash(&jar);
    let base = q.base(k.path);
    let csv = q.base(k.csv_path);
    let can_manage = v.ctx.actor.may(Permission::ManageImplementation);
    Ok((
        jar,
        render(&ListPage {
            chrome,
            kind: k,
            page,
            q,
            base,
            csv,
            shows: list::show_options(),
            can_manage,
        })?,
    )
        .into_response())
}

async fn export(
    k: Kind,
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let search = list::search_text(&q.q);
    let csv = organisation::catalogue_csv(
        &state.app,
        &v.ctx,
        k.cat,
        search.as_deref(),
        list::show_filter(&q.show),
    )
    .await?;
    Ok(list::csv_download(k.csv_name, csv))
}

/// The entry form's fields as typed. The code is only read when creating.
#[derive(Debug, Default, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default, deserialize_with = "checkbox")]
    active: bool,
}

impl EntryForm {
    fn input(&self) -> CatalogueInput {
        CatalogueInput {
            code: self.code.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            active: self.active,
        }
    }
    fn from_entry(e: &CatalogueEntry) -> Self {
        Self {
            code: e.code.clone(),
            name: e.name.clone(),
            description: e.description.clone(),
            active: e.active,
        }
    }
}

#[derive(Template)]
#[template(path = "catalogue_form.html")]
struct FormPage {
    chrome: Chrome,
    kind: Kind,
    errors: FormErrors,
    form: EntryForm,
    /// None when creating.
    id: Option<i64>,
    can_manage: bool,
}

fn form_page(
    k: Kind,
    v: &Viewer,
    errors: FormErrors,
    form: EntryForm,
    id: Option<i64>,
) -> FormPage {
    let title = if id.is_some() {
        format!("Edit {}", k.singular)
    } else {
        format!("New {}", k.singular)
    };
    FormPage {
        chrome: Chrome::for_viewer(v, &title, k.path),
        kind: k,
        errors,
        form,
        id,
        can_manage: v.ctx.actor.may(Permission::ManageImplementation),
    }
}

async fn new_form(k: Kind, v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageImplementation)?;
    let form = EntryForm {
        active: true,
        ..Default::default()
    };
    Ok(render(&form_page(k, &v, FormErrors::default(), form, None))?.into_response())
}

async fn create(
    k: Kind,
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(mut f): CsrfForm<EntryForm>,
) -> WebResult<Response> {
    f.active = true;
    match organisation::catalogue_create(&state.app, &v.ctx, k.cat, &f.input()).await {
        Ok(id) => Ok(list::saved(jar, "Created.", &format!("{}/{id}", k.path))),
        Err(e) => Ok(list::unprocessable(render(&form_page(
            k,
            &v,
            FormErrors::from_app(e)?,
            f,
            None,
        ))?)),
    }
}

async fn edit_form(
    k: Kind,
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let e = organisation::catalogue_entry(&state.app, &v.ctx, k.cat, id).await?;
    let mut page = form_page(
        k,
        &v,
        FormErrors::default(),
        EntryForm::from_entry(&e),
        Some(id),
    );
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update(
    k: Kind,
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(mut f): CsrfForm<EntryForm>,
) -> WebResult<Response> {
    match organisation::catalogue_update(&state.app, &v.ctx, k.cat, id, &f.input()).await {
        Ok(()) => Ok(list::saved(jar, "Saved.", &format!("{}/{id}", k.path))),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            // The code cannot change: show the stored one, whatever the form claimed.
            f.code = organisation::catalogue_entry(&state.app, &v.ctx, k.cat, id)
                .await?
                .code;
            Ok(list::unprocessable(render(&form_page(
                k,
                &v,
                errors,
                f,
                Some(id),
            ))?))
        }
    }
}
