//! Sign-in hardening, over real HTTP with real cookies: wrong two-step codes are counted and
//! lock the account, a code works once, `next` stays on the site, replacing two-step sign-in
//! asks who it is, the client address behind trusted proxies, https cookies and HSTS, session
//! tokens that change at every stage, API token lifetimes, and two-step sign-in for every
//! role that reads other people's records.
//!
//! Tests named `name::sqlite` / `name::postgres` run on both backends (see `support`).

mod support;

use chrono::Duration;
use onramp_app::auth;
use onramp_app::config::TrustedProxies;
use onramp_app::demo::DEMO_PASSWORD;
use support::{email_text, Backend, Reply, TestApp, TestClient};

const LEAD: &str = "lead@demo.example.org";
const COORDINATOR: &str = "coordinator@demo.example.org";
const PROCTOR: &str = "proctor@demo.example.org";
const AUDITOR: &str = "auditor@demo.example.org";
const ATA: &str = "ata@harbor.example.org";
const DIRECTOR: &str = "director@harbor.example.org";
const TRAINEE: &str = "trainee@harbor.example.org";

on_both_backends!(
    password_and_wrong_codes_repeated_lock_the_account,
    wrong_codes_count_toward_the_address_rate_limit,
    a_code_is_accepted_once,
    replacing_two_step_sign_in_asks_who_it_is_and_emails,
    forwarded_for_is_believed_only_from_a_trusted_proxy,
    the_session_token_changes_at_every_stage,
    api_tokens_expire_and_show_when_they_were_last_used,
    api_tokens_end_with_sign_out_everywhere_password_reset_and_change,
    a_role_granted_mid_session_asks_for_enrolment_at_once,
);

/// A six-digit code that is none of the codes valid around now.
fn wrong_code(app: &TestApp, email: &str) -> String {
    let secret = app.mfa_secret(email).expect("enrolled");
    let now = app.now();
    let near: Vec<String> = (-3..=3)
        .map(|s| auth::totp_code(&secret, now + Duration::seconds(30 * s)).expect("code"))
        .collect();
    (1..)
        .map(|i| format!("{:06}", (i * 270_001) % 1_000_000))
        .find(|c| !near.contains(c))
        .expect("a wrong code")
}

/// The value a `Set-Cookie` of the reply gives the cookie `name`, with the whole header.
fn set_cookie(r: &Reply, name: &str) -> Option<(String, String)> {
    r.set_cookies().into_iter().find_map(|h| {
        let value = h.strip_prefix(&format!("{name}="))?.split(';').next()?;
        Some((value.to_string(), h.clone()))
    })
}

/// Enrols `email` (signing in for real), then opens a second browser at the code step.
async fn at_code_step(app: &TestApp, email: &str) -> TestClient {
    let _enrolled = app.signed_in(email).await;
    let c = app.client();
    c.sign_in(email, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    c.get("/signin/mfa").await.expect(200);
    c
}

// ---------------------------------------------------------------- item 2: wrong codes

async fn password_and_wrong_codes_repeated_lock_the_account(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = at_code_step(&app, LEAD).await;
    let before = app.emails_to(LEAD).await.len();
    // Four wrong codes (one of them shaped like a recovery code)...
    for code in [
        wrong_code(&app, LEAD),
        "abcde-fghjk".to_string(),
        wrong_code(&app, LEAD),
        wrong_code(&app, LEAD),
    ] {
        c.post_form("/signin/mfa", &[("code", &code)])
            .await
            .expect(422);
    }
    // ...then the right password again, which used to clear the count, and one more.
    let again = app.client();
    again
        .sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    let r = again
        .post_form_from(
            "/signin/mfa",
            "/signin/mfa",
            &[("code", &wrong_code(&app, LEAD))],
        )
        .await;
    r.expect_redirect("/signin");
    again.get("/").await.expect_redirect("/signin");

    let locked: Vec<_> = app.emails_to(LEAD).await;
    assert_eq!(locked.len(), before + 1, "the lockout email is queued");
    assert_eq!(locked[before].subject, "Your Onramp account is locked");
    assert!(app.audit_actions().await.iter().any(|a| a == "auth.locked"));
    // Locked: the right password, and a right code in the other half-open session, open nothing.
    app.client().sign_in(LEAD, DEMO_PASSWORD).await.expect(422);
    let code = app.totp_unused(LEAD);
    c.post_form("/signin/mfa", &[("code", &code)])
        .await
        .expect_redirect("/signin");
    c.get("/").await.expect_redirect("/signin");

    // Once the lock has passed, a whole sign-in works and starts the count again.
    app.advance(Duration::minutes(16));
    app.client().sign_in_as(LEAD).await;
    let mut tx = app.app.store.read().await.unwrap();
    let account = tx
        .account_get(app.person_id(LEAD).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.failed_attempts, 0);
    app.assert_audit_chain_valid().await;
}

async fn wrong_codes_count_toward_the_address_rate_limit(backend: Backend) {
    let app = app_or_skip!(backend, |c| {
        c.rate_limit_failures = 3;
        c.lockout_threshold = 100;
    });
    let c = at_code_step(&app, LEAD).await;
    for _ in 0..3 {
        c.post_form("/signin/mfa", &[("code", &wrong_code(&app, LEAD))])
            .await
            .expect(422);
    }
    // The address is refused now, even with the right code, and at the password step too.
    let code = app.totp_unused(LEAD);
    let r = c.post_form("/signin/mfa", &[("code", &code)]).await;
    r.expect(429);
    assert!(
        r.field_error("code")
            .is_some_and(|m| m.contains("Too many failed sign-ins")),
        "{}",
        r.body
    );
    app.client()
        .sign_in(TRAINEE, DEMO_PASSWORD)
        .await
        .expect(429);
    app.advance(Duration::minutes(16));
    c.answer_mfa(LEAD).await.expect_redirect("/");
}

async fn a_code_is_accepted_once(backend: Backend) {
    let app = app_or_skip!(backend);
    let secret = {
        let _enrolled = app.signed_in(LEAD).await;
        app.mfa_secret(LEAD).expect("enrolled")
    };
    // The code that confirmed enrolment cannot open a sign-in.
    let enrolment_code = auth::totp_code(&secret, app.now()).unwrap();
    let a = app.client();
    a.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    let r = a
        .post_form_from("/signin/mfa", "/signin/mfa", &[("code", &enrolment_code)])
        .await;
    r.expect(422);
    assert!(
        r.field_error("code")
            .is_some_and(|m| m.contains("used already")),
        "{}",
        r.body
    );

    // A code accepted in one sign-in is refused in a second, within its 30 seconds.
    app.advance(Duration::seconds(30));
    let code = auth::totp_code(&secret, app.now()).unwrap();
    a.post_form_from("/signin/mfa", "/signin/mfa", &[("code", &code)])
        .await
        .expect_redirect("/");
    let b = app.client();
    b.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    b.post_form_from("/signin/mfa", "/signin/mfa", &[("code", &code)])
        .await
        .expect(422);
    // Nor is an earlier step's code, still inside the allowed drift.
    let earlier = auth::totp_code(&secret, app.now() - Duration::seconds(30)).unwrap();
    b.post_form_from("/signin/mfa", "/signin/mfa", &[("code", &earlier)])
        .await
        .expect(422);
    b.get("/").await.expect_redirect("/signin/mfa");
    // The next step's code works.
    let next = auth::totp_code(&secret, app.now() + Duration::seconds(30)).unwrap();
    b.post_form_from("/signin/mfa", "/signin/mfa", &[("code", &next)])
        .await
        .expect_redirect("/");
}

// ---------------------------------------------------------------- item 3: next

#[tokio::test]
async fn next_after_sign_in_stays_on_this_site() {
    let app = TestApp::sqlite().await;
    let payloads = [
        "/\t/evil.example",
        "/\\evil.example",
        "//evil.example",
        "///evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/%2F/evil.example",
        "/%5C/evil.example",
        "/%09/evil.example",
        "/ /evil.example",
        "/\n/evil.example",
        "/\r\nLocation: https://evil.example",
        "evil.example",
        "/x//evil.example",
        "\u{3000}/evil.example",
    ];
    for evil in payloads {
        let c = app.client();
        // On the page (the query string decoded once by the server)...
        let page = c
            .get(&format!(
                "/signin?next={}",
                onramp_web::session::urlencode(evil)
            ))
            .await;
        page.expect(200);
        assert!(
            page.body.contains("name=\"next\" value=\"/\""),
            "next={evil:?} is kept on the page:\n{}",
            page.body
        );
        // ...and when the form is sent with it anyway.
        let r = c
            .post_form(
                "/signin",
                &[
                    ("email", TRAINEE),
                    ("password", DEMO_PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(r.location().as_deref(), Some("/"), "next={evil:?}");
    }
    // The issue's own example, as a browser sends it.
    let c = app.client();
    let page = c.get("/signin?next=/%09/evil.example").await;
    assert!(
        page.body.contains("name=\"next\" value=\"/\""),
        "{}",
        page.body
    );
    // A path on the site is still where sign-in leads, through the code step too.
    let _enrolled = app.signed_in(LEAD).await;
    let c = app.client();
    let r = c
        .post_form_from(
            "/signin",
            "/signin",
            &[
                ("email", LEAD),
                ("password", DEMO_PASSWORD),
                ("next", "/admin/agencies?show=active"),
            ],
        )
        .await;
    let to = r.location().unwrap_or_default();
    assert!(to.starts_with("/signin/mfa?next="), "{to}");
    c.get(&to).await.expect(200);
    let code = app.totp_unused(LEAD);
    let token = c.csrf().unwrap();
    let page = c.get(&to).await;
    assert!(
        page.body.contains("value=\"/admin/agencies?show=active\""),
        "{}",
        page.body
    );
    let r = c
        .post_form_token(
            "/signin/mfa",
            &[("code", &code), ("next", "/admin/agencies?show=active")],
            &token,
        )
        .await;
    assert_eq!(r.location().as_deref(), Some("/admin/agencies?show=active"));
    let c2 = app.client();
    c2.sign_in(LEAD, DEMO_PASSWORD).await;
    let code = app.totp_unused(LEAD);
    let r = c2
        .post_form_from(
            "/signin/mfa",
            "/signin/mfa",
            &[("code", &code), ("next", "//evil.example")],
        )
        .await;
    assert_eq!(r.location().as_deref(), Some("/"));
}

// ---------------------------------------------------------------- item 5: replacing MFA

async fn replacing_two_step_sign_in_asks_who_it_is_and_emails(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    let old_secret = app.mfa_secret(LEAD).unwrap();
    let page = c.get("/account/mfa").await;
    page.expect(200);
    assert!(page.body.contains("id=\"f-current\""), "{}", page.body);
    let new_secret = page.text_of("<code class=\"secret\">").unwrap();
    assert_ne!(new_secret, old_secret);
    let new_code = |at| auth::totp_code(&new_secret, at).unwrap();
    let before = app.fingerprint().await;

    // A stolen session alone cannot replace it: the code of the new app is not enough.
    let r = c
        .post_form("/account/mfa", &[("code", &new_code(app.now()))])
        .await;
    r.expect(422);
    assert!(r.field_error("current").is_some(), "{}", r.body);
    assert_eq!(app.fingerprint().await, before);
    let r = c
        .post_form(
            "/account/mfa",
            &[
                ("code", &new_code(app.now())),
                ("current", "not-the-password-7"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.field_error("current").is_some(), "{}", r.body);
    assert_eq!(
        r.text_of("<code class=\"secret\">"),
        Some(new_secret.clone()),
        "the app being set up is kept"
    );
    // Another session of the same person never sees this set-up.
    let other = app.signed_in(LEAD).await;
    let theirs = other.get("/account/mfa").await;
    assert_ne!(
        theirs.text_of("<code class=\"secret\">"),
        Some(new_secret.clone())
    );

    // With the password it works, and the person is told.
    let done = c
        .post_form(
            "/account/mfa",
            &[("code", &new_code(app.now())), ("current", DEMO_PASSWORD)],
        )
        .await;
    done.expect(200);
    assert_eq!(done.body.matches("<li><code>").count(), 10);
    let mails = app.emails_to(LEAD).await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject == "Your Onramp two-step sign-in was changed")
        .expect("an email that two-step sign-in changed");
    let text = email_text(mail);
    assert!(text.contains("replaced"), "{text}");
    assert!(!mail.payload.contains(&new_secret) && !mail.payload.contains(&old_secret));
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "mfa.replaced"));

    // The old app no longer signs in; the new one does.
    let d = app.client();
    d.sign_in(LEAD, DEMO_PASSWORD)
        .await
        .expect_redirect("/signin/mfa");
    let later = app.now() + Duration::seconds(30);
    d.post_form_from(
        "/signin/mfa",
        "/signin/mfa",
        &[("code", &auth::totp_code(&old_secret, later).unwrap())],
    )
    .await
    .expect(422);
    d.post_form_from("/signin/mfa", "/signin/mfa", &[("code", &new_code(later))])
        .await
        .expect_redirect("/");

    // A current code of the app in use works as well as the password.
    let page = c.get("/account/mfa").await;
    let third = page.text_of("<code class=\"secret\">").unwrap();
    app.advance(Duration::seconds(60));
    let done = c
        .post_form(
            "/account/mfa",
            &[
                ("code", &auth::totp_code(&third, app.now()).unwrap()),
                ("current", &new_code(app.now())),
            ],
        )
        .await;
    done.expect(200);
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn turning_two_step_sign_in_off_asks_who_it_is_and_only_where_roles_allow() {
    let app = TestApp::sqlite().await;
    // A trainee may set it up from their account page (asked for their password)...
    let t = app.signed_in(TRAINEE).await;
    let page = t.get("/account/mfa").await;
    let secret = page.text_of("<code class=\"secret\">").unwrap();
    let code = auth::totp_code(&secret, app.now()).unwrap();
    t.post_form("/account/mfa", &[("code", &code)])
        .await
        .expect(422);
    t.post_form(
        "/account/mfa",
        &[("code", &code), ("current", DEMO_PASSWORD)],
    )
    .await
    .expect(200);
    let account = t.get("/account").await;
    assert!(account.text().contains("On (10 recovery codes left)"));
    // ...and turn it off, with their password, not without.
    let r = t
        .post_form("/account/mfa/off", &[("current", "not-the-password-7")])
        .await;
    r.expect(422);
    assert!(r.field_error("current").is_some(), "{}", r.body);
    t.post_form_from(
        "/account",
        "/account/mfa/off",
        &[("current", DEMO_PASSWORD)],
    )
    .await
    .expect_redirect("/account");
    assert!(t
        .get("/account")
        .await
        .text()
        .contains("Two-step sign-inOff"));
    let mail = app.emails_to(TRAINEE).await.pop().expect("an email");
    assert_eq!(mail.subject, "Your Onramp two-step sign-in was changed");
    assert!(email_text(&mail).contains("turned off"));
    // A role that requires it cannot turn it off.
    let lead = app.signed_in(LEAD).await;
    assert!(lead
        .get("/account")
        .await
        .text()
        .contains("cannot be turned off"));
    lead.post_form_from(
        "/account",
        "/account/mfa/off",
        &[("current", DEMO_PASSWORD)],
    )
    .await
    .expect(403);
}

// ---------------------------------------------------------------- item 8: proxies, https

/// Fails a sign-in with a forwarded-for header; returns the source address audited for it.
async fn failed_sign_in_from(app: &TestApp, forwarded_for: &str) -> (Reply, String) {
    let c = app.client();
    let page = c.get("/signin").await;
    let token = page.csrf().unwrap();
    let r = c
        .post_raw(
            "/signin",
            &[
                ("_csrf", &token),
                ("email", TRAINEE),
                ("password", "not-the-password-7"),
            ],
            &[("x-forwarded-for", forwarded_for)],
        )
        .await;
    let event = app
        .audit()
        .await
        .into_iter()
        .find(|e| e.action == "auth.sign_in_failed")
        .expect("the failure is audited");
    (r, event.source_addr)
}

async fn forwarded_for_is_believed_only_from_a_trusted_proxy(backend: Backend) {
    // Untrusted (the default): the header is ignored.
    let app = app_or_skip!(backend, |c| c.lockout_threshold = 1000);
    let (_, addr) = failed_sign_in_from(&app, "203.0.113.7").await;
    assert_eq!(addr, "127.0.0.1");
    drop(app);

    // The test client connects from 127.0.0.1: make it a trusted proxy.
    let app = app_or_skip!(backend, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.0/8, 10.0.0.0/8").unwrap();
        c.rate_limit_failures = 3;
        c.lockout_threshold = 1000;
    });
    let (_, addr) = failed_sign_in_from(&app, "203.0.113.7").await;
    assert_eq!(addr, "203.0.113.7");
    // A client that sends its own header does not choose its address: the right-most
    // address that is not a trusted proxy is.
    let (_, addr) = failed_sign_in_from(&app, "198.51.100.66, 203.0.113.7, 10.1.1.1").await;
    assert_eq!(addr, "203.0.113.7");
    // Rate limits follow the resolved address.
    let (r, _) = failed_sign_in_from(&app, "203.0.113.7").await;
    r.expect(422);
    let (r, _) = failed_sign_in_from(&app, "203.0.113.7").await;
    r.expect(429);
    let (r, addr) = failed_sign_in_from(&app, "203.0.113.8").await;
    r.expect(422);
    assert_eq!(addr, "203.0.113.8");
    // A signed-in person's actions are audited with the same address.
    let c = app.client();
    let page = c.get("/signin").await;
    let token = page.csrf().unwrap();
    c.post_raw(
        "/signin",
        &[
            ("_csrf", &token),
            ("email", TRAINEE),
            ("password", DEMO_PASSWORD),
        ],
        &[("x-forwarded-for", "192.0.2.44")],
    )
    .await
    .expect_redirect("/");
    let page = c.get("/account").await;
    let token = page.csrf().unwrap();
    c.post_raw(
        "/signout",
        &[("_csrf", &token)],
        &[("x-forwarded-for", "192.0.2.44")],
    )
    .await
    .expect_redirect("/signin");
    let out = app
        .audit()
        .await
        .into_iter()
        .find(|e| e.action == "auth.sign_out")
        .expect("sign-out audited");
    assert_eq!(out.source_addr, "192.0.2.44");
}

#[tokio::test]
async fn https_base_url_sends_hsts_and_host_prefixed_cookies() {
    let app =
        TestApp::sqlite_with(|c| c.base_url = c.base_url.replace("http://", "https://")).await;
    let c = app.client();
    let page = c.get("/signin").await;
    page.expect(200);
    assert_eq!(
        page.header("strict-transport-security").as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
    let (pre, header) =
        set_cookie(&page, "__Host-onramp_pre").expect("a __Host- pre-session cookie");
    for want in ["Secure", "Path=/", "HttpOnly"] {
        assert!(header.contains(want), "{header}");
    }
    assert!(!header.to_lowercase().contains("domain="), "{header}");
    assert!(set_cookie(&page, "onramp_pre").is_none());

    // The browser sends the cookies back over https; here they are sent by hand.
    let token = page.csrf().unwrap();
    let r = c
        .post_raw(
            "/signin",
            &[
                ("_csrf", &token),
                ("email", TRAINEE),
                ("password", DEMO_PASSWORD),
            ],
            &[("cookie", &format!("__Host-onramp_pre={pre}"))],
        )
        .await;
    r.expect_redirect("/");
    let (session, header) =
        set_cookie(&r, "__Host-onramp_session").expect("a __Host- session cookie");
    for want in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(header.contains(want), "{header}");
    }
    assert!(!header.to_lowercase().contains("domain="), "{header}");
    let home = c
        .request(
            reqwest::Method::GET,
            "/",
            &[("cookie", &format!("__Host-onramp_session={session}"))],
        )
        .await;
    home.expect(200);
    assert!(home.header("strict-transport-security").is_some());
    // The http name is not read when served over https.
    c.request(
        reqwest::Method::GET,
        "/",
        &[("cookie", &format!("onramp_session={session}"))],
    )
    .await
    .expect_redirect("/signin");
    // Every response carries it, errors and assets too.
    for path in ["/nowhere", "/healthz", "/static/onramp.css"] {
        let r = c.get(path).await;
        assert!(r.header("strict-transport-security").is_some(), "{path}");
    }

    // Over http there is no HSTS and the cookies keep their plain names.
    let plain = TestApp::sqlite().await;
    let page = plain.client().get("/signin").await;
    assert!(page.header("strict-transport-security").is_none());
    assert!(set_cookie(&page, "onramp_pre").is_some());
}

// ---------------------------------------------------------------- item 9: token lifetimes

/// The session cookie the jar holds now.
fn session_of(c: &TestClient) -> String {
    c.cookie("onramp_session").expect("a session cookie")
}

/// A new browser holding only `cookie` as its session: is it signed in (or at a step)?
async fn old_cookie_lands_on(app: &TestApp, cookie: &str) -> Reply {
    let thief = app.client();
    thief.add_cookie("onramp_session", cookie);
    thief.get("/account").await
}

async fn the_session_token_changes_at_every_stage(backend: Backend) {
    let app = app_or_skip!(backend);
    // The code step.
    let c = at_code_step(&app, LEAD).await;
    let (before, old_csrf) = (session_of(&c), c.csrf().unwrap());
    c.answer_mfa(LEAD).await.expect_redirect("/");
    let after = session_of(&c);
    assert_ne!(before, after);
    c.get("/account").await.expect(200);
    old_cookie_lands_on(&app, &before)
        .await
        .expect_redirect("/signin");
    let new_csrf = c.csrf().unwrap();
    assert_ne!(
        old_csrf, new_csrf,
        "the CSRF token changes with the session"
    );
    c.post_form_token("/account/api-tokens", &[("name", "x")], &old_csrf)
        .await
        .expect(403);

    // Enrolment.
    let e = app.client();
    e.sign_in(COORDINATOR, DEMO_PASSWORD)
        .await
        .expect_redirect("/account/mfa");
    let before = session_of(&e);
    e.enrol_mfa(COORDINATOR).await;
    assert_ne!(before, session_of(&e));
    e.get("/").await.expect(200);
    old_cookie_lands_on(&app, &before)
        .await
        .expect_redirect("/signin");

    // The forced change of an issued password.
    let email = TRAINEE;
    {
        let mut tx = app.app.store.begin().await.unwrap();
        auth::issue_password(
            &mut tx,
            &app.app,
            app.person_id(email).await,
            "Issued-Pass-2026",
            true,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let p = app.client();
    p.sign_in(email, "Issued-Pass-2026")
        .await
        .expect_redirect("/account/password");
    let before = session_of(&p);
    p.post_form_from(
        "/account/password",
        "/account/password",
        &[
            ("current", "Issued-Pass-2026"),
            ("password", "Harbor-Lantern-2031"),
            ("confirm", "Harbor-Lantern-2031"),
        ],
    )
    .await
    .expect_redirect("/");
    assert_ne!(before, session_of(&p));
    p.get("/").await.expect(200);
    old_cookie_lands_on(&app, &before)
        .await
        .expect_redirect("/signin");
}

async fn api_get_me(app: &TestApp, token: &str) -> Reply {
    app.client()
        .request(
            reqwest::Method::GET,
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
}

/// Creates an API token on the account page; returns it.
async fn create_token(c: &TestClient, name: &str, expires: &str) -> String {
    let r = c
        .post_form_from(
            "/account",
            "/account/api-tokens",
            &[("name", name), ("expires", expires)],
        )
        .await;
    r.expect(200);
    r.text_of("<p><code class=\"secret\">")
        .expect("the new token")
}

async fn api_tokens_expire_and_show_when_they_were_last_used(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(TRAINEE).await;
    let page = c.get("/account").await;
    for option in ["30 days", "90 days", "1 year", "No expiry"] {
        assert!(page.text().contains(option), "{option}");
    }
    let r = c
        .post_form("/account/api-tokens", &[("name", "odd"), ("expires", "7")])
        .await;
    r.expect(422);
    assert!(r.field_error("expires").is_some(), "{}", r.body);

    let monthly = create_token(&c, "monthly report", "30").await;
    let forever = create_token(&c, "dashboard", "").await;
    let page = c.get("/account").await;
    assert!(
        page.body.contains("<td class=\"last-used\">never</td>"),
        "{}",
        page.body
    );
    let expiry = (app.now() + Duration::days(30))
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    assert!(page.text().contains(&expiry), "{}", page.text());

    api_get_me(&app, &monthly).await.expect(200);
    let used_at = app.now().format("%Y-%m-%d %H:%M UTC").to_string();
    let page = c.get("/account").await;
    assert!(
        page.body
            .contains(&format!("<td class=\"last-used\">{used_at}</td>")),
        "{}",
        page.body
    );

    app.advance(Duration::days(30));
    let r = api_get_me(&app, &monthly).await;
    r.expect(401);
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/problem+json")));
    assert!(r.body.contains("expired"), "{}", r.body);
    api_get_me(&app, &forever).await.expect(200);
    let c = app.signed_in(TRAINEE).await;
    assert!(c.get("/account").await.text().contains("expired"));
}

async fn api_tokens_end_with_sign_out_everywhere_password_reset_and_change(backend: Backend) {
    let app = app_or_skip!(backend);
    // Sign out everywhere.
    let c = app.signed_in(TRAINEE).await;
    let token = create_token(&c, "script", "").await;
    api_get_me(&app, &token).await.expect(200);
    c.post_form_from("/account", "/account/sign-out-everywhere", &[])
        .await
        .expect_redirect("/signin");
    api_get_me(&app, &token).await.expect(401);

    // A password reset.
    let c = app.signed_in(TRAINEE).await;
    let token = create_token(&c, "script", "90").await;
    api_get_me(&app, &token).await.expect(200);
    let anon = app.client();
    anon.post_form_from("/password-reset", "/password-reset", &[("email", TRAINEE)])
        .await
        .expect(200);
    let link = app
        .link_for(TRAINEE, "password-reset")
        .await
        .expect("a link");
    anon.post_form_from(
        &link,
        &link,
        &[
            ("password", "Quayside-Beacon-2032"),
            ("confirm", "Quayside-Beacon-2032"),
        ],
    )
    .await
    .expect_redirect("/signin");
    api_get_me(&app, &token).await.expect(401);

    // A password change.
    let c = app.client();
    c.sign_in_with(TRAINEE, "Quayside-Beacon-2032").await;
    let token = create_token(&c, "script", "365").await;
    api_get_me(&app, &token).await.expect(200);
    c.post_form_from(
        "/account/password",
        "/account/password",
        &[
            ("current", "Quayside-Beacon-2032"),
            ("password", "Harbor-Lantern-2031"),
            ("confirm", "Harbor-Lantern-2031"),
        ],
    )
    .await
    .expect_redirect("/");
    api_get_me(&app, &token).await.expect(401);
    c.get("/").await.expect(200);
    assert!(c.get("/account").await.text().contains("revoked"));
}

// ---------------------------------------------------------------- item 11: who needs MFA

#[tokio::test]
async fn every_role_that_reads_others_must_enrol_unless_the_implementation_says_otherwise() {
    let app = TestApp::sqlite().await;
    for (email, must) in [
        (LEAD, true),
        (COORDINATOR, true),
        (ATA, true),
        (DIRECTOR, true),
        (AUDITOR, true),
        (PROCTOR, true),
        (TRAINEE, false),
    ] {
        let r = app.client().sign_in(email, DEMO_PASSWORD).await;
        let want = if must { "/account/mfa" } else { "/" };
        assert!(
            r.redirects_to(want),
            "{email}: expected {want}, got {:?}",
            r.location()
        );
    }
    // The Lead admin turns it off for the roles that are not admin roles.
    let lead = app.signed_in(LEAD).await;
    let page = lead.get("/admin/settings").await;
    assert!(
        page.body
            .contains("name=\"mfa_for_all_readers\" type=\"checkbox\" checked"),
        "{}",
        page.body
    );
    lead.post_form("/admin/settings/two-step-sign-in", &[])
        .await
        .expect_redirect("/admin/settings");
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "implementation.mfa_policy"));
    for (email, must) in [
        (COORDINATOR, true),
        (ATA, true),
        (DIRECTOR, false),
        (AUDITOR, false),
        (PROCTOR, false),
    ] {
        let r = app.client().sign_in(email, DEMO_PASSWORD).await;
        let want = if must { "/account/mfa" } else { "/" };
        assert!(
            r.redirects_to(want),
            "{email}: expected {want}, got {:?}",
            r.location()
        );
    }
    // Nobody else may change it.
    let auditor = app.signed_in(AUDITOR).await;
    auditor
        .post_form_from(
            "/",
            "/admin/settings/two-step-sign-in",
            &[("mfa_for_all_readers", "on")],
        )
        .await
        .expect(403);
    // On again: the auditor's open session asks for enrolment at its next page.
    lead.post_form_from(
        "/admin/settings",
        "/admin/settings/two-step-sign-in",
        &[("mfa_for_all_readers", "on")],
    )
    .await
    .expect_redirect("/admin/settings");
    auditor.get("/").await.expect_redirect("/account/mfa");
}

async fn a_role_granted_mid_session_asks_for_enrolment_at_once(backend: Backend) {
    let app = app_or_skip!(backend);
    let trainee = app.signed_in(TRAINEE).await;
    trainee.get("/").await.expect(200);
    let lead = app.signed_in(LEAD).await;
    let id = app.person_id(TRAINEE).await;
    let harbor = app.agency_id("Harbor House").await.to_string();
    lead.post_form_from(
        &format!("/admin/people/{id}"),
        &format!("/admin/people/{id}/agency-roles"),
        &[
            ("agency_id", &harbor),
            ("role", "supervisor"),
            ("granted", "true"),
        ],
    )
    .await
    .expect_redirect(&format!("/admin/people/{id}"));

    // The next page asks for enrolment, and so does every other.
    trainee.get("/").await.expect_redirect("/account/mfa");
    trainee
        .get("/account")
        .await
        .expect_redirect("/account/mfa");
    // Whoever holds the session must know the password to set it up.
    let page = trainee.get("/account/mfa").await;
    page.expect(200);
    assert!(page.body.contains("Your role requires two-step sign-in"));
    let secret = page.text_of("<code class=\"secret\">").unwrap();
    let code = auth::totp_code(&secret, app.now()).unwrap();
    let r = trainee.post_form("/account/mfa", &[("code", &code)]).await;
    r.expect(422);
    assert!(r.field_error("current").is_some(), "{}", r.body);
    let before = session_of(&trainee);
    trainee
        .post_form(
            "/account/mfa",
            &[("code", &code), ("current", DEMO_PASSWORD)],
        )
        .await
        .expect(200);
    assert_ne!(before, session_of(&trainee));
    trainee.get("/").await.expect(200);
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "mfa.enrolment_required"));
}
