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
