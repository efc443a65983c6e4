//! Certificates over HTTP: the public verification page through valid, expired (the clock
//! moved past `valid_until`) and revoked; unknown and mistyped codes; its rate limit; the
//! person's list; and who may download the PDF.

mod support;

use chrono::Duration;
use onramp_app::learning::certificates::{self, Certificate};
use onramp_domain::learning::certificate::CertificateSubject;
use onramp_domain::Slug;
use support::TestApp;

const TRAINEE: &str = "trainee@harbor.example.org";
const LEAD: &str = "lead@demo.example.org";

async fn issue(app: &TestApp, email: &str, valid_days: Option<i64>) -> Certificate {
    let lead = app.ctx(LEAD).await;
    let person = app.person_id(email).await;
    let mut tx = app.app.store.begin().await.expect("begin");
    let c = certificates::issue_in(
        &mut tx,
        &app.app,
        &lead,
        person,
        &CertificateSubject::Course {
            key: Slug::parse("intro-hmis").unwrap(),
            version: 2,
        },
        "Introduction to HMIS (version 2)",
        app.now() - Duration::hours(2),
        valid_days.map(|d| app.now() + Duration::days(d)),
    )
    .await
    .expect("issued");
    tx.commit().await.expect("commit");
    c
}

#[tokio::test]
async fn the_verification_page_follows_the_certificate_from_valid_to_expired_to_revoked() {
    let app = TestApp::sqlite().await;
    let c = issue(&app, TRAINEE, Some(30)).await;
    let until = onramp_formats::certificate_pdf::long_date(c.valid_until.unwrap().date_naive());
    let anyone = app.client();

    let r = anyone.get(&format!("/verify/{}", c.code)).await;
    r.expect(200);
    let text = r.text();
    for said in [
        "Sam Ortiz",
        "Introduction to HMIS (version 2)",
        "Completed on",
        "Valid",
        &format!("Valid until {until}"),
    ] {
        assert!(text.contains(said), "{said:?} in {text}");
    }
    // Nothing more than who, what, when and whether it holds.
    for never in [TRAINEE, "Harbor House", "Expired", "Revoked", "Sign out"] {
        assert!(!text.contains(never), "{never:?} shown: {text}");
    }
    assert_eq!(
        r.header("x-robots-tag").as_deref(),
        Some("noindex, nofollow")
    );
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));

    // As typed by a person: to the printed code's page.
    let typed = c.code.to_lowercase().replace('-', "");
    anyone
        .get(&format!("/verify?code={typed}"))
        .await
        .expect_redirect(&format!("/verify/{}", c.code));
    anyone
        .get(&format!("/verify/{typed}"))
        .await
        .expect_redirect(&format!("/verify/{}", c.code));

    // A day past its validity: expired.
    app.advance(Duration::days(31));
    let r = anyone.get(&format!("/verify/{}", c.code)).await;
    r.expect(200);
    let text = r.text();
    assert!(text.contains("Expired"), "{text}");
    assert!(text.contains(&format!("Expired on {until}")), "{text}");
    assert!(!text.contains("Valid until"), "{text}");

    // Revoked by the Lead: revoked, and the reason is not shown.
    certificates::revoke(
        &app.app,
        &app.ctx(LEAD).await,
        c.id,
        "Completed on a shared account",
    )
    .await
    .expect("revoke");
    let r = anyone.get(&format!("/verify/{}", c.code)).await;
    r.expect(200);
    let text = r.text();
    assert!(text.contains("Revoked"), "{text}");
    assert!(!text.contains("shared account"), "{text}");
    assert!(text.contains("Sam Ortiz"), "{text}");

    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "certificate.issue"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "certificate.revoke"),
        "{actions:?}"
    );
    app.assert_audit_chain_valid().await;
}

#[tokio::test]
async fn unknown_and_mistyped_codes_are_answered_plainly() {
    let app = TestApp::sqlite().await;
    issue(&app, TRAINEE, None).await;
    let anyone = app.client();

    let r = anyone.get("/verify").await;
    r.expect(200);
    assert!(r
        .body
        .contains("<label for=\"f-code\">Verification code</label>"));
    assert!(r.body.contains("method=\"get\" action=\"/verify\""));

    let r = anyone.get("/verify/0000-0000-0000").await;
    r.expect(404);
    assert!(
        r.text().contains("No certificate has this code."),
        "{}",
        r.body
    );
    assert_eq!(
        r.header("x-robots-tag").as_deref(),
        Some("noindex, nofollow")
    );

    let r = anyone.get("/verify?code=7KQ2-M9XD").await;
    r.expect(422);
    assert_eq!(
        r.field_error("code").as_deref(),
        Some("A verification code has 12 letters and digits, like 7KQ2-M9XD-4TRB")
    );
    assert!(r.body.contains("value=\"7KQ2-M9XD\""), "the input is kept");
    let r = anyone.get("/verify?code=").await;
    r.expect(422);
    assert_eq!(
        r.field_error("code").as_deref(),
        Some("Enter the verification code")
    );
    let r = anyone.get("/verify/UUUU-UUUU-UUUU").await;
    r.expect(404);
    assert!(r.field_error("code").is_some(), "{}", r.body);
}

#[tokio::test]
async fn too_many_checks_from_one_address_are_refused_for_a_while() {
    let app = TestApp::sqlite_with(|c| c.certificate_lookups_per_window = 3).await;
    let c = issue(&app, TRAINEE, None).await;
    let anyone = app.client();
    anyone.get(&format!("/verify/{}", c.code)).await.expect(200);
    anyone.get("/verify/0000-0000-0000").await.expect(404);
    anyone.get(&format!("/verify/{}", c.code)).await.expect(200);
    let r = anyone.get(&format!("/verify/{}", c.code)).await;
    r.expect(429);
    assert!(
        r.text().contains("Too many certificate checks"),
        "{}",
        r.body
    );
    assert!(!r.text().contains("Sam Ortiz"), "{}", r.body);
    assert_eq!(r.header("retry-after").as_deref(), Some("900"));
    // The form itself stays open; once the window has passed, checks work again.
    anyone.get("/verify").await.expect(200);
    app.advance(Duration::minutes(16));
    anyone.get(&format!("/verify/{}", c.code)).await.expect(200);
}

#[tokio::test]
async fn people_list_their_own_certificates() {
    let app = TestApp::sqlite().await;
    let c = issue(&app, TRAINEE, Some(365)).await;
    let trainee = app.signed_in(TRAINEE).await;
    let r = trainee.get("/certificates").await;
    r.expect(200);
    let text = r.text();
    assert!(text.contains("Introduction to HMIS (version 2)"), "{text}");
    assert!(text.contains(&c.code), "{text}");
    assert!(text.contains("Valid"), "{text}");
    assert!(r
        .body
        .contains(&format!("href=\"/certificates/{}/pdf\"", c.id)));

    let other = app.signed_in("trainee@northside.example.org").await;
    let r = other.get("/certificates").await;
    r.expect(200);
    assert!(
        r.text().contains("You have no certificates yet"),
        "{}",
        r.body
    );
    assert!(!r.text().contains(&c.code));

    app.client()
        .get("/certificates")
        .await
        .expect_redirect("/signin");
}

#[tokio::test]
async fn the_pdf_downloads_for_the_person_their_agency_administrator_and_lead_staff() {
    let app = TestApp::sqlite().await;
    let c = issue(&app, TRAINEE, Some(365)).await;
    let path = format!("/certificates/{}/pdf", c.id);
    for (email, allowed) in [
        (TRAINEE, true),
        ("ata@harbor.example.org", true),
        ("coordinator@demo.example.org", true),
        (LEAD, true),
        ("director@harbor.example.org", false),
        ("auditor@demo.example.org", false),
        ("proctor@demo.example.org", false),
        ("trainee@northside.example.org", false),
    ] {
        let client = app.signed_in(email).await;
        let res = client
            .http
            .get(client.url(&path))
            .send()
            .await
            .expect("GET the PDF");
        let status = res.status().as_u16();
        if !allowed {
            assert_eq!(status, 403, "{email}");
            continue;
        }
        assert_eq!(status, 200, "{email}");
        let header = |n: &str| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("content-type"), "application/pdf", "{email}");
        assert_eq!(
            header("content-disposition"),
            format!("attachment; filename=\"certificate-{}.pdf\"", c.code),
            "{email}"
        );
        let bytes = res.bytes().await.expect("the PDF");
        assert!(bytes.starts_with(b"%PDF-"), "{email}");
        assert!(bytes.len() > 5_000, "{email}: {} bytes", bytes.len());
    }
    app.client().get(&path).await.expect_redirect("/signin");
    let lead = app.signed_in(LEAD).await;
    lead.get("/certificates/987654/pdf").await.expect(404);
}
