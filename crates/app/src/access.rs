//! Access requests: from an agency's request to live HMIS credentials, through the steps
//! of the implementation's process template.

use crate::audit::record;
use crate::error::Problems;
use crate::{mail, notices, processes, App, AppError, AppResult, Ctx};
use chrono::Duration;
use onramp_domain::authz::{Actor, Permission};
use onramp_domain::process::{
    self, DeadlineFrom, ProcessTemplate, RequestFacts, StepActor, StepDef, StepKind, StepStatus,
};
use onramp_domain::request::{RequestMove, RequestStatus};
use onramp_domain::values::required_text;
use onramp_domain::{AgencyRole, Email, ImplementationRole};
use onramp_store::access::{NewAccessRequest, RequestFilter};
use onramp_store::people::PersonFields;
use onramp_store::reads::*;
use onramp_store::Reads;
use onramp_store::{
    AccessRequest, AccessRequestSummary, Page, PageRequest, Person, RequestMessage, RequestStep,
    StoreError, Tx,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// What an agency contact fills in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestInput {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub agency_id: String,
    pub access_level: String,
    #[serde(default)]
    pub responsibilities: Vec<String>,
    #[serde(default)]
    pub projects: Vec<String>,
    /// "new", "returning", or empty when unsure.
    #[serde(default)]
    pub new_or_returning: String,
    #[serde(default)]
    pub note: String,
    /// After a name match: the id of the person confirmed to be the same, or "new".
    #[serde(default)]
    pub confirm_person: String,
    /// Lead staff may choose another process than the default (its key).
    #[serde(default)]
    pub process: String,
}

/// The result of a submission.
#[derive(Debug)]
pub enum Submitted {
    Created(i64),
    /// Saved, but the person belongs outside the request's agency: nothing happens until Lead
    /// staff decide whether they move to it ([`decide_move`]).
    AwaitingMove(i64),
    /// Someone the submitter may see has this name under another email: is it them?
    ConfirmPerson(Vec<Person>),
}

/// What the requester is told while a request waits for an agency change.
pub const AWAITING_MOVE_REASON: &str = "This person is already known to Onramp outside this agency. The HMIS Lead decides whether they move to it: once Lead staff approve, the steps start and the person hears from Onramp; if they refuse, the request is closed with their reason. The requester is emailed either way.";

struct Parsed {
    given: String,
    family: String,
    email: Email,
    agency_id: i64,
    access_level: String,
    responsibilities: Vec<String>,
    projects: Vec<i64>,
    claimed_returning: Option<bool>,
    note: String,
}

async fn parse(tx: &mut Tx, ctx: &Ctx, input: &RequestInput) -> AppResult<Parsed> {
    let imp = ctx.implementation_id();
    let mut p = Problems::default();
    let given = p.check(required_text(
        "given_name",
        "the person's given name",
        &input.given_name,
        100,
    ));
    let family = p.check(required_text(
        "family_name",
        "the person's family name",
        &input.family_name,
        100,
    ));
    let email = p.check_str("email", Email::parse(&input.email));
    let note = input.note.trim().chars().take(4000).collect::<String>();
    let mut agency_id = None;
    match input.agency_id.trim().parse::<i64>() {
        Ok(id) => match tx.agency_get(imp, id).await {
            Ok(a) if !ctx.actor.may(Permission::RequestAccessFor(a.id)) => {
                return Err(AppError::Forbidden)
            }
            Ok(a) if !a.active || a.participation_status != "participating" => {
                p.push(
                    "agency_id",
                    format!(
                        "{} does not participate in the HMIS ({}): ask the HMIS Lead",
                        a.name, a.participation_status
                    ),
                );
            }
            Ok(a) => agency_id = Some(a.id),
            Err(StoreError::NotFound) => p.push("agency_id", "Choose an agency"),
            Err(e) => return Err(e.into()),
        },
        Err(_) => p.push("agency_id", "Choose an agency"),
    }
    let levels = tx
        .catalogue_list(
            onramp_store::organisation::Catalogue::AccessLevels,
            imp,
            None,
            Some(true),
            PageRequest::ALL,
        )
        .await?
        .items;
    let access_level = input.access_level.trim().to_string();
    if !levels.iter().any(|l| l.code == access_level) {
        p.push("access_level", "Choose the access level the person needs");
    }
    let resp = tx
        .catalogue_list(
            onramp_store::organisation::Catalogue::Responsibilities,
            imp,
            None,
            Some(true),
            PageRequest::ALL,
        )
        .await?
        .items;
    let mut responsibilities = Vec::new();
    for r in &input.responsibilities {
        let r = r.trim();
        if r.is_empty() {
            continue;
        }
        if resp.iter().any(|x| x.code == r) {
            if !responsibilities.iter().any(|x: &String| x == r) {
                responsibilities.push(r.to_string());
            }
        } else {
            p.push(
                "responsibilities",
                format!("{r:?} is not a responsibility of this implementation"),
            );
        }
    }
    let mut projects = Vec::new();
    for raw in input
        .projects
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let Ok(id) = raw.parse::<i64>() else {
            p.push("projects", "Choose projects from the list");
            continue;
        };
        match tx.project_get(imp, id).await {
            Ok(pr) if Some(pr.agency_id) == agency_id && pr.active => {
                if !projects.contains(&id) {
                    projects.push(id);
                }
            }
            Ok(pr) => p.push(
                "projects",
                format!("{} is not an active project of this agency", pr.name),
            ),
            Err(StoreError::NotFound) => p.push("projects", "Choose projects from the list"),
            Err(e) => return Err(e.into()),
        }
    }
    if projects.is_empty() && agency_id.is_some() {
        p.push(
            "projects",
            "Choose at least one project the person will work in",
        );
    }
    let claimed_returning = match input.new_or_returning.trim() {
        "new" => Some(false),
        "returning" => Some(true),
        "" => None,
        _ => {
            p.push("new_or_returning", "Choose new or returning");
            None
        }
    };
    p.into_result()?;
    match (given, family, email, agency_id) {
        (Some(given), Some(family), Some(email), Some(agency_id)) => Ok(Parsed {
            given,
            family,
            email,
            agency_id,
            access_level,
            responsibilities,
            projects,
            claimed_returning,
            note,
        }),
        _ => Err(AppError::Internal("unreachable".into())),
    }
}

/// Submits an access request. Finds a returning person by email, then by name (asking the
/// submitter to confirm), refuses a duplicate of a request in progress, and sets up the
/// steps of the process (carrying over recent training of a returning person).
pub async fn submit(app: &App, ctx: &Ctx, input: &RequestInput) -> AppResult<Submitted> {
    let mut tx = app.store.begin().await?;
    let v = parse(&mut tx, ctx, input).await?;
    let imp = ctx.implementation_id();
    let now = app.now();

    // Who is this?
    let mut person = tx.person_by_email(imp, v.email.as_str()).await?;
    if person.is_none() {
        // Only people the submitter may see are offered, and may be confirmed.
        let named = people_named_for(&mut tx, ctx, &v.given, &v.family).await?;
        let confirm = input.confirm_person.trim();
        if confirm.is_empty() {
            if !named.is_empty() {
                return Ok(Submitted::ConfirmPerson(named));
            }
        } else if confirm != "new" {
            let listed = confirm
                .parse::<i64>()
                .ok()
                .and_then(|id| named.into_iter().find(|n| n.id == id));
            match listed {
                Some(p) => person = Some(p),
                None => {
                    return Err(AppError::field(
                        "confirm_person",
                        "Choose one of the people listed, or say it is a different person",
                    ))
                }
            }
        }
    }
    let earlier_requests = match &person {
        Some(p) => tx.requests_of_person(p.id).await?,
        None => Vec::new(),
    };
    let history_exists = match &person {
        Some(p) => {
            !earlier_requests.is_empty()
                || !tx.training_records_of(p.id).await?.is_empty()
                || !tx.hmis_accounts_of_person(p.id).await?.is_empty()
        }
        None => false,
    };
    let returning = history_exists || v.claimed_returning == Some(true) && person.is_some();
    let mut awaiting_move = false;
    let person_id = match &person {
        Some(p) => {
            if let Some(live) = earlier_requests
                .iter()
                .find(|r| RequestStatus::parse(&r.status).is_some_and(|s| s.is_live()))
            {
                return Err(AppError::Conflict(if may_view(&ctx.actor, live) {
                    format!(
                        "{} already has an access request in progress (request #{}).",
                        p.display_name(),
                        live.id
                    )
                } else {
                    format!(
                        "{} already has an access request in progress with another agency: ask the HMIS Lead.",
                        p.display_name()
                    )
                }));
            }
            if !p.active {
                return Err(AppError::Conflict(format!(
                    "{} is deactivated in Onramp: ask the HMIS Lead to reactivate them first.",
                    p.display_name()
                )));
            }
            if p.agency_id != Some(v.agency_id) {
                if crate::people::holding_of(&mut tx, p.id)
                    .await?
                    .is_implementation_staff()
                {
                    return Err(AppError::field(
                        "email",
                        "This address belongs to a member of the HMIS Lead's staff, who are never moved into an agency. Use the person's own agency email, or ask the HMIS Lead.",
                    ));
                }
                if ctx.actor.may(Permission::WorkQueue) {
                    // Lead staff decide agency changes: theirs happens at once.
                    move_person(&mut tx, app, ctx, p, v.agency_id, None).await?;
                } else {
                    awaiting_move = true;
                }
            }
            p.id
        }
        None => {
            let fields = PersonFields {
                given_name: &v.given,
                family_name: &v.family,
                email: v.email.as_str(),
                agency_id: Some(v.agency_id),
            };
            let id = tx
                .person_create(imp, &fields, now)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => {
                        AppError::field("email", "Someone already uses this email address")
                    }
                    other => other.into(),
                })?;
            record(&mut tx, app, ctx, "person.create", "person", Some(id), json!({"after": {"given_name": v.given, "family_name": v.family, "email": v.email.as_str(), "agency_id": v.agency_id}, "via": "access request"})).await?;
            id
        }
    };

    // Which process?
    let template_row = if !input.process.trim().is_empty() && ctx.actor.may(Permission::WorkQueue) {
        processes::latest_by_key(&mut tx, imp, input.process.trim())
            .await?
            .ok_or_else(|| AppError::field("process", "Choose a process"))?
    } else {
        processes::default_template(&mut tx, imp)
            .await?
            .ok_or_else(|| {
                AppError::Conflict("The HMIS Lead has not set up an onboarding process yet.".into())
            })?
    };
    let template = processes::load(&mut tx, imp, template_row.id).await?;

    let request_id = tx
        .request_create(
            &NewAccessRequest {
                implementation_id: imp,
                person_id,
                agency_id: v.agency_id,
                requested_by: ctx.actor.person_id,
                template_id: template_row.id,
                is_returning: returning,
                access_level: &v.access_level,
                responsibilities: &v.responsibilities.join(","),
                note: &v.note,
            },
            now,
        )
        .await?;
    tx.request_projects_set(request_id, &v.projects).await?;
    if awaiting_move {
        tx.request_set_status(
            request_id,
            RequestStatus::AwaitingMove.as_str(),
            AWAITING_MOVE_REASON,
            now,
            None,
        )
        .await?;
    }
    record(&mut tx, app, ctx, "access_request.submit", "access_request", Some(request_id), json!({
        "person_id": person_id, "agency_id": v.agency_id, "access_level": v.access_level, "responsibilities": v.responsibilities,
        "projects": v.projects, "returning": returning, "process": template.key, "process_version": template_row.version,
        "awaiting_move": awaiting_move,
    })).await?;
    let request = tx.request_get(imp, request_id).await?;
    // Tell the requester.
    let person = tx.person_by_id(person_id).await?;
    let agency = tx.agency_get(imp, v.agency_id).await?;
    let implementation = tx.implementation_get(imp).await?.name;
    let link = request_link(app, request_id);
    if let Some(requester_email) = tx.account_get(ctx.actor.person_id).await?.map(|a| a.email) {
        let requester = tx.person_by_id(ctx.actor.person_id).await?;
        mail::queue(
            &mut tx,
            app,
            imp,
            &requester_email,
            "request_received",
            &[
                ("name", &requester.given_name),
                ("person", &person.display_name()),
                ("agency", &agency.name),
                ("implementation", &implementation),
                ("request_link", &link),
            ],
        )
        .await?;
    }
    if awaiting_move {
        // Lead staff decide; the person hears nothing until then.
        for (_, email, name) in tx
            .implementation_role_holders(
                imp,
                &[
                    ImplementationRole::LeadAdmin.as_str(),
                    ImplementationRole::TrainingCoordinator.as_str(),
                ],
            )
            .await?
        {
            mail::queue(
                &mut tx,
                app,
                imp,
                &email,
                "agency_move_requested",
                &[
                    ("name", &name),
                    ("person", &person.display_name()),
                    ("agency", &agency.name),
                    ("requester", &ctx.actor.display_name),
                    ("implementation", &implementation),
                    ("request_link", &link),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Submitted::AwaitingMove(request_id));
    }
    set_up_steps(&mut tx, app, ctx, &request, &template).await?;
    tx.commit().await?;
    Ok(Submitted::Created(request_id))
}

/// People with this name whom the actor may see (their own agencies' staff, or everyone
/// for Lead staff and readers), for spotting a returning person.
async fn people_named_for(
    tx: &mut Tx,
    ctx: &Ctx,
    given: &str,
    family: &str,
) -> AppResult<Vec<Person>> {
    Ok(tx
        .people_named(ctx.implementation_id(), given, family)
        .await?
        .into_iter()
        .filter(|p| {
            ctx.actor.may(Permission::ViewPerson {
                person_id: p.id,
                agency_id: p.agency_id,
            })
        })
        .collect())
}

/// Moves a person to an agency, as Lead staff decided (for a request, when given). They keep
/// their history; the roles they held in the agency they leave end with the move.
async fn move_person(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person: &Person,
    agency_id: i64,
    request_id: Option<i64>,
) -> AppResult<()> {
    let mut roles_ended = Vec::new();
    if let Some(old) = person.agency_id {
        for (a, role) in tx.agency_roles_of(person.id).await? {
            if a == old {
                tx.agency_role_set(person.id, a, &role, false).await?;
                roles_ended.push(role);
            }
        }
    }
    tx.person_set_agency(person.id, Some(agency_id), app.now())
        .await?;
    record(
        tx,
        app,
        ctx,
        "person.agency_change",
        "person",
        Some(person.id),
        json!({"before": {"agency_id": person.agency_id}, "after": {"agency_id": agency_id}, "roles_ended": roles_ended, "request_id": request_id}),
    )
    .await
}

/// Sets up a request's steps from its process (carrying over a returning person's recent
/// training) and moves it on.
async fn set_up_steps(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
) -> AppResult<()> {
    let now = app.now();
    let facts = facts_of(tx, request).await?;
    // Carry over a returning person's recent training.
    let mut settled: BTreeMap<String, StepStatus> = BTreeMap::new();
    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    // With requirement rules, a training-plan step carries over item by item, through the
    // plan; without them the step itself is the unit of training.
    let per_item = crate::learning::plans::rules_in(tx, request.implementation_id)
        .await?
        .1
        > 0;
    if request.is_returning {
        let records = tx.training_records_of(request.person_id).await?;
        let since = now - Duration::days(i64::from(template.carry_over_days));
        for s in template
            .steps
            .iter()
            // Training-plan steps carry over item by item, through the plan.
            .filter(|s| {
                s.kind.is_training()
                    && !(per_item && s.kind == StepKind::TrainingPlanComplete)
                    && s.applies.matches(&facts)
            })
        {
            if let Some(r) = records
                .iter()
                .find(|r| r.kind == s.kind.as_str() && r.completed_at >= since)
            {
                settled.insert(s.key.clone(), StepStatus::Met);
                notes.insert(
                    s.key.clone(),
                    format!(
                        "Carried over: completed {}{}",
                        r.completed_at.format("%Y-%m-%d"),
                        r.request_id
                            .map(|id| format!(" on request #{id}"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
    }
    for (i, s) in template.steps.iter().enumerate() {
        tx.request_step_insert(&RequestStep {
            request_id: request.id,
            step_key: s.key.clone(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            // Carried-over steps start met; advance() opens the rest.
            status: settled
                .get(&s.key)
                .copied()
                .unwrap_or(StepStatus::Waiting)
                .as_str()
                .into(),
            opened_at: None,
            done_at: settled.contains_key(&s.key).then_some(now),
            done_by: None,
            note: notes.get(&s.key).cloned().unwrap_or_default(),
            due_at: None,
            sla_due_at: None,
            sla_breached_at: None,
            warned_at: None,
            reminded_at: None,
        })
        .await?;
    }
    record(
        tx,
        app,
        ctx,
        "access_request.steps_set_up",
        "access_request",
        Some(request.id),
        json!({"process": template.key, "carried_over": settled.keys().collect::<Vec<_>>()}),
    )
    .await?;
    advance(tx, app, ctx, request, template).await
}

/// Lead staff's decision on a request waiting for an agency change: approved, the person
/// moves to the request's agency (audited) and the request goes on with its steps; refused,
/// the request is closed as rejected with the reason, and nothing else changes.
pub async fn decide_move(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    approve: bool,
    reason: &str,
) -> AppResult<()> {
    ctx.require(Permission::WorkQueue)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.begin().await?;
    let request = tx.request_get(imp, request_id).await?;
    let from = RequestStatus::parse(&request.status);
    if from != Some(RequestStatus::AwaitingMove) {
        return Err(AppError::Conflict(
            "This request is not waiting for an agency change.".into(),
        ));
    }
    if !approve {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::field(
                "move_reason",
                "Give a reason: the agency will see it",
            ));
        }
        drop(tx);
        return change_status(
            app,
            ctx,
            request_id,
            RequestMove::Reject,
            &format!("Agency change refused: {reason}"),
        )
        .await;
    }
    let person = tx.person_by_id(request.person_id).await?;
    if !person.active {
        return Err(AppError::Conflict(format!(
            "{} is deactivated in Onramp: reactivate them first, or refuse the change.",
            person.display_name()
        )));
    }
    if crate::people::holding_of(&mut tx, person.id)
        .await?
        .is_implementation_staff()
    {
        return Err(AppError::Conflict(format!(
            "{} is implementation staff, who are never moved into an agency: refuse the change.",
            person.display_name()
        )));
    }
    if person.agency_id != Some(request.agency_id) {
        move_person(
            &mut tx,
            app,
            ctx,
            &person,
            request.agency_id,
            Some(request_id),
        )
        .await?;
    }
    let now = app.now();
    let to = RequestStatus::AwaitingMove
        .apply(RequestMove::ApproveMove)
        .map_err(AppError::Conflict)?;
    tx.request_set_status(request_id, to.as_str(), "", now, None)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "access_request.move_approved",
        "access_request",
        Some(request_id),
        json!({"person_id": person.id, "before": {"agency_id": person.agency_id}, "after": {"agency_id": request.agency_id}}),
    )
    .await?;
    let template = processes::load(&mut tx, imp, request.template_id).await?;
    let fresh = tx.request_get(imp, request_id).await?;
    if tx.request_steps(request_id).await?.is_empty() {
        set_up_steps(&mut tx, app, ctx, &fresh, &template).await?;
    } else {
        advance(&mut tx, app, ctx, &fresh, &template).await?;
    }
    notify_contacts(&mut tx, app, &fresh, "agency_move_approved", &[]).await?;
    tx.commit().await?;
    Ok(())
}

pub fn request_link(app: &App, request_id: i64) -> String {
    format!("{}/requests/{request_id}", app.config.base_url)
}

/// Recomputes a request's steps after a change: opens steps whose prerequisites are
/// settled (setting their deadline and SLA) and tells whoever must act on each (the person's
/// first step comes with their welcome), and completes the request when every step is
/// settled.
pub async fn advance(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
) -> AppResult<()> {
    let now = app.now();
    let facts = facts_of(tx, request).await?;
    let mut steps = tx.request_steps(request.id).await?;
    let settled: BTreeMap<String, StepStatus> = steps
        .iter()
        .filter_map(|s| {
            StepStatus::parse(&s.status)
                .filter(|st| matches!(st, StepStatus::Done | StepStatus::Met))
                .map(|st| (s.step_key.clone(), st))
        })
        .collect();
    let statuses = process::step_statuses(template, &facts, &settled);
    for (key, status) in &statuses {
        let Some(row) = steps.iter_mut().find(|s| &s.step_key == key) else {
            continue;
        };
        let Some(def) = template.step(key) else {
            continue;
        };
        let before = StepStatus::parse(&row.status);
        if before == Some(*status) {
            continue;
        }
        row.status = status.as_str().into();
        if *status == StepStatus::Open && row.opened_at.is_none() {
            row.opened_at = Some(now);
            row.sla_due_at = def.sla_hours.map(|h| now + Duration::hours(i64::from(h)));
        }
        if *status == StepStatus::Open || *status == StepStatus::Waiting {
            row.due_at = def.deadline.as_ref().map(|d| {
                let from = match d.from {
                    DeadlineFrom::RequestStart => request.submitted_at,
                    DeadlineFrom::StepOpen => row.opened_at.unwrap_or(now),
                };
                from + Duration::days(i64::from(d.days))
            });
            if *status == StepStatus::Waiting
                && def
                    .deadline
                    .as_ref()
                    .is_some_and(|d| d.from == DeadlineFrom::StepOpen)
            {
                row.due_at = None;
            }
        }
        tx.request_step_save(row).await?;
        if *status == StepStatus::Open {
            on_step_opened(tx, app, ctx, request, template, def).await?;
        }
    }
    // A training step completes by itself once its part of the person's plan is complete.
    for (key, status) in &statuses {
        let Some(def) = template.step(key) else {
            continue;
        };
        if *status != StepStatus::Open || def.kind != StepKind::TrainingPlanComplete {
            continue;
        }
        if crate::learning::plans::step_complete_in(tx, request.person_id, &def.plan_parts).await? {
            let def = def.clone();
            return Box::pin(settle(
                tx,
                app,
                ctx,
                request,
                template,
                &def,
                StepStatus::Done,
                "Training plan complete",
                json!({"how": "training plan complete", "parts": def.plan_parts}),
            ))
            .await;
        }
    }
    if process::all_settled(&statuses)
        && RequestStatus::parse(&request.status) == Some(RequestStatus::Open)
    {
        tx.request_set_status(
            request.id,
            RequestStatus::Completed.as_str(),
            "",
            now,
            Some(now),
        )
        .await?;
        record(
            tx,
            app,
            ctx,
            "access_request.complete",
            "access_request",
            Some(request.id),
            json!({}),
        )
        .await?;
        notify_completion(tx, app, request).await?;
    } else {
        tx.request_touch(request.id, now).await?;
    }
    Ok(())
}

/// What a step's opening sets in motion: a pending HMIS account for provisioning, and an
/// email to whoever must act (once per opening).
async fn on_step_opened(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
) -> AppResult<()> {
    if def.kind == StepKind::AccountProvisioning {
        crate::provisioning::propose(tx, app, ctx, request).await?;
    }
    if def.kind == StepKind::TrainingPlanComplete {
        crate::learning::plans::ensure_plan_in(tx, app, ctx, request, template).await?;
    }
    if RequestStatus::parse(&request.status) == Some(RequestStatus::Open) {
        let fresh = tx
            .request_get(request.implementation_id, request.id)
            .await?;
        notices::announce(tx, app, &fresh, template, def).await?;
    }
    Ok(())
}

async fn notify_completion(tx: &mut Tx, app: &App, request: &AccessRequest) -> AppResult<()> {
    let person = tx.person_by_id(request.person_id).await?;
    let implementation = tx.implementation_get(request.implementation_id).await?.name;
    let link = request_link(app, request.id);
    let mut recipients = vec![(person.email.clone(), person.given_name.clone())];
    for (_, email, name) in tx
        .agency_role_holders(
            request.agency_id,
            &[
                AgencyRole::AgencyAdministrator.as_str(),
                AgencyRole::Supervisor.as_str(),
            ],
        )
        .await?
    {
        if !recipients.iter().any(|(e, _)| *e == email) {
            recipients.push((email, name));
        }
    }
    for (email, name) in recipients {
        mail::queue(
            tx,
            app,
            request.implementation_id,
            &email,
            "training_completion",
            &[
                ("name", &name),
                ("person", &person.display_name()),
                ("implementation", &implementation),
                ("request_link", &link),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn facts_of(tx: &mut Tx, request: &AccessRequest) -> AppResult<RequestFacts> {
    let mut project_types = Vec::new();
    for p in tx.request_projects(request.id).await? {
        project_types.push(
            tx.project_get(request.implementation_id, p)
                .await?
                .hud_project_type,
        );
    }
    Ok(RequestFacts {
        access_level: request.access_level.clone(),
        responsibilities: request
            .responsibilities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        project_types,
        returning: request.is_returning,
    })
}

/// Whether the actor may act on a step with this actor kind for this request. The agency's
/// acts (its contacts', supervisors' and executive director's) are theirs alone: Lead staff
/// step in only by recording a checklist or training step as met, with a reason. Proctors'
/// reviews may also be done by Lead staff, who train and proctor in many implementations.
pub fn may_act(actor: &Actor, request: &AccessRequest, who: StepActor) -> bool {
    let a = request.agency_id;
    match who {
        StepActor::Lead => actor.is_lead_staff(),
        StepActor::AgencyContact | StepActor::Supervisor => actor.agency_contact_of(a),
        StepActor::Trainee => actor.person_id == request.person_id,
        StepActor::ExecutiveDirector => actor.has_agency_role(a, AgencyRole::ExecutiveDirector),
        StepActor::Proctor => actor.is_lead_staff() || actor.has(ImplementationRole::Proctor),
        // Signing has its own turn order; see the agreements service.
        StepActor::Signers => false,
    }
}

/// Whether the actor may do what a step of this kind asks: its actor's act, except that a
/// staff verification is always the agency's attestation (its supervisors and
/// administrators) and a practice exercise is always approved by a proctor, whatever
/// actor an older template named.
pub fn may_act_on(actor: &Actor, request: &AccessRequest, def: &StepDef) -> bool {
    match def.kind {
        StepKind::StaffVerification => may_act(actor, request, StepActor::Supervisor),
        StepKind::PracticeExerciseApproved => may_act(actor, request, StepActor::Proctor),
        StepKind::AgreementSigning => false,
        _ => may_act(actor, request, def.actor),
    }
}

/// Who may see a request: Lead staff and readers, the agency's contacts and director, the person.
fn may_view(actor: &Actor, request: &AccessRequest) -> bool {
    actor.person_id == request.person_id || actor.may(Permission::ViewRequestsOf(request.agency_id))
}

/// What someone does to an open step.
#[derive(Debug, Clone)]
pub enum StepAction {
    /// Lead review: approve. Practice exercise: the proctor approves it.
    Approve,
    /// Lead review: reject the request, with a reason.
    Reject { reason: String },
    /// Staff verification: the background check passed on this date (YYYY-MM-DD).
    Attest { background_check_on: String },
    /// A checklist item or first sign-in: done.
    Done { note: String },
    /// Training done elsewhere: a Lead coordinator records the requirement as met.
    RecordMet { reason: String },
}

/// Acts on an open step of a request.
pub async fn act(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    step_key: &str,
    action: StepAction,
) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    if RequestStatus::parse(&request.status) != Some(RequestStatus::Open) {
        return Err(AppError::Conflict(
            "This request is not in progress: reopen or resume it first.".into(),
        ));
    }
    let template = processes::load(&mut tx, imp, request.template_id).await?;
    let def = template.step(step_key).ok_or(AppError::NotFound)?.clone();
    let step = tx
        .request_steps(request_id)
        .await?
        .into_iter()
        .find(|s| s.step_key == step_key)
        .ok_or(AppError::NotFound)?;
    if StepStatus::parse(&step.status) != Some(StepStatus::Open) {
        return Err(AppError::Conflict(format!(
            "\u{201c}{}\u{201d} is not waiting for anyone now.",
            def.title
        )));
    }
    let (status, note, summary) = match (&action, def.kind) {
        (StepAction::Approve, StepKind::LeadReview) => {
            if !may_act_on(&ctx.actor, &request, &def) {
                return Err(AppError::Forbidden);
            }
            // An accepted request gets its training plan.
            crate::learning::plans::ensure_plan_in(&mut tx, app, ctx, &request, &template).await?;
            (
                StepStatus::Done,
                "Approved".to_string(),
                json!({"decision": "approved"}),
            )
        }
        (StepAction::Approve, StepKind::PracticeExerciseApproved) => {
            if !may_act_on(&ctx.actor, &request, &def) {
                return Err(AppError::Forbidden);
            }
            (
                StepStatus::Done,
                format!("Practice exercise approved by {}", ctx.actor.display_name),
                json!({"decision": "approved"}),
            )
        }
        (StepAction::Reject { reason }, StepKind::LeadReview) => {
            if !may_act_on(&ctx.actor, &request, &def) {
                return Err(AppError::Forbidden);
            }
            drop(tx);
            return change_status(app, ctx, request_id, RequestMove::Reject, reason).await;
        }
        (
            StepAction::Attest {
                background_check_on,
            },
            StepKind::StaffVerification,
        ) => {
            if !may_act_on(&ctx.actor, &request, &def) {
                return Err(AppError::Forbidden);
            }
            let date = chrono::NaiveDate::parse_from_str(background_check_on.trim(), "%Y-%m-%d")
                .map_err(|_| {
                    AppError::field(
                        "background_check_on",
                        "Enter the date the background check passed, as YYYY-MM-DD",
                    )
                })?;
            if date > app.now().date_naive() {
                return Err(AppError::field(
                    "background_check_on",
                    "The background check date cannot be in the future",
                ));
            }
            tx.staff_verification_add(
                request_id,
                request.person_id,
                ctx.actor.person_id,
                date,
                app.now(),
            )
            .await?;
            (
                StepStatus::Done,
                format!(
                    "Background check passed on {date}, attested by {}",
                    ctx.actor.display_name
                ),
                json!({"background_check_on": date}),
            )
        }
        (StepAction::Done { note }, StepKind::Checklist | StepKind::FirstSignInConfirmed) => {
            if !may_act_on(&ctx.actor, &request, &def) {
                return Err(AppError::Forbidden);
            }
            if def.kind == StepKind::FirstSignInConfirmed {
                crate::provisioning::record_first_sign_in(&mut tx, app, ctx, &request).await?;
            }
            (
                StepStatus::Done,
                note.trim().chars().take(1000).collect(),
                json!({"note": note.trim()}),
            )
        }
        (StepAction::RecordMet { reason }, kind) if kind.may_be_recorded_as_met() => {
            if !ctx.actor.is_lead_staff() {
                return Err(AppError::Forbidden);
            }
            let reason = required_text(
                "reason",
                "a reason (e.g. where the training was done)",
                reason,
                1000,
            )
            .map_err(|e| AppError::Invalid(vec![e]))?;
            if kind == StepKind::TrainingPlanComplete {
                // Training done elsewhere completes the plan's items this step waits for,
                // each with the reason and who recorded it.
                crate::learning::plans::ensure_plan_in(&mut tx, app, ctx, &request, &template)
                    .await?;
                crate::learning::plans::record_met_in(
                    &mut tx,
                    app,
                    ctx,
                    request.person_id,
                    &def.plan_parts,
                    &reason,
                )
                .await?;
            }
            (
                StepStatus::Met,
                format!("Recorded as met by {}: {reason}", ctx.actor.display_name),
                json!({"reason": reason}),
            )
        }
        (StepAction::Done { .. }, StepKind::AccountProvisioning) => {
            return Err(AppError::Conflict(
                "Record the HMIS account on the provisioning task instead.".into(),
            ));
        }
        (StepAction::Done { .. }, StepKind::AgreementSigning) => {
            return Err(AppError::Conflict(
                "An agreement step is done when every signer has signed.".into(),
            ));
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "That cannot be done on \u{201c}{}\u{201d}.",
                def.title
            )))
        }
    };
    settle(
        &mut tx, app, ctx, &request, &template, &def, status, &note, summary,
    )
    .await?;
    if def.kind == StepKind::LeadReview {
        notify_contacts(&mut tx, app, &request, "request_approved", &[]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks a step settled, keeps training history, audits, and moves the request on.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn settle(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
    status: StepStatus,
    note: &str,
    summary: serde_json::Value,
) -> AppResult<()> {
    let now = app.now();
    let mut step = tx
        .request_steps(request.id)
        .await?
        .into_iter()
        .find(|s| s.step_key == def.key)
        .ok_or(AppError::NotFound)?;
    step.status = status.as_str().into();
    step.done_at = Some(now);
    step.done_by = Some(ctx.actor.person_id);
    step.note = note.to_string();
    tx.request_step_save(&step).await?;
    if def.kind.is_training() {
        let how = if status == StepStatus::Met {
            "recorded_as_met"
        } else {
            "done"
        };
        tx.training_record_add(
            request.person_id,
            def.kind.as_str(),
            &def.key,
            Some(request.id),
            now,
            how,
            note,
        )
        .await?;
    }
    record(
        tx,
        app,
        ctx,
        &format!("access_request.step_{}", status.as_str()),
        "access_request",
        Some(request.id),
        json!({"step": def.key, "kind": def.kind.as_str(), "detail": summary}),
    )
    .await?;
    let fresh = tx
        .request_get(request.implementation_id, request.id)
        .await?;
    advance(tx, app, ctx, &fresh, template).await
}

/// Emails the request's agency contacts (and the requester) with a template.
async fn notify_contacts(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    key: &str,
    extra: &[(&str, &str)],
) -> AppResult<()> {
    let person = tx.person_by_id(request.person_id).await?;
    let agency = tx
        .agency_get(request.implementation_id, request.agency_id)
        .await?;
    let implementation = tx.implementation_get(request.implementation_id).await?.name;
    let link = request_link(app, request.id);
    let mut recipients: Vec<(String, String)> = Vec::new();
    let requester = tx.person_by_id(request.requested_by).await?;
    recipients.push((requester.email.clone(), requester.given_name.clone()));
    for (_, email, name) in tx
        .agency_role_holders(
            request.agency_id,
            &[AgencyRole::AgencyAdministrator.as_str()],
        )
        .await?
    {
        if !recipients.iter().any(|(e, _)| *e == email) {
            recipients.push((email, name));
        }
    }
    let person_name = person.display_name();
    for (email, name) in recipients {
        let mut vars: Vec<(&str, &str)> = vec![
            ("name", &name),
            ("person", &person_name),
            ("agency", &agency.name),
            ("implementation", &implementation),
            ("request_link", &link),
        ];
        vars.extend_from_slice(extra);
        mail::queue(tx, app, request.implementation_id, &email, key, &vars).await?;
    }
    Ok(())
}

/// Holds, resumes, withdraws, rejects or reopens a request.
pub async fn change_status(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    m: RequestMove,
    reason: &str,
) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    let allowed = match m {
        RequestMove::Withdraw => {
            ctx.actor.is_lead_staff() || ctx.actor.agency_contact_of(request.agency_id)
        }
        RequestMove::Hold | RequestMove::Resume | RequestMove::Reject | RequestMove::Reopen => {
            ctx.actor.may(Permission::WorkQueue)
        }
        // An agency change is decided with decide_move.
        RequestMove::Complete | RequestMove::Expire | RequestMove::ApproveMove => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let from = RequestStatus::parse(&request.status).ok_or_else(|| {
        AppError::Internal(format!(
            "request {request_id} has status {:?}",
            request.status
        ))
    })?;
    let mut to = from.apply(m).map_err(AppError::Conflict)?;
    if m == RequestMove::Reopen
        && tx.person_by_id(request.person_id).await?.agency_id != Some(request.agency_id)
    {
        // Refused (or closed) before the person moved: the agency change is decided again.
        to = RequestStatus::AwaitingMove;
    }
    let reason = reason.trim().chars().take(2000).collect::<String>();
    if matches!(m, RequestMove::Reject | RequestMove::Hold) && reason.is_empty() {
        return Err(AppError::field(
            "reason",
            "Give a reason: the agency will see it",
        ));
    }
    if m == RequestMove::Reopen {
        // Nothing entered is lost: the person cannot have two live requests.
        if tx
            .requests_of_person(request.person_id)
            .await?
            .iter()
            .any(|r| {
                r.id != request.id && RequestStatus::parse(&r.status).is_some_and(|s| s.is_live())
            })
        {
            return Err(AppError::Conflict(
                "This person has another request in progress.".into(),
            ));
        }
    }
    let now = app.now();
    let closed = if to.is_live() { None } else { Some(now) };
    let reason = if to == RequestStatus::AwaitingMove && reason.is_empty() {
        AWAITING_MOVE_REASON.to_string()
    } else {
        reason
    };
    tx.request_set_status(request_id, to.as_str(), &reason, now, closed)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        &format!("access_request.{}", to.as_str()),
        "access_request",
        Some(request_id),
        json!({"before": from.as_str(), "after": to.as_str(), "reason": reason}),
    )
    .await?;
    if !to.is_live() && to != RequestStatus::Completed {
        // Withdrawn or closed: courses not started give their credit back, their charge
        // is cancelled.
        let why = if to == RequestStatus::Withdrawn {
            "was withdrawn"
        } else {
            "was closed"
        };
        crate::learning::credits::release_in(&mut tx, app, ctx, &request, why).await?;
    }
    if m == RequestMove::Reject {
        notify_contacts(
            &mut tx,
            app,
            &request,
            "request_rejected",
            &[("reason", &reason)],
        )
        .await?;
    }
    if matches!(m, RequestMove::Reopen | RequestMove::Resume) && to == RequestStatus::Open {
        // Deadlines that passed while the request was closed or held start again from now.
        let template = processes::load(&mut tx, imp, request.template_id).await?;
        for mut s in tx.request_steps(request_id).await? {
            if StepStatus::parse(&s.status).is_some_and(|st| !st.is_settled()) {
                if let Some(d) = template.step(&s.step_key).and_then(|d| d.deadline.clone()) {
                    if s.due_at.is_some_and(|due| due <= now) {
                        s.due_at = Some(now + Duration::days(i64::from(d.days)));
                        s.warned_at = None;
                        tx.request_step_save(&s).await?;
                    }
                }
            }
        }
        let fresh = tx.request_get(imp, request_id).await?;
        if tx.request_steps(request_id).await?.is_empty() {
            // Closed while it waited for an agency change: its steps were never set up.
            set_up_steps(&mut tx, app, ctx, &fresh, &template).await?;
        } else {
            advance(&mut tx, app, ctx, &fresh, &template).await?;
        }
        if m == RequestMove::Reopen {
            // Closing gave back the credits of courses not started: the plan's paid
            // courses are paid for again.
            crate::learning::credits::repay_in(&mut tx, app, ctx, &fresh).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A step as a page shows it.
#[derive(Debug, Clone)]
pub struct StepView {
    pub def: StepDef,
    pub row: RequestStep,
    pub status: StepStatus,
    /// Whether the viewer can act on it now.
    pub mine: bool,
    pub sla_overdue: bool,
    pub overdue: bool,
}

/// Everything about one request, for its page.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: AccessRequest,
    pub status: RequestStatus,
    pub person: Person,
    pub agency_name: String,
    pub requested_by: String,
    pub process_name: String,
    pub process_version: i32,
    pub projects: Vec<(i64, String, String)>,
    pub steps: Vec<StepView>,
    pub messages: Vec<RequestMessage>,
    pub hmis_account: Option<onramp_store::HmisAccount>,
    pub may_work: bool,
    pub may_withdraw: bool,
    /// Steps settled out of the applicable ones, for a progress bar.
    pub progress: (usize, usize),
}

pub async fn view(app: &App, ctx: &Ctx, request_id: i64) -> AppResult<RequestView> {
    let mut tx = app.store.read().await?;
    let imp = ctx.implementation_id();
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    let template_row = tx.template_get(imp, request.template_id).await?;
    let template = processes::load_shared(app, &mut tx, imp, request.template_id).await?;
    let person = tx.person_by_id(request.person_id).await?;
    let agency_name = tx.agency_get(imp, request.agency_id).await?.name;
    let requested_by = tx.person_by_id(request.requested_by).await?.display_name();
    let mut projects = Vec::new();
    for p in tx.request_projects(request_id).await? {
        let pr = tx.project_get(imp, p).await?;
        let label = onramp_domain::HudProjectType::from_code(pr.hud_project_type)
            .map(|t| t.short())
            .unwrap_or("?")
            .to_string();
        projects.push((pr.id, pr.name, label));
    }
    let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
    let (steps, progress) = step_views_in(&mut tx, app, ctx, &request, &template, status).await?;
    let messages = tx.request_messages(request_id).await?;
    let hmis_account = tx.hmis_account_of_request(request_id).await?;
    Ok(RequestView {
        may_work: ctx.actor.may(Permission::WorkQueue),
        may_withdraw: status.is_live()
            && (ctx.actor.is_lead_staff() || ctx.actor.agency_contact_of(request.agency_id)),
        status,
        person,
        agency_name,
        requested_by,
        process_name: template_row.name,
        process_version: template_row.version,
        projects,
        steps,
        messages,
        hmis_account,
        progress,
        request,
    })
}

/// The steps of a request as the viewer sees them, with (settled, applicable) for a
/// progress bar.
async fn step_views_in<R: Reads>(
    tx: &mut R,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
    status: RequestStatus,
) -> AppResult<(Vec<StepView>, (usize, usize))> {
    let now = app.now();
    let mut steps = Vec::new();
    for row in tx.request_steps(request.id).await? {
        let Some(def) = template.step(&row.step_key).cloned() else {
            continue;
        };
        let st = StepStatus::parse(&row.status).unwrap_or(StepStatus::Waiting);
        let open = st == StepStatus::Open && status == RequestStatus::Open;
        let mine = open
            && (may_act_on(&ctx.actor, request, &def)
                || (def.kind == StepKind::AgreementSigning
                    && crate::agreements::may_sign_now(tx, &ctx.actor, request, &def).await?)
                || (def.kind.may_be_recorded_as_met() && ctx.actor.is_lead_staff()));
        steps.push(StepView {
            sla_overdue: open && row.sla_due_at.is_some_and(|d| d < now),
            overdue: open && row.due_at.is_some_and(|d| d < now),
            def,
            row,
            status: st,
            mine,
        });
    }
    let applicable = steps
        .iter()
        .filter(|s| s.status != StepStatus::NotApplicable)
        .count();
    let done = steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Done | StepStatus::Met))
        .count();
    Ok((steps, (done, applicable)))
}

/// A request's steps, as the tracker on its person's home page shows them.
#[derive(Debug, Clone)]
pub struct RequestTracker {
    pub request_id: i64,
    pub agency_name: String,
    pub status: RequestStatus,
    pub steps: Vec<StepView>,
    /// Steps settled out of the applicable ones.
    pub progress: (usize, usize),
}

/// The trackers of listed requests (already filtered to what the actor may see), read in
/// the caller's transaction.
pub async fn trackers_in<R: Reads>(
    tx: &mut R,
    app: &App,
    ctx: &Ctx,
    listed: Vec<AccessRequestSummary>,
) -> AppResult<Vec<RequestTracker>> {
    let imp = ctx.implementation_id();
    let mut out = Vec::with_capacity(listed.len());
    for r in listed {
        let request = tx.request_get(imp, r.id).await?;
        if !may_view(&ctx.actor, &request) {
            continue;
        }
        let template = processes::load_shared(app, tx, imp, request.template_id).await?;
        let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
        let (steps, progress) = step_views_in(tx, app, ctx, &request, &template, status).await?;
        out.push(RequestTracker {
            request_id: r.id,
            agency_name: r.agency_name,
            status,
            steps,
            progress,
        });
    }
    Ok(out)
}

/// Requests the actor may see: the Lead's queue, an agency's pipeline, or the person's own.
pub async fn list(
    app: &App,
    ctx: &Ctx,
    f: RequestFilter,
    page: PageRequest,
) -> AppResult<Page<AccessRequestSummary>> {
    let mut tx = app.store.read().await?;
    list_in(&mut tx, ctx, f, page).await
}

/// [`list`], in the caller's transaction.
pub async fn list_in<R: Reads>(
    tx: &mut R,
    ctx: &Ctx,
    mut f: RequestFilter,
    page: PageRequest,
) -> AppResult<Page<AccessRequestSummary>> {
    let a = &ctx.actor;
    if !a.may(Permission::ViewOrganisation) {
        let mine = a.overseen_agencies();
        if mine.is_empty() {
            f.person_id = Some(a.person_id);
        } else {
            f.only_agencies = Some(mine);
        }
    }
    Ok(tx.requests_list(ctx.implementation_id(), &f, page).await?)
}

/// Adds a message to a request's thread and emails the other side.
pub async fn post_message(app: &App, ctx: &Ctx, request_id: i64, body: &str) -> AppResult<i64> {
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    let body =
        required_text("body", "a message", body, 4000).map_err(|e| AppError::Invalid(vec![e]))?;
    let id = tx
        .request_message_add(
            request_id,
            Some(ctx.actor.person_id),
            &ctx.actor.display_name,
            &body,
            app.now(),
        )
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "access_request.message",
        "access_request",
        Some(request_id),
        json!({"message_id": id}),
    )
    .await?;
    // From the Lead: to the requester and the person. From anyone else: to the Lead staff.
    let person = tx.person_by_id(request.person_id).await?;
    let link = request_link(app, request_id);
    let mut recipients: Vec<(String, String)> = Vec::new();
    if ctx.actor.is_lead_staff() {
        let requester = tx.person_by_id(request.requested_by).await?;
        recipients.push((requester.email, requester.given_name));
        if request.welcomed_at.is_some() {
            recipients.push((person.email.clone(), person.given_name.clone()));
        }
    } else {
        for (_, email, name) in tx
            .implementation_role_holders(
                imp,
                &[
                    ImplementationRole::LeadAdmin.as_str(),
                    ImplementationRole::TrainingCoordinator.as_str(),
                ],
            )
            .await?
        {
            recipients.push((email, name));
        }
        if ctx.actor.person_id != request.requested_by {
            let requester = tx.person_by_id(request.requested_by).await?;
            recipients.push((requester.email, requester.given_name));
        }
    }
    let own = tx.account_get(ctx.actor.person_id).await?.map(|a| a.email);
    recipients.retain(|(e, _)| Some(e) != own.as_ref());
    recipients.dedup_by(|a, b| a.0 == b.0);
    for (email, name) in recipients {
        mail::queue(
            &mut tx,
            app,
            imp,
            &email,
            "request_message",
            &[
                ("name", &name),
                ("person", &person.display_name()),
                ("author", &ctx.actor.display_name),
                ("message", &body),
                ("request_link", &link),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The outcome of a sweep.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: usize,
    pub warned: usize,
    pub sla_breached: usize,
    pub reminded: usize,
    /// People told of a turn that nobody had been told of yet (an agreement's new version,
    /// or a request that was in progress before Onramp told each turn).
    pub announced: usize,
}

/// Deadlines, SLAs and reminders for every open request, as of the clock's now, and any
/// step turn not yet announced to whoever must act. Running it twice at the same time
/// changes nothing the second time.
pub async fn sweep(app: &App) -> AppResult<SweepReport> {
    let mut report = SweepReport::default();
    let ids = {
        let mut tx = app.store.read().await?;
        tx.requests_with_open_steps().await?
    };
    for (imp, id) in ids {
        let mut tx = app.store.begin().await?;
        let request = tx.request_get(imp, id).await?;
        if RequestStatus::parse(&request.status) != Some(RequestStatus::Open) {
            continue;
        }
        let template = processes::load(&mut tx, imp, request.template_id).await?;
        let now = app.now();
        let ctx = system_ctx(imp);
        let mut expired_by: Option<String> = None;
        for mut s in tx.request_steps(id).await? {
            if StepStatus::parse(&s.status) != Some(StepStatus::Open) {
                continue;
            }
            let Some(def) = template.step(&s.step_key).cloned() else {
                continue;
            };
            let mut changed = false;
            if let (Some(due), Some(d)) = (s.due_at, def.deadline.as_ref()) {
                if due <= now {
                    match d.on_expiry {
                        process::OnExpiry::ExpireRequest => {
                            expired_by = Some(def.title.clone());
                        }
                        process::OnExpiry::Notify => {
                            if s.warned_at.is_none_or(|w| w < due) {
                                notify_actors(
                                    &mut tx,
                                    app,
                                    &request,
                                    &def,
                                    "deadline_warning",
                                    &format!("{} (passed)", due.format("%Y-%m-%d")),
                                )
                                .await?;
                                s.warned_at = Some(now);
                                changed = true;
                                report.warned += 1;
                            }
                        }
                    }
                } else if d.warn_days_before > 0
                    && s.warned_at.is_none()
                    && due - Duration::days(i64::from(d.warn_days_before)) <= now
                {
                    notify_actors(
                        &mut tx,
                        app,
                        &request,
                        &def,
                        "deadline_warning",
                        &due.format("%Y-%m-%d").to_string(),
                    )
                    .await?;
                    s.warned_at = Some(now);
                    changed = true;
                    report.warned += 1;
                }
            }
            if let Some(sla) = s.sla_due_at {
                if sla <= now && s.sla_breached_at.is_none() {
                    s.sla_breached_at = Some(now);
                    changed = true;
                    report.sla_breached += 1;
                    record(
                        &mut tx,
                        app,
                        &ctx,
                        "access_request.sla_breached",
                        "access_request",
                        Some(id),
                        json!({"step": def.key, "sla_due_at": sla}),
                    )
                    .await?;
                }
            }
            if let Some(every) = def.remind_every_days {
                let last = s.reminded_at.or(s.opened_at).unwrap_or(now);
                if now - last >= Duration::days(i64::from(every)) {
                    let due = s
                        .due_at
                        .map(|d| format!(" Due by {}.", d.format("%Y-%m-%d")))
                        .unwrap_or_default();
                    notify_actors(&mut tx, app, &request, &def, "step_reminder", &due).await?;
                    s.reminded_at = Some(now);
                    changed = true;
                    report.reminded += 1;
                }
            }
            if changed {
                tx.request_step_save(&s).await?;
            }
        }
        if expired_by.is_none() {
            let known = tx.step_notices_of(id).await?;
            for s in tx.request_steps(id).await? {
                if StepStatus::parse(&s.status) != Some(StepStatus::Open) {
                    continue;
                }
                if let Some(def) = template.step(&s.step_key) {
                    report.announced += notices::announce_unless_known(
                        &mut tx, app, &request, &template, def, &known,
                    )
                    .await?;
                }
            }
        }
        if let Some(step) = expired_by {
            tx.request_set_status(
                id,
                RequestStatus::Expired.as_str(),
                &format!("Deadline passed: {step}"),
                now,
                Some(now),
            )
            .await?;
            record(
                &mut tx,
                app,
                &ctx,
                "access_request.expired",
                "access_request",
                Some(id),
                json!({"step": step}),
            )
            .await?;
            crate::learning::credits::release_in(&mut tx, app, &ctx, &request, "expired").await?;
            notify_contacts(
                &mut tx,
                app,
                &request,
                "request_expired",
                &[("step", &step)],
            )
            .await?;
            report.expired += 1;
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// The actor recorded for automatic changes.
fn system_ctx(implementation_id: i64) -> Ctx {
    Ctx::new(
        Actor {
            person_id: 0,
            implementation_id,
            display_name: "Onramp (scheduled)".into(),
            implementation_roles: vec![],
            agency_roles: vec![],
            agency_id: None,
        },
        "local",
    )
}

/// Emails whoever must act on a step now (see [`notices::who_must_act`]), with a link to it.
async fn notify_actors(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    def: &StepDef,
    key: &str,
    due: &str,
) -> AppResult<()> {
    let Some((_, signer)) = notices::current_turn(tx, request, def).await? else {
        return Ok(());
    };
    let person = tx.person_by_id(request.person_id).await?;
    let link = notices::step_link(app, request.id, def);
    for r in notices::who_must_act(tx, request, def, signer).await? {
        mail::queue(
            tx,
            app,
            request.implementation_id,
            &r.email,
            key,
            &[
                ("name", &r.name),
                ("person", &person.display_name()),
                ("step", &def.title),
                ("due", due),
                ("request_link", &link),
            ],
        )
        .await?;
    }
    Ok(())
}
