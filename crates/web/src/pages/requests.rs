//! Access requests: the request form, each request's page with its step tracker, thread
//! and actions, the Lead's queue with bulk actions, the agency pipeline and the trainee's
//! own requests (one list, scoped by the service to what the viewer may see).

use super::list::{page_request, query_base, saved, search_text, unprocessable, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::{WebError, WebResult};
use crate::forms::{CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use onramp_app::access::{self, RequestInput, RequestView, StepAction, Submitted};
use onramp_app::{organisation, AppError};
use onramp_domain::authz::Permission;
use onramp_domain::process::StepKind;
use onramp_domain::request::{RequestMove, RequestStatus};
use onramp_domain::HudProjectType;
use onramp_store::access::RequestFilter;
use onramp_store::organisation::{Catalogue, ProjectFilter};
use onramp_store::{AccessRequestSummary, Page, PageRequest, Person};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/requests", get(list)),
        Route::post("/requests/bulk", post(bulk)),
        Route::get("/requests/new", get(new_form)),
        Route::post("/requests/new", post(submit)),
        Route::get("/requests/{id}", get(show)),
        Route::post("/requests/{id}/steps/{step}", post(act)),
        Route::post("/requests/{id}/status", post(change_status)),
        Route::post("/requests/{id}/agency-move", post(decide_move)),
        Route::post("/requests/{id}/messages", post(message)),
        Route::post("/requests/{id}/provision", post(provision)),
    ]
}

/// "3 h left", "overdue by 2 d": an SLA or deadline clock.
pub fn clock(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = due - now;
    let (word, d) = if d.num_seconds() < 0 {
        ("overdue by", -d)
    } else {
        ("", d)
    };
    let text = if d.num_days() >= 2 {
        format!("{} d", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} h", d.num_hours())
    } else {
        format!("{} min", d.num_minutes().max(1))
    };
    if word.is_empty() {
        format!("{text} left")
    } else {
        format!("{word} {text}")
    }
}

// ---------------------------------------------------------------- list and queue

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// "live" (open and on hold, the default), "all", or one status.
    #[serde(default)]
    status: String,
    #[serde(default)]
    agency: String,
    /// "sla" for requests past an SLA.
    #[serde(default)]
    sla: String,
    page: Option<i64>,
}

pub struct Row {
    pub r: AccessRequestSummary,
    pub status_label: &'static str,
    pub sla_clock: String,
    pub sla_overdue: bool,
    pub due_clock: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<Row>,
    q: ListQuery,
    base: String,
    statuses: Vec<SelectOption>,
    agencies: Vec<SelectOption>,
    heading: &'static str,
    may_request: bool,
    may_work: bool,
    show_agency_filter: bool,
}

async fn list(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let a = &v.ctx.actor;
    let statuses: Vec<String> = match q.status.as_str() {
        "all" => vec![],
        "" | "live" => RequestStatus::live_names(),
        s => RequestStatus::parse(s)
            .map(|s| vec![s.as_str().to_string()])
            .unwrap_or_default(),
    };
    let f = RequestFilter {
        statuses,
        agency_id: q.agency.trim().parse().ok(),
        search: search_text(&q.q),
        sla_breached: q.sla == "sla",
        ..Default::default()
    };
    let page = access::list(&state.app, &v.ctx, f, page_request(q.page)).await?;
    let now = state.app.now();
    let page = Page {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        items: page
            .items
            .into_iter()
            .map(|r| Row {
                status_label: RequestStatus::parse(&r.status)
                    .map(|s| s.label())
                    .unwrap_or("?"),
                sla_clock: r.next_sla_due_at.map(|d| clock(d, now)).unwrap_or_default(),
                sla_overdue: r.next_sla_due_at.is_some_and(|d| d < now),
                due_clock: r.next_due_at.map(|d| clock(d, now)).unwrap_or_default(),
                r,
            })
            .collect(),
    };
    let mut statuses = vec![
        SelectOption::new("live", "In progress, on hold or waiting for the Lead"),
        SelectOption::new("all", "Any status"),
    ];
    statuses.extend(
        RequestStatus::ALL
            .iter()
            .map(|s| SelectOption::new(s.as_str(), s.label())),
    );
    let show_agency_filter = a.may(Permission::ViewOrganisation) || a.overseen_agencies().len() > 1;
    let agencies = if show_agency_filter {
        super::list::agency_options(&state, &v.ctx, Some(SelectOption::new("", "Any agency")))
            .await?
    } else {
        vec![]
    };
    let heading = if a.may(Permission::WorkQueue) {
        "Access request queue"
    } else if !a.overseen_agencies().is_empty() {
        "Your agency's access requests"
    } else if a.may(Permission::ViewOrganisation) {
        "Access requests"
    } else {
        "My HMIS access"
    };
    let base = query_base(
        "/requests",
        &[
            ("q", &q.q),
            ("status", &q.status),
            ("agency", &q.agency),
            ("sla", &q.sla),
        ],
    );
    let may_request = a.is_lead_staff()
        || a.overseen_agencies()
            .iter()
            .any(|ag| a.agency_contact_of(*ag));
    let (chrome, jar) = Chrome::for_viewer(&v, heading, "/requests").with_flash(&jar);
    let page = ListPage {
        chrome,
        page,
        q,
        base,
        statuses,
        agencies,
        heading,
        may_request,
        may_work: a.may(Permission::WorkQueue),
        show_agency_filter,
    };
    Ok((jar, render(&page)?).into_response())
}

/// Bulk actions on selected requests of the queue.
async fn bulk(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    v.ctx.require(Permission::WorkQueue)?;
    let get = |k: &str| crate::forms::field(&pairs, k);
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    if ids.is_empty() {
        return Ok(saved(
            jar,
            "Select at least one request first.",
            "/requests",
        ));
    }
    let action = get("action");
    let reason = get("reason");
    let mut done = 0;
    let mut problems = Vec::new();
    for id in &ids {
        let r = match action.as_str() {
            "approve" => approve_review(&state, &v, *id).await,
            "hold" => {
                access::change_status(&state.app, &v.ctx, *id, RequestMove::Hold, &reason).await
            }
            "resume" => {
                access::change_status(&state.app, &v.ctx, *id, RequestMove::Resume, &reason).await
            }
            _ => {
                return Ok(saved(
                    jar,
                    "Choose what to do with the selected requests.",
                    "/requests",
                ))
            }
        };
        match r {
            Ok(()) => done += 1,
            Err(AppError::Invalid(v)) => problems.push(format!(
                "#{id}: {}",
                v.into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            Err(AppError::Conflict(m)) => problems.push(format!("#{id}: {m}")),
            Err(e) => return Err(e.into()),
        }
    }
    let mut msg = format!("{done} of {} requests updated.", ids.len());
    if !problems.is_empty() {
        msg.push_str(&format!(" Not changed: {}", problems.join(" ")));
    }
    Ok(saved(jar, &msg, "/requests"))
}

/// Approves the open Lead review of a request.
async fn approve_review(state: &AppState, v: &Viewer, id: i64) -> Result<(), AppError> {
    let view = access::view(&state.app, &v.ctx, id).await?;
    let step = view
        .steps
        .iter()
        .find(|s| s.def.kind == StepKind::LeadReview && s.mine)
        .ok_or_else(|| AppError::Conflict("no Lead review is waiting".into()))?;
    access::act(&state.app, &v.ctx, id, &step.def.key, StepAction::Approve).await
}

// ---------------------------------------------------------------- the request form

#[derive(Debug, Default, Clone)]
pub struct Form {
    given_name: String,
    family_name: String,
    email: String,
    agency_id: String,
    access_level: String,
    responsibilities: Vec<String>,
    projects: Vec<String>,
    new_or_returning: String,
    note: String,
    process: String,
    confirm_person: String,
}

impl Form {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| crate::forms::field(pairs, k);
        let many = |k: &str| crate::forms::repeated(pairs, k);
        Self {
            given_name: one("given_name"),
            family_name: one("family_name"),
            email: one("email"),
            agency_id: one("agency_id"),
            access_level: one("access_level"),
            responsibilities: many("responsibilities"),
            projects: many("projects"),
            new_or_returning: one("new_or_returning"),
            note: one("note"),
            process: one("process"),
            confirm_person: one("confirm_person"),
        }
    }
    fn input(&self) -> RequestInput {
        RequestInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            email: self.email.clone(),
            agency_id: self.agency_id.clone(),
            access_level: self.access_level.clone(),
            responsibilities: self.responsibilities.clone(),
            projects: self.projects.clone(),
            new_or_returning: self.new_or_returning.clone(),
            note: self.note.clone(),
            confirm_person: self.confirm_person.clone(),
            process: self.process.clone(),
        }
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub hint: String,
    pub checked: bool,
}

pub struct ProjectGroup {
    pub agency: String,
    pub projects: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "request_form.html")]
struct FormPage {
    chrome: Chrome,
    errors: FormErrors,
    form: Form,
    agencies: Vec<SelectOption>,
    levels: Vec<SelectOption>,
    responsibilities: Vec<Choice>,
    project_groups: Vec<ProjectGroup>,
    processes: Vec<SelectOption>,
    candidates: Vec<Person>,
}

async fn form_page(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    form: Form,
    candidates: Vec<Person>,
) -> WebResult<FormPage> {
    let a = &v.ctx.actor;
    let all =
        organisation::agencies(&state.app, &v.ctx, Default::default(), PageRequest::ALL).await?;
    let mut agencies = vec![SelectOption::new("", "Choose an agency")];
    let mut allowed = Vec::new();
    for ag in all.items.into_iter().filter(|ag| {
        ag.active
            && ag.participation_status == "participating"
            && a.may(Permission::RequestAccessFor(ag.id))
    }) {
        allowed.push((ag.id, ag.name.clone()));
        agencies.push(SelectOption::new(ag.id.to_string(), ag.name));
    }
    let levels_page = organisation::catalogue(
        &state.app,
        &v.ctx,
        Catalogue::AccessLevels,
        None,
        Some(true),
        PageRequest::ALL,
    )
    .await?;
    let mut levels = vec![SelectOption::new("", "Choose an access level")];
    levels.extend(
        levels_page
            .items
            .into_iter()
            .map(|l| SelectOption::new(l.code, l.name)),
    );
    let resp = organisation::catalogue(
        &state.app,
        &v.ctx,
        Catalogue::Responsibilities,
        None,
        Some(true),
        PageRequest::ALL,
    )
    .await?;
    let responsibilities = resp
        .items
        .into_iter()
        .map(|r| Choice {
            checked: form.responsibilities.contains(&r.code),
            value: r.code,
            label: r.name,
            hint: r.description,
        })
        .collect();
    let mut project_groups = Vec::new();
    for (id, name) in allowed {
        let ps = organisation::projects(
            &state.app,
            &v.ctx,
            ProjectFilter {
                agency_id: Some(id),
                active: Some(true),
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await?;
        project_groups.push(ProjectGroup {
            agency: name,
            projects: ps
                .items
                .into_iter()
                .map(|p| Choice {
                    checked: form.projects.contains(&p.id.to_string()),
                    value: p.id.to_string(),
                    label: p.name,
                    hint: HudProjectType::from_code(p.hud_project_type)
                        .map(|t| t.label())
                        .unwrap_or("")
                        .to_string(),
                })
                .collect(),
        });
    }
    let processes = if a.may(Permission::WorkQueue) {
        let mut out = vec![SelectOption::new(
            "",
            "The implementation's default process",
        )];
        out.extend(
            onramp_app::processes::list(&state.app, &v.ctx)
                .await?
                .into_iter()
                .map(|t| SelectOption::new(t.latest.key.clone(), t.latest.name.clone())),
        );
        out
    } else {
        vec![]
    };
    Ok(FormPage {
        chrome: Chrome::for_viewer(v, "Request HMIS access", "/requests"),
        errors,
        form,
        agencies,
        levels,
        responsibilities,
        project_groups,
        processes,
        candidates,
    })
}

async fn new_form(State(state): State<AppState>, v: Viewer) -> WebResult<Response> {
    let page = form_page(&state, &v, FormErrors::default(), Form::default(), vec![]).await?;
    if page.agencies.len() < 2 {
        return Err(WebError::App(AppError::Forbidden));
    }
    Ok(render(&page)?.into_response())
}

async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let form = Form::from_pairs(&pairs);
    match access::submit(&state.app, &v.ctx, &form.input()).await {
        Ok(Submitted::Created(id)) => Ok(saved(
            jar,
            "The request is submitted.",
            &format!("/requests/{id}"),
        )),
        Ok(Submitted::AwaitingMove(id)) => Ok(saved(
            jar,
            "The request is saved, and waits for the HMIS Lead: this person is already known to Onramp outside the agency, and Lead staff decide whether they move to it. The steps start once they approve; you will be emailed either way.",
            &format!("/requests/{id}"),
        )),
        Ok(Submitted::ConfirmPerson(candidates)) => {
            let errors = FormErrors(vec![onramp_domain::FieldError::new(
                "confirm_person",
                "Someone with this name is already known: say whether it is the same person",
            )]);
            Ok(unprocessable(render(
                &form_page(&state, &v, errors, form, candidates).await?,
            )?))
        }
        Err(AppError::Conflict(m)) => {
            let errors = FormErrors(vec![onramp_domain::FieldError::new("email", m)]);
            Ok(unprocessable(render(
                &form_page(&state, &v, errors, form, vec![]).await?,
            )?))
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            Ok(unprocessable(render(
                &form_page(&state, &v, errors, form, vec![]).await?,
            )?))
        }
    }
}

// ---------------------------------------------------------------- one request

pub struct StepRow {
    pub s: access::StepView,
    pub number: usize,
    pub kind_label: &'static str,
    pub actor_label: &'static str,
    pub status_class: &'static str,
    pub due_clock: String,
    pub sla_clock: String,
}

#[derive(Template)]
#[template(path = "request.html")]
struct ShowPage {
    chrome: Chrome,
    errors: FormErrors,
    r: RequestView,
    steps: Vec<StepRow>,
    status_label: &'static str,
    responsibilities: String,
    access_level: String,
    percent: usize,
    today: String,
    provisioning_open: bool,
    proposed_username: String,
    can_hold: bool,
    can_resume: bool,
    can_reject: bool,
    can_reopen: bool,
    /// The request waits for Lead staff to decide on the person's agency change.
    awaiting_move: bool,
    /// Lead staff: the agency the person is in now ("no agency" for none).
    move_from: Option<String>,
}

async fn show_page(
    state: &AppState,
    v: &Viewer,
    id: i64,
    errors: FormErrors,
) -> WebResult<ShowPage> {
    let r = access::view(&state.app, &v.ctx, id).await?;
    let now = state.app.now();
    let steps: Vec<StepRow> = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepRow {
            number: i + 1,
            kind_label: s.def.kind.label(),
            actor_label: s.def.actor.label(),
            status_class: match s.status {
                onramp_domain::process::StepStatus::Done
                | onramp_domain::process::StepStatus::Met => "ok",
                onramp_domain::process::StepStatus::Open => "warn",
                _ => "muted",
            },
            due_clock: if s.status == onramp_domain::process::StepStatus::Open {
                s.row.due_at.map(|d| clock(d, now)).unwrap_or_default()
            } else {
                String::new()
            },
            sla_clock: if s.status == onramp_domain::process::StepStatus::Open {
                s.row.sla_due_at.map(|d| clock(d, now)).unwrap_or_default()
            } else {
                String::new()
            },
            s: s.clone(),
        })
        .collect();
    let levels = organisation::catalogue(
        &state.app,
        &v.ctx,
        Catalogue::AccessLevels,
        None,
        None,
        PageRequest::ALL,
    )
    .await?;
    let access_level = levels
        .items
        .iter()
        .find(|l| l.code == r.request.access_level)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| r.request.access_level.clone());
    let resp = organisation::catalogue(
        &state.app,
        &v.ctx,
        Catalogue::Responsibilities,
        None,
        None,
        PageRequest::ALL,
    )
    .await?;
    let responsibilities = r
        .request
        .responsibilities
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|c| {
            resp.items
                .iter()
                .find(|x| x.code == c)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| c.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let percent = (r.progress.0 * 100)
        .checked_div(r.progress.1)
        .unwrap_or(100);
    let provisioning_open = r.may_work
        && r.status == RequestStatus::Open
        && r.steps.iter().any(|s| {
            s.def.kind == StepKind::AccountProvisioning
                && s.status == onramp_domain::process::StepStatus::Open
        });
    let proposed_username = r
        .hmis_account
        .as_ref()
        .map(|a| a.username.clone())
        .unwrap_or_default();
    let st = r.status;
    let awaiting_move = st == RequestStatus::AwaitingMove;
    let move_from = if awaiting_move && v.ctx.actor.may(Permission::WorkQueue) {
        Some(
            r.person
                .agency_name
                .clone()
                .unwrap_or_else(|| "no agency".into()),
        )
    } else {
        None
    };
    Ok(ShowPage {
        awaiting_move,
        move_from,
        chrome: Chrome::for_viewer(v, &format!("Request #{id}"), "/requests"),
        errors,
        status_label: st.label(),
        responsibilities,
        access_level,
        percent,
        today: now.format("%Y-%m-%d").to_string(),
        provisioning_open,
        proposed_username,
        can_hold: r.may_work && st == RequestStatus::Open,
        can_resume: r.may_work && st == RequestStatus::OnHold,
        can_reject: r.may_work && st.is_live(),
        can_reopen: r.may_work
            && matches!(
                st,
                RequestStatus::Withdrawn | RequestStatus::Rejected | RequestStatus::Expired
            ),
        steps,
        r,
    })
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut page = show_page(&state, &v, id, FormErrors::default()).await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

/// Shows the request again with errors tied to the form that failed.
async fn again(state: &AppState, v: &Viewer, id: i64, e: AppError) -> WebResult<Response> {
    let errors = match e {
        AppError::Conflict(m) => FormErrors(vec![onramp_domain::FieldError::new("action", m)]),
        other => FormErrors::from_app(other)?,
    };
    Ok(unprocessable(render(
        &show_page(state, v, id, errors).await?,
    )?))
}

#[derive(Debug, Default, Deserialize)]
struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    background_check_on: String,
    #[serde(default)]
    note: String,
}

async fn act(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(i64, String)>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<ActForm>,
) -> WebResult<Response> {
    let action = match f.action.as_str() {
        "approve" => StepAction::Approve,
        "reject" => StepAction::Reject { reason: f.reason },
        "attest" => StepAction::Attest {
            background_check_on: f.background_check_on,
        },
        "done" => StepAction::Done { note: f.note },
        "met" => StepAction::RecordMet { reason: f.reason },
        _ => return Err(WebError::BadRequest("Unknown action".into())),
    };
    match access::act(&state.app, &v.ctx, id, &step, action).await {
        Ok(()) => Ok(saved(jar, "Saved.", &format!("/requests/{id}"))),
        Err(AppError::Invalid(errors)) => {
            // Several step forms share field names: tie each error to the form that was sent.
            let errors = errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("{}-{step}", f.action);
                    e
                })
                .collect();
            again(&state, &v, id, AppError::Invalid(errors)).await
        }
        Err(e @ AppError::Conflict(_)) => again(&state, &v, id, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn change_status(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> WebResult<Response> {
    let m = match f.to.as_str() {
        "hold" => RequestMove::Hold,
        "resume" => RequestMove::Resume,
        "withdraw" => RequestMove::Withdraw,
        "reject" => RequestMove::Reject,
        "reopen" => RequestMove::Reopen,
        _ => return Err(WebError::BadRequest("Unknown change".into())),
    };
    match access::change_status(&state.app, &v.ctx, id, m, &f.reason).await {
        Ok(()) => Ok(saved(
            jar,
            "The request is updated.",
            &format!("/requests/{id}"),
        )),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => again(&state, &v, id, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MoveForm {
    /// "approve" or "refuse".
    #[serde(default)]
    decision: String,
    #[serde(default)]
    move_reason: String,
}

/// Lead staff approve or refuse the agency change a request waits for.
async fn decide_move(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> WebResult<Response> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(WebError::BadRequest("Unknown decision".into())),
    };
    match access::decide_move(&state.app, &v.ctx, id, approve, &f.move_reason).await {
        Ok(()) => Ok(saved(
            jar,
            if approve {
                "The person moves to the request's agency, and the request goes on."
            } else {
                "The agency change is refused: the request is closed with your reason."
            },
            &format!("/requests/{id}"),
        )),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => again(&state, &v, id, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

async fn message(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<MessageForm>,
) -> WebResult<Response> {
    match access::post_message(&state.app, &v.ctx, id, &f.body).await {
        Ok(_) => Ok(saved(
            jar,
            "Message sent.",
            &format!("/requests/{id}#thread"),
        )),
        Err(e @ AppError::Invalid(_)) => again(&state, &v, id, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ProvisionForm {
    #[serde(default)]
    username: String,
}

async fn provision(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<ProvisionForm>,
) -> WebResult<Response> {
    match onramp_app::provisioning::record_created(&state.app, &v.ctx, id, &f.username).await {
        Ok(()) => Ok(saved(
            jar,
            "The HMIS account is recorded and the login information email is queued.",
            &format!("/requests/{id}"),
        )),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => again(&state, &v, id, e).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::clock;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn clocks_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(clock(now + Duration::hours(5), now), "5 h left");
        assert_eq!(clock(now + Duration::days(3), now), "3 d left");
        assert_eq!(clock(now - Duration::hours(30), now), "overdue by 30 h");
        assert_eq!(clock(now + Duration::seconds(10), now), "1 min left");
    }
}
