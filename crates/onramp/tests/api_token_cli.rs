//! `onramp admin create-api-token`: a token for scripts (the API contract run uses it).

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

#[test]
fn create_api_token_prints_a_token_for_a_known_person_only() {
    let dir = tempfile::tempdir().unwrap();
    assert!(onramp(dir.path(), &["demo", "--no-serve"]).status.success());
    let o = onramp(
        dir.path(),
        &[
            "admin",
            "create-api-token",
            "--implementation",
            "demo",
            "--email",
            "Lead@demo.example.org",
            "--name",
            "scripts",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let token = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(token.starts_with("onr_") && !token.contains(' '), "{token}");

    let o = onramp(
        dir.path(),
        &[
            "admin",
            "create-api-token",
            "--implementation",
            "demo",
            "--email",
            "nobody@demo.example.org",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--email"));
}
