//! The command line as a newcomer uses it: demo, migrate, create-user, audit verify.

use onramp_store::Store;
use std::process::Command;

fn onramp(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onramp"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("ONRAMP_LOG", "warn")
        .output()
        .expect("run onramp")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_names_every_command() {
    let o = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .arg("--help")
        .output()
        .unwrap();
    let t = text(&o);
    for cmd in ["serve", "migrate", "demo", "admin", "audit"] {
        assert!(t.contains(cmd), "--help does not mention {cmd}:\n{t}");
    }
    assert!(t.contains("DATABASE_URL"));
}

#[test]
fn bad_setting_names_the_setting_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(["--listen", "nowhere", "migrate"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("ONRAMP_LISTEN"), "{}", text(&o));
}

#[tokio::test]
async fn audit_verify_names_an_edited_and_a_deleted_event() {
    let dir = tempfile::tempdir().unwrap();
    let o = onramp(dir.path(), &["demo", "--no-serve"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("lead@demo.example.org"));
    let o = onramp(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--implementation",
            "demo",
            "--email",
            "new.lead@demo.example.org",
            "--given-name",
            "New",
            "--family-name",
            "Lead",
            "--roles",
            "lead_admin",
            "--password",
            "harbor-lights-7731",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = onramp(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact"));

    // Edit one event's summary behind Onramp's back.
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.execute_raw("UPDATE audit_events SET summary = '{\"forged\":true}' WHERE seq = 1")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let id: i64 = {
        let mut tx = store.read().await.unwrap();
        tx.audit_chain_batch(0, 1).await.unwrap()[0].id
    };
    store.close().await;
    let o = onramp(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains(&format!("audit event id {id} (seq 1) was edited")),
        "{t}"
    );

    // Delete another one.
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.execute_raw("DELETE FROM audit_events WHERE seq = 2")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.close().await;
    let o = onramp(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("seq 2..2 are missing"), "{}", text(&o));
}

#[test]
fn create_user_rejects_a_common_password_with_the_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    assert!(onramp(dir.path(), &["demo", "--no-serve"]).status.success());
    let o = onramp(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--implementation",
            "demo",
            "--email",
            "x@demo.example.org",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--password",
            "password1234",
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--password: This password is on a list of commonly used passwords"),
        "{}",
        text(&o)
    );
}

/// Rewrites the summary of the event with sequence number `seq` and recomputes that event,
/// every later link and the chain head with `hash`, as someone who can write the database
/// would. Gives the id of the rewritten event.
async fn rewrite_and_rechain(
    db: &std::path::Path,
    seq: i64,
    hash: impl Fn(&str, &onramp_domain::audit::AuditFields<'_>) -> String,
) -> i64 {
    let store = Store::open_sqlite(db).await.unwrap();
    let mut events = {
        let mut tx = store.read().await.unwrap();
        tx.audit_chain_batch(0, 100_000).await.unwrap()
    };
    let at = events.iter().position(|e| e.seq == seq).unwrap();
    events[at].summary = "{\"forged\":true}".into();
    let mut tx = store.begin().await.unwrap();
    for i in at..events.len() {
        if i > 0 {
            events[i].prev_hash = events[i - 1].hash.clone();
        }
        events[i].hash = hash(&events[i].prev_hash, &events[i].fields());
        let e = &events[i];
        tx.execute_raw(&format!(
            "UPDATE audit_events SET summary = '{}', prev_hash = '{}', hash = '{}' WHERE id = {}",
            e.summary, e.prev_hash, e.hash, e.id
        ))
        .await
        .unwrap();
    }
    let last = events.last().unwrap();
    tx.execute_raw(&format!(
        "UPDATE audit_head SET last_hash = '{}' WHERE id = 1",
        last.hash
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id = events[at].id;
    store.close().await;
    id
}

#[cfg(unix)]
#[test]
fn the_audit_key_is_created_once_private_and_never_replaced_silently() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let o = onramp(dir.path(), &["demo", "--no-serve"]);
    assert!(o.status.success(), "{}", text(&o));
    let key_file = dir.path().join("audit.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the key file is the owner's only");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64);
    // Later starts keep it.
    assert!(onramp(dir.path(), &["migrate"]).status.success());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);

    // Lost: Onramp refuses to start a new one over a chain written with the old one.
    std::fs::rename(&key_file, dir.path().join("audit.key.bak")).unwrap();
    let o = onramp(dir.path(), &["migrate"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("audit key"), "{}", text(&o));
    assert!(text(&o).contains("is missing"), "{}", text(&o));
    assert!(!key_file.exists(), "no new key was made");

    // Another key: refused too, naming the setting's key by fingerprint only.
    let other = "a-different-audit-key-of-at-least-32-characters";
    let o = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env("ONRAMP_AUDIT_KEY", other)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("not the key the audit trail was written with"),
        "{t}"
    );
    assert!(!t.contains(other));

    // Restored from the backup: all is well, and a named key file works as well.
    std::fs::rename(dir.path().join("audit.key.bak"), &key_file).unwrap();
    assert!(onramp(dir.path(), &["audit", "verify"]).status.success());
    let o = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["audit", "verify"])
        .env_remove("DATABASE_URL")
        .env("ONRAMP_AUDIT_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

#[tokio::test]
async fn audit_verify_names_an_event_rewritten_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let o = onramp(dir.path(), &["demo", "--no-serve"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = onramp(dir.path(), &["audit", "head"]);
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let db = dir.path().join("onramp.db");
    let (seq, hash) = {
        let store = Store::open_sqlite(&db).await.unwrap();
        let head = store.read().await.unwrap().audit_head().await.unwrap();
        store.close().await;
        head
    };
    assert!(seq >= 3, "the demo writes at least three events");
    assert_eq!(printed, format!("seq {seq} hash {hash}"));

    // Event 2 rewritten, and every later hash and the head recomputed with plain SHA-256
    // — all that could be done without the key.
    let id = rewrite_and_rechain(&db, 2, onramp_domain::audit::unkeyed_event_hash).await;
    let o = onramp(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "audit event id {id} (seq 2) was edited: its hash was recomputed without the audit key"
        )),
        "{t}"
    );
    // The published head no longer matches.
    let o = onramp(dir.path(), &["audit", "head"]);
    assert_ne!(String::from_utf8_lossy(&o.stdout).trim(), printed);

    // The same with a guessed key instead.
    let dir = tempfile::tempdir().unwrap();
    assert!(onramp(dir.path(), &["demo", "--no-serve"]).status.success());
    let guess =
        onramp_domain::audit::AuditKey::parse("a guessed key, thirty-two characters or more")
            .unwrap();
    let db = dir.path().join("onramp.db");
    let id = rewrite_and_rechain(&db, 3, |p, f| {
        onramp_domain::audit::event_hash(&guess, p, f)
    })
    .await;
    let o = onramp(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains(&format!("audit event id {id} (seq 3) was edited")),
        "{t}"
    );
}

#[test]
fn a_duplicate_implementation_is_named_without_database_words() {
    let dir = tempfile::tempdir().unwrap();
    assert!(onramp(dir.path(), &["demo", "--no-serve"]).status.success());
    let o = onramp(
        dir.path(),
        &[
            "admin",
            "create-implementation",
            "--slug",
            "demo",
            "--name",
            "Again",
            "--lead",
            "Again Lead",
            "--cocs",
            "IL-510",
        ],
    );
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("An implementation with this short name already exists."),
        "{t}"
    );
    for word in ["UNIQUE", "constraint", "implementations.slug", "_key"] {
        assert!(!t.contains(word), "{word:?} in {t}");
    }
}
