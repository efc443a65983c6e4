//! Signing in, MFA, sessions, invitations, password resets, CSRF and security headers,
//! over real HTTP with real cookies against the real router.
//!
//! Tests named `name::sqlite` / `name::postgres` run on both backends (see `support`).

mod support;

use chrono::Duration;
use onramp_app::auth;
use onramp_app::demo::DEMO_PASSWORD;
use onramp_app::people;
use onramp_domain::ImplementationRole;
use support::{Backend, Reply, TestApp};

const LEAD: &str = "lead@demo.example.org";
const COORDINATOR: &str = "coordinator@demo.example.org";
const PROCTOR: &str = "proctor@demo.example.org";
const AUDITOR: &str = "auditor@demo.example.org";
const ATA: &str = "ata@harbor.example.org";
const DIRECTOR: &str = "director@harbor.example.org";
const TRAINEE: &str = "trainee@harbor.example.org";

const WRONG_CREDENTIALS: &str =
    "The email or password is not right, or the account is locked after repeated failures";

on_both_backends!(
    sign_in_and_sign_out,
    wrong_password_says_nothing_about_the_email,
    lockout_after_five_failures,
    mfa_enrolment_is_required_for_lead_admin,
    mfa_step_rejects_a_wrong_code_and_accepts_the_right_one,
    invitation_sets_a_password_once,
    password_reset_link_works_once_and_ends_old_sessions,
);

/// A six-digit code that is none of the codes valid around now.
fn wrong_code(secret: &str, app: &TestApp) -> String {
    let now = app.now();
    let near: Vec<String> = [-60, -30, 0, 30, 60]
        .iter()
        .map(|s| auth::totp_code(secret, now + Duration::seconds(*s)).expect("code"))
        .collect();
    (1..)
        .map(|i| format!("{:06}", (i * 137_911) % 1_000_000))
        .find(|c| !near.contains(c))
        .expect("a wrong code")
}

// ---------------------------------------------------------------- signing in

async fn sign_in_and_sign_out(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.client();
    c.get("/signin").await.expect(200);
    assert!(
        c.cookie("onramp_pre").is_some(),
        "the sign-in page sets the pre-session cookie"
    );

    let r = c.sign_in(TRAINEE, DEMO_PASSWORD).await;
    r.expect_redirect("/");
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|s| s.starts_with("onramp_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        c.cookie("onramp_pre").is_none(),
        "the pre-session cookie is removed on sign-in"
    );

    let home = c.get("/").await;
    home.expect(200);
    assert!(
        home.text().contains("Sam Ortiz"),
        "the home page greets the person"
    );
    assert!(app.sessions_of(app.person_id(TRAINEE).await).await == 1);

    c.post_form("/signout", &[])
        .await
        .expect_redirect("/signin");
    c.get("/").await.expect_redirect("/signin");
    assert_eq!(
        app.sessions_of(app.person_id(TRAINEE).await).await,
        0,
        "signing out deletes the session"
    );

    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a == "auth.sign_in"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "auth.sign_out"), "{actions:?}");
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn sign_in_goes_to_next_but_only_on_this_site() {
    let app = TestApp::sqlite().await;
    let c = app.client();
    let r = c.get("/admin/agencies?show=active").await;
    r.expect_redirect("/signin");
    let to = r.location().unwrap_or_default();
    assert_eq!(to, "/signin?next=/admin/agencies%3Fshow%3Dactive");
    let page = c.get(&to).await;
    page.expect(200);
    assert!(
        page.body
            .contains("name=\"next\" value=\"/admin/agencies?show=active\""),
        "{}",
        page.body
    );
    let r = c
        .post_form(
            "/signin",
            &[
                ("email", TRAINEE),
                ("password", DEMO_PASSWORD),
                ("next", "/admin/agencies?show=active"),
            ],
        )
        .await;
    r.expect_redirect("/admin/agencies");
    assert_eq!(r.location().as_deref(), Some("/admin/agencies?show=active"));

    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let c = app.client();
        let r = c
            .post_form_from(
                "/signin",
                "/signin",
                &[
                    ("email", TRAINEE),
                    ("password", DEMO_PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(
            r.location().as_deref(),
            Some("/"),
            "next={evil} must not leave the site"
        );
    }
}

#[tokio::test]
async fn empty_sign_in_form_names_both_fields() {
    let app = TestApp::sqlite().await;
    let c = app.client();
    let r = c.sign_in("", "").await;
    r.expect(422);
    assert_eq!(
        r.field_error("email").as_deref(),
        Some("Enter your email address")
    );
    assert_eq!(
        r.field_error("password").as_deref(),
        Some("Enter your password")
    );
}

async fn wrong_password_says_nothing_about_the_email(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.client();
    let known = c.sign_in(TRAINEE, "not-the-password-7").await;
    known.expect(422);
    assert_eq!(
        known.field_error("password").as_deref(),
        Some(WRONG_CREDENTIALS)
    );
    assert_eq!(known.field_error("email"), None);
    let unknown_email = "nobody.here@harbor.example.org";
    let unknown = c.sign_in(unknown_email, "not-the-password-7").await;
    unknown.expect(422);
    assert_eq!(
        unknown.field_error("password").as_deref(),
        Some(WRONG_CREDENTIALS)
    );
    // Apart from the email typed back into the form, the two pages are the same.
    assert_eq!(
        known.body.replace(TRAINEE, "EMAIL"),
        unknown.body.replace(unknown_email, "EMAIL")
    );
    assert!(!c.is_signed_in().await);
    assert_eq!(
        app.outbox_total().await,
        0,
        "a failed sign-in sends nothing"
    );
    assert!(
        !known.body.contains("not-the-password-7"),
        "the password is never echoed"
    );
}

async fn lockout_after_five_failures(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.client();
    for _ in 0..5 {
        c.sign_in(TRAINEE, "not-the-password-7").await.expect(422);
    }
    let mails = app.emails_to(TRAINEE).await;
    assert_eq!(mails.len(), 1, "one 'account locked' email is queued");
    assert_eq!(mails[0].subject, "Your Onramp account is locked");
    assert!(
        !mails[0].payload.contains("not-the-password-7"),
        "no password in emails"
    );

    // Locked: even the right password is refused, with the same message.
    let r = c.sign_in(TRAINEE, DEMO_PASSWORD).await;
    r.expect(422);
    assert_eq!(
        r.field_error("password").as_deref(),
        Some(WRONG_CREDENTIALS)
    );
    assert!(app.audit_actions().await.iter().any(|a| a == "auth.locked"));
    // Attempts while locked do not queue more email.
    assert_eq!(app.emails_to(TRAINEE).await.len(), 1);

    app.advance(Duration::minutes(16));
    c.sign_in(TRAINEE, DEMO_PASSWORD).await.expect_redirect("/");
}

#[tokio::test]
async fn rate_limit_by_address_after_twenty_failures() {
    let app = TestApp::sqlite().await;
    let c = app.client();
    for i in 0..20 {
        c.sign_in(&format!("nobody{i}@example.org"), "whatever-1234")
            .await
            .expect(422);
    }
    let r = c.sign_in(TRAINEE, DEMO_PASSWORD).await;
    r.expect(429);
    assert!(
        r.field_error("email")
            .is_some_and(|m| m.contains("Too many failed sign-ins")),
        "{}",
        r.body
    );
    // The limit is by address, not by browser.
    let other = app.client();
    other.sign_in(DIRECTOR, DEMO_PASSWORD).await.expect(429);
    // The reset form cannot be used to probe around it either.
    other
        .post_form_from("/password-reset", "/password-reset", &[("email", TRAINEE)])
        .await
        .expect(429);
    assert_eq!(app.outbox_total().await, 0);

    app.advance(Duration::minutes(16));
    c.sign_in(TRAINEE, DEMO_PASSWORD).await.expect_redirect("/");
}

// ---------------------------------------------------------------- MFA

async fn mfa_enrolment_is_required_for_lead_admin(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.client();
    c.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/account/mfa");
    for path in [
        "/",
        "/admin/agencies",
        "/account",
        "/account/password",
        "/signin/mfa",
        "/signin",
    ] {
        c.get(path).await.expect_redirect("/account/mfa");
    }
    let page = c.get("/account/mfa").await;
    page.expect(200);
    let secret = page
        .text_of("<code class=\"secret\">")
        .expect("secret shown");
    assert!(page.body.contains("<svg"), "a QR code is shown");
    let again = c.get("/account/mfa").await;
    assert_eq!(
        again.text_of("<code class=\"secret\">"),
        Some(secret.clone()),
        "a reload keeps the secret being set up"
    );

    let r = c
        .post_form("/account/mfa", &[("code", &wrong_code(&secret, &app))])
        .await;
    r.expect(422);
    assert!(
        r.field_error("code")
            .is_some_and(|m| m.contains("not right")),
        "{}",
        r.body
    );
    c.get("/").await.expect_redirect("/account/mfa");

    let code = auth::totp_code(&secret, app.now()).expect("code");
    let done = c.post_form("/account/mfa", &[("code", &code)]).await;
    done.expect(200);
    assert_eq!(
        done.body.matches("<li><code>").count(),
        10,
        "ten recovery codes"
    );
    c.get("/").await.expect(200);
    assert!(app.audit_actions().await.iter().any(|a| a == "mfa.enabled"));
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn roles_that_read_others_must_enrol_mfa_and_trainees_need_not() {
    let app = TestApp::sqlite().await;
    for (email, must) in [
        (LEAD, true),
        (COORDINATOR, true),
        (ATA, true),
        (DIRECTOR, true),
        (TRAINEE, false),
        (AUDITOR, true),
        (PROCTOR, true),
    ] {
        let r = app.client().sign_in(email, DEMO_PASSWORD).await;
        let want = if must { "/account/mfa" } else { "/" };
        assert!(
            r.redirects_to(want),
            "{email}: expected {want}, got {:?}",
            r.location()
        );
    }
}

async fn mfa_step_rejects_a_wrong_code_and_accepts_the_right_one(backend: Backend) {
    let app = app_or_skip!(backend);
    let _enrolled = app.signed_in(LEAD).await;
    let c = app.client();
    c.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    for path in ["/", "/account", "/account/mfa", "/account/password"] {
        c.get(path).await.expect_redirect("/signin/mfa");
    }
    // Re-enrolling is not a way around the code.
    let secret = app.mfa_secret(LEAD).expect("secret");
    let before = app.fingerprint().await;
    c.post_form_from(
        "/signin/mfa",
        "/account/mfa",
        &[("code", &auth::totp_code(&secret, app.now()).unwrap())],
    )
    .await
    .expect_redirect("/signin/mfa");
    assert_eq!(app.fingerprint().await, before);

    c.get("/signin/mfa").await.expect(200);
    let r = c
        .post_form("/signin/mfa", &[("code", &wrong_code(&secret, &app))])
        .await;
    r.expect(422);
    assert!(r.field_error("code").is_some());
    c.get("/").await.expect_redirect("/signin/mfa");
    c.answer_mfa(LEAD).await.expect_redirect("/");
    c.get("/").await.expect(200);
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "mfa.failed") && actions.iter().any(|a| a == "mfa.verified"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn repeated_wrong_mfa_codes_end_the_session_and_lock() {
    let app = TestApp::sqlite().await;
    let _enrolled = app.signed_in(LEAD).await;
    let secret = app.mfa_secret(LEAD).unwrap();
    let c = app.client();
    c.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    c.get("/signin/mfa").await.expect(200);
    for _ in 0..5 {
        c.post_form("/signin/mfa", &[("code", &wrong_code(&secret, &app))])
            .await;
    }
    c.get("/").await.expect_redirect("/signin");
    // Locked now: the right password does not open a session.
    app.client().sign_in(LEAD, DEMO_PASSWORD).await.expect(422);
}

#[tokio::test]
async fn recovery_code_works_once() {
    let app = TestApp::sqlite().await;
    let first = app.signed_in(LEAD).await;
    let code = first.recovery_codes.lock().unwrap()[0].clone();

    let b = app.client();
    b.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    b.post_form_from(
        "/signin/mfa",
        "/signin/mfa",
        &[("code", &code.to_uppercase())],
    )
    .await
    .expect_redirect("/");
    b.get("/").await.expect(200);
    assert!(b
        .get("/account")
        .await
        .text()
        .contains("On (9 recovery codes left)"));
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "mfa.recovery_code_used"));

    let c = app.client();
    c.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    let r = c
        .post_form_from("/signin/mfa", "/signin/mfa", &[("code", &code)])
        .await;
    r.expect(422);
    c.get("/").await.expect_redirect("/signin/mfa");
}

// ---------------------------------------------------------------- sessions

#[tokio::test]
async fn idle_session_times_out_after_thirty_minutes() {
    let app = TestApp::sqlite().await;
    let c = app.signed_in(TRAINEE).await;
    // Activity keeps the session alive.
    app.advance(Duration::minutes(29));
    c.get("/account").await.expect(200);
    app.advance(Duration::minutes(29));
    c.get("/account").await.expect(200);
    // Thirty-one idle minutes end it.
    app.advance(Duration::minutes(31));
    let r = c.get("/account").await;
    r.expect_redirect("/signin");
    assert_eq!(r.location().as_deref(), Some("/signin?next=/account"));
    assert_eq!(
        app.sessions_of(app.person_id(TRAINEE).await).await,
        0,
        "the idle session is deleted"
    );
}

#[tokio::test]
async fn session_ends_after_twelve_hours_even_when_busy() {
    let app = TestApp::sqlite().await;
    let c = app.signed_in(TRAINEE).await;
    for _ in 0..24 {
        app.advance(Duration::minutes(29));
        c.get("/").await.expect(200);
    }
    app.advance(Duration::minutes(29));
    c.get("/").await.expect_redirect("/signin");
}

#[tokio::test]
async fn simultaneous_sessions_are_allowed_by_default() {
    let app = TestApp::sqlite().await;
    let a = app.signed_in(TRAINEE).await;
    let b = app.signed_in(TRAINEE).await;
    a.get("/").await.expect(200);
    b.get("/").await.expect(200);
    assert_eq!(app.sessions_of(app.person_id(TRAINEE).await).await, 2);
}

#[tokio::test]
async fn single_session_policy_ends_the_first_session() {
    let app = TestApp::sqlite_with(|c| c.single_session = true).await;
    let a = app.signed_in(TRAINEE).await;
    let b = app.signed_in(TRAINEE).await;
    a.get("/").await.expect_redirect("/signin");
    b.get("/").await.expect(200);
    assert_eq!(app.sessions_of(app.person_id(TRAINEE).await).await, 1);
    // Someone else's session is not touched.
    let d = app.signed_in(DIRECTOR).await;
    let _again = app.signed_in(TRAINEE).await;
    d.get("/").await.expect(200);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_of_the_person_only() {
    let app = TestApp::sqlite().await;
    let a = app.signed_in(TRAINEE).await;
    let b = app.signed_in(TRAINEE).await;
    let other = app.signed_in(DIRECTOR).await;
    b.post_form_from("/account", "/account/sign-out-everywhere", &[])
        .await
        .expect_redirect("/signin");
    a.get("/").await.expect_redirect("/signin");
    b.get("/").await.expect_redirect("/signin");
    other.get("/").await.expect(200);
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|x| x == "auth.sign_out_everywhere"));
}

#[tokio::test]
async fn sign_out_ends_only_this_session() {
    let app = TestApp::sqlite().await;
    let a = app.signed_in(TRAINEE).await;
    let b = app.signed_in(TRAINEE).await;
    a.post_form("/signout", &[])
        .await
        .expect_redirect("/signin");
    a.get("/").await.expect_redirect("/signin");
    b.get("/").await.expect(200);
    // The old cookie value, replayed, opens nothing.
    let c = app.client();
    c.add_cookie("onramp_session", "not-a-real-session-token");
    c.get("/").await.expect_redirect("/signin");
}

// ---------------------------------------------------------------- links

async fn invitation_sets_a_password_once(backend: Backend) {
    let app = app_or_skip!(backend);
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "newhire@harbor.example.org";
    let r = app.invite(&lead, "Nia", "Hale", email, harbor).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let id = app.person_id(email).await;
    assert_eq!(r.location(), Some(format!("/admin/people/{id}")));

    let link = app
        .link_for(email, "invitation")
        .await
        .expect("an invitation link in the outbox");
    let c = app.client();
    let page = c.get(&link).await;
    page.expect(200);
    assert!(page.text().contains(email));
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer"),
        "the token must not leak through Referer"
    );

    for (password, confirm, field, message) in [
        ("short1", "short1", "password", "Use at least 12 characters"),
        (
            "123qweasdzxc",
            "123qweasdzxc",
            "password",
            "This password is on a list of commonly used passwords: choose another",
        ),
        (
            "newhire-2026-ok",
            "newhire-2026-ok",
            "password",
            "Do not include your username",
        ),
        (
            "onlyletterslong",
            "onlyletterslong",
            "password",
            "Use at least one letter and one digit",
        ),
        (
            "Harbor-Lights-2026",
            "Harbor-Lights-2027",
            "confirm",
            "The two passwords are not the same",
        ),
    ] {
        let r = c
            .post_form(&link, &[("password", password), ("confirm", confirm)])
            .await;
        r.expect(422);
        assert_eq!(
            r.field_error(field).as_deref(),
            Some(message),
            "{password}/{confirm}"
        );
        assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    }
    c.post_form(
        &link,
        &[
            ("password", "Harbor-Lights-2026"),
            ("confirm", "Harbor-Lights-2026"),
        ],
    )
    .await
    .expect_redirect("/signin");
    c.get(&link).await.expect(404);
    let reuse = app.client();
    reuse.get("/signin").await;
    reuse
        .post_form(
            &link,
            &[
                ("password", "Other-Lights-2026"),
                ("confirm", "Other-Lights-2026"),
            ],
        )
        .await
        .expect(404);

    let home = app.client().sign_in_with(email, "Harbor-Lights-2026").await;
    assert!(home.text().contains("Nia Hale"));
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a == "person.create"), "{actions:?}");
    assert!(
        actions.iter().any(|a| a == "auth.invitation_accepted"),
        "{actions:?}"
    );
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn invitation_expires() {
    let app = TestApp::sqlite().await;
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "late@harbor.example.org";
    assert_eq!(
        app.invite(&lead, "Late", "Comer", email, harbor)
            .await
            .status
            .as_u16(),
        303
    );
    let link = app.link_for(email, "invitation").await.expect("link");
    app.advance(Duration::days(7) + Duration::minutes(1));
    let c = app.client();
    c.get(&link).await.expect(404);
    c.get("/signin").await;
    c.post_form(
        &link,
        &[
            ("password", "Harbor-Lights-2026"),
            ("confirm", "Harbor-Lights-2026"),
        ],
    )
    .await
    .expect(404);
}

async fn password_reset_link_works_once_and_ends_old_sessions(backend: Backend) {
    let app = app_or_skip!(backend);
    let old = app.signed_in(TRAINEE).await;
    let c = app.client();
    let before = app.outbox_total().await;
    let unknown = c
        .post_form_from(
            "/password-reset",
            "/password-reset",
            &[("email", "nobody.here@harbor.example.org")],
        )
        .await;
    unknown.expect(200);
    assert_eq!(
        app.outbox_total().await,
        before,
        "nothing is queued for an unknown email"
    );
    let known = c.post_form("/password-reset", &[("email", TRAINEE)]).await;
    known.expect(200);
    assert_eq!(
        unknown.body, known.body,
        "the page does not tell whether the email exists"
    );
    assert_eq!(app.outbox_total().await, before + 1);
    let bad = c
        .post_form("/password-reset", &[("email", "not-an-email")])
        .await;
    bad.expect(422);
    assert!(bad.field_error("email").is_some());

    let link = app
        .link_for(TRAINEE, "password-reset")
        .await
        .expect("a reset link");
    c.get(&link).await.expect(200);
    c.post_form(
        &link,
        &[("password", "123qweasdzxc"), ("confirm", "123qweasdzxc")],
    )
    .await
    .expect(422);
    c.post_form(
        &link,
        &[
            ("password", "Lantern-Quay-2031"),
            ("confirm", "Lantern-Quay-2031"),
        ],
    )
    .await
    .expect_redirect("/signin");
    old.get("/").await.expect_redirect("/signin");
    c.get(&link).await.expect(404);

    app.client()
        .sign_in(TRAINEE, DEMO_PASSWORD)
        .await
        .expect(422);
    app.client()
        .sign_in_with(TRAINEE, "Lantern-Quay-2031")
        .await;
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "auth.password_reset_requested"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "auth.password_reset"),
        "{actions:?}"
    );
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn password_reset_link_expires_and_a_newer_one_replaces_it() {
    let app = TestApp::sqlite().await;
    let c = app.client();
    c.post_form_from("/password-reset", "/password-reset", &[("email", TRAINEE)])
        .await
        .expect(200);
    let first = app.link_for(TRAINEE, "password-reset").await.expect("link");
    c.post_form_from("/password-reset", "/password-reset", &[("email", TRAINEE)])
        .await
        .expect(200);
    let second = app.link_for(TRAINEE, "password-reset").await.expect("link");
    assert_ne!(first, second);
    c.get(&first).await.expect(404);
    c.get(&second).await.expect(200);
    app.advance(Duration::minutes(61));
    c.get(&second).await.expect(404);
}

#[tokio::test]
async fn issued_password_must_be_changed_first() {
    let app = TestApp::sqlite().await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "issued@harbor.example.org";
    let issued = "Given-Out-2026";
    people::create_with_password(
        &app.app,
        app.implementation_id,
        "Ira",
        "Issued",
        email,
        Some(harbor),
        &[],
        issued,
        true,
    )
    .await
    .expect("create");

    let c = app.client();
    c.sign_in(email, issued)
        .await
        .expect_redirect("/account/password");
    for path in [
        "/",
        "/admin/agencies",
        "/account",
        "/account/mfa",
        "/signin/mfa",
    ] {
        c.get(path).await.expect_redirect("/account/password");
    }
    let page = c.get("/account/password").await;
    page.expect(200);
    assert!(page.text().contains("must be changed before you continue"));

    let r = c
        .post_form(
            "/account/password",
            &[
                ("current", "wrong-one-2026"),
                ("password", "Fresh-Start-2026"),
                ("confirm", "Fresh-Start-2026"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.field_error("current").is_some());
    let r = c
        .post_form(
            "/account/password",
            &[
                ("current", issued),
                ("password", issued),
                ("confirm", issued),
            ],
        )
        .await;
    r.expect(422);
    assert_eq!(
        r.field_error("password").as_deref(),
        Some("Choose a password you have not used here before")
    );
    let r = c
        .post_form(
            "/account/password",
            &[
                ("current", issued),
                ("password", "123qweasdzxc"),
                ("confirm", "123qweasdzxc"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.field_error("password").is_some());
    c.get("/").await.expect_redirect("/account/password");

    c.post_form(
        "/account/password",
        &[
            ("current", issued),
            ("password", "Fresh-Start-2026"),
            ("confirm", "Fresh-Start-2026"),
        ],
    )
    .await
    .expect_redirect("/");
    c.get("/").await.expect(200);

    app.client()
        .sign_in(email, "Fresh-Start-2026")
        .await
        .expect_redirect("/");
    app.client().sign_in(email, issued).await.expect(422);
}

#[tokio::test]
async fn issued_password_of_an_admin_asks_for_mfa_then_a_new_password() {
    let app = TestApp::sqlite().await;
    let email = "second.lead@demo.example.org";
    let issued = "Given-Out-2026";
    people::create_with_password(
        &app.app,
        app.implementation_id,
        "Sec",
        "Ond",
        email,
        None,
        &[ImplementationRole::LeadAdmin],
        issued,
        true,
    )
    .await
    .expect("create");
    let c = app.client();
    c.sign_in(email, issued)
        .await
        .expect_redirect("/account/mfa");
    c.get("/account/password")
        .await
        .expect_redirect("/account/mfa");
    let next = c.enrol_mfa(email).await;
    assert_eq!(next, "/account/password");
    c.get("/").await.expect_redirect("/account/password");
    c.post_form_from(
        "/account/password",
        "/account/password",
        &[
            ("current", issued),
            ("password", "Fresh-Start-2026"),
            ("confirm", "Fresh-Start-2026"),
        ],
    )
    .await
    .expect_redirect("/");
    c.get("/").await.expect(200);
}

// ---------------------------------------------------------------- CSRF

#[tokio::test]
async fn csrf_token_and_origin_are_checked() {
    let app = TestApp::sqlite().await;
    let c = app.signed_in(TRAINEE).await;
    let token = c.csrf().expect("token");
    let other = app.signed_in(DIRECTOR).await;
    let other_token = other.csrf().expect("token");
    assert_ne!(token, other_token);
    let mut tampered = token.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    let before = app.fingerprint().await;
    let path = "/account/api-tokens";
    for (name, fields) in [
        ("no _csrf", vec![("name", "t1")]),
        ("empty _csrf", vec![("_csrf", ""), ("name", "t1")]),
        ("wrong _csrf", vec![("_csrf", "wrong"), ("name", "t1")]),
        (
            "tampered _csrf",
            vec![("_csrf", tampered.as_str()), ("name", "t1")],
        ),
        (
            "another session's _csrf",
            vec![("_csrf", other_token.as_str()), ("name", "t1")],
        ),
    ] {
        let r = c.post_raw(path, &fields, &[]).await;
        assert_eq!(r.status.as_u16(), 403, "{name}: {}", r.body);
        assert!(r.text().contains("The form expired"), "{name}");
    }
    let fields = [("_csrf", token.as_str()), ("name", "t1")];
    for origin in [
        "http://evil.example",
        "https://127.0.0.1.evil.example",
        "http://localhost:1",
    ] {
        let r = c.post_raw(path, &fields, &[("Origin", origin)]).await;
        assert_eq!(r.status.as_u16(), 403, "Origin {origin}");
    }
    // Sign-out is a form like any other.
    c.post_raw("/signout", &[], &[]).await.expect(403);
    c.get("/").await.expect(200);
    assert_eq!(app.fingerprint().await, before, "nothing changed");

    c.post_raw(path, &fields, &[("Origin", &app.base)])
        .await
        .expect(200);
    let page = c.post_form(path, &[("name", "t2")]).await;
    page.expect(200);
    assert!(page
        .text_of("<code class=\"secret\">")
        .is_some_and(|t| t.starts_with("onr_")));
    assert_eq!(app.fingerprint().await.audit_head, before.audit_head + 2);
}

#[tokio::test]
async fn anonymous_forms_need_the_pre_session_cookie_token() {
    let app = TestApp::sqlite().await;
    let fresh = app.client();
    fresh
        .post_raw(
            "/signin",
            &[
                ("_csrf", "guess"),
                ("email", TRAINEE),
                ("password", DEMO_PASSWORD),
            ],
            &[],
        )
        .await
        .expect(403);
    fresh
        .post_raw(
            "/signin",
            &[
                ("_csrf", ""),
                ("email", TRAINEE),
                ("password", DEMO_PASSWORD),
            ],
            &[],
        )
        .await
        .expect(403);
    fresh
        .post_raw("/password-reset", &[("email", TRAINEE)], &[])
        .await
        .expect(403);
    let c = app.client();
    c.get("/signin").await.expect(200);
    c.post_raw(
        "/signin",
        &[
            ("_csrf", "guess"),
            ("email", TRAINEE),
            ("password", DEMO_PASSWORD),
        ],
        &[],
    )
    .await
    .expect(403);
    let token = c.csrf().expect("token");
    assert_eq!(c.cookie("onramp_pre"), Some(token.clone()));
    c.post_raw(
        "/signin",
        &[
            ("_csrf", &token),
            ("email", TRAINEE),
            ("password", DEMO_PASSWORD),
        ],
        &[("Origin", "http://evil.example")],
    )
    .await
    .expect(403);
    assert_eq!(app.outbox_total().await, 0);
    c.post_raw(
        "/signin",
        &[
            ("_csrf", &token),
            ("email", TRAINEE),
            ("password", DEMO_PASSWORD),
        ],
        &[("Origin", &app.base)],
    )
    .await
    .expect_redirect("/");
}

/// A `multipart/form-data` body: text fields, then an optional file `(name, filename, content)`.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &str)>) -> (String, String) {
    let boundary = "----onramp-test-boundary-7f3a";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    if let Some((name, filename, content)) = file {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/toml\r\n\r\n{content}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn file_upload_form_checks_csrf_and_origin_too() {
    let app = TestApp::sqlite().await;
    let lead = app.signed_in(LEAD).await;
    let token = lead.csrf().expect("token");
    let path = "/admin/processes/import";
    let export = lead
        .get("/admin/processes/verification-and-agreement-then-quiz/export")
        .await;
    export.expect(200);
    let copy = export.body.replacen(
        "key = \"verification-and-agreement-then-quiz\"",
        "key = \"uploaded-copy\"",
        1,
    );
    assert_ne!(copy, export.body, "the exported template names its key");

    let before = app.fingerprint().await;
    let (ct, body) = multipart(&[("body", "")], Some(("file", "copy.toml", &copy)));
    lead.post_body(path, &ct, body, &[]).await.expect(403);
    let (ct, body) = multipart(
        &[("_csrf", "wrong"), ("body", "")],
        Some(("file", "copy.toml", &copy)),
    );
    lead.post_body(path, &ct, body, &[]).await.expect(403);
    let (ct, body) = multipart(
        &[("_csrf", &token), ("body", "")],
        Some(("file", "copy.toml", &copy)),
    );
    lead.post_body(path, &ct, body, &[("Origin", "http://evil.example")])
        .await
        .expect(403);
    // The token in a file part does not count.
    let (ct, body) = multipart(&[("body", "")], Some(("_csrf", "token.txt", &token)));
    lead.post_body(path, &ct, body, &[]).await.expect(403);
    lead.post_raw(path, &[("body", &copy)], &[])
        .await
        .expect(403);
    assert_eq!(app.fingerprint().await, before, "nothing was saved");

    let (ct, body) = multipart(
        &[("_csrf", &token), ("body", "")],
        Some(("file", "copy.toml", &copy)),
    );
    lead.post_body(path, &ct, body, &[("Origin", &app.base)])
        .await
        .expect_redirect("/admin/processes/uploaded-copy");
    lead.get("/admin/processes/uploaded-copy").await.expect(200);
}

// ---------------------------------------------------------------- headers and operations

/// Attribute names of every tag in an HTML page.
fn attribute_names(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let Some(end) = tag.find('>') else { continue };
        let inner = &tag[..end];
        let mut in_quote = None;
        let mut word = String::new();
        let mut words = Vec::new();
        for ch in inner.chars() {
            match (in_quote, ch) {
                (Some(q), c) if c == q => in_quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => in_quote = Some(ch),
                (None, c) if c.is_whitespace() || c == '=' || c == '/' => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                (None, c) => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        out.extend(words.into_iter().skip(1).map(|w| w.to_ascii_lowercase()));
    }
    out
}

fn assert_secure_page(what: &str, r: &Reply) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("default-src 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert!(r.header("referrer-policy").is_some(), "{what}");
    if r.header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
        // Nothing the CSP would block: no inline script, event handler or style.
        for chunk in r.body.split("<script").skip(1) {
            let open = &chunk[..chunk.find('>').unwrap_or(0)];
            assert!(open.contains("src="), "{what}: inline <script>");
        }
        assert!(!r.body.contains("<style"), "{what}: inline <style>");
        for name in attribute_names(&r.body) {
            assert!(
                !name.starts_with("on"),
                "{what}: inline event handler {name}"
            );
            assert_ne!(name, "style", "{what}: inline style attribute");
        }
    }
}

#[tokio::test]
async fn security_headers_on_every_kind_of_page() {
    let app = TestApp::sqlite().await;
    let anon = app.client();
    assert_secure_page("sign-in", anon.get("/signin").await.expect(200));
    assert_secure_page("reset", anon.get("/password-reset").await.expect(200));
    assert_secure_page("not found", anon.get("/no/such/page").await.expect(404));
    assert_secure_page("redirect", anon.get("/account").await.expect(303));
    assert_secure_page("health", anon.get("/healthz").await.expect(200));
    let lead = app.client();
    lead.sign_in(LEAD, DEMO_PASSWORD).await;
    assert_secure_page("MFA set-up", lead.get("/account/mfa").await.expect(200));
    let lead = app.signed_in(LEAD).await;
    for path in [
        "/",
        "/account",
        "/admin/agencies",
        "/admin/projects",
        "/admin/agencies/new",
        "/admin/people",
        "/admin/people/new",
        "/admin/access-levels",
        "/admin/settings",
        "/admin/audit",
        "/admin/outbox",
        "/admin/email-templates",
        "/admin/email-templates/invitation",
        "/admin/processes",
        "/admin/processes/verification-and-agreement-then-quiz",
        "/admin/agreements",
        "/requests",
        "/requests/new",
    ] {
        let r = lead.get(path).await;
        r.expect(200);
        assert_secure_page(path, &r);
    }
    let trainee = app.signed_in(TRAINEE).await;
    assert_secure_page(
        "forbidden",
        trainee.get("/admin/agencies/new").await.expect(403),
    );
    let r = anon.get("/static/onramp.css").await;
    r.expect(200);
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}
