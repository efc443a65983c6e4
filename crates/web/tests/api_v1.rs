//! The JSON API, driven over HTTP against the real router on a fresh SQLite store with the
//! demo implementation: authentication, problem+json errors, who may and who may not, and
//! the OpenAPI document (snapshot).

use onramp_app::{auth, App, AppConfig, Ctx};
use onramp_domain::clock::SystemClock;
use onramp_store::Store;
use onramp_web::AppState;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

struct Server {
    base: String,
    app: App,
    http: reqwest::Client,
    implementation_id: i64,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("onramp.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let config = AppConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    };
    let app = App::new(store, Arc::new(SystemClock), config);
    let (implementation_id, _) = onramp_app::demo::load(&app).await.unwrap();
    let router = onramp_web::router(AppState::new(app.clone(), false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        app,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        implementation_id,
        _dir: dir,
    }
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an RFC 9457 problem with this status, and returns its body.
    fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:onramp:problem:"),
            "{}",
            self.body
        );
        assert!(!self.body["title"].as_str().unwrap().is_empty());
        assert!(!self.body["detail"].as_str().unwrap().is_empty());
        &self.body
    }

    /// The fields named in a problem's `errors`.
    fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {}", self.body))
            .iter()
            .map(|e| {
                assert!(!e["message"].as_str().unwrap().is_empty());
                e["field"].as_str().unwrap().to_string()
            })
            .collect()
    }

    fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        assert_eq!(self.header("content-type"), "application/json");
        &self.body
    }
}

impl Server {
    async fn person_id(&self, email: &str) -> i64 {
        let mut tx = self.app.store.read().await.unwrap();
        tx.person_by_email(self.implementation_id, email)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    async fn agency_id(&self, name: &str) -> i64 {
        let mut tx = self.app.store.read().await.unwrap();
        let f = onramp_store::organisation::AgencyFilter {
            search: Some(name.into()),
            ..Default::default()
        };
        let page = tx
            .agencies_list(self.implementation_id, &f, onramp_store::PageRequest::ALL)
            .await
            .unwrap();
        page.items.into_iter().find(|a| a.name == name).unwrap().id
    }

    /// A fresh API token for a demo person.
    async fn token(&self, email: &str) -> String {
        let id = self.person_id(email).await;
        let actor = {
            let mut tx = self.app.store.read().await.unwrap();
            auth::load_actor(&mut tx, id).await.unwrap()
        };
        let ctx = Ctx::new(actor, "127.0.0.1");
        auth::api_token_create(&self.app, &ctx, "tests")
            .await
            .unwrap()
            .1
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Sends a raw body with the given content type.
    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }
}

const LEAD: &str = "lead@demo.example.org";
const AUDITOR: &str = "auditor@demo.example.org";
const HARBOR_ATA: &str = "ata@harbor.example.org";
const TRAINEE: &str = "trainee@harbor.example.org";

// ---------------------------------------------------------------- OpenAPI

#[tokio::test]
async fn openapi_document_is_public_and_matches_snapshot() {
    let s = start().await;
    let r = s.send(Method::GET, "/api/openapi.json", None, None).await;
    let doc = r.ok();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn openapi_document_lists_every_api_route_and_no_other() {
    let doc = serde_json::to_value(onramp_web::api::openapi()).unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = onramp_web::route_list()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/"))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
    assert!(served.len() >= 16);
}

// ---------------------------------------------------------------- authentication

#[tokio::test]
async fn requests_without_a_valid_bearer_token_get_401_problems() {
    let s = start().await;
    let r = s.send(Method::GET, "/api/v1/me", None, None).await;
    r.problem(401);
    assert!(
        r.header("www-authenticate").starts_with("Bearer"),
        "{:?}",
        r.headers
    );

    let r = s
        .send(
            Method::GET,
            "/api/v1/agencies",
            Some("onr_not-a-real-token"),
            None,
        )
        .await;
    r.problem(401);
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    assert!(r.header("www-authenticate").contains("invalid_token"));

    // Another scheme is no bearer token.
    let r = s
        .http
        .get(format!("{}/api/v1/me", s.base))
        .basic_auth(LEAD, Some("onramp-demo-2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));

    // A live, fully signed-in session cookie is not accepted by the API.
    let signed_in = auth::sign_in(
        &s.app,
        TRAINEE,
        onramp_app::demo::DEMO_PASSWORD,
        "127.0.0.1",
        "tests",
    )
    .await
    .unwrap();
    assert_eq!(signed_in.stage, auth::Stage::Active);
    let cookie = format!(
        "{}={}",
        onramp_web::session::SESSION_COOKIE,
        signed_in.session_token
    );
    let r = s
        .http
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .http
        .get(format!("{}/", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the cookie is live for the pages"
    );

    // A deactivated person's token stops working.
    let trainee = s.token(TRAINEE).await;
    s.get("/api/v1/me", &trainee).await.ok();
    let lead = s.token(LEAD).await;
    let harbor = s.agency_id("Harbor House").await;
    let id = s.person_id(TRAINEE).await;
    let r = s.put(&format!("/api/v1/people/{id}"), &lead, json!({"given_name": "Sam", "family_name": "Ortiz", "email": TRAINEE, "agency_id": harbor, "active": false})).await;
    assert_eq!(r.ok()["active"], false);
    s.get("/api/v1/me", &trainee).await.problem(401);

    // A revoked token stops working.
    let token = s.token(LEAD).await;
    s.get("/api/v1/me", &token).await.ok();
    let lead_id = s.person_id(LEAD).await;
    let actor = {
        let mut tx = s.app.store.read().await.unwrap();
        auth::load_actor(&mut tx, lead_id).await.unwrap()
    };
    let ctx = Ctx::new(actor, "127.0.0.1");
    for t in auth::api_tokens(&s.app, &ctx).await.unwrap() {
        auth::api_token_revoke(&s.app, &ctx, t.id).await.unwrap();
    }
    s.get("/api/v1/me", &token).await.problem(401);
}

#[tokio::test]
async fn me_describes_the_token_holder() {
    let s = start().await;
    let lead = s.get("/api/v1/me", &s.token(LEAD).await).await;
    let me = lead.ok();
    assert_eq!(me["person_id"], s.person_id(LEAD).await);
    assert_eq!(me["name"], "Lena Okafor");
    assert_eq!(me["email"], LEAD);
    assert_eq!(me["roles"], json!(["lead_admin", "trainee"]));
    assert_eq!(me["implementation_roles"], json!(["lead_admin"]));

    let ata = s.get("/api/v1/me", &s.token(HARBOR_ATA).await).await;
    let me = ata.ok();
    let harbor = s.agency_id("Harbor House").await;
    assert_eq!(me["agency_id"], harbor);
    assert_eq!(me["agency_name"], "Harbor House");
    assert_eq!(me["roles"], json!(["agency_administrator", "trainee"]));
    let grants = me["agency_roles"].as_array().unwrap();
    assert!(grants.contains(&json!({"agency_id": harbor, "role": "agency_administrator"})));
    assert!(grants.contains(&json!({"agency_id": harbor, "role": "supervisor"})));
}

// ---------------------------------------------------------------- agencies and projects

#[tokio::test]
async fn lead_admin_creates_and_updates_an_agency() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let r = s
        .post("/api/v1/agencies", &t, json!({"name": "Riverbend Family Services", "participation_status": "pending", "participation_date": "2026-07-01"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), format!("/api/v1/agencies/{id}"));
    assert_eq!(r.body["name"], "Riverbend Family Services");

    let got = s.get(r.header("location"), &t).await;
    let a = got.ok();
    assert_eq!(a["name"], "Riverbend Family Services");
    assert_eq!(a["participation_status"], "pending");
    assert_eq!(a["participation_date"], "2026-07-01");
    assert_eq!(a["active"], true);

    let r = s
        .put(&format!("/api/v1/agencies/{id}"), &t, json!({"name": "Riverbend Services", "participation_status": "participating", "active": false}))
        .await;
    assert_eq!(r.ok()["name"], "Riverbend Services");
    let got = s.get(&format!("/api/v1/agencies/{id}"), &t).await;
    let a = got.ok();
    assert_eq!(a["name"], "Riverbend Services");
    assert_eq!(a["participation_status"], "participating");
    assert_eq!(a["participation_date"], Value::Null);
    assert_eq!(a["active"], false);

    let list = s.get("/api/v1/agencies?q=riverbend&active=false", &t).await;
    let l = list.ok();
    assert_eq!(l["total"], 1);
    assert_eq!(l["items"][0]["id"], id);
    assert_eq!(
        (l["page"].as_i64(), l["per_page"].as_i64()),
        (Some(1), Some(50))
    );
    let all = s.get("/api/v1/agencies?per_page=2&page=2", &t).await;
    let all = all.ok();
    assert_eq!(all["total"], 5);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // The change is in the audit trail, from the API client's address.
    let audit = s.get("/api/v1/audit?action=agency.deactivate", &t).await;
    let events = audit.ok()["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["subject_id"], id);
    assert_eq!(events[0]["source_addr"], "127.0.0.1");
    assert_eq!(events[0]["summary"]["after"]["name"], "Riverbend Services");

    s.get("/api/v1/agencies/999999", &t).await.problem(404);
    s.put(
        "/api/v1/agencies/999999",
        &t,
        json!({"name": "X", "participation_status": "pending", "active": true}),
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn lead_admin_creates_and_updates_a_project() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let harbor = s.agency_id("Harbor House").await;
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": harbor, "name": "Harbor Safe Haven", "hud_project_type": 8}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), format!("/api/v1/projects/{id}"));
    let got = s.get(r.header("location"), &t).await;
    let p = got.ok();
    assert_eq!(p["agency_name"], "Harbor House");
    assert_eq!(p["hud_project_type"], 8);
    assert_eq!(p["hud_project_type_label"], "Safe Haven");

    let r = s.put(&format!("/api/v1/projects/{id}"), &t, json!({"agency_id": harbor, "name": "Harbor Safe Haven", "hud_project_type": 14, "active": true})).await;
    assert_eq!(r.ok()["hud_project_type"], 14);
    let list = s
        .get(
            &format!("/api/v1/projects?agency_id={harbor}&hud_project_type=14"),
            &t,
        )
        .await;
    assert_eq!(list.ok()["items"][0]["id"], id);
}

#[tokio::test]
async fn invalid_input_is_422_with_field_errors() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": "  ", "participation_status": "maybe", "participation_date": "July"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.body["type"], "urn:onramp:problem:invalid-input");
    let fields = r.error_fields();
    for f in ["name", "participation_status", "participation_date"] {
        assert!(fields.contains(&f.to_string()), "{fields:?}");
    }

    let harbor = s.agency_id("Harbor House").await;
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": harbor, "name": "Five", "hud_project_type": 5}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["hud_project_type"]);

    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": 999999, "name": "", "hud_project_type": 1}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["name"]);
    // A well-formed id that names no agency conflicts with what is stored.
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": 999999, "name": "Nowhere", "hud_project_type": 1}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.error_fields(), vec!["agency_id"]);

    // A duplicate name is a conflict, reported next to the field.
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": "Harbor House", "participation_status": "pending"}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.error_fields(), vec!["name"]);

    // A body of the wrong shape is invalid input too, naming the field.
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": harbor, "name": "X", "hud_project_type": "shelter"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["hud_project_type"]);
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"participation_status": "pending"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["name"]);

    let r = s.post("/api/v1/people", &t, json!({"given_name": "A", "family_name": "B", "email": "not-an-email", "agency_id": harbor})).await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["email"]);

    // Nothing was saved.
    let l = s.get("/api/v1/projects?q=five", &t).await;
    assert_eq!(l.ok()["total"], 0);
}

#[tokio::test]
async fn unreadable_requests_are_problems_not_plain_text() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let r = s
        .raw(
            Method::POST,
            "/api/v1/agencies",
            &t,
            Some("application/json"),
            "{\"name\": \"Broken\",",
        )
        .await;
    r.problem(400);
    assert_eq!(r.body["type"], "urn:onramp:problem:malformed-request");

    let r = s
        .raw(
            Method::POST,
            "/api/v1/agencies",
            &t,
            Some("application/json"),
            "[1, 2]",
        )
        .await;
    r.problem(422);

    let r = s
        .raw(
            Method::POST,
            "/api/v1/agencies",
            &t,
            None,
            "{\"name\": \"No type\"}",
        )
        .await;
    r.problem(415);
    let r = s
        .raw(
            Method::PUT,
            "/api/v1/agencies/1",
            &t,
            Some("text/plain"),
            "name=x",
        )
        .await;
    r.problem(415);

    let r = s.get("/api/v1/agencies?active=maybe", &t).await;
    r.problem(400);
    assert_eq!(r.error_fields(), vec!["active"]);
    s.get("/api/v1/people?page=first", &t).await.problem(400);
    s.get("/api/v1/agencies/not-a-number", &t)
        .await
        .problem(400);
    s.get("/api/v1/agencies/1.5", &t).await.problem(400);
    s.get("/api/v1/people?page=1.5", &t).await.problem(400);
}

/// JSON Schema counts `1.0` as an integer, so an integer parameter written as an integral
/// decimal (a path id or a query filter) means that integer, as the document promises.
#[tokio::test]
async fn integral_decimals_are_the_integers_they_stand_for() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let harbor = s.agency_id("Harbor House").await;
    let by_int = s
        .get(&format!("/api/v1/agencies/{harbor}"), &t)
        .await
        .ok()
        .clone();
    let by_decimal = s
        .get(&format!("/api/v1/agencies/{harbor}.0"), &t)
        .await
        .ok()
        .clone();
    assert_eq!(by_int, by_decimal);
    let by_exponent = s
        .get(&format!("/api/v1/agencies/{harbor}0e-1"), &t)
        .await
        .ok()
        .clone();
    assert_eq!(by_int, by_exponent);

    let filtered = s
        .get(&format!("/api/v1/people?agency_id={harbor}"), &t)
        .await
        .ok()
        .clone();
    let filtered_decimal = s
        .get(
            &format!("/api/v1/people?agency_id={harbor}.0&per_page=50.0"),
            &t,
        )
        .await
        .ok()
        .clone();
    assert_eq!(filtered["items"], filtered_decimal["items"]);
    assert!(!filtered["items"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------- who may and who may not

#[tokio::test]
async fn agency_administrator_is_confined_to_their_agency() {
    let s = start().await;
    let t = s.token(HARBOR_ATA).await;
    let harbor = s.agency_id("Harbor House").await;
    let northside = s.agency_id("Northside Outreach Collective").await;

    let r = s.get("/api/v1/people?per_page=500", &t).await;
    let people = r.ok()["items"].as_array().unwrap().clone();
    assert_eq!(people.len(), 4, "{people:?}");
    assert!(
        people.iter().all(|p| p["agency_id"] == harbor),
        "{people:?}"
    );
    let r = s
        .get(&format!("/api/v1/people?agency_id={northside}"), &t)
        .await;
    assert_eq!(r.ok()["total"], 0);

    let r = s.get("/api/v1/agencies", &t).await;
    let agencies = r.ok()["items"].as_array().unwrap().clone();
    assert_eq!(agencies.len(), 1);
    assert_eq!(agencies[0]["id"], harbor);
    s.get(&format!("/api/v1/agencies/{harbor}"), &t).await.ok();
    s.get(&format!("/api/v1/agencies/{northside}"), &t)
        .await
        .problem(403);
    let r = s.get("/api/v1/projects", &t).await;
    assert!(r.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["agency_id"] == harbor));

    let other = s.person_id("trainee@northside.example.org").await;
    s.get(&format!("/api/v1/people/{other}"), &t)
        .await
        .problem(403);
    s.put(&format!("/api/v1/people/{other}"), &t, json!({"given_name": "Ada", "family_name": "Moss", "email": "trainee@northside.example.org", "agency_id": northside, "active": false}))
        .await
        .problem(403);

    s.post(
        "/api/v1/agencies",
        &t,
        json!({"name": "Harbor Annex", "participation_status": "pending"}),
    )
    .await
    .problem(403);
    s.put(
        &format!("/api/v1/agencies/{harbor}"),
        &t,
        json!({"name": "Harbor", "participation_status": "participating", "active": true}),
    )
    .await
    .problem(403);
    s.post(
        "/api/v1/projects",
        &t,
        json!({"agency_id": harbor, "name": "Annex", "hud_project_type": 1}),
    )
    .await
    .problem(403);
    s.get("/api/v1/audit", &t).await.problem(403);

    // They add staff to their own agency, and only there.
    let r = s.post("/api/v1/people", &t, json!({"given_name": "Rosa", "family_name": "Vega", "email": "rosa@harbor.example.org", "agency_id": harbor, "invite": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), format!("/api/v1/people/{id}"));
    assert_eq!(r.body["has_password"], false);
    let got = s.get(&format!("/api/v1/people/{id}"), &t).await;
    assert_eq!(got.ok()["email"], "rosa@harbor.example.org");
    let r = s.put(&format!("/api/v1/people/{id}"), &t, json!({"given_name": "Rosa", "family_name": "Vega-Diaz", "email": "rosa@harbor.example.org", "agency_id": harbor, "active": true})).await;
    assert_eq!(r.ok()["family_name"], "Vega-Diaz");
    s.post("/api/v1/people", &t, json!({"given_name": "Eve", "family_name": "Hart", "email": "eve@northside.example.org", "agency_id": northside}))
        .await
        .problem(403);
    s.post(
        "/api/v1/people",
        &t,
        json!({"given_name": "Eve", "family_name": "Hart", "email": "eve@demo.example.org"}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn trainee_is_refused_lists_but_reads_their_own_record() {
    let s = start().await;
    let t = s.token(TRAINEE).await;
    for path in [
        "/api/v1/agencies",
        "/api/v1/projects",
        "/api/v1/people",
        "/api/v1/audit",
    ] {
        s.get(path, &t).await.problem(403);
    }
    let harbor = s.agency_id("Harbor House").await;
    s.get(&format!("/api/v1/agencies/{harbor}"), &t)
        .await
        .problem(403);
    let me = s.get("/api/v1/me", &t).await;
    assert_eq!(me.ok()["roles"], json!(["trainee"]));
    let own = s.person_id(TRAINEE).await;
    assert_eq!(
        s.get(&format!("/api/v1/people/{own}"), &t).await.ok()["email"],
        TRAINEE
    );
    let colleague = s.person_id(HARBOR_ATA).await;
    s.get(&format!("/api/v1/people/{colleague}"), &t)
        .await
        .problem(403);
    // Catalogues are needed to request access, so anyone signed in reads them.
    let levels = s.get("/api/v1/access-levels", &t).await;
    assert_eq!(levels.ok()["total"], 6);
    let resp = s.get("/api/v1/responsibilities?q=clients", &t).await;
    let codes: Vec<&str> = resp.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(codes.contains(&"enroll_clients") && codes.contains(&"exit_clients"));
    s.post(
        "/api/v1/agencies",
        &t,
        json!({"name": "Mine", "participation_status": "pending"}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn auditor_reads_the_audit_trail_but_cannot_change_anything() {
    let s = start().await;
    let lead = s.token(LEAD).await;
    s.post(
        "/api/v1/agencies",
        &lead,
        json!({"name": "Audited Agency", "participation_status": "pending"}),
    )
    .await;

    let t = s.token(AUDITOR).await;
    let r = s.get("/api/v1/audit?subject_type=agency", &t).await;
    let events = r.ok()["items"].as_array().unwrap().clone();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["subject_type"] == "agency"));
    assert_eq!(events[0]["action"], "agency.create");
    assert_eq!(events[0]["actor_label"], "Lena Okafor");
    assert_eq!(events[0]["hash"].as_str().unwrap().len(), 64);
    let r = s.get("/api/v1/audit?per_page=1", &t).await;
    let page = r.ok();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["total"].as_i64().unwrap() > 1);

    // Reads everything…
    s.get("/api/v1/agencies", &t).await.ok();
    s.get("/api/v1/people", &t).await.ok();
    // …changes nothing.
    let harbor = s.agency_id("Harbor House").await;
    s.post(
        "/api/v1/agencies",
        &t,
        json!({"name": "Auditor Agency", "participation_status": "pending"}),
    )
    .await
    .problem(403);
    s.put(
        &format!("/api/v1/agencies/{harbor}"),
        &t,
        json!({"name": "Harbor", "participation_status": "participating", "active": true}),
    )
    .await
    .problem(403);
    s.post(
        "/api/v1/projects",
        &t,
        json!({"agency_id": harbor, "name": "P", "hud_project_type": 1}),
    )
    .await
    .problem(403);
    s.post("/api/v1/people", &t, json!({"given_name": "A", "family_name": "B", "email": "ab@harbor.example.org", "agency_id": harbor})).await.problem(403);
    // POST on the audit trail is not a route.
    let r = s
        .send(Method::POST, "/api/v1/audit", Some(&t), Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

// ---------------------------------------------------------------- access requests

#[tokio::test]
async fn agency_administrator_submits_and_follows_an_access_request() {
    let s = start().await;
    let ata = s.token(HARBOR_ATA).await;
    let harbor = s.agency_id("Harbor House").await;
    let projects = s
        .get(&format!("/api/v1/projects?agency_id={harbor}"), &ata)
        .await;
    let project_ids: Vec<i64> = projects.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let body = serde_json::json!({
        "given_name": "Jo", "family_name": "Quinn", "email": "jo.quinn@harbor.example.org",
        "agency_id": harbor, "access_level": "end_user", "responsibilities": ["enroll_clients"],
        "project_ids": project_ids, "note": "Case manager"
    });
    let r = s.post("/api/v1/requests", &ata, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), format!("/api/v1/requests/{id}"));
    assert_eq!(r.body["steps"][0]["status"], "open");
    assert_eq!(r.body["status"], "open");
    // A duplicate is a conflict; bad input names its fields.
    let again = serde_json::json!({"given_name": "Jo", "family_name": "Quinn", "email": "jo.quinn@harbor.example.org", "agency_id": harbor, "access_level": "end_user", "project_ids": project_ids});
    assert_eq!(
        s.post("/api/v1/requests", &ata, again).await.status,
        StatusCode::CONFLICT
    );
    let bad = serde_json::json!({"given_name": "", "family_name": "X", "email": "nope", "agency_id": harbor, "access_level": "Wizard!", "project_ids": []});
    let r = s.post("/api/v1/requests", &ata, bad).await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["access_level", "email", "given_name", "project_ids"]
    );
    // A code of the right form that no access level has is a conflict with what is stored.
    let unknown = serde_json::json!({"given_name": "Al", "family_name": "X", "email": "al.x@harbor.example.org", "agency_id": harbor, "access_level": "wizard", "project_ids": project_ids});
    let r = s.post("/api/v1/requests", &ata, unknown).await;
    r.problem(409);
    assert_eq!(r.error_fields(), vec!["access_level"]);
    // The Lead's queue lists it; the trainee does not see it; the auditor may read it.
    let lead = s.token(LEAD).await;
    let q = s.get("/api/v1/requests", &lead).await;
    assert_eq!(q.ok()["total"], 1);
    let trainee = s.token(TRAINEE).await;
    assert_eq!(
        s.get(&format!("/api/v1/requests/{id}"), &trainee)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get("/api/v1/requests", &trainee).await.ok()["total"], 0);
    assert_eq!(
        s.get(&format!("/api/v1/requests/{id}"), &s.token(AUDITOR).await)
            .await
            .status,
        StatusCode::OK
    );
    // Only agency contacts and Lead staff may submit.
    let body = serde_json::json!({"given_name": "Al", "family_name": "B", "email": "al.b@harbor.example.org", "agency_id": harbor, "access_level": "end_user", "project_ids": project_ids});
    assert_eq!(
        s.post("/api/v1/requests", &trainee, body).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.get("/api/v1/requests?status=bogus", &lead).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

// ---------------------------------------------------------------- the contract is exact

/// The schema of a body property, `$ref`s followed.
fn property<'a>(doc: &'a Value, schema: &str, field: &str) -> &'a Value {
    let mut p = &doc["components"]["schemas"][schema]["properties"][field];
    while let Some(r) = p["$ref"].as_str() {
        p = &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")];
    }
    assert!(p.is_object(), "{schema}.{field} is not documented");
    p
}

fn param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
    let p = params.iter().find(|p| p["name"] == name).unwrap();
    let mut schema = &p["schema"];
    while let Some(r) = schema["$ref"].as_str() {
        schema = &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")];
    }
    schema
}

#[tokio::test]
async fn out_of_range_query_parameters_are_refused_as_the_document_says() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let doc = serde_json::to_value(onramp_web::api::openapi()).unwrap();
    for path in [
        "/api/v1/agencies",
        "/api/v1/projects",
        "/api/v1/people",
        "/api/v1/access-levels",
        "/api/v1/responsibilities",
        "/api/v1/audit",
        "/api/v1/requests",
    ] {
        assert_eq!(param(&doc, path, "per_page")["minimum"], 1, "{path}");
        assert_eq!(param(&doc, path, "per_page")["maximum"], 500, "{path}");
        assert_eq!(param(&doc, path, "page")["minimum"], 1, "{path}");
        for (query, field) in [
            ("per_page=0", "per_page"),
            ("per_page=10000", "per_page"),
            ("page=-1", "page"),
            ("page=0", "page"),
        ] {
            let r = s.get(&format!("{path}?{query}"), &t).await;
            r.problem(422);
            assert_eq!(r.error_fields(), vec![field], "{path}?{query}");
        }
        // The bounds themselves are accepted.
        s.get(&format!("{path}?page=1&per_page=500"), &t).await.ok();
        s.get(&format!("{path}?per_page=1"), &t).await.ok();
        // A parameter given twice cannot be read.
        let r = s.get(&format!("{path}?page=1&page=2"), &t).await;
        r.problem(400);
        assert_eq!(r.error_fields(), vec!["page"]);
    }
    // Enums are enums, in the document and at the server.
    let statuses = param(&doc, "/api/v1/agencies", "status")["enum"].clone();
    assert_eq!(
        statuses,
        json!(["participating", "pending", "suspended", "withdrawn"])
    );
    let r = s.get("/api/v1/agencies?status=AAA", &t).await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["status"]);
    s.get("/api/v1/agencies?status=pending", &t).await.ok();
    assert_eq!(
        param(&doc, "/api/v1/requests", "status")["enum"],
        json!([
            "open",
            "on_hold",
            "awaiting_move",
            "completed",
            "withdrawn",
            "rejected",
            "expired"
        ])
    );
    s.get("/api/v1/requests?status=AAA", &t).await.problem(422);
    s.get("/api/v1/requests?status=expired", &t).await.ok();
    assert!(param(&doc, "/api/v1/people", "role")["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("supervisor")));
    s.get("/api/v1/people?role=wizard", &t).await.problem(422);
    s.get("/api/v1/people?role=supervisor", &t).await.ok();
    assert!(!param(&doc, "/api/v1/projects", "hud_project_type")["enum"]
        .as_array()
        .unwrap()
        .contains(&json!(5)));
    s.get("/api/v1/projects?hud_project_type=5", &t)
        .await
        .problem(422);
    s.get("/api/v1/projects?hud_project_type=13", &t).await.ok();
}

#[tokio::test]
async fn bodies_the_document_allows_are_accepted_and_others_refused_with_its_reason() {
    let s = start().await;
    let t = s.token(LEAD).await;
    let doc = serde_json::to_value(onramp_web::api::openapi()).unwrap();
    use onramp_domain::values::{ORGANISATION_NAME_MAX, PERSON_NAME_MAX};

    // What the services refuse, the document states.
    let name = property(&doc, "AgencyCreate", "name");
    assert_eq!(name["minLength"], 1);
    assert_eq!(name["maxLength"], ORGANISATION_NAME_MAX);
    assert!(name["pattern"].is_string());
    let given = property(&doc, "PersonCreate", "given_name");
    assert_eq!(given["maxLength"], PERSON_NAME_MAX);
    assert_eq!(property(&doc, "PersonCreate", "email")["format"], "email");
    assert_eq!(
        property(&doc, "AgencyCreate", "participation_date")["format"],
        "date"
    );
    assert_eq!(property(&doc, "ProjectCreate", "agency_id")["minimum"], 1);
    assert_eq!(
        property(&doc, "RequestCreate", "project_ids")["minItems"],
        1
    );
    assert_eq!(
        property(&doc, "AgencyCreate", "participation_status")["enum"],
        json!(["participating", "pending", "suspended", "withdrawn"])
    );
    for body in [
        "AgencyCreate",
        "AgencyUpdate",
        "ProjectCreate",
        "ProjectUpdate",
        "PersonCreate",
        "PersonUpdate",
        "RequestCreate",
    ] {
        assert_eq!(
            doc["components"]["schemas"][body]["additionalProperties"], false,
            "{body}"
        );
    }

    // "name": "" and the like are refused for the reason the document gives…
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": "", "participation_status": "AAA"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["name", "participation_status"]);
    let harbor = s.agency_id("Harbor House").await;
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": 0, "name": "Zero", "hud_project_type": 1}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["agency_id"]);
    // …and so are unknown fields, by name (a typo would otherwise clear a field on PUT).
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": "Lakeside", "participation_status": "pending", "partcipation_date": "2026-07-01"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["partcipation_date"]);
    let long = "N".repeat(ORGANISATION_NAME_MAX + 1);
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": long, "participation_status": "pending"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["name"]);

    // What the document allows, at its bounds, is accepted.
    let longest = "N".repeat(ORGANISATION_NAME_MAX);
    let r = s
        .post(
            "/api/v1/agencies",
            &t,
            json!({"name": longest, "participation_status": "withdrawn", "participation_date": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = s
        .post(
            "/api/v1/projects",
            &t,
            json!({"agency_id": harbor, "name": " Zoë's Day Shelter ", "hud_project_type": 11.0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["name"], "Zoë's Day Shelter");
    let given = "G".repeat(PERSON_NAME_MAX);
    let r = s
        .post(
            "/api/v1/people",
            &t,
            json!({"given_name": given, "family_name": "O'Brien-Ñúñez", "email": "Sam+Intake@Harbor.Example.ORG", "agency_id": harbor}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["email"], "sam+intake@harbor.example.org");
    let r = s
        .post(
            "/api/v1/people",
            &t,
            json!({"given_name": "Lee", "family_name": "Staff", "email": "lee@demo.example.org", "agency_id": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn every_operation_documents_its_security_and_problems() {
    let doc = serde_json::to_value(onramp_web::api::openapi()).unwrap();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            seen += 1;
            let id = format!("{method} {path}");
            assert_eq!(op["security"], json!([{"bearer": []}]), "{id}");
            let responses = op["responses"].as_object().unwrap();
            let has = |code: &str| responses.contains_key(code);
            assert!(has("401"), "{id}");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "query") {
                assert!(has("400") && has("422"), "{id}: query parameters");
            }
            if params.iter().any(|p| p["in"] == "path") {
                assert!(has("400") && has("404"), "{id}: path parameters");
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "409", "415", "422"] {
                    assert!(has(code), "{id}: {code}");
                }
            }
            for (code, r) in responses {
                if code.starts_with('4') {
                    let r = match r["$ref"].as_str() {
                        Some(name) => {
                            &doc["components"]["responses"]
                                [name.trim_start_matches("#/components/responses/")]
                        }
                        None => r,
                    };
                    assert!(
                        r["content"]["application/problem+json"].is_object(),
                        "{id}: {code}"
                    );
                }
            }
        }
    }
    assert!(seen >= 19);
}

#[tokio::test]
async fn a_submitted_request_links_to_its_detail() {
    let s = start().await;
    let r = s.send(Method::GET, "/api/openapi.json", None, None).await;
    let doc = r.ok();
    let link = &doc["paths"]["/api/v1/requests"]["post"]["responses"]["201"]["links"]["GetRequest"];
    assert_eq!(link["operationId"], "get_request", "{link}");
    assert_eq!(link["parameters"]["id"], "$response.body#/id");
    let linked = doc["paths"]["/api/v1/requests/{id}"]["get"]["operationId"].clone();
    assert_eq!(
        linked, "get_request",
        "the link names an operation that exists"
    );
}
