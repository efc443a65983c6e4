//! What operators and Lead admins see of operations, over real HTTP: `/metrics` behind its
//! token, the audit chain's head on the audit page, conflict messages in the product's
//! words, and the webhook form's refusals.

mod support;

use onramp_app::auth;
use onramp_app::Ctx;
use reqwest::Method;
use support::{Backend, TestApp, OTHER_EMAIL};

on_both_backends!(
    duplicates_are_named_in_the_products_words,
    the_audit_page_shows_the_chain_head,
);

const LEAD: &str = "lead@demo.example.org";
const AUDITOR: &str = "auditor@demo.example.org";
const TRAINEE: &str = "trainee@harbor.example.org";
const METRICS_TOKEN: &str = "scrape-me-with-this-token-0123";

/// Words of the database that a person must never read.
fn assert_speaks_of_the_thing(text: &str) {
    for word in [
        "UNIQUE",
        "constraint",
        "idx_",
        "_key",
        "agencies.",
        "accounts.",
        "implementation_id",
        "already exists (",
    ] {
        assert!(!text.contains(word), "{word:?} in {text}");
    }
}

#[tokio::test]
async fn metrics_need_the_token() {
    // Without a token configured, nothing is told: 404 as for any unknown page.
    let app = TestApp::sqlite().await;
    let c = app.client();
    c.get("/healthz").await.expect(200);
    let m = c.get("/metrics").await;
    m.expect(404);
    assert!(!m.body.contains("onramp_http_requests_total"), "{}", m.body);
    let lead = app.signed_in(LEAD).await;
    let m = lead.get("/metrics").await;
    m.expect(404);
    assert!(!m.body.contains("onramp_"), "{}", m.body);

    // With one: only a request carrying it gets the numbers.
    let app = TestApp::sqlite_with(|c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    let c = app.client();
    let r = c.get("/healthz").await;
    r.expect(200);
    assert_eq!(r.body, "ok");
    let r = c.get("/readyz").await;
    r.expect(200);
    assert_eq!(r.body, "ready");
    c.get("/signin").await.expect(200);
    c.get("/no/such/page").await.expect(404);
    let m = c.get("/metrics").await;
    m.expect(401);
    assert!(!m.body.contains("onramp_http_requests_total"), "{}", m.body);
    assert!(m
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    for wrong in ["Bearer not-the-token", "Basic c2NyYXBlOm1l", "Bearer "] {
        let m = c
            .request(Method::GET, "/metrics", &[("authorization", wrong)])
            .await;
        m.expect(401);
        assert!(!m.body.contains("onramp_"), "{}", m.body);
    }
    let bearer = format!("Bearer {METRICS_TOKEN}");
    let m = c
        .request(Method::GET, "/metrics", &[("authorization", &bearer)])
        .await;
    m.expect(200);
    assert!(
        m.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        m.header("content-type")
    );
    assert!(
        m.body.contains("# TYPE onramp_http_requests_total counter"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains(
            "onramp_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{}",
        m.body
    );
    assert!(
        m.body.contains(
            "onramp_http_requests_total{method=\"GET\",route=\"/signin\",status=\"200\"} 1"
        ),
        "{}",
        m.body
    );
    assert!(m.body.contains("onramp_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 1"), "{}", m.body);
    // Unknown paths are one series, not one per path (no unbounded label values).
    assert!(!m.body.contains("/no/such/page"), "{}", m.body);
    // Outbox gauges appear once there is mail.
    for _ in 0..6 {
        c.sign_in(TRAINEE, "x-wrong-0000").await;
    }
    let m = c
        .request(Method::GET, "/metrics", &[("authorization", &bearer)])
        .await;
    assert!(
        m.body
            .contains("onramp_outbox_messages{status=\"pending\"} 1"),
        "{}",
        m.body
    );
}

async fn api_token(app: &TestApp, email: &str) -> String {
    let id = app.person_id(email).await;
    let actor = {
        let mut tx = app.app.store.read().await.unwrap();
        auth::load_actor(&mut tx, id).await.unwrap()
    };
    auth::api_token_create(&app.app, &Ctx::new(actor, "127.0.0.1"), "tests")
        .await
        .unwrap()
        .1
}

async fn duplicates_are_named_in_the_products_words(backend: Backend) {
    let app = app_or_skip!(backend);
    let lead = app.signed_in(LEAD).await;

    // An agency with a name already taken, on the page and in the API.
    lead.get("/admin/agencies/new").await.expect(200);
    let r = lead
        .post_form(
            "/admin/agencies/new",
            &[
                ("name", "Harbor House"),
                ("participation_status", "participating"),
                ("participation_date", ""),
            ],
        )
        .await;
    r.expect(422);
    let message = r.field_error("name").expect("a message next to the name");
    assert_eq!(message, "An agency with this name already exists");
    assert_speaks_of_the_thing(&r.body);
    let token = api_token(&app, LEAD).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/agencies"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Harbor House", "participation_status": "participating"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let body = r.text().await.unwrap();
    assert!(
        body.contains("An agency with this name already exists"),
        "{body}"
    );
    assert_speaks_of_the_thing(&body);

    // A person added here whose email already signs in to another implementation: the
    // invitation cannot make them an account, and says so in words.
    app.second_implementation().await;
    lead.get("/admin/people/new").await.expect(200);
    let r = lead
        .post_form(
            "/admin/people/new",
            &[
                ("given_name", "Olga"),
                ("family_name", "Other"),
                ("email", OTHER_EMAIL),
                ("agency_id", ""),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    let id = app.person_id(OTHER_EMAIL).await;
    let page = format!("/admin/people/{id}");
    lead.get(&page).await.expect(200);
    let r = lead
        .post_form(&format!("/admin/people/{id}/invite"), &[])
        .await;
    assert_speaks_of_the_thing(&r.body);
    assert!(
        r.body
            .contains("Someone already signs in to Onramp with this email address."),
        "{} {}",
        r.status,
        r.body
    );
    app.assert_audit_chain_valid().await;
}

async fn the_audit_page_shows_the_chain_head(backend: Backend) {
    let app = app_or_skip!(backend);
    let (seq, hash) = {
        let mut tx = app.app.store.read().await.unwrap();
        tx.audit_head().await.unwrap()
    };
    let auditor = app.signed_in(AUDITOR).await;
    let r = auditor.get("/admin/audit").await;
    r.expect(200);
    // Signing in wrote events: the head is at least where it was, and is the store's.
    let (now_seq, now_hash) = {
        let mut tx = app.app.store.read().await.unwrap();
        tx.audit_head().await.unwrap()
    };
    assert!(now_seq >= seq && seq > 0);
    assert_eq!(
        r.text_of("<dd id=\"chain-head-seq\">").as_deref(),
        Some(now_seq.to_string().as_str()),
        "{}",
        r.body
    );
    assert_eq!(
        r.text_of("<code id=\"chain-head-hash\" class=\"summary\">")
            .as_deref(),
        Some(now_hash.as_str())
    );
    assert_eq!(now_hash.len(), 64);
    let _ = hash;
    // Only those who read the audit trail see it.
    let trainee = app.signed_in(TRAINEE).await;
    trainee.get("/admin/audit").await.expect(403);
}

#[tokio::test]
async fn the_webhook_form_refuses_private_targets_and_asks_for_a_secret() {
    let app = TestApp::sqlite().await;
    let lead = app.signed_in(LEAD).await;
    let secret = "a-shared-secret-of-some-length";
    for (url, why) in [
        ("http://127.0.0.1:9000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("https://10.20.30.40/hook", "private"),
        ("https://[::1]/hook", "loopback"),
        ("https://0x7f.1/hook", "loopback"),
    ] {
        lead.get("/admin/webhook").await.expect(200);
        let r = lead
            .post_form(
                "/admin/webhook",
                &[("webhook_url", url), ("webhook_secret", secret)],
            )
            .await;
        r.expect(422);
        let m = r.field_error("webhook_url").unwrap_or_default();
        assert!(
            m.contains("does not post to this address") && m.contains(why),
            "{url}: {m}"
        );
    }
    // A public address without a secret: the secret is asked for, next to its field.
    lead.get("/admin/webhook").await.expect(200);
    let r = lead
        .post_form(
            "/admin/webhook",
            &[
                ("webhook_url", "https://hmis.example.org/hooks/onramp"),
                ("webhook_secret", ""),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.field_error("webhook_secret")
            .is_some_and(|m| m.contains("Enter a secret")),
        "{}",
        r.body
    );
    // The address typed is kept on the form.
    assert!(r.body.contains("https://hmis.example.org/hooks/onramp"));
    {
        let mut tx = app.app.store.read().await.unwrap();
        let stored = tx
            .setting_get(app.implementation_id, "webhook_url")
            .await
            .unwrap();
        assert!(stored.unwrap_or_default().is_empty(), "nothing was saved");
    }
    // With a secret it is saved; later saves keep the secret when the field is left empty.
    lead.get("/admin/webhook").await.expect(200);
    let r = lead
        .post_form(
            "/admin/webhook",
            &[
                ("webhook_url", "https://hmis.example.org/hooks/onramp"),
                ("webhook_secret", secret),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    lead.get("/admin/webhook").await.expect(200);
    let r = lead
        .post_form(
            "/admin/webhook",
            &[
                ("webhook_url", "https://hmis.example.org/hooks/v2"),
                ("webhook_secret", ""),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);

    // An operator may allow a named internal host.
    let app = TestApp::sqlite_with(|c| {
        c.webhook_allow_hosts =
            onramp_domain::webhook::AllowedHosts::parse("127.0.0.1,hooks.internal")
    })
    .await;
    let lead = app.signed_in(LEAD).await;
    lead.get("/admin/webhook").await.expect(200);
    let r = lead
        .post_form(
            "/admin/webhook",
            &[
                ("webhook_url", "http://127.0.0.1:9000/hook"),
                ("webhook_secret", secret),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
}
