//! Email end to end: a change and its email are committed together (or not at all), the
//! outbox worker delivers through a real SMTP listener, and the link in the message works.
//!
//! Tests named `name::sqlite` / `name::postgres` run on both backends (see `support`).

mod support;

use chrono::Duration;
use onramp_jobs::testing::{ReceivedMessage, TestSmtpServer};
use onramp_jobs::{Mailer, OutboxWorker, WorkerConfig};
use std::time::Duration as StdDuration;
use support::{Backend, TestApp, OTHER_EMAIL};

const LEAD: &str = "lead@demo.example.org";
const TRAINEE: &str = "trainee@harbor.example.org";
const FROM: &str = "onramp@example.org";
const WAIT: StdDuration = StdDuration::from_secs(10);

on_both_backends!(
    invitation_is_committed_with_its_email_and_delivered_over_smtp,
    failed_transaction_leaves_neither_person_nor_email,
    smtp_outage_loses_nothing_and_delivers_once,
);

fn worker(app: &TestApp, server: &TestSmtpServer) -> OutboxWorker {
    let mailer = Mailer::smtp(&server.smtp_config(FROM)).expect("SMTP mailer");
    OutboxWorker::new(
        app.app.store.clone(),
        app.app.clock.clone(),
        mailer,
        WorkerConfig::default(),
    )
}

/// The invitation path in a delivered message's text part.
fn link_of(app: &TestApp, m: &ReceivedMessage, segment: &str) -> String {
    let text = m.text().expect("a text part");
    support::link_in(&text, &app.base, segment)
        .unwrap_or_else(|| panic!("no /{segment}/ link in:\n{text}"))
}

async fn invitation_is_committed_with_its_email_and_delivered_over_smtp(backend: Backend) {
    let app = app_or_skip!(backend);
    let server = TestSmtpServer::start().await.expect("SMTP server");
    let worker = worker(&app, &server);
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "fresh.start@harbor.example.org";

    let r = app.invite(&lead, "Fern", "Start", email, harbor).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    // Both the person and the email are there, written by the same request.
    let person = app
        .find_person(app.implementation_id, email)
        .await
        .expect("the person row");
    let queued = app.emails_to(email).await;
    assert_eq!(queued.len(), 1, "one invitation queued");
    assert_eq!(queued[0].status, "pending");
    assert_eq!(
        queued[0].subject,
        "Your Lakeside County HMIS Onramp account"
    );
    assert!(
        server.received().is_empty(),
        "nothing is sent inside the request"
    );

    let report = worker.run_once().await.expect("worker round");
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.rcpt_to, vec![email.to_string()]);
    assert_eq!(m.mail_from, FROM);
    assert_eq!(
        m.subject().as_deref(),
        Some("Your Lakeside County HMIS Onramp account")
    );
    assert!(m.header("Message-ID").is_some());
    let link = link_of(&app, m, "invitation");
    let html = m.html().expect("an HTML part");
    assert!(
        html.contains(&format!("href=\"{}{link}\"", app.base)),
        "{html}"
    );
    assert!(m.text().unwrap_or_default().contains("Hello Fern"));
    assert_eq!(app.emails_to(email).await[0].status, "sent");

    // The link from the delivered message works, once.
    let c = app.client();
    c.get(&link).await.expect(200);
    c.post_form(
        &link,
        &[
            ("password", "Fresh-Fern-2026"),
            ("confirm", "Fresh-Fern-2026"),
        ],
    )
    .await
    .expect_redirect("/signin");
    c.get(&link).await.expect(404);
    let home = app.client().sign_in_with(email, "Fresh-Fern-2026").await;
    assert!(home.text().contains("Fern Start"));
    assert_eq!(app.person_id(email).await, person);

    // Nothing is delivered twice.
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);
    app.advance(Duration::hours(2));
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);
    assert_eq!(server.received().len(), 1);
    app.assert_audit_chain_valid().await;
}

async fn failed_transaction_leaves_neither_person_nor_email(backend: Backend) {
    let app = app_or_skip!(backend);
    let server = TestSmtpServer::start().await.expect("SMTP server");
    let worker = worker(&app, &server);
    let other = app.second_implementation().await;
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let before = app.fingerprint().await;

    // Someone in this implementation already has the address: refused before anything is written.
    let r = app.invite(&lead, "Sam", "Again", TRAINEE, harbor).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert_eq!(
        r.field_error("email").as_deref(),
        Some("Someone already uses this email address")
    );

    // Someone in another implementation has an account with the address: the person row is
    // inserted, then the account fails, and the whole transaction (email included) is undone.
    let r = app.invite(&lead, "Olga", "Twin", OTHER_EMAIL, harbor).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert_eq!(
        r.field_error("email").as_deref(),
        Some("Someone already uses this email address")
    );
    assert_eq!(
        app.find_person(app.implementation_id, OTHER_EMAIL).await,
        None,
        "no person row was left behind"
    );
    assert!(app.emails_to(OTHER_EMAIL).await.is_empty());
    assert!(app.outbox_in(other.implementation_id).await.is_empty());
    assert_eq!(
        app.fingerprint().await,
        before,
        "nothing changed: no person, no email, no audit event"
    );

    assert_eq!(worker.run_once().await.expect("round").claimed, 0);
    assert!(server.received().is_empty());
    app.assert_audit_chain_valid().await;
}

async fn smtp_outage_loses_nothing_and_delivers_once(backend: Backend) {
    let app = app_or_skip!(backend);
    let server = TestSmtpServer::start().await.expect("SMTP server");
    let worker = worker(&app, &server);
    server.stop().await;
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "during.outage@harbor.example.org";
    assert_eq!(
        app.invite(&lead, "Otto", "Age", email, harbor)
            .await
            .status
            .as_u16(),
        303
    );

    let report = worker.run_once().await.expect("round");
    assert_eq!(
        (report.claimed, report.sent, report.retrying, report.failed),
        (1, 0, 1, 0),
        "{report:?}"
    );
    let row = app
        .emails_to(email)
        .await
        .pop()
        .expect("the message is still there");
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.is_some());
    // Not due again until the backoff passes, even once the server is back.
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);
    server.restart().await.expect("restart SMTP");
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);

    app.advance(Duration::seconds(31));
    let report = worker.run_once().await.expect("round");
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, vec![email.to_string()]);
    let row = app.emails_to(email).await.pop().expect("row");
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));

    app.advance(Duration::hours(3));
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);
    assert_eq!(
        server
            .wait_for(2, StdDuration::from_millis(300))
            .await
            .len(),
        1,
        "delivered exactly once"
    );

    let link = link_of(&app, &got[0], "invitation");
    let c = app.client();
    c.get(&link).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_and_lockout_emails_over_smtp() {
    let app = TestApp::sqlite().await;
    let server = TestSmtpServer::start().await.expect("SMTP server");
    let worker = worker(&app, &server);
    let c = app.client();
    c.post_form_from("/password-reset", "/password-reset", &[("email", TRAINEE)])
        .await
        .expect(200);
    for _ in 0..5 {
        c.sign_in(TRAINEE, "not-the-password-7").await.expect(422);
    }
    let report = worker.run_once().await.expect("round");
    assert_eq!(report.sent, 2, "{report:?}");
    let got = server.wait_for(2, WAIT).await;
    let subjects: Vec<String> = got.iter().filter_map(|m| m.subject()).collect();
    assert!(
        subjects.contains(&"Reset your Onramp password".to_string()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"Your Onramp account is locked".to_string()),
        "{subjects:?}"
    );
    for m in &got {
        assert!(
            !m.data.contains("not-the-password-7"),
            "no password in any email"
        );
        assert!(
            !m.data.contains(onramp_app::demo::DEMO_PASSWORD),
            "no password in any email"
        );
    }
    let reset = got
        .iter()
        .find(|m| m.subject().as_deref() == Some("Reset your Onramp password"))
        .expect("reset email");
    let link = link_of(&app, reset, "password-reset");
    // The reset link works while the account is locked, and (as the lockout email says)
    // choosing a new password unlocks it.
    c.get(&link).await.expect(200);
    c.post_form(
        &link,
        &[
            ("password", "Lantern-Quay-2031"),
            ("confirm", "Lantern-Quay-2031"),
        ],
    )
    .await
    .expect_redirect("/signin");
    app.client()
        .sign_in(TRAINEE, "Lantern-Quay-2031")
        .await
        .expect_redirect("/");
}
