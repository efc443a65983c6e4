//! Training reports: per-course completion for Lead staff (`/reports/training`, a table and
//! a server-drawn bar chart), and an agency's staff with their plans for its overseers
//! (`/admin/agencies/{id}/training`).

use super::training::percent;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::pages::list::SelectOption;
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use onramp_app::learning::reports::{self, CourseCompletionLine};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/reports/training", get(completion)),
        Route::get("/admin/agencies/{id}/training", get(staff)),
    ]
}

/// One course's row of the report.
struct CourseRow {
    title: String,
    href: String,
    retired: bool,
    people: i64,
    completed: i64,
    in_progress: i64,
    not_started: i64,
    percent: u32,
}

/// One bar of the chart, laid out: the completed part, then the part in progress.
struct Bar {
    y: u32,
    text_y: u32,
    label: String,
    done_width: u32,
    progress_x: u32,
    progress_width: u32,
    value: String,
}

/// The chart's geometry, in SVG user units.
const LABEL_WIDTH: u32 = 300;
const BAR_WIDTH: u32 = 360;
const ROW: u32 = 28;
const LABEL_CHARS: usize = 42;

fn bars(lines: &[CourseCompletionLine]) -> Vec<Bar> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let share = |n: i64| {
                if l.people == 0 {
                    0
                } else {
                    ((n as f64 / l.people as f64) * f64::from(BAR_WIDTH)).round() as u32
                }
            };
            let done_width = share(l.completed);
            let y = u32::try_from(i).unwrap_or(u32::MAX).saturating_mul(ROW);
            let mut label: String = l.course.title.chars().take(LABEL_CHARS).collect();
            if l.course.title.chars().count() > LABEL_CHARS {
                label.push('…');
            }
            Bar {
                y: y + 6,
                text_y: y + 20,
                label,
                done_width,
                progress_x: LABEL_WIDTH + done_width,
                progress_width: share(l.in_progress),
                value: format!("{}%", percent(l.completed_share())),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "learning/report.html")]
struct ReportPage {
    chrome: Chrome,
    scope: String,
    agencies: Vec<SelectOption>,
    agency: String,
    rows: Vec<CourseRow>,
    bars: Vec<Bar>,
    chart_height: u32,
    label_width: u32,
    bar_width: u32,
    chart_width: u32,
    /// Course titles link to the course writers' pages.
    may_open_courses: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    agency: String,
}

async fn completion(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ReportQuery>,
) -> WebResult<Response> {
    let agency_id = match q.agency.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| {
            onramp_app::AppError::field("agency", "Choose an agency from the list")
        })?),
    };
    let r = reports::course_completion(&state.app, &v.ctx, agency_id).await?;
    let mut agencies = vec![SelectOption::new("", "Every agency")];
    agencies.extend(
        r.agencies
            .iter()
            .map(|a| SelectOption::new(a.id.to_string(), a.name.clone())),
    );
    let rows = r
        .lines
        .iter()
        .map(|l| CourseRow {
            title: l.course.title.clone(),
            href: format!("/courses/{}", l.course.id),
            retired: l.course.retired_at.is_some(),
            people: l.people,
            completed: l.completed,
            in_progress: l.in_progress,
            not_started: l.not_started,
            percent: percent(l.completed_share()),
        })
        .collect();
    let bars = bars(&r.lines);
    let n = u32::try_from(r.lines.len()).unwrap_or(u32::MAX);
    Ok(render(&ReportPage {
        chrome: Chrome::for_viewer(&v, "Training completion", "/reports/training"),
        scope: r
            .agency
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "every agency".into()),
        agency: r.agency.map(|a| a.id.to_string()).unwrap_or_default(),
        agencies,
        rows,
        bars,
        chart_height: n.saturating_mul(ROW) + 8,
        label_width: LABEL_WIDTH,
        bar_width: BAR_WIDTH,
        chart_width: LABEL_WIDTH + BAR_WIDTH + 60,
        may_open_courses: v
            .ctx
            .actor
            .may(onramp_domain::authz::Permission::ManageCourses),
    })?
    .into_response())
}

// ---------------------------------------------------------------- an agency's staff

struct StaffRow {
    name: String,
    href: String,
    email: String,
    active: bool,
    has_plan: bool,
    percent: u32,
    status: &'static str,
    class: &'static str,
    next: String,
    restricted: usize,
}

#[derive(Template)]
#[template(path = "learning/staff_plans.html")]
struct StaffPage {
    chrome: Chrome,
    agency_id: i64,
    agency: String,
    rows: Vec<StaffRow>,
    with_plans: usize,
    complete: usize,
}

async fn staff(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let s = reports::staff_plans(&state.app, &v.ctx, id).await?;
    let rows: Vec<StaffRow> = s
        .people
        .iter()
        .map(|p| {
            let (status, class) = match &p.plan {
                None => ("No plan yet", "muted"),
                Some(x) if x.complete => ("Complete", "ok"),
                Some(x) if x.share > 0.0 => ("In progress", "warn"),
                Some(_) => ("Not started", ""),
            };
            StaffRow {
                name: p.name.clone(),
                href: format!("/admin/people/{}/training", p.person_id),
                email: p.email.clone(),
                active: p.active,
                has_plan: p.plan.is_some(),
                percent: p
                    .plan
                    .as_ref()
                    .map(|x| percent(if x.complete { 1.0 } else { x.share }))
                    .unwrap_or(0),
                status,
                class,
                next: p
                    .plan
                    .as_ref()
                    .and_then(|x| x.next.clone())
                    .unwrap_or_default(),
                restricted: p.plan.as_ref().map(|x| x.restricted).unwrap_or(0),
            }
        })
        .collect();
    Ok(render(&StaffPage {
        chrome: Chrome::for_viewer(
            &v,
            &format!("Training of {} staff", s.agency.name),
            "/admin/agencies",
        ),
        agency_id: s.agency.id,
        agency: s.agency.name.clone(),
        with_plans: rows.iter().filter(|r| r.has_plan).count(),
        complete: rows.iter().filter(|r| r.status == "Complete").count(),
        rows,
    })?
    .into_response())
}
