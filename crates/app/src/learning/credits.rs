//! Paid courses and training credits.
//!
//! A credit pays for one paid course (seed 004: "$25 each, … training credits or an
//! invoice"). The HMIS Lead grants credits to an agency or records a pack it bought. When a
//! paid course enters a person's plan for an access request, one credit of the requesting
//! agency is drawn; with none left, the course's price becomes a charge to invoice to the
//! agency's administrator. A course in a "one of" group is paid when the person starts it
//! (their choice), once per group. A request withdrawn or closed before a course was started
//! gives its credit back and cancels its charge. Every movement writes its audit event in
//! the transaction that makes it.

use super::courses::parse_price;
use crate::audit::record;
use crate::error::Problems;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::learning::course::format_cents;
use onramp_domain::learning::credits::{
    credits_for_price, ChargeStatus, CreditAmount, Movement, MovementKind,
};
use onramp_domain::learning::plan::counts_for_plan;
use onramp_domain::learning::rules::{GroupMode, ItemKind, ItemRef, PlanSpec};
use onramp_domain::request::RequestStatus;
use onramp_domain::Slug;
use onramp_store::learning::courses::Course;
use onramp_store::learning::credits::{
    CreditMovement, CreditMovementLine, NewCharge, NewMovement, TrainingCharge, TrainingChargeLine,
};
use onramp_store::learning::plans::TrainingPlan;
use onramp_store::reads::*;
use onramp_store::{AccessRequest, Agency, Tx};
use serde_json::json;

/// Longest reason or reference accepted.
pub const TEXT_MAX: usize = 500;
/// How many movements the ledger page shows.
pub const LEDGER_LINES: i64 = 200;

/// What the Lead typed to grant credits.
#[derive(Debug, Clone, Default)]
pub struct GrantInput {
    pub credits: String,
    pub reason: String,
}

/// What the Lead typed to record a pack the agency bought.
#[derive(Debug, Clone, Default)]
pub struct PurchaseInput {
    pub credits: String,
    /// What was paid, in US dollars.
    pub amount: String,
    /// The payment's or the invoice's reference.
    pub reference: String,
}

fn text(p: &mut Problems, field: &str, what: &str, input: &str) -> Option<String> {
    let s = input.trim();
    if s.is_empty() {
        p.push(field, format!("Enter {what}"));
        None
    } else if s.chars().count() > TEXT_MAX {
        p.push(field, format!("Keep {what} to {TEXT_MAX} characters"));
        None
    } else {
        Some(s.to_string())
    }
}

impl GrantInput {
    pub fn parse(&self) -> AppResult<Movement> {
        let mut p = Problems::default();
        let credits = p.check_str("credits", CreditAmount::parse_positive(&self.credits));
        let reason = text(&mut p, "reason", "the reason for the grant", &self.reason);
        p.into_result()?;
        match (credits, reason) {
            (Some(credits), Some(reason)) => Ok(Movement::Granted { credits, reason }),
            _ => Err(AppError::Internal("grant parsed without its values".into())),
        }
    }
}

impl PurchaseInput {
    pub fn parse(&self) -> AppResult<Movement> {
        let mut p = Problems::default();
        let credits = p.check_str("credits", CreditAmount::parse_positive(&self.credits));
        let amount = match parse_price(&self.amount) {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                p.push("amount", "Enter what the agency paid, such as 250.00");
                None
            }
            Err(m) => {
                p.push("amount", m);
                None
            }
        };
        let reference = text(
            &mut p,
            "reference",
            "the payment's reference (an invoice or receipt number)",
            &self.reference,
        );
        p.into_result()?;
        match (credits, amount, reference) {
            (Some(credits), Some(amount_cents), Some(reference)) => Ok(Movement::Bought {
                credits,
                amount_cents,
                reference,
            }),
            _ => Err(AppError::Internal(
                "purchase parsed without its values".into(),
            )),
        }
    }
}

fn recorded_by(ctx: &Ctx) -> Option<i64> {
    (ctx.actor.person_id > 0).then_some(ctx.actor.person_id)
}

/// Adds a grant or a purchase to an agency's ledger (Lead admin).
async fn add(app: &App, ctx: &Ctx, agency_id: i64, m: AppResult<Movement>) -> AppResult<i64> {
    ctx.require(Permission::ManageTrainingCredits)?;
    let mut tx = app.store.begin().await?;
    let agency = tx.agency_get(ctx.implementation_id(), agency_id).await?;
    let m = m?;
    let (amount_cents, reference, reason) = match &m {
        Movement::Granted { reason, .. } => (None, "", reason.clone()),
        Movement::Bought {
            amount_cents,
            reference,
            ..
        } => (
            Some(*amount_cents),
            reference.as_str(),
            format!("Pack bought for {}", format_cents(*amount_cents)),
        ),
        _ => {
            return Err(AppError::Internal(
                "only grants and purchases are added by hand".into(),
            ))
        }
    };
    let row = tx
        .credit_add(&NewMovement {
            implementation_id: agency.implementation_id,
            agency_id: agency.id,
            kind: m.kind().as_str(),
            credits: m.credits().get(),
            amount_cents,
            reference,
            reason: &reason,
            person_id: None,
            course_id: None,
            request_id: None,
            recorded_by: recorded_by(ctx),
            at: app.now(),
        })
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        &format!("training_credits.{}", m.kind().as_str()),
        "agency",
        Some(agency.id),
        json!({"movement_id": row.id, "credits": row.credits, "balance_after": row.balance_after,
               "amount_cents": amount_cents, "reference": reference, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(row.balance_after)
}

/// Grants credits to an agency, with the reason (Lead admin). Gives the new balance.
pub async fn grant(app: &App, ctx: &Ctx, agency_id: i64, input: &GrantInput) -> AppResult<i64> {
    add(app, ctx, agency_id, input.parse()).await
}

/// Records a pack of credits an agency bought: how many, what was paid and the reference
/// (Lead admin). Gives the new balance.
pub async fn record_purchase(
    app: &App,
    ctx: &Ctx,
    agency_id: i64,
    input: &PurchaseInput,
) -> AppResult<i64> {
    add(app, ctx, agency_id, input.parse()).await
}

/// An agency's ledger as its pages show it.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub agency: Agency,
    pub balance: i64,
    /// Newest first, at most [`LEDGER_LINES`].
    pub movements: Vec<CreditMovementLine>,
    /// Open ones first.
    pub charges: Vec<TrainingChargeLine>,
    pub open_charges: i64,
    pub open_cents: i64,
    pub may_manage: bool,
}

/// An agency's balance, movements and charges: Lead staff and auditors, and the agency's
/// own administrators.
pub async fn ledger(app: &App, ctx: &Ctx, agency_id: i64) -> AppResult<Ledger> {
    ctx.require(Permission::ViewTrainingCredits(agency_id))?;
    let mut tx = app.store.read().await?;
    let agency = tx.agency_get(ctx.implementation_id(), agency_id).await?;
    let balance = tx.credit_balance(agency.id).await?;
    let movements = tx.credit_movements(agency.id, LEDGER_LINES).await?;
    let charges = tx.charges_of_agency(agency.id).await?;
    let (open_charges, open_cents) = tx.charges_open_total(agency.id).await?;
    Ok(Ledger {
        agency,
        balance,
        movements,
        charges,
        open_charges,
        open_cents,
        may_manage: ctx.actor.may(Permission::ManageTrainingCredits),
    })
}

/// What assigning a paid course did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// One credit drawn.
    Drew(CreditMovement),
    /// No credit left: a charge to invoice.
    Charged(TrainingCharge),
    /// Drawn or charged before for this person, course and request: nothing new.
    Already,
}

/// Whether the person completed the course in a way that counts for the plan (a returning
/// person's earlier course within the carry-over window): then nothing is paid again.
async fn counted_complete(tx: &mut Tx, plan: &TrainingPlan, course: &Course) -> AppResult<bool> {
    let carry = u32::try_from(plan.carry_over_days).unwrap_or(0);
    Ok(tx.completions_of(plan.person_id).await?.iter().any(|c| {
        c.item_kind == "course"
            && c.item_key == course.key
            && counts_for_plan(c.completed_at, plan.began_at, carry)
    }))
}

/// Pays for a paid course assigned to a request's person: one credit of the requesting
/// agency, or a charge when it has none left. Nothing for a free course, a course already
/// paid for on this request (recomputing a plan does not pay again), or one the person
/// already completed for this plan.
pub async fn assign_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    plan: &TrainingPlan,
    course: &Course,
) -> AppResult<Option<Assigned>> {
    let Some(credits) = credits_for_price(course.price_cents) else {
        return Ok(None);
    };
    let person_id = request.person_id;
    let earlier_charge = tx.charge_of(request.id, person_id, course.id).await?;
    if tx
        .credit_draw_live(request.id, person_id, course.id)
        .await?
        .is_some()
        || earlier_charge
            .as_ref()
            .is_some_and(|c| c.status == ChargeStatus::Open.as_str())
    {
        return Ok(Some(Assigned::Already));
    }
    if counted_complete(tx, plan, course).await? {
        return Ok(None);
    }
    let person = tx.person_by_id(person_id).await?;
    let now = app.now();
    let reason = format!(
        "{} assigned to {} (request #{})",
        course.title,
        person.display_name(),
        request.id
    );
    let drawn = tx
        .credit_take(&NewMovement {
            implementation_id: request.implementation_id,
            agency_id: request.agency_id,
            kind: MovementKind::Drawn.as_str(),
            credits: credits.get(),
            amount_cents: None,
            reference: "",
            reason: &reason,
            person_id: Some(person_id),
            course_id: Some(course.id),
            request_id: Some(request.id),
            recorded_by: recorded_by(ctx),
            at: now,
        })
        .await?;
    if let Some(m) = drawn {
        record(
            tx,
            app,
            ctx,
            "training_credits.drawn",
            "agency",
            Some(request.agency_id),
            json!({"movement_id": m.id, "person_id": person_id, "course": course.key, "request_id": request.id,
                   "credits": m.credits, "balance_after": m.balance_after, "reason": reason}),
        )
        .await?;
        return Ok(Some(Assigned::Drew(m)));
    }
    let amount_cents = course.price_cents.unwrap_or(0);
    let why = format!("No training credit left: {reason}");
    // A charge cancelled earlier on this request (the request was closed, or the course
    // left the plan) is opened again rather than charged twice.
    let reopened = earlier_charge.is_some();
    let charge = match earlier_charge {
        Some(c) => tx.charge_reopen(c.id, &why, now).await?,
        None => {
            tx.charge_insert(&NewCharge {
                implementation_id: request.implementation_id,
                agency_id: request.agency_id,
                person_id,
                course_id: course.id,
                request_id: Some(request.id),
                amount_cents,
                reason: &why,
                at: now,
            })
            .await?
        }
    };
    let Some(charge) = charge else {
        return Ok(Some(Assigned::Already));
    };
    record(
        tx,
        app,
        ctx,
        "training_charge.open",
        "agency",
        Some(request.agency_id),
        json!({"charge_id": charge.id, "person_id": person_id, "course": course.key, "request_id": request.id,
               "amount_cents": amount_cents, "reason": why, "reopened": reopened}),
    )
    .await?;
    Ok(Some(Assigned::Charged(charge)))
}

/// The paid courses a plan pays for when it is computed: those its "all of" groups
/// require. A "one of" group's courses are paid when the person starts one.
pub fn paid_when_computed(spec: &PlanSpec) -> Vec<&ItemRef> {
    let mut out: Vec<&ItemRef> = Vec::new();
    for g in spec.groups.iter().filter(|g| g.mode == GroupMode::AllOf) {
        for i in &g.items {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    out
}

/// Pays for a course of a "one of" group of the person's current plan when they start it,
/// unless another course of that group was paid for on the request already. Nothing when
/// the course is free, not in such a group, or the plan's request is not live.
pub async fn started_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    course: &Course,
) -> AppResult<Option<Assigned>> {
    if credits_for_price(course.price_cents).is_none() {
        return Ok(None);
    }
    let Some(plan) = tx.plan_current(person_id).await? else {
        return Ok(None);
    };
    let Some(request_id) = plan.request_id else {
        return Ok(None);
    };
    let request = tx.request_get(plan.implementation_id, request_id).await?;
    if !RequestStatus::parse(&request.status).is_some_and(|s| s.is_live()) {
        return Ok(None);
    }
    let spec: PlanSpec = serde_json::from_str(&plan.spec)
        .map_err(|e| AppError::Internal(format!("stored plan does not parse: {e}")))?;
    let Ok(key) = Slug::parse(&course.key) else {
        return Ok(None);
    };
    let item = ItemRef::course(key);
    if paid_when_computed(&spec).contains(&&item) {
        return Ok(None);
    }
    let Some(group) = spec
        .groups
        .iter()
        .find(|g| g.mode == GroupMode::OneOf && g.items.contains(&item))
    else {
        return Ok(None);
    };
    for other in group.items.iter().filter(|i| **i != item) {
        let Some(c) = tx
            .course_by_key(plan.implementation_id, other.key.as_str())
            .await?
        else {
            continue;
        };
        if tx
            .credit_draw_live(request.id, person_id, c.id)
            .await?
            .is_some()
            || tx
                .charge_of(request.id, person_id, c.id)
                .await?
                .is_some_and(|ch| ch.status == ChargeStatus::Open.as_str())
        {
            return Ok(None);
        }
    }
    assign_in(tx, app, ctx, &request, &plan, course).await
}

/// Whether the person started the course: a lesson opened or done, or the course complete.
async fn started(tx: &mut Tx, person_id: i64, course_id: i64) -> AppResult<bool> {
    let Some(e) = tx.enrolment_of(person_id, course_id).await? else {
        return Ok(false);
    };
    Ok(e.completed_at.is_some() || !tx.lesson_progress_of_enrolment(e.id).await?.is_empty())
}

/// What [`release_in`] gave back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Released {
    pub refunded: usize,
    pub cancelled: usize,
}

/// A request withdrawn or closed: the credits drawn for courses its person had not started
/// are refunded and the open charges for them cancelled, each with its audit event.
pub async fn release_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    why: &str,
) -> AppResult<Released> {
    let reason = format!(
        "Request #{} {why} before the course was started",
        request.id
    );
    release_courses_in(tx, app, ctx, request, &reason, |_| true).await
}

/// A plan recomputed for its request: the paid courses that left it, not started, give
/// their credit back or have their charge cancelled.
pub async fn release_dropped_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    spec: &PlanSpec,
) -> AppResult<Released> {
    let mut kept = Vec::new();
    for item in spec.items() {
        if item.kind == ItemKind::Course {
            if let Some(c) = tx
                .course_by_key(request.implementation_id, item.key.as_str())
                .await?
            {
                kept.push(c.id);
            }
        }
    }
    let reason = format!(
        "The course left the recomputed training plan of request #{} before it was started",
        request.id
    );
    release_courses_in(tx, app, ctx, request, &reason, |c| !kept.contains(&c)).await
}

/// A request's paid courses paid for again when it is reopened: the plan's courses whose
/// credit was refunded, or charge cancelled, when it was closed.
pub async fn repay_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
) -> AppResult<usize> {
    let Some(plan) = tx.plan_current(request.person_id).await? else {
        return Ok(0);
    };
    if plan.request_id != Some(request.id) {
        return Ok(0);
    }
    let spec: PlanSpec = serde_json::from_str(&plan.spec)
        .map_err(|e| AppError::Internal(format!("stored plan does not parse: {e}")))?;
    let mut n = 0;
    for item in paid_when_computed(&spec) {
        if item.kind != ItemKind::Course {
            continue;
        }
        let Some(course) = tx
            .course_by_key(request.implementation_id, item.key.as_str())
            .await?
        else {
            continue;
        };
        if matches!(
            assign_in(tx, app, ctx, request, &plan, &course).await?,
            Some(Assigned::Drew(_) | Assigned::Charged(_))
        ) {
            n += 1;
        }
    }
    Ok(n)
}

/// Refunds the unstarted draws, and cancels the unstarted open charges, of a request's
/// courses that `release` names, each with `reason` and its audit event.
async fn release_courses_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    reason: &str,
    release: impl Fn(i64) -> bool,
) -> AppResult<Released> {
    let mut out = Released::default();
    let now = app.now();
    for d in tx.credit_draws_unrefunded(request.id).await? {
        let (Some(person_id), Some(course_id)) = (d.person_id, d.course_id) else {
            continue;
        };
        if !release(course_id) || started(tx, person_id, course_id).await? {
            continue;
        }
        let m = tx
            .credit_add(&NewMovement {
                implementation_id: d.implementation_id,
                agency_id: d.agency_id,
                kind: MovementKind::Refunded.as_str(),
                credits: -d.credits,
                amount_cents: None,
                reference: "",
                reason,
                person_id: Some(person_id),
                course_id: Some(course_id),
                request_id: Some(request.id),
                recorded_by: recorded_by(ctx),
                at: now,
            })
            .await?;
        record(
            tx,
            app,
            ctx,
            "training_credits.refunded",
            "agency",
            Some(d.agency_id),
            json!({"movement_id": m.id, "drawn_id": d.id, "person_id": person_id, "course_id": course_id,
                   "request_id": request.id, "credits": m.credits, "balance_after": m.balance_after, "reason": reason}),
        )
        .await?;
        out.refunded += 1;
    }
    for ch in tx.charges_open_of_request(request.id).await? {
        if !release(ch.course_id) || started(tx, ch.person_id, ch.course_id).await? {
            continue;
        }
        if tx.charge_cancel(ch.id, reason, now).await? {
            record(
                tx,
                app,
                ctx,
                "training_charge.cancel",
                "agency",
                Some(ch.agency_id),
                json!({"charge_id": ch.id, "person_id": ch.person_id, "course_id": ch.course_id,
                       "request_id": request.id, "amount_cents": ch.amount_cents, "reason": reason}),
            )
            .await?;
            out.cancelled += 1;
        }
    }
    Ok(out)
}

/// What the trainee reads about a paid course's price on its page, or None for a free
/// course.
pub async fn price_note_in(
    tx: &mut Tx,
    person_id: i64,
    course: &Course,
) -> AppResult<Option<String>> {
    let Some(price) = course.price_cents.filter(|p| *p > 0) else {
        return Ok(None);
    };
    let price = format_cents(price);
    let request_id = tx.plan_current(person_id).await?.and_then(|p| p.request_id);
    if let Some(r) = request_id {
        if tx
            .credit_draw_live(r, person_id, course.id)
            .await?
            .is_some()
        {
            return Ok(Some(format!(
                "This course costs {price}: paid by your agency with a training credit."
            )));
        }
        if let Some(ch) = tx.charge_of(r, person_id, course.id).await? {
            if ch.status == "open" {
                return Ok(Some(format!(
                    "This course costs {price}: charged to your agency, which will be invoiced."
                )));
            }
        }
    }
    Ok(Some(format!(
        "This course costs {price}, paid by your agency (a training credit, or an invoice) when it is part of your training plan."
    )))
}
