//! Server-rendered pages.

pub mod account;
pub mod agencies;
pub mod agreements;
pub mod audit;
pub mod catalogues;
pub mod hmis_accounts;
pub mod learning;
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
    r.extend(learning::routes());
    r
}

pub async fn not_found() -> Response {
    WebError::App(AppError::NotFound).into_response()
}

/// Renders a template into a response.
pub fn render(t: &impl Template) -> WebResult<Html<String>> {
    Ok(Html(t.render()?))
}

/// "1 access request", "2 access requests".
pub fn count_of(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A step waiting for the viewer, as the home page lists it.
struct HomeStep {
    href: String,
    title: String,
    /// "for Rosa Delgado (Harbor House)", or empty on the viewer's own request.
    whose: String,
    /// "due 2026-03-14", "overdue since 2026-03-14", or empty.
    due: String,
    overdue: bool,
}

/// A request the viewer follows.
struct HomeRequest {
    href: String,
    person: String,
    agency: String,
    status: &'static str,
    /// "Waiting for: Agency contact (Confirm the training)"…
    waiting_on: Vec<String>,
}

/// One line of the queue's counts.
struct HomeCount {
    href: String,
    label: &'static str,
    count: String,
}

/// One step of the viewer's own request.
struct TrackerStep {
    title: String,
    status: &'static str,
    class: &'static str,
    who: String,
    mine: bool,
    due: String,
}

/// The viewer's own request, step by step.
struct OwnRequest {
    href: String,
    heading: String,
    status: &'static str,
    progress: String,
    steps: Vec<TrackerStep>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
    name: String,
    implementation: String,
    roles: String,
    cards: Vec<(&'static str, &'static str, &'static str)>,
    waiting: Vec<HomeStep>,
    waiting_more: String,
    following: Vec<HomeRequest>,
    following_more: String,
    following_summary: String,
    queue: Vec<HomeCount>,
    sla_breached: String,
    own: Vec<OwnRequest>,
    may_request: bool,
    reads_all: bool,
    /// Agency contact or executive director: they follow their agency's requests.
    follows_agency: bool,
    /// The viewer's own training plan, when they have one.
    plan: Option<learning::training::PlanLines>,
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn due_text(
    due: Option<chrono::DateTime<chrono::Utc>>,
    sla: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> (String, bool) {
    match (due, sla) {
        (Some(d), _) if d < now => (format!("overdue since {}", day(d)), true),
        (Some(d), _) => (format!("due {}", day(d)), false),
        (None, Some(s)) if s < now => (
            format!("past its SLA since {}", s.format("%Y-%m-%d %H:%M UTC")),
            true,
        ),
        (None, Some(s)) => (format!("SLA {}", s.format("%Y-%m-%d %H:%M UTC")), false),
        (None, None) => (String::new(), false),
    }
}

async fn home(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<impl IntoResponse> {
    use onramp_domain::process::StepStatus;
    let a = &v.ctx.actor;
    let implementation = v.session.implementation_name.clone();
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
    let h = onramp_app::home::home(&state.app, &v.ctx).await?;
    let now = state.app.now();
    let waiting = h
        .waiting
        .iter()
        .map(|w| {
            let (due, overdue) = due_text(w.due_at, w.sla_due_at, now);
            HomeStep {
                href: format!("/requests/{}", w.request_id),
                title: w.title.clone(),
                whose: if w.own {
                    String::new()
                } else {
                    format!("for {} ({})", w.person_name, w.agency_name)
                },
                due,
                overdue,
            }
        })
        .collect();
    let waiting_more = if h.waiting_total > h.waiting.len() {
        count_of(
            (h.waiting_total - h.waiting.len()) as i64,
            "more step waits for you",
            "more steps wait for you",
        )
    } else {
        String::new()
    };
    let following: Vec<HomeRequest> = h
        .following
        .iter()
        .map(|f| HomeRequest {
            href: format!("/requests/{}", f.request.id),
            person: f.request.person_name.clone(),
            agency: f.request.agency_name.clone(),
            status: onramp_domain::request::RequestStatus::parse(&f.request.status)
                .map(|s| s.label())
                .unwrap_or("Unknown"),
            waiting_on: f
                .open
                .iter()
                .map(|(title, who)| format!("{title} ({who})"))
                .collect(),
        })
        .collect();
    let following_more = if h.following_total > following.len() as i64 {
        count_of(
            h.following_total - following.len() as i64,
            "more request",
            "more requests",
        )
    } else {
        String::new()
    };
    let queue = h
        .queue
        .iter()
        .map(|q| HomeCount {
            href: format!("/requests?status={}", q.status.as_str()),
            label: q.status.label(),
            count: count_of(q.count, "request", "requests"),
        })
        .collect();
    let own = h
        .own
        .iter()
        .map(|r| OwnRequest {
            href: format!("/requests/{}", r.request_id),
            heading: format!("HMIS access at {}", r.agency_name),
            status: r.status.label(),
            progress: format!(
                "{} of {} done",
                r.progress.0,
                count_of(r.progress.1 as i64, "step", "steps")
            ),
            steps: r
                .steps
                .iter()
                .filter(|s| s.status != StepStatus::NotApplicable)
                .map(|s| TrackerStep {
                    title: s.def.title.clone(),
                    status: s.status.label(),
                    class: match s.status {
                        StepStatus::Done | StepStatus::Met => "ok",
                        StepStatus::Open => "warn",
                        _ => "",
                    },
                    who: if s.mine {
                        "You".into()
                    } else {
                        onramp_app::home::who_acts(&s.def)
                    },
                    mine: s.mine,
                    due: if s.status == StepStatus::Open {
                        due_text(s.row.due_at, None, now).0
                    } else {
                        String::new()
                    },
                })
                .collect(),
        })
        .collect();
    let follows_agency = !a.overseen_agencies().is_empty() && !a.may(Permission::ViewOrganisation);
    let plan = onramp_app::learning::plans::person_plan(&state.app, &v.ctx, a.person_id)
        .await?
        .map(|s| learning::training::plan_lines(&s, true));
    let (chrome, jar) = Chrome::for_viewer(&v, "Home", "/").with_flash(&jar);
    Ok((
        jar,
        render(&Home {
            chrome,
            name: a.display_name.clone(),
            implementation,
            roles: roles.join(", "),
            cards,
            waiting,
            waiting_more,
            following_summary: count_of(
                h.following_total,
                "open request at your agency",
                "open requests at your agency",
            ),
            following,
            following_more,
            queue,
            sla_breached: if h.sla_breached > 0 {
                count_of(h.sla_breached, "request is", "requests are")
            } else {
                String::new()
            },
            own,
            may_request: h.may_request,
            reads_all: a.may(Permission::ViewOrganisation),
            follows_agency,
            plan,
        })?,
    ))
}
