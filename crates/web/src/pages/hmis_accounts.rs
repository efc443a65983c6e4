//! HMIS accounts: the list with search, filters, pages and CSV export; each account's page
//! with its history and, for Lead staff, a status change with a note; and the webhook that
//! every status change is posted to.

use super::list::{self, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use onramp_app::provisioning::{self, AccountView};
use onramp_app::{organisation, AppError, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::hmis_account::HmisAccountStatus;
use onramp_store::hmis_accounts::HmisAccountFilter;
use onramp_store::organisation::{AgencyFilter, Catalogue};
use onramp_store::{HmisAccount, Page, PageRequest};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/hmis-accounts", get(list_page)),
        Route::get("/hmis-accounts.csv", get(export)),
        Route::get("/hmis-accounts/{id}", get(show)),
        Route::post("/hmis-accounts/{id}/status", post(set_status)),
        Route::get("/admin/webhook", get(webhook_page)),
        Route::post("/admin/webhook", post(save_webhook)),
    ]
}

/// The badge class of a status.
fn status_class(s: &str) -> &'static str {
    match HmisAccountStatus::parse(s) {
        Some(HmisAccountStatus::Active) => "ok",
        Some(HmisAccountStatus::Pending) => "warn",
        Some(HmisAccountStatus::Suspended) => "bad",
        _ => "muted",
    }
}

fn status_label(s: &str) -> String {
    HmisAccountStatus::parse(s)
        .map(|s| s.label().to_string())
        .unwrap_or_else(|| s.to_string())
}

/// Access levels by code, to show their names.
async fn access_level_names(state: &AppState, ctx: &Ctx) -> WebResult<HashMap<String, String>> {
    let levels = organisation::catalogue(
        &state.app,
        ctx,
        Catalogue::AccessLevels,
        None,
        None,
        PageRequest::ALL,
    )
    .await?;
    Ok(levels.items.into_iter().map(|l| (l.code, l.name)).collect())
}

// ---------------------------------------------------------------- list

/// Filters of the account list, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    agency: String,
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> HmisAccountFilter {
        HmisAccountFilter {
            status: HmisAccountStatus::parse(&self.status).map(|s| s.as_str().to_string()),
            agency_id: list::parse_id(&self.agency),
            only_agencies: None,
            search: list::search_text(&self.q),
        }
    }
    fn base(&self, path: &str) -> String {
        list::query_base(
            path,
            &[
                ("q", &self.q),
                ("status", &self.status),
                ("agency", &self.agency),
            ],
        )
    }
}

fn status_options(first: &str) -> Vec<SelectOption> {
    let mut out = vec![SelectOption::new("", first)];
    out.extend(
        HmisAccountStatus::ALL
            .iter()
            .map(|s| SelectOption::new(s.as_str(), s.label())),
    );
    out
}

/// One account in the list.
pub struct Row {
    pub a: HmisAccount,
    pub person_name: String,
    pub agency_name: String,
    pub access_level: String,
    pub status_label: String,
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "hmis_accounts.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<Row>,
    q: ListQuery,
    base: String,
    csv: String,
    statuses: Vec<SelectOption>,
    agencies: Vec<SelectOption>,
    show_agency_filter: bool,
}

async fn list_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let a = &v.ctx.actor;
    let page =
        provisioning::list(&state.app, &v.ctx, q.filter(), list::page_request(q.page)).await?;
    let agency_names: HashMap<i64, String> = organisation::agencies(
        &state.app,
        &v.ctx,
        AgencyFilter::default(),
        PageRequest::ALL,
    )
    .await?
    .items
    .into_iter()
    .map(|ag| (ag.id, ag.name))
    .collect();
    let levels = access_level_names(&state, &v.ctx).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    {
        let mut tx = state.app.store.read().await.map_err(AppError::from)?;
        for acc in page.items {
            let person_name = tx
                .person_by_id(acc.person_id)
                .await
                .map_err(AppError::from)?
                .display_name();
            rows.push(Row {
                person_name,
                agency_name: agency_names
                    .get(&acc.agency_id)
                    .cloned()
                    .unwrap_or_else(|| format!("Agency #{}", acc.agency_id)),
                access_level: levels
                    .get(&acc.access_level)
                    .cloned()
                    .unwrap_or_else(|| acc.access_level.clone()),
                status_label: status_label(&acc.status),
                status_class: status_class(&acc.status),
                a: acc,
            });
        }
    }
    let page = Page {
        items: rows,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    };
    let show_agency_filter = a.may(Permission::ViewOrganisation) || a.overseen_agencies().len() > 1;
    let agencies = if show_agency_filter {
        list::agency_options(&state, &v.ctx, Some(SelectOption::new("", "Any agency"))).await?
    } else {
        vec![]
    };
    let (chrome, jar) = Chrome::for_viewer(&v, "HMIS accounts", "/hmis-accounts").with_flash(&jar);
    let base = q.base("/hmis-accounts");
    let csv = q.base("/hmis-accounts.csv");
    let page = ListPage {
        chrome,
        page,
        q,
        base,
        csv,
        statuses: status_options("Any status"),
        agencies,
        show_agency_filter,
    };
    Ok((jar, render(&page)?).into_response())
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let csv = provisioning::csv(&state.app, &v.ctx, q.filter()).await?;
    Ok(list::csv_download("hmis-accounts.csv", csv))
}

// ---------------------------------------------------------------- one account

/// One line of the account's history.
pub struct EventRow {
    pub at: DateTime<Utc>,
    pub status_label: String,
    pub by: String,
    pub note: String,
}

/// The status form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "hmis_account.html")]
struct ShowPage {
    chrome: Chrome,
    errors: FormErrors,
    view: AccountView,
    status_label: String,
    status_class: &'static str,
    access_level: String,
    projects: Vec<String>,
    /// Whether the viewer may open the person's page.
    person_link: bool,
    events: Vec<EventRow>,
    /// Lead staff: the statuses this account may become (empty for anyone else).
    next_statuses: Vec<SelectOption>,
    form: StatusForm,
}

async fn show_page(
    state: &AppState,
    v: &Viewer,
    id: i64,
    errors: FormErrors,
    form: StatusForm,
) -> WebResult<ShowPage> {
    let view = provisioning::get(&state.app, &v.ctx, id).await?;
    let a = &v.ctx.actor;
    let imp = v.ctx.implementation_id();
    let levels = access_level_names(state, &v.ctx).await?;
    let (person_link, projects, events) = {
        let mut tx = state.app.store.read().await.map_err(AppError::from)?;
        let person = tx
            .person_by_id(view.account.person_id)
            .await
            .map_err(AppError::from)?;
        let person_link = a.may(Permission::ViewPerson {
            person_id: person.id,
            agency_id: person.agency_id,
        });
        let mut projects = Vec::new();
        for p in view
            .account
            .projects
            .split(',')
            .filter_map(|s| s.trim().parse::<i64>().ok())
        {
            projects.push(match tx.project_get(imp, p).await {
                Ok(pr) => pr.name,
                Err(_) => format!("Project #{p}"),
            });
        }
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut events = Vec::with_capacity(view.events.len());
        for e in &view.events {
            let by = match e.actor_id {
                None => "Onramp".to_string(),
                Some(pid) => match names.get(&pid) {
                    Some(n) => n.clone(),
                    None => {
                        let n = tx
                            .person_by_id(pid)
                            .await
                            .map(|p| p.display_name())
                            .unwrap_or_else(|_| format!("Person #{pid}"));
                        names.insert(pid, n.clone());
                        n
                    }
                },
            };
            events.push(EventRow {
                at: e.at,
                status_label: status_label(&e.status),
                by,
                note: e.note.clone(),
            });
        }
        (person_link, projects, events)
    };
    let next_statuses = match HmisAccountStatus::parse(&view.account.status) {
        Some(from) if a.may(Permission::WorkQueue) => HmisAccountStatus::ALL
            .iter()
            .filter(|to| from.may_become(**to))
            .map(|to| SelectOption::new(to.as_str(), to.label()))
            .collect(),
        _ => vec![],
    };
    let access_level = levels
        .get(&view.account.access_level)
        .cloned()
        .unwrap_or_else(|| view.account.access_level.clone());
    Ok(ShowPage {
        chrome: Chrome::for_viewer(
            v,
            &format!("HMIS account {}", view.account.username),
            "/hmis-accounts",
        ),
        errors,
        status_label: status_label(&view.account.status),
        status_class: status_class(&view.account.status),
        access_level,
        projects,
        person_link,
        events,
        next_statuses,
        form,
        view,
    })
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut page = show_page(&state, &v, id, FormErrors::default(), StatusForm::default()).await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn set_status(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> WebResult<Response> {
    match provisioning::set_status(&state.app, &v.ctx, id, &f.status, &f.note).await {
        Ok(()) => Ok(list::saved(
            jar,
            "The account's status is changed.",
            &format!("/hmis-accounts/{id}"),
        )),
        Err(e @ AppError::Invalid(_)) => Ok(list::unprocessable(render(
            &show_page(&state, &v, id, FormErrors::from_app(e)?, f).await?,
        )?)),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- webhook

/// The webhook form's fields as typed (named as the service names its errors).
#[derive(Debug, Default, Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    webhook_url: String,
    /// Only replaces the stored secret when filled; never shown.
    #[serde(default)]
    webhook_secret: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    errors: FormErrors,
    url: String,
    has_secret: bool,
    secret_label: &'static str,
    secret_hint: &'static str,
}

async fn webhook_form(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    url: Option<String>,
) -> WebResult<WebhookPage> {
    let (stored, has_secret) = provisioning::webhook_settings(&state.app, &v.ctx).await?;
    Ok(WebhookPage {
        chrome: Chrome::for_viewer(v, "Status change webhook", "/admin/settings"),
        errors,
        url: url.unwrap_or(stored),
        has_secret,
        secret_label: if has_secret { "New secret" } else { "Secret" },
        secret_hint: if has_secret {
            "A secret is set. Enter a new one (at least 16 characters) to replace it, or leave this empty to keep it."
        } else {
            "Required with an address. Enter one of at least 16 characters, and give it to the receiver so that it can check each delivery's signature."
        },
    })
}

async fn webhook_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut page = webhook_form(&state, &v, FormErrors::default(), None).await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn save_webhook(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<WebhookForm>,
) -> WebResult<Response> {
    match provisioning::set_webhook(&state.app, &v.ctx, &f.webhook_url, &f.webhook_secret).await {
        Ok(()) => Ok(list::saved(jar, "Webhook saved.", "/admin/webhook")),
        Err(e) => Ok(list::unprocessable(render(
            &webhook_form(&state, &v, FormErrors::from_app(e)?, Some(f.webhook_url)).await?,
        )?)),
    }
}
