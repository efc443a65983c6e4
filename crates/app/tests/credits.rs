//! Paid courses and training credits through the services, on both backends: a request's
//! paid course draws one credit of the requesting agency once (recomputing the plan does
//! not draw again), a withdrawal gives an unstarted course's credit back (and reopening the
//! request draws it again), a course that leaves a recomputed plan gives its credit back, an
//! agency with no
//! credit is charged instead, only the Lead admin grants or records a purchase (with field
//! messages), and concurrent assignments never take the balance below zero.

use onramp_app::access::{self, RequestInput, StepAction, Submitted};
use onramp_app::learning::credits::{self, Assigned, GrantInput, PurchaseInput};
use onramp_app::learning::{packages, plans};
use onramp_app::{auth, App, AppError, Ctx};
use onramp_domain::request::RequestMove;
use onramp_store::access::NewAccessRequest;
use onramp_store::learning::plans::TrainingPlan;
use onramp_store::people::PersonFields;
use onramp_store::reads::*;
use onramp_store::{PageRequest, Store};
use std::sync::Arc;

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;
use common::demo;

async fn ctx_of(app: &App, person_id: i64) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    Ctx::new(
        auth::load_actor(&mut tx, person_id).await.unwrap(),
        "127.0.0.1",
    )
}

async fn ctx(app: &App, email: &str) -> Ctx {
    let id = {
        let mut tx = app.store.read().await.unwrap();
        tx.account_by_email(email).await.unwrap().unwrap().person_id
    };
    ctx_of(app, id).await
}

async fn agency_id(app: &App, name: &str) -> i64 {
    let mut tx = app.store.read().await.unwrap();
    tx.agencies_list(1, &Default::default(), PageRequest::ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.name == name)
        .unwrap()
        .id
}

/// A seed-004 request for a new person at an agency's project, accepted by the Lead so that
/// the person's plan is computed. Gives the request and the person.
async fn accepted_request(
    app: &App,
    agency: &str,
    project: &str,
    ata: &str,
    email: &str,
) -> (i64, i64) {
    let lead = ctx(app, "lead@demo.example.org").await;
    let agency = agency_id(app, agency).await;
    let project = {
        let mut tx = app.store.read().await.unwrap();
        tx.projects_list(1, &Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|p| p.name == project)
            .unwrap()
            .id
    };
    let input = RequestInput {
        given_name: "Mia".into(),
        family_name: "Stone".into(),
        email: email.into(),
        agency_id: agency.to_string(),
        access_level: "end_user".into(),
        responsibilities: vec!["enroll_clients".into()],
        projects: vec![project.to_string()],
        new_or_returning: "new".into(),
        process: "courses-and-proctored-session".into(),
        ..Default::default()
    };
    let id = match access::submit(app, &lead, &input).await.unwrap() {
        Submitted::Created(id) => id,
        other => panic!("{other:?}"),
    };
    let ata = ctx(app, ata).await;
    let done = || StepAction::Done {
        note: String::new(),
    };
    access::act(app, &ata, id, "validate-new-hire", done())
        .await
        .unwrap();
    let person = {
        let mut tx = app.store.read().await.unwrap();
        tx.request_get(1, id).await.unwrap().person_id
    };
    let me = ctx_of(app, person).await;
    access::act(app, &me, id, "learning-account", done())
        .await
        .unwrap();
    access::act(app, &lead, id, "course-enrollment", StepAction::Approve)
        .await
        .unwrap();
    (id, person)
}

async fn balance_and_sum(app: &App, agency: i64) -> (i64, i64) {
    let mut tx = app.store.read().await.unwrap();
    (
        tx.credit_balance(agency).await.unwrap(),
        tx.credit_ledger_sum(agency).await.unwrap(),
    )
}

both_backends!(
    a_paid_course_draws_once_and_a_withdrawal_refunds_it,
    |store| async move {
        let app = demo(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let harbor = agency_id(&app, "Harbor House").await;
        let (before, _) = balance_and_sum(&app, harbor).await;
        assert!(before > 0, "the demo grants Harbor House credits");
        let (id, person) = accepted_request(
            &app,
            "Harbor House",
            "Harbor House Emergency Shelter",
            "ata@harbor.example.org",
            "mia.stone@harbor.example.org",
        )
        .await;
        let (after, sum) = balance_and_sum(&app, harbor).await;
        assert_eq!(after, before - 1, "the $25 project course drew one credit");
        assert_eq!(sum, after);
        let ata = ctx(&app, "ata@harbor.example.org").await;
        let ledger = credits::ledger(&app, &ata, harbor).await.unwrap();
        let drawn = &ledger.movements[0];
        assert_eq!(drawn.kind, "drawn");
        assert_eq!(drawn.person_id, Some(person));
        assert_eq!(drawn.request_id, Some(id));
        assert_eq!(drawn.course_title.as_deref(), Some("Emergency Shelter (ES), Transitional Housing (TH) + Safe Haven (SH) Workflow Training"));
        assert!(drawn.reason.contains("Mia Stone"), "{}", drawn.reason);
        // The trainee reads who pays.
        let me = ctx_of(&app, person).await;
        let state = plans::person_plan(&app, &me, person)
            .await
            .unwrap()
            .unwrap();
        let course = state.courses["es-th-sh-workflow"].id;
        let page = onramp_app::learning::lessons::course(&app, &me, course)
            .await
            .unwrap();
        assert_eq!(
            page.price_note.as_deref(),
            Some("This course costs $25.00: paid by your agency with a training credit.")
        );
        // Recomputing the plan does not draw again.
        plans::recompute(&app, &lead, person, "Projects checked")
            .await
            .unwrap();
        assert_eq!(balance_and_sum(&app, harbor).await, (after, after));
        // Withdrawn before the course was started: the credit comes back, audited.
        access::change_status(&app, &ata, id, RequestMove::Withdraw, "Left the agency")
            .await
            .unwrap();
        assert_eq!(balance_and_sum(&app, harbor).await, (before, before));
        let ledger = credits::ledger(&app, &ata, harbor).await.unwrap();
        assert_eq!(ledger.movements[0].kind, "refunded");
        assert!(ledger.movements[0].reason.contains("withdrawn"));
        let mut tx = app.store.read().await.unwrap();
        let audit = tx
            .audit_list(1, &Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .items;
        for action in ["training_credits.drawn", "training_credits.refunded"] {
            assert_eq!(
                audit.iter().filter(|e| e.action == action).count(),
                1,
                "{action}"
            );
        }
    }
);

both_backends!(
    a_reopened_request_pays_again_and_a_course_dropped_from_the_plan_is_given_back,
    |store| async move {
        let app = demo(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let harbor = agency_id(&app, "Harbor House").await;
        let (before, _) = balance_and_sum(&app, harbor).await;
        let (id, person) = accepted_request(
            &app,
            "Harbor House",
            "Harbor House Emergency Shelter",
            "ata@harbor.example.org",
            "mia.stone@harbor.example.org",
        )
        .await;
        assert_eq!(
            balance_and_sum(&app, harbor).await,
            (before - 1, before - 1)
        );
        let ata = ctx(&app, "ata@harbor.example.org").await;
        let note = |app: App, person: i64| async move {
            let me = ctx_of(&app, person).await;
            let state = plans::person_plan(&app, &me, person)
                .await
                .unwrap()
                .unwrap();
            let course = state.courses["es-th-sh-workflow"].id;
            onramp_app::learning::lessons::course(&app, &me, course)
                .await
                .unwrap()
                .price_note
                .unwrap_or_default()
        };

        // Withdrawn, then reopened: the refunded course is paid for again.
        access::change_status(&app, &ata, id, RequestMove::Withdraw, "Left the agency")
            .await
            .unwrap();
        assert_eq!(balance_and_sum(&app, harbor).await, (before, before));
        assert!(!note(app.clone(), person)
            .await
            .contains("with a training credit"));
        access::change_status(&app, &lead, id, RequestMove::Reopen, "Came back")
            .await
            .unwrap();
        assert_eq!(
            balance_and_sum(&app, harbor).await,
            (before - 1, before - 1),
            "drawn again on reopening"
        );
        assert!(note(app.clone(), person)
            .await
            .contains("with a training credit"));
        let kinds = |l: &credits::Ledger| {
            l.movements
                .iter()
                .filter(|m| m.request_id == Some(id))
                .map(|m| m.kind.clone())
                .collect::<Vec<_>>()
        };
        let ledger = credits::ledger(&app, &ata, harbor).await.unwrap();
        assert_eq!(kinds(&ledger), ["drawn", "refunded", "drawn"]);

        // The rules change so that the shelter course is no longer required: recomputing
        // the plan gives its credit back; changing them back draws it again.
        let without = packages::DEMO_RULES.replace(
            "project_types = [0, 1, 2, 8] }",
            "project_types = [1, 2, 8] }",
        );
        assert_ne!(without, packages::DEMO_RULES, "the shelter rule was found");
        plans::save_rules(&app, &lead, &without).await.unwrap();
        plans::recompute(&app, &lead, person, "Rules changed")
            .await
            .unwrap();
        assert_eq!(balance_and_sum(&app, harbor).await, (before, before));
        let ledger = credits::ledger(&app, &ata, harbor).await.unwrap();
        assert!(
            ledger.movements[0]
                .reason
                .contains("left the recomputed training plan"),
            "{}",
            ledger.movements[0].reason
        );
        // Recomputing again changes nothing more.
        plans::recompute(&app, &lead, person, "Again")
            .await
            .unwrap();
        assert_eq!(balance_and_sum(&app, harbor).await, (before, before));
        plans::save_rules(&app, &lead, packages::DEMO_RULES)
            .await
            .unwrap();
        plans::recompute(&app, &lead, person, "Rules restored")
            .await
            .unwrap();
        assert_eq!(
            balance_and_sum(&app, harbor).await,
            (before - 1, before - 1)
        );
        let ledger = credits::ledger(&app, &ata, harbor).await.unwrap();
        assert_eq!(
            kinds(&ledger),
            ["drawn", "refunded", "drawn", "refunded", "drawn"]
        );
    }
);

both_backends!(
    a_reopened_request_with_no_credit_is_charged_again,
    |store| async move {
        let app = demo(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let northside = agency_id(&app, "Northside Outreach Collective").await;
        let (id, _) = accepted_request(
            &app,
            "Northside Outreach Collective",
            "Northside Street Outreach",
            "ata@northside.example.org",
            "mia.stone@northside.example.org",
        )
        .await;
        let ata = ctx(&app, "ata@northside.example.org").await;
        access::change_status(&app, &lead, id, RequestMove::Reject, "Duplicate request")
            .await
            .unwrap();
        let ledger = credits::ledger(&app, &ata, northside).await.unwrap();
        assert_eq!(ledger.open_charges, 0);
        access::change_status(&app, &lead, id, RequestMove::Reopen, "Not a duplicate")
            .await
            .unwrap();
        let ledger = credits::ledger(&app, &ata, northside).await.unwrap();
        assert_eq!((ledger.open_charges, ledger.open_cents), (1, 2500));
        assert_eq!(ledger.charges.len(), 1, "the same charge, opened again");
        assert_eq!(balance_and_sum(&app, northside).await, (0, 0));
    }
);

both_backends!(
    with_no_credit_the_course_is_charged_and_a_closing_cancels_it,
    |store| async move {
        let app = demo(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let northside = agency_id(&app, "Northside Outreach Collective").await;
        assert_eq!(balance_and_sum(&app, northside).await, (0, 0));
        let (id, person) = accepted_request(
            &app,
            "Northside Outreach Collective",
            "Northside Street Outreach",
            "ata@northside.example.org",
            "mia.stone@northside.example.org",
        )
        .await;
        assert_eq!(
            balance_and_sum(&app, northside).await,
            (0, 0),
            "never below zero"
        );
        let ata = ctx(&app, "ata@northside.example.org").await;
        let ledger = credits::ledger(&app, &ata, northside).await.unwrap();
        assert_eq!((ledger.open_charges, ledger.open_cents), (1, 2500));
        assert_eq!(ledger.charges[0].person_id, person);
        assert_eq!(ledger.charges[0].status, "open");
        let me = ctx_of(&app, person).await;
        let state = plans::person_plan(&app, &me, person)
            .await
            .unwrap()
            .unwrap();
        let course = state.courses["outreach-path-workflow"].id;
        let page = onramp_app::learning::lessons::course(&app, &me, course)
            .await
            .unwrap();
        assert!(
            page.price_note
                .as_deref()
                .is_some_and(|n| n.contains("charged to your agency")),
            "{:?}",
            page.price_note
        );
        // Closed by the Lead before the course was started: the charge is cancelled.
        access::change_status(&app, &lead, id, RequestMove::Reject, "Duplicate request")
            .await
            .unwrap();
        let ledger = credits::ledger(&app, &ata, northside).await.unwrap();
        assert_eq!((ledger.open_charges, ledger.open_cents), (0, 0));
        assert_eq!(ledger.charges[0].status, "cancelled");
    }
);

both_backends!(
    only_the_lead_admin_grants_and_bad_input_is_named_by_field,
    |store| async move {
        let app = demo(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let northside = agency_id(&app, "Northside Outreach Collective").await;
        let harbor = agency_id(&app, "Harbor House").await;
        let fields = |e: AppError| match e {
            AppError::Invalid(v) => v.into_iter().map(|f| f.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let bad = credits::grant(
            &app,
            &lead,
            northside,
            &GrantInput {
                credits: "0".into(),
                reason: " ".into(),
            },
        )
        .await
        .unwrap_err();
        assert_eq!(fields(bad), ["credits", "reason"]);
        let bad = credits::record_purchase(
            &app,
            &lead,
            northside,
            &PurchaseInput {
                credits: "10".into(),
                amount: "two hundred".into(),
                reference: String::new(),
            },
        )
        .await
        .unwrap_err();
        assert_eq!(fields(bad), ["amount", "reference"]);
        assert_eq!(balance_and_sum(&app, northside).await, (0, 0));
        let b = credits::record_purchase(
            &app,
            &lead,
            northside,
            &PurchaseInput {
                credits: "10".into(),
                amount: "250".into(),
                reference: "PayPal 7HX-2201".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(b, 10);
        let ledger = credits::ledger(&app, &lead, northside).await.unwrap();
        assert_eq!(ledger.movements[0].kind, "bought");
        assert_eq!(ledger.movements[0].amount_cents, Some(25_000));
        assert_eq!(ledger.movements[0].reference, "PayPal 7HX-2201");
        assert!(ledger.may_manage);
        // Agency administrators read their own agency's ledger only, and never grant.
        let ata = ctx(&app, "ata@harbor.example.org").await;
        let grant = GrantInput {
            credits: "5".into(),
            reason: "For us".into(),
        };
        assert!(matches!(
            credits::grant(&app, &ata, harbor, &grant).await,
            Err(AppError::Forbidden)
        ));
        assert!(
            !credits::ledger(&app, &ata, harbor)
                .await
                .unwrap()
                .may_manage
        );
        assert!(matches!(
            credits::ledger(&app, &ata, northside).await,
            Err(AppError::Forbidden)
        ));
        let coordinator = ctx(&app, "coordinator@demo.example.org").await;
        assert!(matches!(
            credits::grant(&app, &coordinator, harbor, &grant).await,
            Err(AppError::Forbidden)
        ));
        assert_eq!(balance_and_sum(&app, northside).await, (10, 10));
    }
);

/// Eight requests of one agency holding three credits each get the paid course at once,
/// each in its own transaction: three draw, five are charged, the balance ends at zero and
/// the ledger sums to it.
async fn concurrent_assignments_never_go_below_zero(store: Store) {
    const TASKS: usize = 8;
    let app = demo(store).await;
    let lead = ctx(&app, "lead@demo.example.org").await;
    let northside = agency_id(&app, "Northside Outreach Collective").await;
    credits::grant(
        &app,
        &lead,
        northside,
        &GrantInput {
            credits: "3".into(),
            reason: "Pilot".into(),
        },
    )
    .await
    .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let course = tx
        .course_by_key(1, "outreach-path-workflow")
        .await
        .unwrap()
        .unwrap();
    let template = tx.templates_latest(1).await.unwrap()[0].id;
    let now = app.now();
    let mut requests = Vec::new();
    for i in 0..TASKS {
        let email = format!("t{i}@northside.example.org");
        let person = tx
            .person_create(
                1,
                &PersonFields {
                    given_name: "Trainee",
                    family_name: &format!("N{i}"),
                    email: &email,
                    agency_id: Some(northside),
                },
                now,
            )
            .await
            .unwrap();
        let id = tx
            .request_create(
                &NewAccessRequest {
                    implementation_id: 1,
                    person_id: person,
                    agency_id: northside,
                    requested_by: lead.actor.person_id,
                    template_id: template,
                    is_returning: false,
                    access_level: "end_user",
                    responsibilities: "",
                    note: "",
                },
                now,
            )
            .await
            .unwrap();
        requests.push(tx.request_get(1, id).await.unwrap());
    }
    tx.commit().await.unwrap();
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for r in requests {
        let (app, lead, course) = (app.clone(), lead.clone(), course.clone());
        tasks.push(tokio::spawn(async move {
            let plan = TrainingPlan {
                id: 0,
                implementation_id: 1,
                person_id: r.person_id,
                request_id: Some(r.id),
                version: 1,
                rules_version: 1,
                facts: "{}".into(),
                spec: "{}".into(),
                began_at: r.submitted_at,
                carry_over_days: 0,
                computed_at: r.submitted_at,
                reason: String::new(),
                superseded_at: None,
            };
            let mut tx = app.store.begin().await.unwrap();
            let a = credits::assign_in(&mut tx, &app, &lead, &r, &plan, &course)
                .await
                .unwrap()
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            tx.commit().await.unwrap();
            // Assigning again changes nothing.
            let mut tx = app.store.begin().await.unwrap();
            let again = credits::assign_in(&mut tx, &app, &lead, &r, &plan, &course)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(again, Some(Assigned::Already));
            a
        }));
    }
    let (mut drew, mut charged) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Assigned::Drew(m) => {
                assert!(m.balance_after >= 0);
                drew += 1;
            }
            Assigned::Charged(_) => charged += 1,
            Assigned::Already => panic!("first assignment"),
        }
    }
    let (balance, sum) = balance_and_sum(&app, northside).await;
    assert_eq!(balance, 0);
    assert_eq!(sum, balance);
    assert_eq!((drew, charged), (3, TASKS - 3));
    let ledger = credits::ledger(&app, &lead, northside).await.unwrap();
    assert_eq!(ledger.open_charges as usize, TASKS - 3);
}

spawned_on_both_backends!(concurrent_assignments_never_go_below_zero);
