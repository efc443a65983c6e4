//! Access requests walked through each of the five seed processes, with deadlines, SLAs
//! and reminders driven by a controlled clock.

use chrono::{Duration, TimeZone, Utc};
use onramp_app::access::{self, RequestInput, StepAction, Submitted};
use onramp_app::{agreements, auth, processes, provisioning, App, AppConfig, AppError, Ctx};
use onramp_domain::clock::ManualClock;
use onramp_domain::process::{StepKind, StepStatus};
use onramp_domain::request::{RequestMove, RequestStatus};
use onramp_store::reads::*;
use onramp_store::{PageRequest, Store};
use std::sync::Arc;

#[path = "../../store/tests/support/mod.rs"]
mod support;

struct World {
    app: App,
    clock: ManualClock,
}

/// The demo implementation on `store`, with a clock the test moves.
async fn world(store: Store) -> World {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
    let app = App::new(
        store,
        Arc::new(clock.clone()),
        AppConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..Default::default()
        },
    );
    onramp_app::demo::load(&app).await.unwrap();
    World { app, clock }
}

impl World {
    async fn ctx(&self, email: &str) -> Ctx {
        let mut tx = self.app.store.read().await.unwrap();
        let a = tx
            .account_by_email(email)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no account {email}"));
        Ctx::new(
            auth::load_actor(&mut tx, a.person_id).await.unwrap(),
            "127.0.0.1",
        )
    }
    async fn person_ctx(&self, person_id: i64) -> Ctx {
        let mut tx = self.app.store.read().await.unwrap();
        Ctx::new(
            auth::load_actor(&mut tx, person_id).await.unwrap(),
            "127.0.0.1",
        )
    }
    async fn ctx_person(&self, email: &str) -> i64 {
        let mut tx = self.app.store.read().await.unwrap();
        tx.person_by_email(1, email)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no person {email}"))
            .id
    }
    async fn harbor(&self) -> (i64, Vec<i64>) {
        let mut tx = self.app.store.read().await.unwrap();
        let a = tx
            .agencies_list(1, &Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|a| a.name == "Harbor House")
            .unwrap();
        let projects = tx
            .projects_list(
                1,
                &onramp_store::organisation::ProjectFilter {
                    agency_id: Some(a.id),
                    ..Default::default()
                },
                PageRequest::ALL,
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.id)
            .collect();
        (a.id, projects)
    }
    async fn input(
        &self,
        given: &str,
        family: &str,
        email: &str,
        level: &str,
        resp: &[&str],
    ) -> RequestInput {
        let (agency, projects) = self.harbor().await;
        RequestInput {
            given_name: given.into(),
            family_name: family.into(),
            email: email.into(),
            agency_id: agency.to_string(),
            access_level: level.into(),
            responsibilities: resp.iter().map(|s| s.to_string()).collect(),
            projects: projects.iter().map(|p| p.to_string()).collect(),
            new_or_returning: String::new(),
            note: "Starts on Monday".into(),
            confirm_person: String::new(),
            process: String::new(),
        }
    }
    /// Every email queued: recipient, template and plain text, oldest first.
    async fn emails(&self) -> Vec<(String, String, String)> {
        let mut tx = self.app.store.read().await.unwrap();
        let page = tx.outbox_list(1, None, PageRequest::ALL).await.unwrap();
        let mut out: Vec<(String, String, String)> = page
            .items
            .into_iter()
            .map(|m| {
                let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
                (
                    m.recipient,
                    v["template"].as_str().unwrap_or_default().to_string(),
                    v["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        out.reverse();
        out
    }
    async fn outbox_templates(&self) -> Vec<(String, String)> {
        let mut tx = self.app.store.read().await.unwrap();
        let page = tx.outbox_list(1, None, PageRequest::ALL).await.unwrap();
        page.items
            .into_iter()
            .map(|m| {
                let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
                (
                    m.recipient,
                    v["template"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

fn created(s: Submitted) -> i64 {
    match s {
        Submitted::Created(id) => id,
        other => panic!("expected a new request, got {other:?}"),
    }
}

/// Acts on open steps, as whoever they wait for, until the request completes. Returns the
/// step keys in the order they were settled.
async fn walk(w: &World, request_id: i64) -> Vec<String> {
    let lead = w.ctx("lead@demo.example.org").await;
    let ata = w.ctx("ata@harbor.example.org").await;
    let director = w.ctx("director@harbor.example.org").await;
    let proctor = w.ctx("proctor@demo.example.org").await;
    let mut settled = Vec::new();
    for _ in 0..40 {
        let view = access::view(&w.app, &lead, request_id).await.unwrap();
        if view.status == RequestStatus::Completed {
            return settled;
        }
        assert_eq!(
            view.status,
            RequestStatus::Open,
            "request stuck: {:?}",
            view.request.status_reason
        );
        let trainee = w.person_ctx(view.request.person_id).await;
        let step = view
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Open)
            .unwrap_or_else(|| {
                panic!(
                    "nothing open: {:?}",
                    view.steps
                        .iter()
                        .map(|s| (&s.def.key, s.status))
                        .collect::<Vec<_>>()
                )
            })
            .clone();
        let key = step.def.key.clone();
        match step.def.kind {
            StepKind::LeadReview => {
                access::act(&w.app, &lead, request_id, &key, StepAction::Approve)
                    .await
                    .unwrap()
            }
            StepKind::StaffVerification => {
                // The agency attests its own staff's background check; the Lead cannot.
                let attest = || StepAction::Attest {
                    background_check_on: "2026-02-20".into(),
                };
                assert!(matches!(
                    access::act(&w.app, &lead, request_id, &key, attest()).await,
                    Err(AppError::Forbidden)
                ));
                access::act(&w.app, &ata, request_id, &key, attest())
                    .await
                    .unwrap()
            }
            StepKind::PracticeExerciseApproved => {
                // A proctor approves the exercise; the person cannot approve their own.
                assert!(matches!(
                    access::act(&w.app, &trainee, request_id, &key, StepAction::Approve).await,
                    Err(AppError::Forbidden)
                ));
                access::act(&w.app, &proctor, request_id, &key, StepAction::Approve)
                    .await
                    .unwrap()
            }
            StepKind::TrainingPlanComplete | StepKind::LiveSessionAttended => {
                // The trainee cannot certify their own training.
                assert!(matches!(
                    access::act(
                        &w.app,
                        &trainee,
                        request_id,
                        &key,
                        StepAction::RecordMet { reason: "x".into() }
                    )
                    .await,
                    Err(AppError::Forbidden)
                ));
                access::act(
                    &w.app,
                    &lead,
                    request_id,
                    &key,
                    StepAction::RecordMet {
                        reason: "Completed at the state HMIS academy".into(),
                    },
                )
                .await
                .unwrap()
            }
            StepKind::AgreementSigning => {
                let mut signed = false;
                let shown = agreements::signature_record(&w.app, &lead, request_id, &key)
                    .await
                    .unwrap()
                    .version;
                for who in [&trainee, &ata, &director, &lead] {
                    let input = agreements::SignatureInput {
                        typed_name: &who.actor.display_name,
                        version: shown,
                        user_agent: "test-agent",
                    };
                    match agreements::sign(&w.app, who, request_id, &key, &input).await {
                        Ok(()) => {
                            signed = true;
                            break;
                        }
                        Err(AppError::Forbidden) => continue,
                        Err(e) => panic!("signing {key} as {}: {e:?}", who.actor.display_name),
                    }
                }
                assert!(signed, "nobody could sign {key}");
                let after = access::view(&w.app, &lead, request_id).await.unwrap();
                if after
                    .steps
                    .iter()
                    .any(|s| s.def.key == key && s.status == StepStatus::Done)
                {
                    settled.push(key);
                }
                continue;
            }
            StepKind::AccountProvisioning => {
                let proposed = view
                    .hmis_account
                    .as_ref()
                    .map(|a| a.username.clone())
                    .expect("a proposed account");
                provisioning::record_created(&w.app, &lead, request_id, &proposed)
                    .await
                    .unwrap()
            }
            StepKind::FirstSignInConfirmed => access::act(
                &w.app,
                &trainee,
                request_id,
                &key,
                StepAction::Done {
                    note: "Signed in".into(),
                },
            )
            .await
            .unwrap(),
            StepKind::Checklist => {
                if step.def.actor != onramp_domain::process::StepActor::Lead {
                    // The Lead does not tick off someone else's step (it may record it as met).
                    assert!(matches!(
                        access::act(
                            &w.app,
                            &lead,
                            request_id,
                            &key,
                            StepAction::Done {
                                note: String::new()
                            }
                        )
                        .await,
                        Err(AppError::Forbidden)
                    ));
                }
                let who = match step.def.actor {
                    onramp_domain::process::StepActor::Trainee => &trainee,
                    onramp_domain::process::StepActor::AgencyContact
                    | onramp_domain::process::StepActor::Supervisor => &ata,
                    onramp_domain::process::StepActor::ExecutiveDirector => &director,
                    _ => &lead,
                };
                access::act(
                    &w.app,
                    who,
                    request_id,
                    &key,
                    StepAction::Done {
                        note: String::new(),
                    },
                )
                .await
                .unwrap()
            }
        }
        settled.push(key);
    }
    panic!("request {request_id} did not complete");
}

/// Submits a request for `given family` under the template `key` and walks it to completion.
async fn walk_template(
    w: &World,
    key: &str,
    level: &str,
    resp: &[&str],
    (given, family): (&str, &str),
) -> (i64, Vec<String>) {
    let lead = w.ctx("lead@demo.example.org").await;
    processes::set_default(&w.app, &lead, key).await.unwrap();
    let ata = w.ctx("ata@harbor.example.org").await;
    let email = format!(
        "{}.{}@harbor.example.org",
        given.to_lowercase(),
        family.to_lowercase()
    );
    let input = w.input(given, family, &email, level, resp).await;
    let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
    let steps = walk(w, id).await;
    // The account is live, the person was told, and the trail is intact.
    let view = access::view(&w.app, &lead, id).await.unwrap();
    let account = view.hmis_account.expect("an HMIS account");
    assert_eq!(account.status, "active");
    assert_eq!(
        account.username,
        format!("{}.{}", given.to_lowercase(), family.to_lowercase())
    );
    let mail = w.outbox_templates().await;
    for t in [
        "request_received",
        "welcome",
        "login_information",
        "training_completion",
    ] {
        assert!(
            mail.iter()
                .any(|(to, k)| k == t && (to == &email || t == "request_received")),
            "{key}: no {t} email in {mail:?}"
        );
    }
    let report = onramp_app::audit::verify(&w.app).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    (id, steps)
}

const ROSA: (&str, &str) = ("Rosa", "Delgado");
const OMAR: (&str, &str) = ("Omar", "Haddad");

both_backends!(seed_000_online_courses_then_login, |store| async move {
    let w = world(store).await;
    let (_, steps) = walk_template(
        &w,
        "online-courses-then-login",
        "end_user",
        &["enroll_clients"],
        ROSA,
    )
    .await;
    assert_eq!(
        steps,
        [
            "request-review",
            "online-training",
            "principles-of-hmis",
            "create-account",
            "first-login",
            "security-agreement",
            "access-granted"
        ]
    );
    // Without enrolling, exiting or reserving beds there is no live session.
    let (_, steps) = walk_template(
        &w,
        "online-courses-then-login",
        "read_only",
        &["reporting"],
        OMAR,
    )
    .await;
    assert!(
        !steps.contains(&"principles-of-hmis".to_string()),
        "{steps:?}"
    );
});

both_backends!(seed_001_agency_checklist_then_account, |store| async move {
    let w = world(store).await;
    let (id, steps) =
        walk_template(&w, "agency-checklist-then-account", "end_user", &[], ROSA).await;
    assert_eq!(
        steps.first().map(String::as_str),
        Some("training-checklist")
    );
    assert!(steps.contains(&"create-account".to_string()));
    // The user agreement was signed by the user, the agency administrator and the director, in that order.
    let mut tx = w.app.store.read().await.unwrap();
    let roles: Vec<String> = tx
        .signatures_of_request(id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.signer_role)
        .collect();
    assert_eq!(
        roles,
        ["user", "agency_administrator", "executive_director"]
    );
});

both_backends!(
    seed_002_introductory_and_advanced_training,
    |store| async move {
        let w = world(store).await;
        let (_, steps) = walk_template(
            &w,
            "introductory-and-advanced-training",
            "end_user",
            &[],
            ROSA,
        )
        .await;
        assert!(
            steps.contains(&"test-client".to_string())
                && !steps.contains(&"advanced-training".to_string()),
            "{steps:?}"
        );
        let (_, steps) = walk_template(
            &w,
            "introductory-and-advanced-training",
            "reporting",
            &["reporting"],
            OMAR,
        )
        .await;
        assert!(
            steps.contains(&"advanced-training".to_string()),
            "{steps:?}"
        );
    }
);

both_backends!(
    seed_003_verification_and_agreement_then_quiz,
    |store| async move {
        let w = world(store).await;
        let (id, steps) = walk_template(
            &w,
            "verification-and-agreement-then-quiz",
            "assessor",
            &["assessments"],
            ROSA,
        )
        .await;
        assert!(steps.iter().any(|s| s.contains("verif")), "{steps:?}");
        let mut tx = w.app.store.read().await.unwrap();
        let v = tx.staff_verifications_of(id).await.unwrap();
        assert_eq!(v.len(), 1, "only the attestation and its date are kept");
        assert_eq!(v[0].background_check_on.to_string(), "2026-02-20");
        // The end-user agreement is signed by the user alone.
        let roles: Vec<String> = tx
            .signatures_of_request(id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.signer_role)
            .collect();
        assert_eq!(roles, ["user"]);
    }
);

both_backends!(seed_004_courses_and_proctored_session, |store| async move {
    let w = world(store).await;
    let (id, steps) = walk_template(
        &w,
        "courses-and-proctored-session",
        "end_user",
        &["enroll_clients"],
        ROSA,
    )
    .await;
    assert!(steps.iter().any(|s| s.contains("proctored")), "{steps:?}");
    // The end-user agreement goes from the user to their supervisor.
    let roles: Vec<String> = {
        let mut tx = w.app.store.read().await.unwrap();
        tx.signatures_of_request(id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.signer_role)
            .collect()
    };
    assert_eq!(roles, ["user", "supervisor"]);
    // Coordinated-entry roles take the alternate path.
    let (_, ce) = walk_template(
        &w,
        "courses-and-proctored-session",
        "ce_specialist",
        &["referrals"],
        OMAR,
    )
    .await;
    assert_ne!(steps, ce);
});

both_backends!(
    returning_person_keeps_their_history_and_training_carries_over,
    |store| async move {
        let w = world(store).await;
        let (first, _) =
            walk_template(&w, "agency-checklist-then-account", "end_user", &[], ROSA).await;
        let ata = w.ctx("ata@harbor.example.org").await;
        let lead = w.ctx("lead@demo.example.org").await;
        w.clock.advance(Duration::days(60));
        // A second request for the same email: found by email, returning, training carried over.
        let input = w
            .input(
                "Rosa",
                "Delgado",
                "ROSA.DELGADO@harbor.example.org",
                "reporting",
                &["reporting"],
            )
            .await;
        let second = created(access::submit(&w.app, &ata, &input).await.unwrap());
        let view = access::view(&w.app, &lead, second).await.unwrap();
        assert!(view.request.is_returning);
        let first_view = access::view(&w.app, &lead, first).await.unwrap();
        assert_eq!(view.person.id, first_view.person.id);
        // Training carries over item by item: the introduction, recorded as met on the first
        // request, still counts; the reporting course her new access level adds does not.
        access::act(
            &w.app,
            &ata,
            second,
            "training-checklist",
            StepAction::Done {
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let trainee = w.person_ctx(view.person.id).await;
        access::act(
            &w.app,
            &trainee,
            second,
            "learning-account",
            StepAction::Done {
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let plan = onramp_app::learning::plans::person_plan(&w.app, &lead, view.person.id)
            .await
            .unwrap()
            .expect("a plan for the second request");
        assert_eq!(plan.plan.request_id, Some(second));
        let status_of = |key: &str| {
            plan.view
                .groups
                .iter()
                .flat_map(|g| g.items.iter())
                .find(|i| i.item.key.as_str() == key)
                .map(|i| i.status.clone())
        };
        assert!(
            matches!(
                status_of("intro-hmis"),
                Some(onramp_domain::learning::plan::ItemStatus::Complete {
                    carried_over: true,
                    ..
                })
            ),
            "{:?}",
            status_of("intro-hmis")
        );
        assert!(matches!(
            status_of("guide-reporting-basics"),
            Some(onramp_domain::learning::plan::ItemStatus::Available)
        ));
        // Provisioning reuses their username.
        let steps = walk(&w, second).await;
        assert!(steps.contains(&"required-courses".to_string()));
        let view = access::view(&w.app, &lead, second).await.unwrap();
        assert_eq!(view.hmis_account.unwrap().username, "rosa.delgado");
    }
);

both_backends!(
    name_match_asks_for_confirmation_and_duplicates_are_refused,
    |store| async move {
        let w = world(store).await;
        let ata = w.ctx("ata@harbor.example.org").await;
        let lead = w.ctx("lead@demo.example.org").await;
        // Sam Ortiz works at Harbor House already, with another email.
        let mut input = w
            .input(
                "Sam",
                "Ortiz",
                "sam.o@personal.example.org",
                "end_user",
                &[],
            )
            .await;
        let Submitted::ConfirmPerson(candidates) =
            access::submit(&w.app, &ata, &input).await.unwrap()
        else {
            panic!("expected a confirmation")
        };
        assert_eq!(candidates.len(), 1);
        input.confirm_person = candidates[0].id.to_string();
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        let view = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(view.person.id, candidates[0].id);
        // A second request while one is in progress is a duplicate.
        let again = access::submit(&w.app, &ata, &input).await;
        assert!(
            matches!(again, Err(AppError::Conflict(ref m)) if m.contains(&format!("#{id}"))),
            "{again:?}"
        );
        // "A different person" creates a new one (the email differs).
        input.confirm_person = "new".into();
        input.email = "sam.ortiz2@harbor.example.org".into();
        let other = created(access::submit(&w.app, &ata, &input).await.unwrap());
        assert_ne!(
            access::view(&w.app, &lead, other).await.unwrap().person.id,
            candidates[0].id
        );
    }
);

both_backends!(who_may_request_and_for_which_agency, |store| async move {
    let w = world(store).await;
    let ata = w.ctx("ata@harbor.example.org").await;
    let trainee = w.ctx("trainee@harbor.example.org").await;
    let northside_ata = w.ctx("ata@northside.example.org").await;
    let input = w
        .input(
            "Lee",
            "Park",
            "lee.park@harbor.example.org",
            "end_user",
            &[],
        )
        .await;
    assert!(matches!(
        access::submit(&w.app, &trainee, &input).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        access::submit(&w.app, &northside_ata, &input).await,
        Err(AppError::Forbidden)
    ));
    // Bad input is reported field by field, and nothing is saved.
    let mut bad = input.clone();
    bad.email = "not-an-email".into();
    bad.access_level = "wizard".into();
    bad.projects = vec![];
    let Err(AppError::Invalid(errors)) = access::submit(&w.app, &ata, &bad).await else {
        panic!()
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"email")
            && fields.contains(&"access_level")
            && fields.contains(&"projects"),
        "{fields:?}"
    );
    let lead = w.ctx("lead@demo.example.org").await;
    assert_eq!(
        access::list(&w.app, &lead, Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
    // A pending agency does not participate yet.
    let mut tx = w.app.store.read().await.unwrap();
    let cedar = tx
        .agencies_list(1, &Default::default(), PageRequest::ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.name.starts_with("Cedar"))
        .unwrap();
    drop(tx);
    let mut pending = input.clone();
    pending.agency_id = cedar.id.to_string();
    let Err(AppError::Invalid(errors)) = access::submit(&w.app, &lead, &pending).await else {
        panic!()
    };
    assert!(errors
        .iter()
        .any(|e| e.field == "agency_id" && e.message.contains("does not participate")));
    // The agency administrator sees their agency's pipeline; the trainee their own; Northside nothing of Harbor.
    let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
    assert_eq!(
        access::list(&w.app, &ata, Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        access::list(&w.app, &northside_ata, Default::default(), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        access::view(&w.app, &northside_ata, id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        access::view(&w.app, &trainee, id).await,
        Err(AppError::NotFound)
    ));
});

both_backends!(
    hold_reject_withdraw_and_reopen_lose_nothing,
    |store| async move {
        let w = world(store).await;
        let ata = w.ctx("ata@harbor.example.org").await;
        let lead = w.ctx("lead@demo.example.org").await;
        let input = w
            .input(
                "Mia",
                "Stone",
                "mia.stone@harbor.example.org",
                "end_user",
                &[],
            )
            .await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        assert!(matches!(
            access::change_status(&w.app, &lead, id, RequestMove::Hold, "").await,
            Err(AppError::Invalid(_))
        ));
        access::change_status(
            &w.app,
            &lead,
            id,
            RequestMove::Hold,
            "Waiting for the start date",
        )
        .await
        .unwrap();
        assert!(matches!(
            access::change_status(&w.app, &ata, id, RequestMove::Resume, "").await,
            Err(AppError::Forbidden)
        ));
        access::change_status(&w.app, &lead, id, RequestMove::Resume, "")
            .await
            .unwrap();
        let review = access::view(&w.app, &lead, id)
            .await
            .unwrap()
            .steps
            .into_iter()
            .find(|s| s.def.kind == StepKind::LeadReview)
            .unwrap();
        access::act(
            &w.app,
            &lead,
            id,
            &review.def.key,
            StepAction::Reject {
                reason: "Not an agency employee".into(),
            },
        )
        .await
        .unwrap();
        let v = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(v.status, RequestStatus::Rejected);
        assert_eq!(v.request.status_reason, "Not an agency employee");
        assert!(w
            .outbox_templates()
            .await
            .iter()
            .any(|(to, k)| k == "request_rejected" && to == "ata@harbor.example.org"));
        access::change_status(&w.app, &lead, id, RequestMove::Reopen, "Confirmed by HR")
            .await
            .unwrap();
        let v = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(v.status, RequestStatus::Open);
        assert_eq!(v.request.note, "Starts on Monday");
        access::change_status(&w.app, &ata, id, RequestMove::Withdraw, "Left the agency")
            .await
            .unwrap();
        assert_eq!(
            access::view(&w.app, &lead, id).await.unwrap().status,
            RequestStatus::Withdrawn
        );
        // The thread keeps every message, and a reply emails the other side.
        access::post_message(&w.app, &ata, id, "Could you reopen this next month?")
            .await
            .unwrap();
        access::post_message(&w.app, &lead, id, "Yes: ask again then.")
            .await
            .unwrap();
        let v = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(v.messages.len(), 2);
        let mail = w.outbox_templates().await;
        assert!(mail
            .iter()
            .any(|(to, k)| k == "request_message" && to == "lead@demo.example.org"));
        assert!(mail
            .iter()
            .any(|(to, k)| k == "request_message" && to == "ata@harbor.example.org"));
    }
);

const TIMED: &str = r#"
key = "timed"
name = "Timed process"
carry_over_days = 365

[[steps]]
key = "review"
title = "Review"
kind = "lead_review"
actor = "lead"
sla_hours = 24

[[steps]]
key = "training"
title = "Finish the training"
kind = "training_plan_complete"
actor = "trainee"
after = ["review"]
remind_every_days = 3
deadline = { days = 14, from = "request_start", warn_days_before = 3 }

[[steps]]
key = "account"
title = "Create the account"
kind = "account_provisioning"
actor = "lead"
after = ["training"]
sla_hours = 48
"#;

both_backends!(
    deadlines_slas_and_reminders_follow_the_clock,
    |store| async move {
        let w = world(store).await;
        let lead = w.ctx("lead@demo.example.org").await;
        let ata = w.ctx("ata@harbor.example.org").await;
        processes::save(&w.app, &lead, TIMED).await.unwrap();
        processes::set_default(&w.app, &lead, "timed")
            .await
            .unwrap();
        let id = created(
            access::submit(
                &w.app,
                &ata,
                &w.input(
                    "Ana",
                    "Reyes",
                    "ana.reyes@harbor.example.org",
                    "end_user",
                    &[],
                )
                .await,
            )
            .await
            .unwrap(),
        );

        // The review's SLA is 24 hours.
        w.clock.advance(Duration::hours(23));
        assert_eq!(access::sweep(&w.app).await.unwrap(), Default::default());
        w.clock.advance(Duration::hours(2));
        let r = access::sweep(&w.app).await.unwrap();
        assert_eq!(r.sla_breached, 1);
        assert_eq!(
            access::sweep(&w.app).await.unwrap().sla_breached,
            0,
            "a breach is recorded once"
        );
        let breached = access::list(
            &w.app,
            &lead,
            onramp_store::access::RequestFilter {
                sla_breached: true,
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await
        .unwrap();
        assert_eq!(breached.total, 1);
        access::act(&w.app, &lead, id, "review", StepAction::Approve)
            .await
            .unwrap();

        // Training is due 14 days after the request: reminders every 3 days, a warning 3 days before.
        w.clock.advance(Duration::days(3));
        assert_eq!(access::sweep(&w.app).await.unwrap().reminded, 1);
        assert_eq!(access::sweep(&w.app).await.unwrap().reminded, 0);
        w.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 13, 10, 0, 0).unwrap());
        let r = access::sweep(&w.app).await.unwrap();
        assert_eq!(r.warned, 1);
        let mail = w.outbox_templates().await;
        assert!(mail
            .iter()
            .any(|(to, k)| k == "deadline_warning" && to == "ana.reyes@harbor.example.org"));
        assert!(mail
            .iter()
            .any(|(to, k)| k == "step_reminder" && to == "ana.reyes@harbor.example.org"));

        // Past the deadline the request expires and the agency is told.
        w.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 16, 9, 1, 0).unwrap());
        assert_eq!(access::sweep(&w.app).await.unwrap().expired, 1);
        let v = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(v.status, RequestStatus::Expired);
        assert!(w
            .outbox_templates()
            .await
            .iter()
            .any(|(to, k)| k == "request_expired" && to == "ata@harbor.example.org"));
        assert!(matches!(
            access::act(
                &w.app,
                &lead,
                id,
                "training",
                StepAction::RecordMet {
                    reason: "late".into()
                }
            )
            .await,
            Err(AppError::Conflict(_))
        ));

        // Reopened, the deadline starts again, and nothing entered was lost.
        access::change_status(
            &w.app,
            &lead,
            id,
            RequestMove::Reopen,
            "Training rescheduled",
        )
        .await
        .unwrap();
        let v = access::view(&w.app, &lead, id).await.unwrap();
        let training = v.steps.iter().find(|s| s.def.key == "training").unwrap();
        assert!(training.row.due_at.unwrap() > w.app.now());
        assert_eq!(access::sweep(&w.app).await.unwrap().expired, 0);

        // A template version change does not affect the request in progress.
        let edited = TIMED
            .replace("days = 14", "days = 30")
            .replace("name = \"Timed process\"", "name = \"Timed process v2\"");
        processes::save(&w.app, &lead, &edited).await.unwrap();
        let v = access::view(&w.app, &lead, id).await.unwrap();
        assert_eq!(v.process_version, 1);
    }
);

both_backends!(
    provisioning_webhook_is_signed_and_status_changes_are_kept,
    |store| async move {
        let w = world(store).await;
        let (id, _) = walk_template(&w, "online-courses-then-login", "end_user", &[], ROSA).await;
        let lead = w.ctx("lead@demo.example.org").await;
        provisioning::set_webhook(
            &w.app,
            &lead,
            "https://hmis.example.org/hooks/onramp",
            "a-very-long-shared-secret",
        )
        .await
        .unwrap();
        let account = access::view(&w.app, &lead, id)
            .await
            .unwrap()
            .hmis_account
            .unwrap();
        assert!(matches!(
            provisioning::set_status(&w.app, &lead, account.id, "pending", "x").await,
            Err(AppError::Invalid(_))
        ));
        provisioning::set_status(
            &w.app,
            &lead,
            account.id,
            "suspended",
            "Certification lapsed",
        )
        .await
        .unwrap();
        let view = provisioning::get(&w.app, &lead, account.id).await.unwrap();
        assert_eq!(view.account.status, "suspended");
        let history: Vec<(&str, &str)> = view
            .events
            .iter()
            .map(|e| (e.status.as_str(), e.note.as_str()))
            .collect();
        assert_eq!(
            history,
            [
                ("pending", "Proposed by Onramp"),
                ("active", "Account created in the HMIS"),
                ("active", "First sign-in confirmed"),
                ("suspended", "Certification lapsed")
            ]
        );
        let mut tx = w.app.store.read().await.unwrap();
        let hooks: Vec<_> = tx
            .outbox_list(1, None, PageRequest::ALL)
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|m| m.kind == "webhook")
            .collect();
        assert_eq!(hooks.len(), 1);
        let payload: serde_json::Value = serde_json::from_str(&hooks[0].payload).unwrap();
        let body = payload["body"].as_str().unwrap();
        // Signed by the worker when it delivers, over the time of sending and the body.
        assert!(payload.get("signature").is_none(), "{payload}");
        assert_eq!(payload["url"], "https://hmis.example.org/hooks/onramp");
        assert!(body.contains("\"status\":\"suspended\""));
        let csv = provisioning::csv(&w.app, &lead, Default::default())
            .await
            .unwrap();
        assert!(csv.lines().nth(1).unwrap().contains("rosa.delgado"));
        // An agency administrator cannot change account status.
        let ata = w.ctx("ata@harbor.example.org").await;
        assert!(matches!(
            provisioning::set_status(&w.app, &ata, account.id, "active", "x").await,
            Err(AppError::Forbidden)
        ));
    }
);

/// The step-waiting and welcome emails queued since `from` (an index into `emails()`).
fn since(all: &[(String, String, String)], from: usize) -> Vec<(String, String, String)> {
    all[from..].to_vec()
}

both_backends!(
    the_person_is_invited_when_their_first_step_opens_before_the_lead_review,
    |store| async move {
        let w = world(store).await;
        let lead = w.ctx("lead@demo.example.org").await;
        let ata = w.ctx("ata@harbor.example.org").await;

        // Seed 003: the person signs the end-user agreement while the supervisor verifies,
        // before the Lead reviews the documents.
        processes::set_default(&w.app, &lead, "verification-and-agreement-then-quiz")
            .await
            .unwrap();
        let email = "lee.park@harbor.example.org";
        let input = w.input("Lee", "Park", email, "end_user", &[]).await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        let mail = w.emails().await;
        let to_lee: Vec<_> = mail.iter().filter(|(to, _, _)| to == email).collect();
        assert_eq!(to_lee.len(), 1, "{mail:?}");
        let (_, key, text) = to_lee[0];
        assert_eq!(key, "welcome", "an Onramp invitation: Lee has no password");
        assert!(text.contains("/invitation/"), "{text}");
        assert!(
            text.contains(&format!("/requests/{id}/sign/end-user-agreement")),
            "the welcome links to the first step: {text}"
        );
        // The supervisor is told of the verification, with a link to it; the Lead of nothing yet.
        assert!(mail
            .iter()
            .any(|(to, k, text)| to == "ata@harbor.example.org"
                && k == "step_waiting"
                && text.contains(&format!("/requests/{id}#step-staff-verification"))));
        assert!(!mail
            .iter()
            .any(|(to, k, _)| to == "lead@demo.example.org" && k == "step_waiting"));

        // Running the sweep again and again tells nobody anything more.
        let before = w.emails().await.len();
        let r = access::sweep(&w.app).await.unwrap();
        assert_eq!(r, Default::default());
        access::sweep(&w.app).await.unwrap();
        assert_eq!(w.emails().await.len(), before);

        // Once both are done, the Lead is told of the review, once.
        access::act(
            &w.app,
            &ata,
            id,
            "staff-verification",
            StepAction::Attest {
                background_check_on: "2026-02-20".into(),
            },
        )
        .await
        .unwrap();
        let mark = w.emails().await.len();
        let lee = w.person_ctx(w.ctx_person(email).await).await;
        let shown = agreements::signature_record(&w.app, &lee, id, "end-user-agreement")
            .await
            .unwrap()
            .version;
        agreements::sign(
            &w.app,
            &lee,
            id,
            "end-user-agreement",
            &agreements::SignatureInput {
                typed_name: "Lee Park",
                version: shown,
                user_agent: "ua",
            },
        )
        .await
        .unwrap();
        let new = since(&w.emails().await, mark);
        let lead_told: Vec<_> = new
            .iter()
            .filter(|(_, k, _)| k == "step_waiting")
            .map(|(to, _, text)| {
                (
                    to.clone(),
                    text.contains(&format!("/requests/{id}#step-documents-review")),
                )
            })
            .collect();
        assert!(
            lead_told.contains(&("lead@demo.example.org".to_string(), true)),
            "{new:?}"
        );
        assert!(
            lead_told.contains(&("coordinator@demo.example.org".to_string(), true)),
            "{new:?}"
        );
        let before = w.emails().await.len();
        access::sweep(&w.app).await.unwrap();
        assert_eq!(w.emails().await.len(), before);

        // Seed 004: the agency validates the new hire, then the person sets up their
        // learning account before the Lead's review.
        processes::set_default(&w.app, &lead, "courses-and-proctored-session")
            .await
            .unwrap();
        let email = "mia.stone@harbor.example.org";
        let input = w.input("Mia", "Stone", email, "end_user", &[]).await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        assert!(!w.emails().await.iter().any(|(to, _, _)| to == email));
        access::act(
            &w.app,
            &ata,
            id,
            "validate-new-hire",
            StepAction::Done {
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let to_mia: Vec<_> = w
            .emails()
            .await
            .into_iter()
            .filter(|(to, _, _)| to == email)
            .collect();
        assert_eq!(to_mia.len(), 1, "{to_mia:?}");
        assert_eq!(to_mia[0].1, "welcome");
        assert!(to_mia[0]
            .2
            .contains(&format!("/requests/{id}#step-learning-account")));
        let view = access::view(&w.app, &lead, id).await.unwrap();
        assert!(view
            .steps
            .iter()
            .any(|s| s.def.kind == StepKind::LeadReview && s.status == StepStatus::Waiting));
    }
);

both_backends!(
    staff_verification_is_the_agency_s_and_proctors_approve_practice,
    |store| async move {
        let w = world(store).await;
        let lead = w.ctx("lead@demo.example.org").await;
        let coordinator = w.ctx("coordinator@demo.example.org").await;
        let ata = w.ctx("ata@harbor.example.org").await;
        let director = w.ctx("director@harbor.example.org").await;
        let proctor = w.ctx("proctor@demo.example.org").await;
        processes::set_default(&w.app, &lead, "verification-and-agreement-then-quiz")
            .await
            .unwrap();
        let input = w
            .input(
                "Lee",
                "Park",
                "lee.park@harbor.example.org",
                "end_user",
                &[],
            )
            .await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        let attest = || StepAction::Attest {
            background_check_on: "2026-02-20".into(),
        };
        for who in [&lead, &coordinator, &director, &proctor] {
            assert!(
                matches!(
                    access::act(&w.app, who, id, "staff-verification", attest()).await,
                    Err(AppError::Forbidden)
                ),
                "{}",
                who.actor.display_name
            );
        }
        let view = access::view(&w.app, &lead, id).await.unwrap();
        let step = view
            .steps
            .iter()
            .find(|s| s.def.key == "staff-verification")
            .unwrap();
        assert!(!step.mine, "not the Lead's to do");
        let view = access::view(&w.app, &ata, id).await.unwrap();
        assert!(view
            .steps
            .iter()
            .any(|s| s.def.key == "staff-verification" && s.mine));
        access::act(&w.app, &ata, id, "staff-verification", attest())
            .await
            .unwrap();

        // Seed 002's test client is approved by a proctor, who is told and sees it as theirs.
        processes::set_default(&w.app, &lead, "introductory-and-advanced-training")
            .await
            .unwrap();
        let input = w
            .input(
                "Mia",
                "Stone",
                "mia.stone@harbor.example.org",
                "end_user",
                &[],
            )
            .await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        access::act(&w.app, &lead, id, "request-review", StepAction::Approve)
            .await
            .unwrap();
        access::act(
            &w.app,
            &lead,
            id,
            "introductory-training",
            StepAction::RecordMet {
                reason: "Done at the state HMIS".into(),
            },
        )
        .await
        .unwrap();
        let mail = w.emails().await;
        assert!(mail
            .iter()
            .any(|(to, k, text)| to == "proctor@demo.example.org"
                && k == "step_waiting"
                && text.contains(&format!("/requests/{id}#step-test-client"))));
        assert!(
            mail.iter()
                .any(|(to, k, text)| to == "mia.stone@harbor.example.org"
                    && k == "step_waiting"
                    && text.contains("#step-test-client")),
            "the person is told to enter the test client"
        );
        let mia = w
            .person_ctx(w.ctx_person("mia.stone@harbor.example.org").await)
            .await;
        for who in [&mia, &ata] {
            assert!(matches!(
                access::act(&w.app, who, id, "test-client", StepAction::Approve).await,
                Err(AppError::Forbidden)
            ));
        }
        let view = access::view(&w.app, &proctor, id).await.unwrap();
        assert!(view
            .steps
            .iter()
            .any(|s| s.def.key == "test-client" && s.mine));
        access::act(&w.app, &proctor, id, "test-client", StepAction::Approve)
            .await
            .unwrap();
        let view = access::view(&w.app, &lead, id).await.unwrap();
        let step = view
            .steps
            .iter()
            .find(|s| s.def.key == "test-client")
            .unwrap();
        assert_eq!(step.status, StepStatus::Done);
        assert!(step.row.note.contains("Priya Raman"), "{}", step.row.note);
    }
);

both_backends!(
    welcome_back_follows_the_template_s_carry_over,
    |store| async move {
        let w = world(store).await;
        let lead = w.ctx("lead@demo.example.org").await;
        let ata = w.ctx("ata@harbor.example.org").await;
        // Rosa completes seed 001 (training recorded as met), and sets a password.
        let (_, _) =
            walk_template(&w, "agency-checklist-then-account", "end_user", &[], ROSA).await;
        let rosa = w.ctx_person("rosa.delgado@harbor.example.org").await;
        {
            let mut tx = w.app.store.begin().await.unwrap();
            auth::issue_password(&mut tx, &w.app, rosa, "Harbor-Lights-2026", false)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let hash_before = {
            let mut tx = w.app.store.read().await.unwrap();
            tx.account_get(rosa).await.unwrap().unwrap().password_hash
        };
        w.clock.advance(Duration::days(60));
        let welcome_back_of = |mail: Vec<(String, String, String)>| {
            mail.into_iter()
                .filter(|(to, k, _)| to == "rosa.delgado@harbor.example.org" && k == "welcome_back")
                .map(|(_, _, text)| text)
                .collect::<Vec<_>>()
        };

        // Seed 000 carries nothing over: she is told she repeats every step.
        processes::set_default(&w.app, &lead, "online-courses-then-login")
            .await
            .unwrap();
        let input = w
            .input(
                "Rosa",
                "Delgado",
                "rosa.delgado@harbor.example.org",
                "end_user",
                &[],
            )
            .await;
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        access::act(&w.app, &lead, id, "request-review", StepAction::Approve)
            .await
            .unwrap();
        let texts = welcome_back_of(w.emails().await);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains("you repeat every step"), "{}", texts[0]);
        assert!(!texts[0].contains("is not repeated"), "{}", texts[0]);
        assert!(
            texts[0].contains("/password-reset/") && !texts[0].contains("/invitation/"),
            "a reset-style sign-in link, never an invitation: {}",
            texts[0]
        );
        assert!(texts[0].contains(&format!("/requests/{id}#step-online-training")));
        access::change_status(&w.app, &ata, id, RequestMove::Withdraw, "Wrong process")
            .await
            .unwrap();

        // Seed 001 carries recent training over: she is told what counts.
        processes::set_default(&w.app, &lead, "agency-checklist-then-account")
            .await
            .unwrap();
        let id = created(access::submit(&w.app, &ata, &input).await.unwrap());
        access::act(
            &w.app,
            &ata,
            id,
            "training-checklist",
            StepAction::Done {
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let texts = welcome_back_of(w.emails().await);
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(
            texts[1].contains(
                "counts and is not repeated: Introduction to Homeless Management Information System (HMIS)"
            ),
            "{}",
            texts[1]
        );
        // Her password was never replaced.
        let mut tx = w.app.store.read().await.unwrap();
        assert_eq!(
            tx.account_get(rosa).await.unwrap().unwrap().password_hash,
            hash_before
        );
    }
);
