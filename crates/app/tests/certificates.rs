//! Certificates over a real SQLite store with the demo loaded: issuing once per subject with
//! its audit event and email, revoking, the public look-up and who may download.

use chrono::{Duration, TimeZone, Utc};
use onramp_app::learning::certificates::{self, ISSUED_TEMPLATE};
use onramp_app::{auth, demo, App, AppConfig, AppError, Ctx};
use onramp_domain::clock::ManualClock;
use onramp_domain::learning::certificate::{
    CertificateStatus, CertificateSubject, VerificationCode,
};
use onramp_domain::Slug;
use onramp_store::audit::AuditFilter;
use onramp_store::{PageRequest, Store};
use std::sync::Arc;

struct World {
    app: App,
    clock: ManualClock,
    imp: i64,
    _dir: tempfile::TempDir,
}

async fn world(lookups: i64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let config = AppConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        base_url: "https://onramp.example.org".into(),
        certificate_lookups_per_window: lookups,
        ..AppConfig::default()
    };
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
    let app = App::new(store, Arc::new(clock.clone()), config);
    let (imp, _) = demo::load(&app).await.unwrap();
    World {
        app,
        clock,
        imp,
        _dir: dir,
    }
}

async fn ctx(app: &App, email: &str) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    let account = tx.account_by_email(email).await.unwrap().unwrap();
    let actor = auth::load_actor(&mut tx, account.person_id).await.unwrap();
    Ctx::new(actor, "127.0.0.1")
}

fn intro(version: i32) -> CertificateSubject {
    CertificateSubject::Course {
        key: Slug::parse("intro-hmis").unwrap(),
        version,
    }
}

async fn issue(
    w: &World,
    by: &Ctx,
    person_id: i64,
    subject: &CertificateSubject,
    valid_days: Option<i64>,
) -> Result<certificates::Certificate, AppError> {
    let now = w.app.now();
    let mut tx = w.app.store.begin().await.unwrap();
    let c = certificates::issue_in(
        &mut tx,
        &w.app,
        by,
        person_id,
        subject,
        "Introduction to HMIS (version 2)",
        now - Duration::hours(1),
        valid_days.map(|d| now + Duration::days(d)),
    )
    .await?;
    tx.commit().await.unwrap();
    Ok(c)
}

async fn issued_mail(w: &World) -> Vec<(String, serde_json::Value)> {
    let mut tx = w.app.store.read().await.unwrap();
    tx.outbox_list(w.imp, None, PageRequest::ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|m| {
            let p: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
            (p["template"] == ISSUED_TEMPLATE).then_some((m.recipient, p))
        })
        .collect()
}

async fn audit_count(w: &World, action: &str) -> i64 {
    let mut tx = w.app.store.read().await.unwrap();
    tx.audit_list(
        w.imp,
        &AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        },
        PageRequest::ALL,
    )
    .await
    .unwrap()
    .total
}

#[tokio::test]
async fn a_subject_is_certified_once_with_its_audit_event_and_email() {
    let w = world(30).await;
    let trainee = ctx(&w.app, "trainee@harbor.example.org").await;
    let me = trainee.actor.person_id;
    let first = issue(&w, &trainee, me, &intro(2), Some(365)).await.unwrap();
    assert_eq!(first.person_id, me);
    assert_eq!(first.subject_kind, "course");
    assert_eq!(first.subject_ref, "intro-hmis:2");
    assert!(VerificationCode::parse(&first.code).is_ok_and(|c| c.as_str() == first.code));
    // Again: the same certificate, nothing new written.
    let again = issue(&w, &trainee, me, &intro(2), Some(30)).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(audit_count(&w, "certificate.issue").await, 1);
    let mail = issued_mail(&w).await;
    assert_eq!(mail.len(), 1);
    let (to, payload) = &mail[0];
    assert_eq!(to, "trainee@harbor.example.org");
    let text = payload["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "https://onramp.example.org/certificates/{}/pdf",
            first.id
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://onramp.example.org/verify/{}", first.code)),
        "{text}"
    );
    assert!(text.contains("It is valid until March 2, 2027."), "{text}");
    assert_eq!(
        payload["subject"],
        "Your certificate: Introduction to HMIS (version 2)"
    );

    // Another version and the plan are certificates of their own.
    let v3 = issue(&w, &trainee, me, &intro(3), None).await.unwrap();
    let plan = issue(
        &w,
        &trainee,
        me,
        &CertificateSubject::Plan { part: None },
        None,
    )
    .await
    .unwrap();
    assert!(v3.id != first.id && plan.id != v3.id && plan.code != v3.code);
    let mine: Vec<i64> = certificates::mine(&w.app, &trainee)
        .await
        .unwrap()
        .iter()
        .map(|v| v.certificate.id)
        .collect();
    assert_eq!(mine, [plan.id, v3.id, first.id]);
    assert_eq!(issued_mail(&w).await.len(), 3);
}

#[tokio::test]
async fn bad_input_issues_nothing() {
    let w = world(30).await;
    let lead = ctx(&w.app, "lead@demo.example.org").await;
    let trainee = ctx(&w.app, "trainee@harbor.example.org")
        .await
        .actor
        .person_id;
    let now = w.app.now();
    let mut tx = w.app.store.begin().await.unwrap();
    for (title, until) in [("  ", None), ("Intro", Some(now - Duration::days(2)))] {
        let r = certificates::issue_in(
            &mut tx,
            &w.app,
            &lead,
            trainee,
            &intro(1),
            title,
            now - Duration::days(1),
            until,
        )
        .await;
        assert!(matches!(r, Err(AppError::Invalid(_))), "{title:?}: {r:?}");
    }
    // Nobody of this implementation.
    let r = certificates::issue_in(
        &mut tx,
        &w.app,
        &lead,
        987_654,
        &intro(1),
        "Intro",
        now,
        None,
    )
    .await;
    assert!(matches!(r, Err(AppError::NotFound)), "{r:?}");
    tx.commit().await.unwrap();
    assert_eq!(audit_count(&w, "certificate.issue").await, 0);
    assert!(issued_mail(&w).await.is_empty());
}

#[tokio::test]
async fn the_public_look_up_shows_validity_over_time_and_is_rate_limited() {
    let w = world(5).await;
    let lead = ctx(&w.app, "lead@demo.example.org").await;
    let trainee = ctx(&w.app, "trainee@harbor.example.org")
        .await
        .actor
        .person_id;
    let c = issue(&w, &lead, trainee, &intro(2), Some(365))
        .await
        .unwrap();
    let code = VerificationCode::parse(&c.code.to_lowercase()).unwrap();
    let look = |addr: &'static str| {
        let app = w.app.clone();
        let code = code.clone();
        async move { certificates::verify_public(&app, addr, &code, app.now()).await }
    };
    let seen = look("203.0.113.7").await.unwrap().expect("found");
    assert_eq!(seen.name, "Sam Ortiz");
    assert_eq!(seen.title, "Introduction to HMIS (version 2)");
    assert_eq!(seen.status, CertificateStatus::Valid);
    assert_eq!(seen.valid_until, c.valid_until);
    w.clock.advance(Duration::days(366));
    assert_eq!(
        look("203.0.113.7").await.unwrap().unwrap().status,
        CertificateStatus::Expired
    );
    let unknown = VerificationCode::parse("0000-0000-0000").unwrap();
    assert_eq!(
        certificates::verify_public(&w.app, "203.0.113.7", &unknown, w.app.now())
            .await
            .unwrap(),
        None
    );
    // Five look-ups in the window (the first, a year ago, has left it), then refused;
    // another address is not.
    for _ in 0..3 {
        look("203.0.113.7").await.unwrap();
    }
    assert!(matches!(
        look("203.0.113.7").await,
        Err(AppError::RateLimited)
    ));
    assert!(look("198.51.100.1").await.unwrap().is_some());
    // Once the window has passed, the address may look again.
    w.clock.advance(Duration::minutes(16));
    assert!(look("203.0.113.7").await.unwrap().is_some());
}

#[tokio::test]
async fn only_a_lead_admin_revokes_and_only_once() {
    let w = world(30).await;
    let lead = ctx(&w.app, "lead@demo.example.org").await;
    let coordinator = ctx(&w.app, "coordinator@demo.example.org").await;
    let trainee_ctx = ctx(&w.app, "trainee@harbor.example.org").await;
    let c = issue(&w, &lead, trainee_ctx.actor.person_id, &intro(2), None)
        .await
        .unwrap();
    for who in [&coordinator, &trainee_ctx] {
        assert!(matches!(
            certificates::revoke(&w.app, who, c.id, "No").await,
            Err(AppError::Forbidden)
        ));
    }
    assert!(matches!(
        certificates::revoke(&w.app, &lead, c.id, " ").await,
        Err(AppError::Invalid(_))
    ));
    certificates::revoke(&w.app, &lead, c.id, "Completed on someone else's account")
        .await
        .unwrap();
    assert!(matches!(
        certificates::revoke(&w.app, &lead, c.id, "Again").await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(audit_count(&w, "certificate.revoke").await, 1);
    let views = certificates::mine(&w.app, &trainee_ctx).await.unwrap();
    assert_eq!(views[0].status, CertificateStatus::Revoked);
    // Issuing again gives back the revoked one.
    let again = issue(&w, &lead, trainee_ctx.actor.person_id, &intro(2), None)
        .await
        .unwrap();
    assert_eq!(again.id, c.id);
    assert!(again.revoked_at.is_some());
}

#[tokio::test]
async fn the_pdf_goes_to_the_person_their_agency_administrator_and_lead_staff() {
    let w = world(30).await;
    let lead = ctx(&w.app, "lead@demo.example.org").await;
    let trainee = ctx(&w.app, "trainee@harbor.example.org")
        .await
        .actor
        .person_id;
    let c = issue(&w, &lead, trainee, &intro(2), Some(365))
        .await
        .unwrap();
    for (email, allowed) in [
        ("trainee@harbor.example.org", true),
        ("ata@harbor.example.org", true),
        ("coordinator@demo.example.org", true),
        ("lead@demo.example.org", true),
        ("director@harbor.example.org", false),
        ("auditor@demo.example.org", false),
        ("proctor@demo.example.org", false),
        ("trainee@northside.example.org", false),
    ] {
        let who = ctx(&w.app, email).await;
        match certificates::pdf(&w.app, &who, c.id).await {
            Ok(f) => {
                assert!(allowed, "{email} downloaded it");
                assert!(f.bytes.starts_with(b"%PDF-"), "{email}");
                assert_eq!(f.file_name, format!("certificate-{}.pdf", c.code));
            }
            Err(AppError::Forbidden) => assert!(!allowed, "{email} was refused"),
            Err(e) => panic!("{email}: {e:?}"),
        }
        let listed = certificates::of_person(&w.app, &who, trainee).await;
        assert_eq!(listed.is_ok(), allowed, "{email}: {listed:?}");
    }
    assert!(matches!(
        certificates::pdf(&w.app, &lead, 987_654).await,
        Err(AppError::NotFound)
    ));
}
