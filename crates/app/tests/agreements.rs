//! Agreements over a real SQLite store with the demo implementation: administration,
//! signing in order on an access request, a changed stored text detected by its hash, a new
//! version mid-way, and yearly re-signing.

use chrono::{Duration, TimeZone, Utc};
use onramp_app::access::{self, RequestInput, Submitted};
use onramp_app::agreements::{self, AgreementInput, MetaInput, SignatureInput, VersionOutcome};
use onramp_app::{auth, demo, App, AppConfig, AppError, Ctx};
use onramp_domain::agreement::{text_hash, SignerRole};
use onramp_domain::clock::ManualClock;
use onramp_domain::process::StepStatus;
use onramp_store::organisation::{AgencyFilter, ProjectFilter};
use onramp_store::reads::*;
use onramp_store::{PageRequest, Store};
use std::sync::Arc;

const STEP: &str = "end-user-agreement";
const PROCESS: &str = "agreement-first";

/// A process whose end-user agreement opens at once and is signed by the user, then the
/// agency administrator, then the executive director.
const AGREEMENT_FIRST: &str = r#"
key = "agreement-first"
name = "Agreement first"

[[steps]]
key = "end-user-agreement"
title = "Sign the HMIS end-user agreement"
kind = "agreement_signing"
actor = "signers"
agreement = "end_user"
signers = ["user", "agency_administrator", "executive_director"]

[[steps]]
key = "create-account"
title = "Create the account"
kind = "account_provisioning"
actor = "lead"
after = ["end-user-agreement"]
"#;

struct World {
    _dir: tempfile::TempDir,
    app: App,
    clock: ManualClock,
    imp: i64,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let config = AppConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..AppConfig::default()
    };
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
    let app = App::new(store, Arc::new(clock.clone()), config);
    let (imp, _) = demo::load(&app).await.unwrap();
    let lead = ctx_of(&app, "lead@demo.example.org", "10.0.0.1").await;
    onramp_app::processes::save(&app, &lead, AGREEMENT_FIRST)
        .await
        .unwrap();
    World {
        _dir: dir,
        app,
        clock,
        imp,
    }
}

/// The context of a demo person (with or without an Onramp account) acting from `addr`.
async fn ctx_of(app: &App, email: &str, addr: &str) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    let imp = tx
        .implementation_by_slug(demo::DEMO_SLUG)
        .await
        .unwrap()
        .unwrap()
        .id;
    let person = tx
        .person_by_email(imp, email)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no person {email}"));
    let actor = auth::load_actor(&mut tx, person.id).await.unwrap();
    Ctx::new(actor, addr)
}

/// A request for a new end user at Harbor House, on [`PROCESS`].
async fn base_input(w: &World) -> RequestInput {
    let (harbor, project) = {
        let mut tx = w.app.store.read().await.unwrap();
        let harbor = tx
            .agencies_list(
                w.imp,
                &AgencyFilter {
                    search: Some("Harbor House".into()),
                    ..Default::default()
                },
                PageRequest::ALL,
            )
            .await
            .unwrap()
            .items
            .remove(0);
        let project = tx
            .projects_list(
                w.imp,
                &ProjectFilter {
                    agency_id: Some(harbor.id),
                    ..Default::default()
                },
                PageRequest::ALL,
            )
            .await
            .unwrap()
            .items
            .remove(0);
        (harbor.id, project.id)
    };
    RequestInput {
        agency_id: harbor.to_string(),
        access_level: "end_user".into(),
        projects: vec![project.to_string()],
        new_or_returning: "new".into(),
        process: PROCESS.into(),
        ..Default::default()
    }
}

/// The Lead submits a request for a new Harbor House person on [`PROCESS`], whose
/// end-user agreement step opens at once.
async fn request_for(w: &World, given: &str, family: &str, email: &str) -> i64 {
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    let input = RequestInput {
        given_name: given.into(),
        family_name: family.into(),
        email: email.into(),
        ..base_input(w).await
    };
    match access::submit(&w.app, &lead, &input).await.unwrap() {
        Submitted::Created(id) => id,
        other => panic!("expected a new request, got {other:?}"),
    }
}

/// The latest version number of the end-user agreement: what a signing page shows now.
async fn shown_version(w: &World) -> i32 {
    let mut tx = w.app.store.read().await.unwrap();
    let a = tx
        .agreement_by_key(w.imp, "end_user")
        .await
        .unwrap()
        .unwrap();
    tx.agreement_version_latest(a.id)
        .await
        .unwrap()
        .unwrap()
        .version
}

/// Signs [`STEP`] as `ctx`, on the version a signing page shows now.
async fn sign(
    w: &World,
    ctx: &Ctx,
    request_id: i64,
    typed_name: &str,
    user_agent: &str,
) -> Result<(), AppError> {
    let input = SignatureInput {
        typed_name,
        version: shown_version(w).await,
        user_agent,
    };
    agreements::sign(&w.app, ctx, request_id, STEP, &input).await
}

async fn step_status(w: &World, request_id: i64) -> String {
    let mut tx = w.app.store.read().await.unwrap();
    tx.request_steps(request_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.step_key == STEP)
        .unwrap()
        .status
}

async fn may_sign(w: &World, ctx: &Ctx, request_id: i64) -> bool {
    let mut tx = w.app.store.read().await.unwrap();
    let request = tx.request_get(w.imp, request_id).await.unwrap();
    let t = onramp_app::processes::load(&mut tx, w.imp, request.template_id)
        .await
        .unwrap();
    let def = t.step(STEP).unwrap().clone();
    agreements::may_sign_now(&mut tx, &ctx.actor, &request, &def)
        .await
        .unwrap()
}

async fn next_emails(w: &World, request_id: i64) -> Vec<String> {
    let mut tx = w.app.store.read().await.unwrap();
    let request = tx.request_get(w.imp, request_id).await.unwrap();
    let t = onramp_app::processes::load(&mut tx, w.imp, request.template_id)
        .await
        .unwrap();
    let def = t.step(STEP).unwrap().clone();
    agreements::next_signers(&mut tx, &request, &def)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

async fn audit_head(w: &World) -> i64 {
    let mut tx = w.app.store.read().await.unwrap();
    tx.audit_head_seq().await.unwrap()
}

fn field_of(e: AppError) -> Vec<String> {
    match e {
        AppError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn signers_sign_in_order_and_a_changed_stored_text_is_detected() {
    let w = world().await;
    let rid = request_for(&w, "Nia", "Brooks", "nia@harbor.example.org").await;
    let nia = ctx_of(&w.app, "nia@harbor.example.org", "198.51.100.7").await;
    let ata = ctx_of(&w.app, "ata@harbor.example.org", "198.51.100.8").await;
    let director = ctx_of(&w.app, "director@harbor.example.org", "198.51.100.9").await;
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    let sam = ctx_of(&w.app, "trainee@harbor.example.org", "10.0.0.2").await;
    let northside = ctx_of(&w.app, "ata@northside.example.org", "10.0.0.3").await;
    let auditor = ctx_of(&w.app, "auditor@demo.example.org", "10.0.0.4").await;
    assert_eq!(step_status(&w, rid).await, "open");

    // The user signs first: nobody else may, and only the user may now.
    assert!(may_sign(&w, &nia, rid).await);
    for c in [&ata, &director, &lead] {
        assert!(!may_sign(&w, c, rid).await, "{}", c.actor.display_name);
    }
    assert_eq!(next_emails(&w, rid).await, ["nia@harbor.example.org"]);
    let before = audit_head(&w).await;
    for (c, name) in [
        (&ata, "Tomas Reyes"),
        (&director, "Grace Lin"),
        (&lead, "Lena Okafor"),
    ] {
        let e = sign(&w, c, rid, name, "ua").await.unwrap_err();
        assert!(
            matches!(e, AppError::Forbidden),
            "{}: {e:?}",
            c.actor.display_name
        );
    }
    // People who cannot see the request do not learn it exists.
    for c in [&sam, &northside] {
        let e = sign(&w, c, rid, "Sam Ortiz", "ua").await.unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");
        assert!(matches!(
            agreements::signature_record(&w.app, c, rid, STEP).await,
            Err(AppError::NotFound)
        ));
    }
    // The typed name must be the signer's own.
    assert_eq!(
        field_of(sign(&w, &nia, rid, "Nia Brown", "ua").await.unwrap_err()),
        ["typed_name"]
    );
    assert_eq!(
        field_of(sign(&w, &nia, rid, "   ", "ua").await.unwrap_err()),
        ["typed_name"]
    );
    assert_eq!(audit_head(&w).await, before, "refusals change nothing");
    assert!(agreements::signature_record(&w.app, &nia, rid, STEP)
        .await
        .unwrap()
        .block
        .iter()
        .all(|(_, l)| l.is_none()));

    // Case and spaces do not matter.
    sign(&w, &nia, rid, "  nia   BROOKS ", "Mozilla/5.0 (test)")
        .await
        .unwrap();
    assert!(audit_head(&w).await > before);
    assert_eq!(step_status(&w, rid).await, "open");
    assert!(
        matches!(
            sign(&w, &nia, rid, "Nia Brooks", "ua").await,
            Err(AppError::Forbidden)
        ),
        "not twice"
    );
    assert!(
        matches!(
            sign(&w, &director, rid, "Grace Lin", "ua").await,
            Err(AppError::Forbidden)
        ),
        "not before the agency administrator"
    );
    assert!(may_sign(&w, &ata, rid).await);
    assert!(!may_sign(&w, &nia, rid).await);
    assert_eq!(next_emails(&w, rid).await, ["ata@harbor.example.org"]);

    sign(&w, &ata, rid, "Tomas Reyes", "ua-2").await.unwrap();
    assert_eq!(step_status(&w, rid).await, "open");
    assert_eq!(next_emails(&w, rid).await, ["director@harbor.example.org"]);
    let doc = agreements::signature_record(&w.app, &director, rid, STEP)
        .await
        .unwrap();
    assert!(doc.may_sign && !doc.complete);
    assert_eq!(doc.next, Some(SignerRole::ExecutiveDirector));

    sign(&w, &director, rid, "grace lin", "ua-3").await.unwrap();
    assert_eq!(step_status(&w, rid).await, StepStatus::Done.as_str());
    assert!(next_emails(&w, rid).await.is_empty());
    assert!(!may_sign(&w, &director, rid).await);
    assert!(matches!(
        sign(&w, &director, rid, "Grace Lin", "ua").await,
        Err(AppError::Conflict(_))
    ));

    // What was recorded: who, as what, typed name, when, from where, with which browser, and the text's hash.
    let (version, sigs) = {
        let mut tx = w.app.store.read().await.unwrap();
        let a = tx
            .agreement_by_key(w.imp, "end_user")
            .await
            .unwrap()
            .unwrap();
        let v = tx.agreement_version_latest(a.id).await.unwrap().unwrap();
        (v, tx.signatures_of_request(rid).await.unwrap())
    };
    assert_eq!(
        sigs.iter()
            .map(|s| s.signer_role.as_str())
            .collect::<Vec<_>>(),
        ["user", "agency_administrator", "executive_director"]
    );
    assert_eq!(sigs[0].typed_name, "nia BROOKS");
    assert_eq!(sigs[0].signer_person_id, nia.actor.person_id);
    assert_eq!(sigs[0].source_addr, "198.51.100.7");
    assert_eq!(sigs[0].user_agent, "Mozilla/5.0 (test)");
    assert_eq!(sigs[0].signed_at, w.clock_now());
    assert_eq!(sigs[1].source_addr, "198.51.100.8");
    assert!(
        sigs.iter()
            .all(|s| s.text_sha256 == text_hash(&version.body)
                && s.agreement_version_id == version.id)
    );

    // The printable record, for the person, the agency, the Lead and auditors.
    for c in [&nia, &ata, &director, &lead, &auditor] {
        let doc = agreements::signature_record(&w.app, c, rid, STEP)
            .await
            .unwrap();
        assert!(
            doc.complete && doc.all_match() && doc.stored_text_intact,
            "{}",
            c.actor.display_name
        );
        assert!(!doc.may_sign);
        assert_eq!(doc.version, version.version);
        assert!(doc.html.contains("<h1>"), "rendered: {}", doc.html);
        assert_eq!(doc.block.len(), 3);
        assert!(doc
            .block
            .iter()
            .all(|(_, l)| l.as_ref().is_some_and(|l| l.text_matches)));
    }

    // Someone edits the stored text behind Onramp's back: every signature reports the mismatch.
    {
        let mut tx = w.app.store.begin().await.unwrap();
        let n = tx.execute_raw(&format!("UPDATE agreement_versions SET body = body || 'I also waive all rights.' WHERE id = {}", version.id)).await.unwrap();
        assert_eq!(n, 1);
        tx.commit().await.unwrap();
    }
    let doc = agreements::signature_record(&w.app, &auditor, rid, STEP)
        .await
        .unwrap();
    assert!(!doc.all_match());
    assert!(!doc.stored_text_intact);
    assert!(doc
        .block
        .iter()
        .all(|(_, l)| l.as_ref().is_some_and(|l| !l.text_matches)));
    assert!(
        doc.html.contains("I also waive all rights."),
        "the page shows what is stored"
    );

    // And a tampered text is not signed on another request.
    let other = request_for(&w, "Omar", "Diaz", "omar@harbor.example.org").await;
    let omar = ctx_of(&w.app, "omar@harbor.example.org", "198.51.100.10").await;
    assert!(matches!(
        sign(&w, &omar, other, "Omar Diaz", "ua").await,
        Err(AppError::Conflict(_))
    ));
}

impl World {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        self.app.now()
    }
}

#[tokio::test]
async fn a_new_version_mid_way_needs_new_signatures() {
    let w = world().await;
    let rid = request_for(&w, "Nia", "Brooks", "nia@harbor.example.org").await;
    let nia = ctx_of(&w.app, "nia@harbor.example.org", "198.51.100.7").await;
    let ata = ctx_of(&w.app, "ata@harbor.example.org", "198.51.100.8").await;
    let director = ctx_of(&w.app, "director@harbor.example.org", "198.51.100.9").await;
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    sign(&w, &nia, rid, "Nia Brooks", "ua").await.unwrap();
    sign(&w, &ata, rid, "Tomas Reyes", "ua").await.unwrap();
    assert!(may_sign(&w, &director, rid).await);

    let id = {
        let mut tx = w.app.store.read().await.unwrap();
        tx.agreement_by_key(w.imp, "end_user")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let v1 = agreements::get(&w.app, &lead, id)
        .await
        .unwrap()
        .latest()
        .unwrap()
        .clone();
    // Only those who manage the process may change the text.
    assert!(matches!(
        agreements::new_version(&w.app, &ata, id, "changed").await,
        Err(AppError::Forbidden)
    ));
    // The same text (even as a browser sends it, with CRLF) is not a new version.
    let before = audit_head(&w).await;
    let same = v1.body.replace('\n', "\r\n");
    assert_eq!(
        agreements::new_version(&w.app, &lead, id, &same)
            .await
            .unwrap(),
        VersionOutcome::Unchanged(v1.version)
    );
    assert_eq!(audit_head(&w).await, before);
    assert_eq!(
        field_of(
            agreements::new_version(&w.app, &lead, id, " \r\n ")
                .await
                .unwrap_err()
        ),
        ["body"]
    );
    let changed = format!(
        "{}\n15. I will report a suspected breach within one business day.\n",
        v1.body.trim_end()
    );
    assert_eq!(
        agreements::new_version(&w.app, &lead, id, &changed)
            .await
            .unwrap(),
        VersionOutcome::Created(v1.version + 1)
    );
    assert!(audit_head(&w).await > before);
    let d = agreements::get(&w.app, &lead, id).await.unwrap();
    assert_eq!(d.versions.len(), 2);
    assert!(d.current_html.contains("suspected breach"));

    // The director may not complete the old version: the user signs again, then the rest.
    assert!(!may_sign(&w, &director, rid).await);
    assert!(matches!(
        sign(&w, &director, rid, "Grace Lin", "ua").await,
        Err(AppError::Forbidden)
    ));
    assert!(may_sign(&w, &nia, rid).await);
    let doc = agreements::signature_record(&w.app, &nia, rid, STEP)
        .await
        .unwrap();
    assert_eq!(doc.version, v1.version + 1);
    assert!(doc.block.iter().all(|(_, l)| l.is_none()));
    assert_eq!(
        doc.earlier.len(),
        2,
        "the version-1 signatures stay on record"
    );
    assert!(doc
        .earlier
        .iter()
        .all(|l| l.version == v1.version && l.text_matches));

    sign(&w, &nia, rid, "Nia Brooks", "ua").await.unwrap();
    sign(&w, &ata, rid, "Tomas Reyes", "ua").await.unwrap();
    assert_eq!(step_status(&w, rid).await, "open");
    sign(&w, &director, rid, "Grace Lin", "ua").await.unwrap();
    assert_eq!(step_status(&w, rid).await, "done");
    let doc = agreements::signature_record(&w.app, &lead, rid, STEP)
        .await
        .unwrap();
    assert!(doc.complete && doc.all_match());
    assert_eq!(doc.version, v1.version + 1);
    assert_eq!(doc.earlier.len(), 2);
    let mut tx = w.app.store.read().await.unwrap();
    let sigs = tx.signatures_of_request(rid).await.unwrap();
    assert_eq!(sigs.len(), 5);
    let v2 = tx.agreement_version_latest(id).await.unwrap().unwrap();
    assert_eq!(
        sigs.iter()
            .filter(|s| s.agreement_version_id == v2.id && s.text_sha256 == v2.sha256)
            .count(),
        3
    );
    assert_eq!(
        sigs.iter()
            .filter(|s| s.agreement_version_id == v1.id && s.text_sha256 == v1.sha256)
            .count(),
        2
    );
}

#[tokio::test]
async fn agreements_are_administered_by_the_lead_with_errors_by_field() {
    let w = world().await;
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    let coordinator = ctx_of(&w.app, "coordinator@demo.example.org", "10.0.0.1").await;
    let ata = ctx_of(&w.app, "ata@harbor.example.org", "10.0.0.2").await;
    let sam = ctx_of(&w.app, "trainee@harbor.example.org", "10.0.0.3").await;

    let bad = AgreementInput {
        key: "Bad Key!".into(),
        title: " ".into(),
        kind: "nda".into(),
        resign_yearly: false,
        body: "\n".into(),
    };
    let mut fields = field_of(agreements::create(&w.app, &lead, &bad).await.unwrap_err());
    fields.sort();
    assert_eq!(fields, ["body", "key", "kind", "title"]);
    let dup = AgreementInput {
        key: "end_user".into(),
        title: "Again".into(),
        kind: "end_user".into(),
        resign_yearly: false,
        body: "Text".into(),
    };
    assert_eq!(
        field_of(agreements::create(&w.app, &lead, &dup).await.unwrap_err()),
        ["key"]
    );
    let good = AgreementInput {
        key: "photo_release".into(),
        title: "Photo release".into(),
        kind: "other".into(),
        resign_yearly: false,
        body: "# Photo release\r\n\r\nI agree <script>alert(1)</script>.".into(),
    };
    assert!(matches!(
        agreements::create(&w.app, &ata, &good).await,
        Err(AppError::Forbidden)
    ));
    let before = audit_head(&w).await;
    let id = agreements::create(&w.app, &coordinator, &good)
        .await
        .unwrap();
    assert!(audit_head(&w).await > before);
    let d = agreements::get(&w.app, &sam, id).await.unwrap();
    assert!(d.uses.is_empty(), "no process step signs it yet");
    assert_eq!(d.versions.len(), 1);
    assert_eq!(
        d.versions[0].body,
        "# Photo release\n\nI agree <script>alert(1)</script>.\n"
    );
    assert_eq!(d.versions[0].sha256, text_hash(&d.versions[0].body));
    assert!(d.current_html.contains("&lt;script&gt;") && !d.current_html.contains("<script"));
    assert!(!d.may_manage);

    // Details: errors by field, then a retirement that hides it from everyone but the Lead.
    let meta = MetaInput {
        title: "".into(),
        resign_yearly: true,
        active: false,
    };
    let mut fields = field_of(
        agreements::update_meta(&w.app, &lead, id, &meta)
            .await
            .unwrap_err(),
    );
    fields.sort();
    assert_eq!(fields, ["title"]);
    let meta = MetaInput {
        title: "Photo and media release".into(),
        resign_yearly: true,
        active: false,
    };
    assert!(matches!(
        agreements::update_meta(&w.app, &ata, id, &meta).await,
        Err(AppError::Forbidden)
    ));
    agreements::update_meta(&w.app, &lead, id, &meta)
        .await
        .unwrap();
    let d = agreements::get(&w.app, &lead, id).await.unwrap();
    assert_eq!(d.agreement.title, "Photo and media release");
    assert!(d.agreement.resign_yearly && !d.agreement.active);
    assert!(matches!(
        agreements::get(&w.app, &sam, id).await,
        Err(AppError::NotFound)
    ));
    let seen: Vec<String> = agreements::list(&w.app, &sam)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.agreement.key)
        .collect();
    assert!(
        seen.contains(&"end_user".to_string()) && !seen.contains(&"photo_release".to_string()),
        "{seen:?}"
    );
    let all: Vec<String> = agreements::list(&w.app, &lead)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.agreement.key)
        .collect();
    assert!(all.contains(&"photo_release".to_string()));
}

#[tokio::test]
async fn yearly_re_signing_falls_due_after_365_days() {
    let w = world().await;
    let rid = request_for(&w, "Nia", "Brooks", "nia@harbor.example.org").await;
    let nia = ctx_of(&w.app, "nia@harbor.example.org", "198.51.100.7").await;
    let person = nia.actor.person_id;
    let (end_user, mut other) = {
        let mut tx = w.app.store.read().await.unwrap();
        let e = tx
            .agreement_by_key(w.imp, "end_user")
            .await
            .unwrap()
            .unwrap();
        let o = tx
            .agreement_by_key(w.imp, "staff_verification")
            .await
            .unwrap()
            .unwrap();
        (e, o)
    };
    other.resign_yearly = false;
    assert!(end_user.resign_yearly);
    let due = |at: chrono::DateTime<Utc>, a: onramp_store::AgreementRow| {
        let app = w.app.clone();
        async move {
            let mut tx = app.store.read().await.unwrap();
            agreements::yearly_resign_due(&mut tx, person, &a, at)
                .await
                .unwrap()
        }
    };
    let now = w.app.now();
    assert!(due(now, end_user.clone()).await, "never signed: due");
    assert!(!due(now, other).await, "not a yearly agreement");
    sign(&w, &nia, rid, "Nia Brooks", "ua").await.unwrap();
    assert!(!due(now, end_user.clone()).await);
    assert!(!due(now + Duration::days(365), end_user.clone()).await);
    assert!(
        due(
            now + Duration::days(365) + Duration::minutes(1),
            end_user.clone()
        )
        .await
    );
    // A later signature starts the year again.
    w.clock.advance(Duration::days(200));
    let again = {
        let mut tx = w.app.store.begin().await.unwrap();
        let v = tx
            .agreement_version_latest(end_user.id)
            .await
            .unwrap()
            .unwrap();
        tx.signature_add(&onramp_store::agreements::NewSignature {
            agreement_version_id: v.id,
            request_id: None,
            subject_person_id: person,
            signer_person_id: person,
            signer_role: "user",
            typed_name: "Nia Brooks",
            signed_at: w.app.now(),
            source_addr: "198.51.100.7",
            user_agent: "ua",
            text_sha256: &v.sha256,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        w.app.now()
    };
    assert!(!due(now + Duration::days(400), end_user.clone()).await);
    assert!(due(again + Duration::days(366), end_user).await);
}

#[tokio::test]
async fn a_signature_on_a_text_changed_since_it_was_shown_is_refused() {
    let w = world().await;
    let rid = request_for(&w, "Nia", "Brooks", "nia@harbor.example.org").await;
    let nia = ctx_of(&w.app, "nia@harbor.example.org", "198.51.100.7").await;
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    // Nia opens the signing page: version 1.
    let shown = agreements::signature_record(&w.app, &nia, rid, STEP)
        .await
        .unwrap();
    assert!(shown.may_sign);
    let read = shown.version;
    // Meanwhile the Lead publishes a new text.
    let agreement = {
        let mut tx = w.app.store.read().await.unwrap();
        tx.agreement_by_key(w.imp, "end_user")
            .await
            .unwrap()
            .unwrap()
    };
    let v1 = agreements::get(&w.app, &lead, agreement.id)
        .await
        .unwrap()
        .latest()
        .unwrap()
        .body
        .clone();
    let changed = format!("{}\n15. I will also lock my phone.\n", v1.trim_end());
    assert_eq!(
        agreements::new_version(&w.app, &lead, agreement.id, &changed)
            .await
            .unwrap(),
        VersionOutcome::Created(read + 1)
    );
    // Nia's signature names the version she read: refused, with a message, and nothing signed.
    let before = audit_head(&w).await;
    let input = SignatureInput {
        typed_name: "Nia Brooks",
        version: read,
        user_agent: "ua",
    };
    let e = agreements::sign(&w.app, &nia, rid, STEP, &input)
        .await
        .unwrap_err();
    let AppError::Invalid(errors) = e else {
        panic!("expected a field error, got {e:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, agreements::VERSION_FIELD);
    assert!(
        errors[0]
            .message
            .contains("This agreement changed since you opened it")
            && errors[0].message.contains("read the new text"),
        "{}",
        errors[0].message
    );
    assert_eq!(audit_head(&w).await, before, "nothing was signed");
    {
        let mut tx = w.app.store.read().await.unwrap();
        assert!(tx.signatures_of_request(rid).await.unwrap().is_empty());
    }
    // A version that does not exist yet is refused the same way.
    let ahead = SignatureInput {
        version: read + 7,
        ..input.clone()
    };
    assert!(matches!(
        agreements::sign(&w.app, &nia, rid, STEP, &ahead).await,
        Err(AppError::Invalid(_))
    ));
    // Having read the new text, she signs it.
    let shown = agreements::signature_record(&w.app, &nia, rid, STEP)
        .await
        .unwrap();
    assert_eq!(shown.version, read + 1);
    assert!(shown.html.contains("lock my phone"));
    let input = SignatureInput {
        version: shown.version,
        ..input
    };
    agreements::sign(&w.app, &nia, rid, STEP, &input)
        .await
        .unwrap();
    let mut tx = w.app.store.read().await.unwrap();
    let sigs = tx.signatures_of_request(rid).await.unwrap();
    let v2 = tx
        .agreement_version_latest(agreement.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].agreement_version_id, v2.id);
}

#[tokio::test]
async fn each_process_step_names_who_signs_the_agreement() {
    let w = world().await;
    let lead = ctx_of(&w.app, "lead@demo.example.org", "10.0.0.1").await;
    let id = {
        let mut tx = w.app.store.read().await.unwrap();
        tx.agreement_by_key(w.imp, "end_user")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let d = agreements::get(&w.app, &lead, id).await.unwrap();
    let uses: Vec<(&str, &str, String)> = d
        .uses
        .iter()
        .map(|u| {
            (
                u.process_key.as_str(),
                u.step_key.as_str(),
                u.signer_labels(),
            )
        })
        .collect();
    for want in [
        (
            "agency-checklist-then-account",
            "user-agreement",
            "User → Agency administrator → Executive director",
        ),
        (
            "introductory-and-advanced-training",
            "user-agreement",
            "User",
        ),
        (
            "verification-and-agreement-then-quiz",
            "end-user-agreement",
            "User",
        ),
        (
            "courses-and-proctored-session",
            "end-user-agreement",
            "User → Supervisor",
        ),
        (
            "agreement-first",
            "end-user-agreement",
            "User → Agency administrator → Executive director",
        ),
    ] {
        assert!(
            uses.iter()
                .any(|(p, s, l)| *p == want.0 && *s == want.1 && l == want.2),
            "{want:?} in {uses:?}"
        );
    }
    // On seed 003 the user alone signs: their signature completes the step.
    let input = RequestInput {
        given_name: "Lee".into(),
        family_name: "Park".into(),
        email: "lee.park@harbor.example.org".into(),
        process: "verification-and-agreement-then-quiz".into(),
        ..base_input(&w).await
    };
    let rid = match access::submit(&w.app, &lead, &input).await.unwrap() {
        Submitted::Created(id) => id,
        other => panic!("{other:?}"),
    };
    let lee = ctx_of(&w.app, "lee.park@harbor.example.org", "198.51.100.7").await;
    sign(&w, &lee, rid, "Lee Park", "ua").await.unwrap();
    assert_eq!(step_status(&w, rid).await, "done");
    let doc = agreements::signature_record(&w.app, &lead, rid, STEP)
        .await
        .unwrap();
    assert_eq!(doc.block.len(), 1);
    assert!(doc.complete);
}
