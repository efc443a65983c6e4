//! Process templates over a real SQLite store: the seeds the demo installs, saving new
//! versions, and refusing invalid text without saving anything.

use onramp_app::{auth, demo, processes, App, AppConfig, AppError, Ctx};
use onramp_domain::clock::SystemClock;
use onramp_store::reads::*;
use onramp_store::Store;
use std::sync::Arc;

async fn app(dir: &tempfile::TempDir) -> App {
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    // Cheap password hashing: the demo issues ten passwords.
    let config = AppConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..AppConfig::default()
    };
    App::new(store, Arc::new(SystemClock), config)
}

async fn ctx(app: &App, email: &str) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    let account = tx.account_by_email(email).await.unwrap().unwrap();
    let actor = auth::load_actor(&mut tx, account.person_id).await.unwrap();
    Ctx::new(actor, "127.0.0.1")
}

fn messages(e: AppError) -> Vec<String> {
    match e {
        AppError::Invalid(v) => {
            assert!(v.iter().all(|f| f.field == processes::BODY_FIELD), "{v:?}");
            v.into_iter().map(|f| f.message).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn the_demo_has_five_valid_seed_templates_and_edits_add_versions() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (imp, fresh) = demo::load(&app).await.unwrap();
    assert!(fresh);
    let lead = ctx(&app, "lead@demo.example.org").await;

    // Five templates, each parsing and valid against the implementation's agreements.
    let list = processes::list(&app, &lead).await.unwrap();
    assert_eq!(
        list.len(),
        5,
        "{:?}",
        list.iter().map(|s| &s.latest.key).collect::<Vec<_>>()
    );
    let agreements: Vec<String> = {
        let mut tx = app.store.read().await.unwrap();
        tx.agreements_list(imp)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.key)
            .collect()
    };
    for k in [
        "end_user",
        "security_awareness",
        "staff_verification",
        "agency_participation",
    ] {
        assert!(agreements.contains(&k.to_string()), "agreement {k}");
    }
    for s in &list {
        assert_eq!(s.latest.version, 1);
        let mut tx = app.store.read().await.unwrap();
        let t = processes::load(&mut tx, imp, s.latest.id).await.unwrap();
        t.validate(&agreements)
            .unwrap_or_else(|p| panic!("{}: {p:?}", s.latest.key));
        assert_eq!(s.step_count, Some(t.steps.len()));
        assert!(t.description.starts_with("Follows seed 00"), "{}", t.key);
    }
    // The seed-000 template is the default.
    let defaults: Vec<&str> = list
        .iter()
        .filter(|s| s.is_default)
        .map(|s| s.latest.key.as_str())
        .collect();
    assert_eq!(defaults, ["online-courses-then-login"]);
    {
        let mut tx = app.store.read().await.unwrap();
        let d = processes::default_template(&mut tx, imp)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.key, "online-courses-then-login");
    }

    // Agreement versions carry the hash of their text.
    {
        let mut tx = app.store.read().await.unwrap();
        let a = tx.agreement_by_key(imp, "end_user").await.unwrap().unwrap();
        assert_eq!(a.kind, "end_user");
        assert!(a.resign_yearly);
        let v = tx.agreement_version_latest(a.id).await.unwrap().unwrap();
        assert_eq!(v.sha256, onramp_domain::agreement::text_hash(&v.body));
    }

    let key = "verification-and-agreement-then-quiz";
    let (_, v1_text) = processes::export(&app, &lead, key, None).await.unwrap();
    let v1 = processes::versions(&app, &lead, key).await.unwrap();
    assert_eq!(v1.len(), 1);
    let audit_before = {
        let mut tx = app.store.read().await.unwrap();
        tx.audit_head_seq().await.unwrap()
    };

    // An invalid edit: a syntax error is reported with its line, and nothing is saved.
    let broken = v1_text.replacen("kind = \"lead_review\"", "kind = \"lead_review", 1);
    let line = broken
        .lines()
        .position(|l| l == "kind = \"lead_review")
        .unwrap()
        + 1;
    let m = messages(
        processes::save_edit(&app, &lead, key, &broken)
            .await
            .unwrap_err(),
    );
    assert!(
        m.iter().any(|m| m.starts_with(&format!("line {line}: "))),
        "{m:?}"
    );
    // A rule broken: a step listed before the one it comes after, named with its line.
    let misordered = v1_text.replacen(
        "after = [\"documents-review\", \"assessment-training\"]",
        "after = [\"login-credentials\"]",
        1,
    );
    assert_ne!(misordered, v1_text);
    let m = messages(processes::save(&app, &lead, &misordered).await.unwrap_err());
    assert!(m.iter().any(|m| m.starts_with("line ") && m.contains("step \"training-and-quiz\": comes after \"login-credentials\", which is listed later")), "{m:?}");
    // An unknown agreement and an unknown access level.
    let unknown = v1_text
        .replacen("agreement = \"end_user\"", "agreement = \"nda\"", 1)
        .replacen("\"assessor\"", "\"wizard\"", 1);
    let m = messages(processes::save(&app, &lead, &unknown).await.unwrap_err());
    assert!(
        m.iter()
            .any(|m| m.contains("agreement \"nda\" does not exist")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("access level \"wizard\" is not in the access-level catalogue")),
        "{m:?}"
    );
    // An edit may not change the key.
    let renamed = v1_text.replacen(&format!("key = \"{key}\""), "key = \"other\"", 1);
    let m = messages(
        processes::save_edit(&app, &lead, key, &renamed)
            .await
            .unwrap_err(),
    );
    assert!(m.iter().any(|m| m.contains("the key must stay")), "{m:?}");
    assert_eq!(
        processes::versions(&app, &lead, key).await.unwrap().len(),
        1,
        "nothing saved"
    );
    assert_eq!(
        processes::list(&app, &lead).await.unwrap().len(),
        5,
        "nothing saved"
    );
    {
        let mut tx = app.store.read().await.unwrap();
        assert_eq!(
            tx.audit_head_seq().await.unwrap(),
            audit_before,
            "nothing audited"
        );
    }

    // Only Lead staff who manage the process may save.
    let trainee = ctx(&app, "trainee@harbor.example.org").await;
    assert!(matches!(
        processes::save(&app, &trainee, &v1_text).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        processes::list(&app, &trainee).await,
        Err(AppError::Forbidden)
    ));
    let coordinator = ctx(&app, "coordinator@demo.example.org").await;

    // A valid edit becomes version 2; version 1 stays as it was and loads.
    let edited = v1_text
        .replacen(
            "title = \"Staff verification for HMIS access\"",
            "title = \"Supervisor attests the background check\"",
            1,
        )
        .replace("\n", "\r\n");
    let (v2_id, v2) = processes::save_edit(&app, &coordinator, key, &edited)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let versions = processes::versions(&app, &lead, key).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    {
        let mut tx = app.store.read().await.unwrap();
        let old = processes::load(&mut tx, imp, v1[0].id).await.unwrap();
        assert_eq!(old.steps[0].title, "Staff verification for HMIS access");
        let new = processes::load(&mut tx, imp, v2_id).await.unwrap();
        assert_eq!(
            new.steps[0].title,
            "Supervisor attests the background check"
        );
        assert_eq!(
            processes::latest_by_key(&mut tx, imp, key)
                .await
                .unwrap()
                .unwrap()
                .id,
            v2_id
        );
    }
    let (name, text) = processes::export(&app, &lead, key, Some(1)).await.unwrap();
    assert_eq!(name, format!("{key}-v1.toml"));
    assert_eq!(text, v1_text);
    let (name, text) = processes::export(&app, &lead, key, None).await.unwrap();
    assert_eq!(name, format!("{key}-v2.toml"));
    assert!(!text.contains('\r'), "line endings are normalised");
    let d = processes::detail(&app, &lead, key, Some(1)).await.unwrap();
    assert_eq!((d.row.version, d.versions.len()), (1, 2));
    assert!(matches!(
        processes::export(&app, &lead, key, Some(9)).await,
        Err(AppError::NotFound)
    ));

    // Importing a new process, then making it the default.
    let imported = v1_text.replacen(&format!("key = \"{key}\""), "key = \"imported\"", 1);
    let (_, v) = processes::save(&app, &lead, &imported).await.unwrap();
    assert_eq!(v, 1);
    processes::set_default(&app, &lead, "imported")
        .await
        .unwrap();
    let list = processes::list(&app, &lead).await.unwrap();
    assert_eq!(list.len(), 6);
    assert_eq!(
        list.iter()
            .filter(|s| s.is_default)
            .map(|s| s.latest.key.as_str())
            .collect::<Vec<_>>(),
        ["imported"]
    );
    assert!(matches!(
        processes::set_default(&app, &lead, "nope").await,
        Err(AppError::NotFound)
    ));
    let auditor = ctx(&app, "auditor@demo.example.org").await;
    assert!(matches!(
        processes::set_default(&app, &auditor, key).await,
        Err(AppError::Forbidden)
    ));
    assert_eq!(
        processes::list(&app, &auditor).await.unwrap().len(),
        6,
        "auditors may read"
    );
}

#[tokio::test]
async fn a_stored_text_that_no_longer_parses_is_an_internal_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (imp, _) = demo::load(&app).await.unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let (id, _) = tx
        .template_insert(imp, "legacy", "Legacy", "key = ", app.now(), None)
        .await
        .unwrap();
    match processes::load(&mut tx, imp, id).await {
        Err(AppError::Internal(m)) => assert!(m.contains("\"legacy\""), "{m}"),
        other => panic!("{other:?}"),
    }
    // The default still resolves to the seed-000 template.
    let d = processes::default_template(&mut tx, imp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.key, "online-courses-then-login");
}
