//! What a person's home page shows: the steps waiting for them (with their deadlines),
//! what they are following (their agency's open requests; the Lead queue's counts; their
//! own request's steps), and whether they may start a request. Read-only.
//!
//! A step waits for someone by its actor and its request: the agency contacts and
//! supervisors of the request's agency, its executive director, Lead staff, proctors, the
//! person the request is for, or, for an agreement, whoever signs next. Lead staff may act
//! on agency steps too ([`access::may_act`]), but those do not wait for them.

use crate::access;
use crate::{agreements, processes, App, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::{Actor, Permission};
use onramp_domain::process::{ProcessTemplate, StepActor, StepDef};
use onramp_domain::request::RequestStatus;
use onramp_domain::ImplementationRole;
use onramp_store::access::RequestFilter;
use onramp_store::reads::*;
use onramp_store::waiting::{OpenStep, OpenStepsOf};
use onramp_store::Reads;
use onramp_store::{AccessRequestSummary, PageRequest};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most steps and requests listed on a home page; the rest are counted.
pub const LISTED: usize = 20;

/// An open step waiting for the viewer.
#[derive(Debug, Clone)]
pub struct WaitingStep {
    pub request_id: i64,
    pub person_name: String,
    pub agency_name: String,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub sla_overdue: bool,
    /// On the viewer's own request.
    pub own: bool,
}

/// A request the viewer follows, with its open steps and who they wait for.
#[derive(Debug, Clone)]
pub struct Followed {
    pub request: AccessRequestSummary,
    /// (step title, who acts), in the order of the process.
    pub open: Vec<(String, String)>,
}

/// How many requests of the queue are in one state.
#[derive(Debug, Clone)]
pub struct QueueCount {
    pub status: RequestStatus,
    pub count: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Home {
    /// Steps waiting for the viewer, earliest deadline first (at most [`LISTED`]).
    pub waiting: Vec<WaitingStep>,
    /// How many steps wait for the viewer in all.
    pub waiting_total: usize,
    /// Their agencies' open requests, for agency contacts and executive directors.
    pub following: Vec<Followed>,
    pub following_total: i64,
    /// The queue's counts by state, for those who read the whole implementation.
    pub queue: Vec<QueueCount>,
    /// Live requests with an open step past its SLA.
    pub sla_breached: i64,
    /// The viewer's own open requests, with their steps.
    pub own: Vec<access::RequestTracker>,
    /// Whether the viewer may request HMIS access for someone.
    pub may_request: bool,
}

/// Whether a step waits for the actor, by who acts on it. Agency-side steps are the
/// agency's own (Lead staff acting on them is not waiting for them), signing follows the
/// agreement's order.
async fn waits_for<R: Reads>(
    tx: &mut R,
    actor: &Actor,
    request: &onramp_store::AccessRequest,
    def: &StepDef,
) -> AppResult<bool> {
    Ok(match def.actor {
        StepActor::Signers => agreements::may_sign_now(tx, actor, request, def).await?,
        StepActor::Lead => access::may_act(actor, request, StepActor::Lead),
        StepActor::Proctor => actor.has(ImplementationRole::Proctor),
        who => {
            // Judged on the person's agency roles alone, without the Lead's reach.
            let own = Actor {
                implementation_roles: Vec::new(),
                ..actor.clone()
            };
            access::may_act(&own, request, who)
        }
    })
}

fn live() -> Vec<String> {
    RequestStatus::live_names()
}

/// The steps waiting for the viewer among these open steps.
async fn waiting<R: Reads>(
    tx: &mut R,
    app: &App,
    ctx: &Ctx,
    steps: Vec<OpenStep>,
) -> AppResult<Vec<WaitingStep>> {
    let imp = ctx.implementation_id();
    let now = app.now();
    let mut templates: BTreeMap<i64, Option<Arc<ProcessTemplate>>> = BTreeMap::new();
    let mut requests: BTreeMap<i64, onramp_store::AccessRequest> = BTreeMap::new();
    let mut out = Vec::new();
    for s in steps {
        if let Entry::Vacant(slot) = templates.entry(s.template_id) {
            // A stored version that no longer parses waits for no one here; its request page says why.
            slot.insert(
                processes::load_shared(app, tx, imp, s.template_id)
                    .await
                    .ok(),
            );
        }
        let Some(def) = templates
            .get(&s.template_id)
            .and_then(|t| t.as_ref())
            .and_then(|t| t.step(&s.step_key))
            .cloned()
        else {
            continue;
        };
        let request = match requests.get(&s.request_id) {
            Some(r) => r.clone(),
            None => {
                let r = tx.request_get(imp, s.request_id).await?;
                requests.insert(s.request_id, r.clone());
                r
            }
        };
        if !waits_for(tx, &ctx.actor, &request, &def).await? {
            continue;
        }
        out.push(WaitingStep {
            request_id: s.request_id,
            own: s.person_id == ctx.actor.person_id,
            person_name: s.person_name,
            agency_name: s.agency_name,
            title: def.title.clone(),
            overdue: s.due_at.is_some_and(|d| d < now),
            sla_overdue: s.sla_due_at.is_some_and(|d| d < now),
            due_at: s.due_at,
            sla_due_at: s.sla_due_at,
        });
    }
    // Earliest deadline (or SLA) first; steps with neither keep the queue's order after them.
    out.sort_by_key(|w| match (w.due_at, w.sla_due_at) {
        (Some(a), Some(b)) => (0, Some(a.min(b))),
        (Some(a), None) | (None, Some(a)) => (0, Some(a)),
        (None, None) => (1, None),
    });
    Ok(out)
}

/// The viewer's home page.
pub async fn home(app: &App, ctx: &Ctx) -> AppResult<Home> {
    let a = &ctx.actor;
    let imp = ctx.implementation_id();
    let reads_all = a.may(Permission::ViewOrganisation);
    let overseen = a.overseen_agencies();
    let mut out = Home {
        may_request: a.is_lead_staff() || overseen.iter().any(|ag| a.agency_contact_of(*ag)),
        ..Default::default()
    };

    // Short reads by index, on one snapshot: inline on SQLite (see `onramp_store::snapshot`).
    let mut snapshot = app.store.snapshot().await?;
    let tx = &mut snapshot;
    // What waits for them: among the open steps they could be asked for.
    let mut steps = {
        let mut steps = if reads_all {
            // Every open step of the implementation: a long read, on a transaction.
            app.store
                .read()
                .await?
                .open_steps(imp, &OpenStepsOf::All)
                .await?
        } else if overseen.is_empty() {
            Vec::new()
        } else {
            tx.open_steps(imp, &OpenStepsOf::Agencies(overseen.clone()))
                .await?
        };
        if !reads_all {
            steps.extend(
                tx.open_steps(imp, &OpenStepsOf::Person(a.person_id))
                    .await?
                    .into_iter()
                    .filter(|s| !overseen.contains(&s.agency_id)),
            );
        }
        waiting(tx, app, ctx, steps).await?
    };
    // Lead staff decide agency changes: a request that waits for one has no steps yet.
    if a.may(Permission::WorkQueue) {
        let moves = access::list(
            app,
            ctx,
            RequestFilter {
                statuses: vec![RequestStatus::AwaitingMove.as_str().into()],
                ..Default::default()
            },
            PageRequest::new(1, LISTED as i64),
        )
        .await?;
        let decisions = moves.items.into_iter().map(|r| WaitingStep {
            request_id: r.id,
            own: r.person_id == a.person_id,
            person_name: r.person_name,
            title: format!("Decide whether they move to {}", r.agency_name),
            agency_name: r.agency_name,
            due_at: None,
            sla_due_at: None,
            overdue: false,
            sla_overdue: false,
        });
        steps.splice(0..0, decisions);
    }
    out.waiting_total = steps.len();
    steps.truncate(LISTED);
    out.waiting = steps;

    // What they follow.
    if reads_all {
        for status in RequestStatus::ALL {
            let count = access::list(
                app,
                ctx,
                RequestFilter {
                    statuses: vec![status.as_str().into()],
                    ..Default::default()
                },
                PageRequest::new(1, 1),
            )
            .await?
            .total;
            out.queue.push(QueueCount { status, count });
        }
        out.sla_breached = access::list(
            app,
            ctx,
            RequestFilter {
                statuses: live(),
                sla_breached: true,
                ..Default::default()
            },
            PageRequest::new(1, 1),
        )
        .await?
        .total;
    } else if !overseen.is_empty() {
        let page = access::list(
            app,
            ctx,
            RequestFilter {
                statuses: live(),
                only_agencies: Some(overseen.clone()),
                ..Default::default()
            },
            PageRequest::new(1, LISTED as i64),
        )
        .await?;
        out.following_total = page.total;
        let mut by_template: BTreeMap<i64, Option<Arc<ProcessTemplate>>> = BTreeMap::new();
        for r in page.items {
            let request = tx.request_get(imp, r.id).await?;
            if let Entry::Vacant(slot) = by_template.entry(request.template_id) {
                slot.insert(
                    processes::load_shared(app, tx, imp, request.template_id)
                        .await
                        .ok(),
                );
            }
            let mut open = Vec::new();
            if let Some(Some(t)) = by_template.get(&request.template_id) {
                for row in tx.request_steps(r.id).await? {
                    if row.status != "open" {
                        continue;
                    }
                    if let Some(def) = t.step(&row.step_key) {
                        open.push((def.title.clone(), who_acts(def)));
                    }
                }
            }
            out.following.push(Followed { request: r, open });
        }
    }

    // Their own requests, step by step.
    let own = access::list_in(
        tx,
        ctx,
        RequestFilter {
            statuses: live(),
            person_id: Some(a.person_id),
            ..Default::default()
        },
        PageRequest::new(1, 5),
    )
    .await?;
    out.own = access::trackers_in(tx, app, ctx, own.items).await?;
    Ok(out)
}

/// Who acts on a step, in words.
pub fn who_acts(def: &StepDef) -> String {
    if def.actor == StepActor::Signers && !def.signers.is_empty() {
        let order: Vec<&str> = def.signers.iter().map(|r| r.label()).collect();
        return format!("Signers: {}", order.join(", then "));
    }
    def.actor.label().to_string()
}
