//! Who may take charge of whom, as the people of the demo would try it over HTTP:
//!
//! - an agency administrator cannot pull someone of another agency, or a member of the HMIS
//!   Lead's staff, into their agency by submitting an access request with their email (or by
//!   confirming a name match): the request waits for Lead staff, who approve or refuse the
//!   move;
//! - only someone of equal or higher standing manages a person (email, invitation,
//!   deactivation, roles); a re-invitation of someone with a password is a reset link; an
//!   invitation never overwrites a password; an email change is told to the old address;
//! - one-time links are masked in the outbox once delivered, and a Lead admin sees a live
//!   invitation link there only with the embedded maildir, audited.
//!
//! Tests named `name::sqlite` / `name::postgres` run on both backends (see `support`).

mod support;

use onramp_jobs::testing::TestSmtpServer;
use onramp_jobs::{Mailer, OutboxWorker, WorkerConfig};
use onramp_store::reads::*;
use onramp_store::Person;
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use support::{Backend, Reply, TestApp, TestClient};

const LEAD: &str = "lead@demo.example.org";
const COORDINATOR: &str = "coordinator@demo.example.org";
const AUDITOR: &str = "auditor@demo.example.org";
const HARBOR_ADMIN: &str = "ata@harbor.example.org";
const HARBOR_DIRECTOR: &str = "director@harbor.example.org";
const HARBOR_TRAINEE: &str = "trainee@harbor.example.org";
const NORTHSIDE_ADMIN: &str = "ata@northside.example.org";
const NORTHSIDE_TRAINEE: &str = "trainee@northside.example.org";
const WAIT: StdDuration = StdDuration::from_secs(10);

on_both_backends!(
    harbor_house_cannot_pull_people_from_elsewhere,
    lead_staff_decide_the_agency_change,
    the_api_submission_waits_for_the_lead_too,
    only_equal_or_higher_standing_manages_a_person,
    an_invitation_never_overwrites_a_password,
    delivered_links_are_masked_in_the_outbox,
    the_outbox_shows_live_invitations_only_with_the_maildir,
);

// ---------------------------------------------------------------- helpers

async fn person(app: &TestApp, email: &str) -> Person {
    let mut tx = app.app.store.read().await.expect("read");
    tx.person_by_email(app.implementation_id, email)
        .await
        .expect("person_by_email")
        .unwrap_or_else(|| panic!("no person {email}"))
}

async fn request_count(app: &TestApp) -> usize {
    let mut tx = app.app.store.read().await.expect("read");
    tx.requests_list(
        app.implementation_id,
        &Default::default(),
        onramp_store::PageRequest::ALL,
    )
    .await
    .expect("requests")
    .items
    .len()
}

async fn request_status(app: &TestApp, id: i64) -> (String, String, usize) {
    let mut tx = app.app.store.read().await.expect("read");
    let r = tx
        .request_get(app.implementation_id, id)
        .await
        .expect("request");
    let steps = tx.request_steps(id).await.expect("steps").len();
    (r.status, r.status_reason, steps)
}

/// The Harbor House request form, filled in for `given family <email>`, sent as `c`.
async fn submit_for(
    app: &TestApp,
    c: &TestClient,
    (given, family): (&str, &str),
    email: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let harbor = app.agency_id("Harbor House").await.to_string();
    let project = app
        .project_id("Harbor House Emergency Shelter")
        .await
        .to_string();
    let mut fields = vec![
        ("given_name", given),
        ("family_name", family),
        ("email", email),
        ("agency_id", harbor.as_str()),
        ("access_level", "end_user"),
        ("projects", project.as_str()),
        ("new_or_returning", ""),
        ("note", "Starts on Monday"),
    ];
    fields.extend_from_slice(extra);
    c.post_form_from("/requests/new", "/requests/new", &fields)
        .await
}

fn request_id_of(r: &Reply) -> i64 {
    let l = r.location().unwrap_or_default();
    l.strip_prefix("/requests/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a redirect to a request: {} {l}\n{}", r.status, r.body))
}

fn subjects_to(messages: &[onramp_store::OutboxMessage], to: &str) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.recipient == to)
        .map(|m| m.subject.clone())
        .collect()
}

/// The person page's edit form, as the page would send it, with changes.
fn person_form<'a>(
    p: &'a Person,
    email: &'a str,
    agency: &'a str,
    active: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("given_name", p.given_name.as_str()),
        ("family_name", p.family_name.as_str()),
        ("email", email),
        ("agency_id", agency),
    ];
    if active {
        f.push(("active", "on"));
    }
    f
}

// ---------------------------------------------------------------- 1. cross-agency pull

async fn harbor_house_cannot_pull_people_from_elsewhere(backend: Backend) {
    let app = app_or_skip!(backend);
    let ata = app.signed_in(HARBOR_ADMIN).await;
    let northside = app.agency_id("Northside Outreach Collective").await;
    let ada = person(&app, NORTHSIDE_TRAINEE).await;
    let auditor = person(&app, AUDITOR).await;

    // A Northside person, by their email: saved, waiting for the Lead; nobody moves.
    let r = submit_for(&app, &ata, ("Ada", "Moss"), NORTHSIDE_TRAINEE, &[]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let id = request_id_of(&r);
    assert_eq!(
        person(&app, NORTHSIDE_TRAINEE).await.agency_id,
        Some(northside)
    );
    let (status, reason, steps) = request_status(&app, id).await;
    assert_eq!(status, "awaiting_move");
    assert!(
        reason.contains("HMIS Lead decides whether they move"),
        "{reason}"
    );
    assert_eq!(steps, 0, "no step is set up before the Lead decides");
    let page = ata.get(&format!("/requests/{id}")).await;
    page.expect(200);
    let text = page.text();
    assert!(
        text.contains("Waiting for the HMIS Lead (agency change)"),
        "{text}"
    );
    assert!(
        text.contains("the steps start and the person hears from Onramp"),
        "{text}"
    );
    assert!(
        text.contains("Lead staff decide whether they move to it"),
        "the flash says what happens next:\n{text}"
    );
    assert!(!text.contains("Approve the move"), "only Lead staff decide");
    assert!(
        !text.contains("Northside"),
        "the agency the person is in is not shown to Harbor House"
    );
    // The requester still does not manage the person, and Ada hears nothing yet.
    ata.post_form(&format!("/admin/people/{}/invite", ada.id), &[])
        .await
        .expect(403);
    let outbox = app.outbox().await;
    assert!(
        subjects_to(&outbox, NORTHSIDE_TRAINEE).is_empty(),
        "the person is not emailed"
    );
    assert!(
        subjects_to(&outbox, LEAD)
            .iter()
            .any(|s| s == "Agency change to decide: Ada Moss to Harbor House"),
        "Lead staff are asked to decide: {outbox:?}"
    );
    assert!(subjects_to(&outbox, COORDINATOR)
        .iter()
        .any(|s| s.starts_with("Agency change to decide")));
    // The Lead queue shows it.
    let lead = app.signed_in(LEAD).await;
    let queue = lead.get("/requests").await;
    queue.expect(200);
    assert!(queue.text().contains("Ada Moss"), "{}", queue.text());

    // The auditor (implementation staff): refused next to the email field, nothing saved.
    let before = (app.fingerprint().await, request_count(&app).await);
    let r = submit_for(&app, &ata, ("Dana", "Whitfield"), AUDITOR, &[]).await;
    r.expect(422);
    let msg = r.field_error("email").expect("a message next to the email");
    assert!(msg.contains("never moved into an agency"), "{msg}");
    assert!(
        r.body.contains("Starts on Monday"),
        "what was typed is kept"
    );
    assert_eq!((app.fingerprint().await, request_count(&app).await), before);
    let a = person(&app, AUDITOR).await;
    assert_eq!(a.agency_id, None);
    assert_eq!(a.email, auditor.email);

    // A name match shows only Harbor House's people: not Northside's Ada nor her email.
    let r = submit_for(
        &app,
        &ata,
        ("Sam", "Ortiz"),
        "sam.ortiz@harbor.example.org",
        &[],
    )
    .await;
    r.expect(422);
    assert!(
        r.body.contains(HARBOR_TRAINEE),
        "Harbor House's own Sam is offered"
    );
    let before = request_count(&app).await;
    let r = submit_for(
        &app,
        &ata,
        ("Ada", "Moss"),
        "ada.moss@harbor.example.org",
        &[],
    )
    .await;
    assert!(
        !r.body.contains(NORTHSIDE_TRAINEE),
        "Northside's Ada is not offered"
    );
    assert_eq!(
        r.status.as_u16(),
        303,
        "no one Harbor House may see has the name: a new person"
    );
    assert_eq!(request_count(&app).await, before + 1);
    // Nor can Northside's Ada be confirmed by her id, even with the name typed.
    let ada_id = ada.id.to_string();
    let r = submit_for(
        &app,
        &ata,
        ("Ada", "Moss"),
        "another.ada@harbor.example.org",
        &[("confirm_person", ada_id.as_str())],
    )
    .await;
    r.expect(422);
    assert!(r.field_error("confirm_person").is_some(), "{}", r.body);
    // Neither can a member of the Lead's staff, by name.
    let auditor_id = auditor.id.to_string();
    let r = submit_for(
        &app,
        &ata,
        ("Dana", "Whitfield"),
        "dana@harbor.example.org",
        &[("confirm_person", auditor_id.as_str())],
    )
    .await;
    r.expect(422);
    assert_eq!(
        person(&app, NORTHSIDE_TRAINEE).await.agency_id,
        Some(northside)
    );
    assert_eq!(person(&app, AUDITOR).await.agency_id, None);
    assert!(!app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "person.agency_change"));
    app.assert_audit_chain_valid().await;
}

async fn lead_staff_decide_the_agency_change(backend: Backend) {
    let app = app_or_skip!(backend);
    let ata = app.signed_in(HARBOR_ADMIN).await;
    let harbor = app.agency_id("Harbor House").await;
    let northside = app.agency_id("Northside Outreach Collective").await;
    let ada = submit_for(&app, &ata, ("Ada", "Moss"), NORTHSIDE_TRAINEE, &[]).await;
    let ada_request = request_id_of(&ada);
    let noah = submit_for(&app, &ata, ("Noah", "Grant"), NORTHSIDE_ADMIN, &[]).await;
    let noah_request = request_id_of(&noah);

    // Only Lead staff decide.
    ata.post_form(
        &format!("/requests/{ada_request}/agency-move"),
        &[("decision", "approve")],
    )
    .await
    .expect(403);
    assert_eq!(
        person(&app, NORTHSIDE_TRAINEE).await.agency_id,
        Some(northside)
    );

    let lead = app.signed_in(LEAD).await;
    // The Lead's home lists both decisions, each linked to its request.
    let home = lead.get("/").await;
    home.expect(200);
    assert!(
        home.text()
            .contains("Decide whether they move to Harbor House"),
        "{}",
        home.text()
    );
    assert!(
        home.body.contains(&format!("/requests/{ada_request}")),
        "{}",
        home.body
    );
    assert!(
        home.body.contains(&format!("/requests/{noah_request}")),
        "{}",
        home.body
    );
    let page = lead.get(&format!("/requests/{ada_request}")).await;
    page.expect(200);
    assert!(
        page.text()
            .contains("Now at: Northside Outreach Collective"),
        "{}",
        page.text()
    );
    // Refused without a reason: asked for one, nothing changes.
    let r = lead
        .post_form(
            &format!("/requests/{noah_request}/agency-move"),
            &[("decision", "refuse"), ("move_reason", "")],
        )
        .await;
    r.expect(422);
    assert!(r.field_error("move_reason").is_some(), "{}", r.body);
    assert_eq!(request_status(&app, noah_request).await.0, "awaiting_move");
    // Refused with a reason: closed with it; Noah stays where he is, with his roles.
    lead.post_form(
        &format!("/requests/{noah_request}/agency-move"),
        &[
            ("decision", "refuse"),
            ("move_reason", "Noah stays at Northside"),
        ],
    )
    .await
    .expect_redirect(&format!("/requests/{noah_request}"));
    let (status, reason, _) = request_status(&app, noah_request).await;
    assert_eq!(status, "rejected");
    assert!(reason.contains("Noah stays at Northside"), "{reason}");
    let noah = person(&app, NORTHSIDE_ADMIN).await;
    assert_eq!(noah.agency_id, Some(northside));
    assert!(app
        .ctx(NORTHSIDE_ADMIN)
        .await
        .actor
        .administered_agencies()
        .contains(&northside));
    let page = ata.get(&format!("/requests/{noah_request}")).await;
    assert!(page
        .text()
        .contains("Agency change refused: Noah stays at Northside"));
    assert!(subjects_to(&app.outbox().await, HARBOR_ADMIN)
        .iter()
        .any(|s| s == "HMIS access request for Noah Grant was not approved"));
    // Reopened, it waits for the decision again rather than going on without it.
    lead.post_form(
        &format!("/requests/{noah_request}/status"),
        &[("to", "reopen"), ("reason", "")],
    )
    .await
    .expect_redirect(&format!("/requests/{noah_request}"));
    assert_eq!(request_status(&app, noah_request).await.0, "awaiting_move");

    // Approved: Ada moves (audited), the request goes on with its steps, she hears of it.
    lead.post_form(
        &format!("/requests/{ada_request}/agency-move"),
        &[("decision", "approve")],
    )
    .await
    .expect_redirect(&format!("/requests/{ada_request}"));
    assert_eq!(
        person(&app, NORTHSIDE_TRAINEE).await.agency_id,
        Some(harbor)
    );
    let (status, _, steps) = request_status(&app, ada_request).await;
    assert_eq!(status, "open");
    assert!(steps > 0, "the steps are set up");
    let audit = app.audit().await;
    let change = audit
        .iter()
        .find(|e| e.action == "person.agency_change")
        .expect("the move is audited");
    assert!(
        change
            .summary
            .contains(&format!("\"request_id\":{ada_request}")),
        "{}",
        change.summary
    );
    assert!(audit
        .iter()
        .any(|e| e.action == "access_request.move_approved"));
    assert!(subjects_to(&app.outbox().await, HARBOR_ADMIN)
        .iter()
        .any(|s| s == "Ada Moss moves to Harbor House: the HMIS access request goes on"));
    // Deciding twice is a conflict.
    lead.post_form(
        &format!("/requests/{ada_request}/agency-move"),
        &[("decision", "approve")],
    )
    .await
    .expect(422);
    app.assert_audit_chain_valid().await;
}

async fn the_api_submission_waits_for_the_lead_too(backend: Backend) {
    let app = app_or_skip!(backend);
    let northside = app.agency_id("Northside Outreach Collective").await;
    let harbor = app.agency_id("Harbor House").await;
    let project = app.project_id("Harbor House Emergency Shelter").await;
    let (_, token) =
        onramp_app::auth::api_token_create(&app.app, &app.ctx(HARBOR_ADMIN).await, "hr system")
            .await
            .expect("API token");
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(app.url("/api/v1/requests"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let body = |given: &str, family: &str, email: &str| {
        json!({"given_name": given, "family_name": family, "email": email, "agency_id": harbor,
               "access_level": "end_user", "project_ids": [project]})
    };
    let r = post(body("Ada", "Moss", NORTHSIDE_TRAINEE))
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(v["status"], "awaiting_move", "{v}");
    assert!(
        v["status_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("HMIS Lead decides"),
        "{v}"
    );
    assert_eq!(v["steps"], json!([]));
    assert_eq!(
        person(&app, NORTHSIDE_TRAINEE).await.agency_id,
        Some(northside)
    );

    let before = app.fingerprint().await;
    let r = post(body("Dana", "Whitfield", AUDITOR))
        .await
        .expect("POST");
    // A body the document allows, refused by what is stored: a conflict naming the field.
    assert_eq!(r.status().as_u16(), 409);
    let v: Value = r.json().await.expect("problem");
    assert!(v.to_string().contains("never moved into an agency"), "{v}");
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(person(&app, AUDITOR).await.agency_id, None);

    // The name match names only people the token's holder may see.
    let r = post(body("Ada", "Moss", "ada.api@harbor.example.org"))
        .await
        .expect("POST");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    assert!(!text.contains(NORTHSIDE_TRAINEE), "{text}");
    assert_eq!(status, 201, "{text}");
}

// ---------------------------------------------------------------- 4. role hierarchy

async fn only_equal_or_higher_standing_manages_a_person(backend: Backend) {
    let app = app_or_skip!(backend);
    let lead = person(&app, LEAD).await;
    let director = person(&app, HARBOR_DIRECTOR).await;
    let sam = person(&app, HARBOR_TRAINEE).await;
    let harbor = app.agency_id("Harbor House").await.to_string();

    // A training coordinator cannot change a Lead admin's email, re-invite or deactivate them.
    let coordinator = app.signed_in(COORDINATOR).await;
    let lead_page = format!("/admin/people/{}", lead.id);
    let page = coordinator.get(&lead_page).await;
    page.expect(200);
    assert!(
        !page
            .body
            .contains(&format!("action=\"{lead_page}/invite\"")),
        "no invite button"
    );
    let before = app.fingerprint().await;
    coordinator
        .post_form(
            &lead_page,
            &person_form(&lead, "coordinator.owns@demo.example.org", "", true),
        )
        .await
        .expect(403);
    coordinator
        .post_form(&format!("{lead_page}/invite"), &[])
        .await
        .expect(403);
    coordinator
        .post_form(&lead_page, &person_form(&lead, LEAD, "", false))
        .await
        .expect(403);
    assert_eq!(app.fingerprint().await, before, "nothing changed");
    let l = person(&app, LEAD).await;
    assert_eq!((l.email.as_str(), l.active), (LEAD, true));

    // The agency administrator manages Harbor House's staff, but not its executive director,
    // and makes nobody a director.
    let ata = app.signed_in(HARBOR_ADMIN).await;
    let director_page = format!("/admin/people/{}", director.id);
    ata.get(&director_page).await.expect(200);
    let before = app.fingerprint().await;
    ata.post_form(
        &director_page,
        &person_form(&director, "ata.signs@harbor.example.org", &harbor, true),
    )
    .await
    .expect(403);
    ata.post_form(&format!("{director_page}/invite"), &[])
        .await
        .expect(403);
    ata.post_form(
        &format!("/admin/people/{}/agency-roles", sam.id),
        &[
            ("agency_id", harbor.as_str()),
            ("role", "executive_director"),
            ("granted", "true"),
        ],
    )
    .await
    .expect(403);
    assert_eq!(app.fingerprint().await, before, "nothing changed");
    ata.post_form(
        &format!("/admin/people/{}/agency-roles", sam.id),
        &[
            ("agency_id", harbor.as_str()),
            ("role", "supervisor"),
            ("granted", "true"),
        ],
    )
    .await
    .expect_redirect(&format!("/admin/people/{}", sam.id));

    // A re-invitation of someone with a password is a reset link; their password stays.
    ata.post_form(&format!("/admin/people/{}/invite", sam.id), &[])
        .await
        .expect_redirect(&format!("/admin/people/{}", sam.id));
    let page = ata.get(&format!("/admin/people/{}", sam.id)).await;
    assert!(
        page.text()
            .contains("a password-reset link was sent instead"),
        "{}",
        page.text()
    );
    let last = app
        .emails_to(HARBOR_TRAINEE)
        .await
        .pop()
        .expect("an email to Sam");
    assert_eq!(last.subject, "Reset your Onramp password");
    assert!(app.link_for(HARBOR_TRAINEE, "invitation").await.is_none());
    assert!(app
        .link_for(HARBOR_TRAINEE, "password-reset")
        .await
        .is_some());
    app.client().sign_in_as(HARBOR_TRAINEE).await;

    // An email change is told to the old address.
    ata.post_form(
        &format!("/admin/people/{}", sam.id),
        &person_form(&sam, "sam.ortiz@harbor.example.org", &harbor, true),
    )
    .await
    .expect_redirect(&format!("/admin/people/{}", sam.id));
    let told = app
        .emails_to(HARBOR_TRAINEE)
        .await
        .pop()
        .expect("an email to the old address");
    assert_eq!(
        told.subject,
        "The email address of your Onramp account was changed"
    );
    let text = support::email_text(&told);
    assert!(
        text.contains("sam.ortiz@harbor.example.org") && text.contains("Tomas Reyes"),
        "{text}"
    );
    // The template is one of the implementation's editable ones.
    let lead_client = app.signed_in(LEAD).await;
    lead_client
        .get("/admin/email-templates/email_changed")
        .await
        .expect(200);
    app.assert_audit_chain_valid().await;
}

async fn an_invitation_never_overwrites_a_password(backend: Backend) {
    let app = app_or_skip!(backend);
    let sam = person(&app, HARBOR_TRAINEE).await;
    // An invitation issued to someone who has a password (as an old one still in a mailbox).
    let mut tx = app.app.store.begin().await.expect("begin");
    onramp_app::auth::invite(&mut tx, &app.app, sam.id)
        .await
        .expect("invite");
    tx.commit().await.expect("commit");
    let link = app
        .link_for(HARBOR_TRAINEE, "invitation")
        .await
        .expect("an invitation link");
    let c = app.client();
    c.get("/signin").await;
    c.get(&link).await.expect(404);
    c.post_form(
        &link,
        &[
            ("password", "Taken-Over-2026x"),
            ("confirm", "Taken-Over-2026x"),
        ],
    )
    .await
    .expect(404);
    app.client().sign_in_as(HARBOR_TRAINEE).await;
    assert_eq!(
        app.client()
            .sign_in(HARBOR_TRAINEE, "Taken-Over-2026x")
            .await
            .status
            .as_u16(),
        422
    );
}

// ---------------------------------------------------------------- 10. one-time links at rest

fn smtp_worker(app: &TestApp, server: &TestSmtpServer) -> OutboxWorker {
    let mailer = Mailer::smtp(&server.smtp_config("onramp@example.org")).expect("SMTP mailer");
    OutboxWorker::new(
        app.app.store.clone(),
        app.app.clock.clone(),
        mailer,
        WorkerConfig::default(),
    )
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().expect("token").to_string()
}

async fn delivered_links_are_masked_in_the_outbox(backend: Backend) {
    let app = app_or_skip!(backend, |c| c.mail_to_maildir = false);
    let server = TestSmtpServer::start().await.expect("SMTP server");
    let worker = smtp_worker(&app, &server);
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "fern.start@harbor.example.org";
    app.invite(&lead, "Fern", "Start", email, harbor)
        .await
        .expect(303);
    onramp_app::auth::request_password_reset(&app.app, HARBOR_TRAINEE, "test")
        .await
        .expect("reset");
    let invitation = token_of(&app.link_for(email, "invitation").await.expect("invitation"));
    let reset = token_of(
        &app.link_for(HARBOR_TRAINEE, "password-reset")
            .await
            .expect("reset"),
    );

    assert_eq!(worker.run_once().await.expect("round").sent, 2);
    assert_eq!(server.wait_for(2, WAIT).await.len(), 2);
    for (to, token) in [(email, &invitation), (HARBOR_TRAINEE, &reset)] {
        let stored = app.emails_to(to).await.pop().expect("the stored message");
        assert_eq!(stored.status, "sent");
        assert!(
            !stored.payload.contains(token.as_str()),
            "the token is gone: {}",
            stored.payload
        );
        assert!(
            stored.payload.contains("[removed-after-delivery]"),
            "{}",
            stored.payload
        );
    }
    // The delivered link still works; nothing is delivered or masked twice.
    let received = server.received();
    let m = received
        .iter()
        .find(|m| m.rcpt_to == vec![email.to_string()])
        .expect("delivered");
    let link =
        support::link_in(&m.text().unwrap_or_default(), &app.base, "invitation").expect("link");
    app.client().get(&link).await.expect(200);
    assert_eq!(worker.run_once().await.expect("round").claimed, 0);

    // Into the embedded maildir, an invitation stays readable for the Outbox page; a reset
    // link (never shown there) is masked.
    let dir = tempfile::tempdir().expect("maildir");
    let maildir = OutboxWorker::new(
        app.app.store.clone(),
        app.app.clock.clone(),
        Mailer::maildir(dir.path(), "onramp@example.org").expect("maildir"),
        WorkerConfig::default(),
    );
    app.invite(&lead, "Gil", "Ray", "gil.ray@harbor.example.org", harbor)
        .await
        .expect(303);
    onramp_app::auth::request_password_reset(&app.app, HARBOR_DIRECTOR, "test")
        .await
        .expect("reset");
    let gil = token_of(
        &app.link_for("gil.ray@harbor.example.org", "invitation")
            .await
            .expect("link"),
    );
    let grace = token_of(
        &app.link_for(HARBOR_DIRECTOR, "password-reset")
            .await
            .expect("link"),
    );
    assert_eq!(maildir.run_once().await.expect("round").sent, 2);
    let stored = app
        .emails_to("gil.ray@harbor.example.org")
        .await
        .pop()
        .expect("stored");
    assert!(stored.payload.contains(&gil));
    let stored = app.emails_to(HARBOR_DIRECTOR).await.pop().expect("stored");
    assert!(!stored.payload.contains(&grace), "{}", stored.payload);
}

async fn the_outbox_shows_live_invitations_only_with_the_maildir(backend: Backend) {
    // With SMTP configured: the Lead admin never sees a live invitation link.
    {
        let app = app_or_skip!(backend, |c| c.mail_to_maildir = false);
        let lead = app.signed_in(LEAD).await;
        let harbor = app.agency_id("Harbor House").await;
        let email = "hana.smtp@harbor.example.org";
        app.invite(&lead, "Hana", "Smtp", email, harbor)
            .await
            .expect(303);
        let m = app.emails_to(email).await.pop().expect("queued");
        assert_eq!(m.status, "pending");
        let token = token_of(&app.link_for(email, "invitation").await.expect("link"));
        let page = lead.get(&format!("/admin/outbox/{}", m.id)).await;
        page.expect(200);
        assert!(!page.body.contains(&token), "the live link is hidden");
        assert!(page.body.contains("/invitation/[hidden]"), "{}", page.body);
        assert!(!app
            .audit_actions()
            .await
            .iter()
            .any(|a| a == "outbox.invitation_link_viewed"));
    }
    // With the embedded maildir: shown, and the viewing audited; once used, no longer shown.
    let app = app_or_skip!(backend);
    let lead = app.signed_in(LEAD).await;
    let harbor = app.agency_id("Harbor House").await;
    let email = "hana.maildir@harbor.example.org";
    app.invite(&lead, "Hana", "Maildir", email, harbor)
        .await
        .expect(303);
    let m = app.emails_to(email).await.pop().expect("queued");
    let link = app.link_for(email, "invitation").await.expect("link");
    let page = lead.get(&format!("/admin/outbox/{}", m.id)).await;
    page.expect(200);
    assert!(
        page.body.contains(&token_of(&link)),
        "the Lead hands the link over"
    );
    let viewed = app.audit().await;
    let event = viewed
        .iter()
        .find(|e| e.action == "outbox.invitation_link_viewed")
        .expect("the viewing is audited");
    assert!(event.summary.contains(email), "{}", event.summary);
    let c = app.client();
    c.get(&link).await.expect(200);
    c.post_form(
        &link,
        &[
            ("password", "Hana-Maildir-2026"),
            ("confirm", "Hana-Maildir-2026"),
        ],
    )
    .await
    .expect_redirect("/signin");
    let head = app.audit_head().await;
    let page = lead.get(&format!("/admin/outbox/{}", m.id)).await;
    assert!(!page.body.contains(&token_of(&link)));
    assert!(
        page.body.contains("/invitation/[no-longer-valid]"),
        "{}",
        page.body
    );
    assert_eq!(
        app.audit_head().await,
        head,
        "nothing live was shown: nothing to audit"
    );
    app.assert_audit_chain_valid().await;
}
