//! Training reports: per-course completion for the HMIS Lead, and an agency's staff and
//! where each stands with their plan, for its administrators.

use super::plans::state_in;
use crate::{App, AppError, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::Permission;
use onramp_store::learning::courses::Course;
use onramp_store::organisation::AgencyFilter;
use onramp_store::people::PeopleFilter;
use onramp_store::reads::*;
use onramp_store::{Agency, PageRequest};

/// One course's line of the completion report.
#[derive(Debug, Clone)]
pub struct CourseCompletionLine {
    pub course: Course,
    /// Enrolled, or with a completion record for the course.
    pub people: i64,
    pub completed: i64,
    pub in_progress: i64,
    /// Enrolled and not started.
    pub not_started: i64,
}

impl CourseCompletionLine {
    /// The share of its people who completed it (0 when it concerns nobody).
    pub fn completed_share(&self) -> f64 {
        if self.people == 0 {
            0.0
        } else {
            self.completed as f64 / self.people as f64
        }
    }
}

/// Per-course completion, for the whole implementation or one agency's people.
#[derive(Debug, Clone)]
pub struct CompletionReport {
    pub lines: Vec<CourseCompletionLine>,
    /// The agency the figures are limited to.
    pub agency: Option<Agency>,
    /// The agencies the report may be limited to.
    pub agencies: Vec<Agency>,
}

/// Per-course completion (readers of training reports: Lead staff, proctors, auditors).
/// Retired courses are left out unless someone is enrolled in them.
pub async fn course_completion(
    app: &App,
    ctx: &Ctx,
    agency_id: Option<i64>,
) -> AppResult<CompletionReport> {
    ctx.require(Permission::ViewTrainingReports)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let agency = match agency_id {
        Some(a) => Some(
            tx.agency_get(imp, a)
                .await
                .map_err(|_| AppError::field("agency", "Choose an agency from the list"))?,
        ),
        None => None,
    };
    let counts = tx.course_progress_counts(imp, agency_id).await?;
    let mut lines: Vec<CourseCompletionLine> = tx
        .courses(imp)
        .await?
        .into_iter()
        .filter_map(|course| {
            let c = counts.iter().find(|c| c.course_id == course.id);
            let people = c.map(|c| c.people).unwrap_or(0);
            if course.retired_at.is_some() && people == 0 {
                return None;
            }
            let completed = c.map(|c| c.completed).unwrap_or(0);
            let in_progress = c.map(|c| c.in_progress).unwrap_or(0);
            Some(CourseCompletionLine {
                people,
                completed,
                in_progress,
                not_started: (people - completed - in_progress).max(0),
                course,
            })
        })
        .collect();
    lines.sort_by(|a, b| a.course.title.cmp(&b.course.title));
    let agencies = tx
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::ALL)
        .await?
        .items;
    Ok(CompletionReport {
        lines,
        agency,
        agencies,
    })
}

/// One staff member of an agency and where their plan stands.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffPlanLine {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub active: bool,
    /// None: no plan yet (no accepted access request).
    pub plan: Option<StaffPlanSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffPlanSummary {
    pub version: i32,
    pub share: f64,
    pub complete: bool,
    /// What to do next, in words.
    pub next: Option<String>,
    /// How many items are restricted (waiting for a prerequisite).
    pub restricted: usize,
    pub computed_at: DateTime<Utc>,
}

/// An agency's staff with their plans.
#[derive(Debug, Clone)]
pub struct StaffPlans {
    pub agency: Agency,
    pub people: Vec<StaffPlanLine>,
}

/// An agency's staff and their plans: for the agency's administrators, executive directors
/// and supervisors, and Lead staff.
pub async fn staff_plans(app: &App, ctx: &Ctx, agency_id: i64) -> AppResult<StaffPlans> {
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let agency = tx.agency_get(imp, agency_id).await?;
    ctx.require(Permission::ViewAgency(agency.id))?;
    let staff = tx
        .people_list(
            imp,
            &PeopleFilter {
                agency_id: Some(agency.id),
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await?
        .items;
    let mut people = Vec::with_capacity(staff.len());
    for p in staff {
        let plan = state_in(&mut tx, p.id).await?.map(|s| {
            let restricted = s
                .view
                .groups
                .iter()
                .flat_map(|g| g.items.iter())
                .filter(|i| {
                    matches!(
                        i.status,
                        onramp_domain::learning::plan::ItemStatus::Restricted { .. }
                    )
                })
                .count();
            StaffPlanSummary {
                version: s.plan.version,
                share: s.view.share(&[]),
                complete: s.view.has_groups(&[]) && s.view.is_complete(&[]),
                next: s.view.next().map(|n| s.title_of(&n.item)),
                restricted,
                computed_at: s.plan.computed_at,
            }
        });
        people.push(StaffPlanLine {
            person_id: p.id,
            name: format!("{} {}", p.given_name, p.family_name),
            email: p.email.clone(),
            active: p.active,
            plan,
        });
    }
    Ok(StaffPlans { agency, people })
}
