//! The real Onramp router on a real socket, on a fresh database, for HTTP tests.
//!
//! [`TestApp`] serves `onramp_web::router` with `axum::serve` on `127.0.0.1:0` (with the
//! connect info the rate limiter needs) over a fresh database with the demo implementation
//! loaded: SQLite in a temporary directory by default, or a fresh PostgreSQL database
//! (`onramp_w_<time>_<random>` on `ONRAMP_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped `WITH (FORCE)` when the app is dropped.
//! When PostgreSQL cannot be reached, [`TestApp::start`] returns `None` after a loud note on
//! stderr, unless `CI` (or `ONRAMP_REQUIRE_POSTGRES=1`) is set, in which case it panics.
//!
//! Time is a [`ManualClock`]: tests move it with [`TestApp::advance`]. Argon2 runs with
//! 1 MiB and one pass so that sign-ins are cheap.
//!
//! [`TestClient`] is one browser: its own cookie jar, redirects not followed (tests see the
//! 303s), the `_csrf` token of the last page it rendered, and helpers that walk the real
//! sign-in including MFA enrolment and verification.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use onramp_app::auth;
use onramp_app::demo::DEMO_PASSWORD;
use onramp_app::{App, AppConfig, Ctx};
use onramp_domain::clock::{Clock, ManualClock};
use onramp_store::audit::AuditFilter;
use onramp_store::organisation::{AgencyFilter, ProjectFilter};
use onramp_store::people::PeopleFilter;
use onramp_store::{AuditEvent, OutboxMessage, PageRequest, Store};
use onramp_web::AppState;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

/// Which database a [`TestApp`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes a test once as `async fn name(backend: Backend)` and runs it on both backends:
/// `on_both_backends!(name, other);` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}

/// Starts an app on `$backend` or returns from the test (PostgreSQL unreachable, not required).
#[macro_export]
macro_rules! app_or_skip {
    ($backend:expr) => {
        $crate::app_or_skip!($backend, |_| {})
    };
    ($backend:expr, $configure:expr) => {
        match $crate::support::TestApp::start($backend, $configure).await {
            Some(app) => app,
            None => return,
        }
    };
}

// ---------------------------------------------------------------- the app

enum DbGuard {
    Sqlite(TempDir),
    Postgres(PgGuard),
}

/// A running Onramp on a fresh database with the demo loaded.
pub struct TestApp {
    pub app: App,
    pub clock: ManualClock,
    /// `http://127.0.0.1:<port>`, also the app's `base_url` (so email links point here).
    pub base: String,
    /// The demo implementation.
    pub implementation_id: i64,
    pub backend: Backend,
    secrets: Secrets,
    server: tokio::task::JoinHandle<()>,
    _db: DbGuard,
}

/// MFA secrets of the people who enrolled through a [`TestClient`], by email, so that any
/// client can later answer the MFA step for them, with the last TOTP time step each used
/// (Onramp accepts a step once).
#[derive(Default)]
struct MfaBook {
    secrets: HashMap<String, String>,
    last_step: HashMap<String, i64>,
}

type Secrets = Arc<Mutex<MfaBook>>;

/// A code of `email`'s secret that Onramp has not seen yet: the current step's, else the
/// next one's (one step of drift is allowed), else the clock moves on to a fresh step.
fn unused_code(book: &Secrets, clock: &ManualClock, email: &str) -> String {
    let mut b = lock(book);
    let secret = b
        .secrets
        .get(email)
        .cloned()
        .unwrap_or_else(|| panic!("no MFA secret known for {email}"));
    let current = clock.now().timestamp() / 30;
    let step = b
        .last_step
        .get(email)
        .map_or(current, |last| (last + 1).max(current));
    if step > current + 1 {
        clock.advance(Duration::seconds(30 * (step - current - 1)));
    }
    b.last_step.insert(email.to_string(), step);
    let at = Utc
        .timestamp_opt(step * 30, 0)
        .single()
        .expect("a valid time");
    auth::totp_code(&secret, at).expect("TOTP code")
}

impl TestApp {
    /// On SQLite with the test defaults.
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(|_| {}).await
    }

    /// On SQLite, with the settings changed by `configure`.
    pub async fn sqlite_with(configure: impl FnOnce(&mut AppConfig)) -> TestApp {
        Self::start(Backend::Sqlite, configure)
            .await
            .expect("SQLite is always available")
    }

    /// On PostgreSQL, or None (after a note) when it cannot be reached and is not required.
    pub async fn postgres() -> Option<TestApp> {
        Self::start(Backend::Postgres, |_| {}).await
    }

    pub async fn start(
        backend: Backend,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Option<TestApp> {
        let (store, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = Store::open_sqlite(&dir.path().join("onramp.db"))
                    .await
                    .expect("open SQLite");
                (store, DbGuard::Sqlite(dir))
            }
            Backend::Postgres => {
                let (store, guard) = postgres_store().await?;
                (store, DbGuard::Postgres(guard))
            }
        };
        store.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let base = format!("http://{addr}");
        let mut config = AppConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            base_url: base.clone(),
            ..Default::default()
        };
        configure(&mut config);
        let clock = ManualClock::new(start_time());
        // SQLite keeps files in its (temporary) data directory, PostgreSQL in the database.
        let files = match &guard {
            DbGuard::Sqlite(dir) => {
                onramp_store::files::FileStore::DataDir(dir.path().join("files"))
            }
            DbGuard::Postgres(_) => onramp_store::files::FileStore::Database,
        };
        let app = App::new(store, Arc::new(clock.clone()), config).with_files(files);
        let (implementation_id, _) = onramp_app::demo::load(&app).await.expect("load the demo");
        let router = onramp_web::router(AppState::new(app.clone(), false));
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Some(TestApp {
            app,
            clock,
            base,
            implementation_id,
            backend,
            secrets: Arc::default(),
            server,
            _db: guard,
        })
    }

    /// A new browser with an empty cookie jar.
    pub fn client(&self) -> TestClient {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(30))
            .build()
            .expect("HTTP client");
        TestClient {
            http,
            jar,
            base: self.base.clone(),
            clock: self.clock.clone(),
            secrets: self.secrets.clone(),
            csrf: Mutex::new(None),
            recovery_codes: Mutex::new(Vec::new()),
        }
    }

    /// A new browser, signed in as `email` (demo password) with every step done.
    pub async fn signed_in(&self, email: &str) -> TestClient {
        let c = self.client();
        c.sign_in_as(email).await;
        c
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the app's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The MFA secret a client enrolled for `email`, if any.
    pub fn mfa_secret(&self, email: &str) -> Option<String> {
        lock(&self.secrets).secrets.get(email).cloned()
    }

    /// The current authenticator code of `email`'s enrolled secret.
    pub fn totp_now(&self, email: &str) -> String {
        let secret = self
            .mfa_secret(email)
            .unwrap_or_else(|| panic!("{email} has not enrolled MFA through a test client"));
        auth::totp_code(&secret, self.clock.now()).expect("TOTP code")
    }

    /// A code of `email`'s enrolled secret that has not been used yet (each time step is
    /// accepted once): moves the clock on by a step when it must.
    pub fn totp_unused(&self, email: &str) -> String {
        unused_code(&self.secrets, &self.clock, email)
    }

    /// Whether the router serves `method path` (routes are still being added).
    pub fn route_exists(method: &str, path: &str) -> bool {
        onramp_web::route_list()
            .iter()
            .any(|(m, p)| m.as_str() == method && *p == path)
    }

    /// Adds a person with an invitation as `lead` (a signed-in client of someone who may):
    /// through the "add a person" page when it exists, else through the service as the
    /// demo lead admin. Returns the page's answer (a 303 to the person on success).
    pub async fn invite(
        &self,
        lead: &TestClient,
        given: &str,
        family: &str,
        email: &str,
        agency_id: i64,
    ) -> Reply {
        if Self::route_exists("POST", "/admin/people/new") {
            let agency = agency_id.to_string();
            return lead
                .post_form_from(
                    "/admin/people/new",
                    "/admin/people/new",
                    &[
                        ("given_name", given),
                        ("family_name", family),
                        ("email", email),
                        ("agency_id", &agency),
                        ("invite", "on"),
                    ],
                )
                .await;
        }
        let input = onramp_app::people::PersonInput {
            given_name: given.into(),
            family_name: family.into(),
            email: email.into(),
            agency_id: agency_id.to_string(),
            active: true,
        };
        let ctx = self.ctx("lead@demo.example.org").await;
        match onramp_app::people::create(&self.app, &ctx, &input, true).await {
            Ok(id) => {
                let mut headers = HeaderMap::new();
                headers.insert(
                    reqwest::header::LOCATION,
                    HeaderValue::from_str(&format!("/admin/people/{id}")).expect("header"),
                );
                Reply {
                    status: StatusCode::SEE_OTHER,
                    headers,
                    body: String::new(),
                }
            }
            Err(onramp_app::AppError::Invalid(errors)) => {
                let body = errors
                    .iter()
                    .map(|e| {
                        format!(
                            "<p class=\"error\" id=\"f-{}-error\">{}</p>",
                            e.field, e.message
                        )
                    })
                    .collect();
                Reply {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    headers: HeaderMap::new(),
                    body,
                }
            }
            Err(e) => Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                headers: HeaderMap::new(),
                body: format!("{e:?}"),
            },
        }
    }

    /// A second implementation with an agency, a project and a person (with a password,
    /// [`OTHER_PASSWORD`]), for tests that one implementation never reaches another's data.
    pub async fn second_implementation(&self) -> OtherImplementation {
        let now = self.now();
        let mut tx = self.app.store.begin().await.expect("begin");
        let implementation_id = onramp_app::organisation::create_implementation(
            &mut tx,
            &self.app,
            "elsewhere",
            "Elsewhere County HMIS",
            "Elsewhere CoC",
            &["CA-600".into()],
        )
        .await
        .expect("create implementation");
        let agency = onramp_store::organisation::NewAgency {
            implementation_id,
            name: "Elsewhere Shelter",
            participation_status: "participating",
            participation_date: None,
        };
        let agency_id = tx.agency_create(&agency, now).await.expect("agency");
        let project_id = tx
            .project_create(
                implementation_id,
                agency_id,
                "Elsewhere Night Shelter",
                1,
                now,
            )
            .await
            .expect("project");
        tx.commit().await.expect("commit");
        let person_id = onramp_app::people::create_with_password(
            &self.app,
            implementation_id,
            "Olga",
            "Other",
            OTHER_EMAIL,
            Some(agency_id),
            &[],
            OTHER_PASSWORD,
            false,
        )
        .await
        .expect("person");
        OtherImplementation {
            implementation_id,
            agency_id,
            project_id,
            person_id,
        }
    }

    // ---- reading the database

    pub async fn person_id(&self, email: &str) -> i64 {
        self.person_id_in(self.implementation_id, email).await
    }

    pub async fn person_id_in(&self, implementation_id: i64, email: &str) -> i64 {
        self.find_person(implementation_id, email)
            .await
            .unwrap_or_else(|| panic!("no person {email}"))
    }

    pub async fn find_person(&self, implementation_id: i64, email: &str) -> Option<i64> {
        let mut tx = self.app.store.read().await.expect("read");
        tx.person_by_email(implementation_id, email)
            .await
            .expect("person_by_email")
            .map(|p| p.id)
    }

    /// A service context acting as the person with this email (demo implementation).
    pub async fn ctx(&self, email: &str) -> Ctx {
        let id = self.person_id(email).await;
        self.ctx_of(id).await
    }

    pub async fn ctx_of(&self, person_id: i64) -> Ctx {
        let mut tx = self.app.store.read().await.expect("read");
        let actor = auth::load_actor(&mut tx, person_id)
            .await
            .expect("load actor");
        Ctx::new(actor, "test")
    }

    pub async fn agency_id(&self, name: &str) -> i64 {
        self.agency_id_in(self.implementation_id, name).await
    }

    pub async fn agency_id_in(&self, implementation_id: i64, name: &str) -> i64 {
        let mut tx = self.app.store.read().await.expect("read");
        let page = tx
            .agencies_list(
                implementation_id,
                &AgencyFilter::default(),
                PageRequest::ALL,
            )
            .await
            .expect("agencies");
        page.items
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id)
            .unwrap_or_else(|| panic!("no agency {name}"))
    }

    pub async fn project_id(&self, name: &str) -> i64 {
        self.project_id_in(self.implementation_id, name).await
    }

    pub async fn project_id_in(&self, implementation_id: i64, name: &str) -> i64 {
        let mut tx = self.app.store.read().await.expect("read");
        let page = tx
            .projects_list(
                implementation_id,
                &ProjectFilter::default(),
                PageRequest::ALL,
            )
            .await
            .expect("projects");
        page.items
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id)
            .unwrap_or_else(|| panic!("no project {name}"))
    }

    /// How many people, agencies and projects the demo implementation has.
    pub async fn counts(&self) -> (i64, i64, i64) {
        let mut tx = self.app.store.read().await.expect("read");
        let i = self.implementation_id;
        let people = tx
            .people_list(i, &PeopleFilter::default(), PageRequest::new(1, 1))
            .await
            .expect("people")
            .total;
        let agencies = tx
            .agencies_list(i, &AgencyFilter::default(), PageRequest::new(1, 1))
            .await
            .expect("agencies")
            .total;
        let projects = tx
            .projects_list(i, &ProjectFilter::default(), PageRequest::new(1, 1))
            .await
            .expect("projects")
            .total;
        (people, agencies, projects)
    }

    /// Every outbox message of the demo implementation, oldest first.
    pub async fn outbox(&self) -> Vec<OutboxMessage> {
        self.outbox_in(self.implementation_id).await
    }

    pub async fn outbox_in(&self, implementation_id: i64) -> Vec<OutboxMessage> {
        let mut tx = self.app.store.read().await.expect("read");
        let mut items = tx
            .outbox_list(implementation_id, None, PageRequest::ALL)
            .await
            .expect("outbox")
            .items;
        items.reverse();
        items
    }

    /// Outbox messages to one address (any implementation's outbox is not searched: demo only).
    pub async fn emails_to(&self, to: &str) -> Vec<OutboxMessage> {
        self.outbox()
            .await
            .into_iter()
            .filter(|m| m.recipient == to)
            .collect()
    }

    /// The path (`/invitation/…` or `/password-reset/…`) of the link in the newest email
    /// to `to` that has one with this first path segment.
    pub async fn link_for(&self, to: &str, segment: &str) -> Option<String> {
        let messages = self.emails_to(to).await;
        messages
            .iter()
            .rev()
            .find_map(|m| link_in(&email_text(m), &self.base, segment))
    }

    /// Total number of outbox messages, all statuses, all implementations.
    pub async fn outbox_total(&self) -> i64 {
        let mut tx = self.app.store.read().await.expect("read");
        tx.outbox_counts()
            .await
            .expect("outbox counts")
            .iter()
            .map(|(_, n)| n)
            .sum()
    }

    /// The newest audit sequence number (the chain is one across implementations).
    pub async fn audit_head(&self) -> i64 {
        let mut tx = self.app.store.read().await.expect("read");
        tx.audit_head_seq().await.expect("audit head")
    }

    /// The demo implementation's audit events, newest first.
    pub async fn audit(&self) -> Vec<AuditEvent> {
        let mut tx = self.app.store.read().await.expect("read");
        tx.audit_list(
            self.implementation_id,
            &AuditFilter::default(),
            PageRequest::ALL,
        )
        .await
        .expect("audit")
        .items
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        self.audit().await.into_iter().map(|e| e.action).collect()
    }

    /// Recomputes the whole audit chain and fails the test if anything is wrong.
    pub async fn assert_audit_chain_valid(&self) {
        let report = onramp_app::audit::verify(&self.app)
            .await
            .expect("verify audit");
        assert!(report.checked > 0, "the audit chain is empty");
        assert!(
            report.problems.is_empty(),
            "audit chain problems: {:?}",
            report.problems
        );
    }

    /// Live sessions of a person.
    pub async fn sessions_of(&self, person_id: i64) -> i64 {
        let mut tx = self.app.store.read().await.expect("read");
        tx.sessions_count_for(person_id).await.expect("sessions")
    }

    /// A fingerprint of what a request could change: audit head, outbox size, counts of
    /// people, agencies and projects.
    pub async fn fingerprint(&self) -> Fingerprint {
        let (people, agencies, projects) = self.counts().await;
        Fingerprint {
            audit_head: self.audit_head().await,
            outbox: self.outbox_total().await,
            people,
            agencies,
            projects,
        }
    }
}

pub const OTHER_EMAIL: &str = "olga@elsewhere.example.org";
pub const OTHER_PASSWORD: &str = "Elsewhere-Pass-2026";

/// What [`TestApp::second_implementation`] made.
#[derive(Debug, Clone, Copy)]
pub struct OtherImplementation {
    pub implementation_id: i64,
    pub agency_id: i64,
    pub project_id: i64,
    pub person_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub audit_head: i64,
    pub outbox: i64,
    pub people: i64,
    pub agencies: i64,
    pub projects: i64,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A whole-second time near now (the ManualClock's start).
fn start_time() -> DateTime<Utc> {
    Utc.timestamp_opt(Utc::now().timestamp(), 0)
        .single()
        .expect("a valid time")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `text` of an email outbox message's JSON payload.
pub fn email_text(m: &OutboxMessage) -> String {
    serde_json::from_str::<serde_json::Value>(&m.payload)
        .ok()
        .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// The path of the first `<base>/<segment>/…` link in `text`.
pub fn link_in(text: &str, base: &str, segment: &str) -> Option<String> {
    let needle = format!("{base}/{segment}/");
    let start = text.find(&needle)?;
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    Some(link[base.len()..].to_string())
}

// ---------------------------------------------------------------- one browser

/// One browser: a cookie jar, no automatic redirects, the last page's CSRF token.
pub struct TestClient {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    pub base: String,
    clock: ManualClock,
    secrets: Secrets,
    csrf: Mutex<Option<String>>,
    /// Recovery codes shown when this client enrolled MFA.
    pub recovery_codes: Mutex<Vec<String>>,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// Whether this is a 303 to `path` (query ignored).
    pub fn redirects_to(&self, path: &str) -> bool {
        self.status == StatusCode::SEE_OTHER
            && self
                .location()
                .is_some_and(|l| l.split('?').next() == Some(path))
    }

    /// Panics with the body unless the status is `want`.
    #[track_caller]
    pub fn expect(&self, want: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            want,
            "expected {want}, got {} (location {:?}); body:\n{}",
            self.status,
            self.location(),
            self.body
        );
        self
    }

    /// Panics unless this is a 303 to `path` (query ignored).
    #[track_caller]
    pub fn expect_redirect(&self, path: &str) -> &Self {
        assert!(
            self.redirects_to(path),
            "expected a 303 to {path}, got {} to {:?}; body:\n{}",
            self.status,
            self.location(),
            self.body
        );
        self
    }

    /// The first `_csrf` hidden input's value.
    pub fn csrf(&self) -> Option<String> {
        attr_after(&self.body, "name=\"_csrf\" value=\"")
    }

    /// The message shown next to a form field (`<p class="error" id="f-NAME-error">`).
    pub fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!("id=\"f-{field}-error\">");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find("</p>")? + start;
        Some(html_unescape(
            strip_tags(&self.body[start..end])
                .trim_start_matches("Error:")
                .trim(),
        ))
    }

    /// The text of an element opened by `open` (e.g. `<code class="secret">`).
    pub fn text_of(&self, open: &str) -> Option<String> {
        let start = self.body.find(open)? + open.len();
        let rest = &self.body[start..];
        let end = rest.find("</")?;
        Some(html_unescape(rest[..end].trim()))
    }

    /// The body with tags removed and entities decoded, for "does the page say …" checks.
    pub fn text(&self) -> String {
        html_unescape(&strip_tags(&self.body))
    }
}

fn attr_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(html_unescape(&body[start..end]))
}

pub fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

impl TestClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The CSRF token of the last page that had one.
    pub fn csrf(&self) -> Option<String> {
        lock(&self.csrf).clone()
    }

    /// Uses this token for the next forms (until a page shows another).
    pub fn set_csrf(&self, token: &str) {
        *lock(&self.csrf) = Some(token.to_string());
    }

    /// A cookie's value as the jar would send it to this site.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.base).expect("base URL");
        let header = self.jar.cookies(&url)?;
        let header = header.to_str().ok()?.to_string();
        header
            .split("; ")
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    /// Puts a cookie in the jar, as a browser that was handed it would hold it.
    pub fn add_cookie(&self, name: &str, value: &str) {
        let url = reqwest::Url::parse(&self.base).expect("base URL");
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }

    async fn read(&self, res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.expect("response body");
        let reply = Reply {
            status,
            headers,
            body,
        };
        if let Some(token) = reply.csrf() {
            *lock(&self.csrf) = Some(token);
        }
        reply
    }

    pub async fn get(&self, path: &str) -> Reply {
        let res = self
            .http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.read(res).await
    }

    /// Any method, no body, with extra headers (e.g. `Authorization`).
    /// POSTs a JSON body with extra headers.
    pub async fn post_json(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(res).await
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method.clone(), self.url(path));
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        self.read(res).await
    }

    /// Posts a form with the `_csrf` token of the last page this client rendered.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self
            .csrf()
            .unwrap_or_else(|| panic!("POST {path}: no page with a _csrf token was rendered yet"));
        self.post_form_token(path, fields, &token).await
    }

    /// Fetches `page` first, then posts the form with that page's `_csrf` token.
    pub async fn post_form_from(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Reply {
        let p = self.get(page).await;
        let token = p
            .csrf()
            .unwrap_or_else(|| panic!("GET {page} ({}) has no _csrf token:\n{}", p.status, p.body));
        self.post_form_token(path, fields, &token).await
    }

    /// Posts a form with the given `_csrf` token.
    pub async fn post_form_token(&self, path: &str, fields: &[(&str, &str)], token: &str) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    /// Posts exactly these fields (no `_csrf` added) with extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.post(self.url(path)).form(fields);
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(res).await
    }

    /// Posts a raw body with its content type (e.g. a hand-built `multipart/form-data`).
    pub async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(res).await
    }

    /// Posts a `multipart/form-data` form: the `_csrf` token of the last page, text fields,
    /// then files `(field, filename, bytes)`, as a browser sends a form with file inputs.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Reply {
        let boundary = "----onramp-test-boundary-5c1e";
        let token = self.csrf().unwrap_or_default();
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in std::iter::once(&("_csrf", token.as_str())).chain(fields) {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let res = self
            .http
            .post(self.url(path))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(res).await
    }

    // ---- signing in

    /// Fills in the sign-in form (fetching it first) and returns the answer to the POST.
    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.post_form_from(
            "/signin",
            "/signin",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }

    /// Signs in as `email` with the demo password and completes every step (MFA enrolment
    /// or verification), ending on the home page, whose reply is returned.
    pub async fn sign_in_as(&self, email: &str) -> Reply {
        self.sign_in_with(email, DEMO_PASSWORD).await
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) -> Reply {
        let r = self.sign_in(email, password).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email} failed: {}\n{}",
            r.status,
            r.body
        );
        let mut next = r.location().expect("sign-in redirect");
        for _ in 0..4 {
            match next.split('?').next().unwrap_or_default() {
                "/account/mfa" => next = self.enrol_mfa(email).await,
                "/signin/mfa" => {
                    let r = self.answer_mfa(email).await;
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "MFA step of {email} failed: {}\n{}", r.status, r.body);
                    next = r.location().expect("MFA redirect");
                }
                "/account/password" => panic!("{email} must change their password first: use sign_in and post /account/password"),
                _ => {
                    let home = self.get(&next).await;
                    assert!(home.status.is_success(), "{email} signed in, but GET {next} gave {}:\n{}", home.status, home.body);
                    return home;
                }
            }
        }
        panic!("sign-in of {email} did not settle (last step {next})");
    }

    /// On `/account/mfa`: reads the secret, confirms with the current code, keeps the
    /// recovery codes. Returns where the page's "Continue" leads.
    pub async fn enrol_mfa(&self, email: &str) -> String {
        let page = self.get("/account/mfa").await;
        page.expect(200);
        let secret = page
            .text_of("<code class=\"secret\">")
            .expect("the MFA set-up page shows the secret");
        let code = auth::totp_code(&secret, self.clock.now()).expect("TOTP code");
        let done = self.post_form("/account/mfa", &[("code", &code)]).await;
        let step = self.clock.now().timestamp() / 30;
        done.expect(200);
        let codes: Vec<String> = done
            .body
            .split("<li><code>")
            .skip(1)
            .filter_map(|s| s.split("</code>").next())
            .map(str::to_string)
            .collect();
        assert_eq!(
            codes.len(),
            10,
            "ten recovery codes are shown:\n{}",
            done.body
        );
        *lock(&self.recovery_codes) = codes;
        let mut book = lock(&self.secrets);
        book.secrets.insert(email.to_string(), secret);
        book.last_step.insert(email.to_string(), step);
        drop(book);
        attr_after(&done.body, "class=\"button\" href=\"").expect("a Continue link")
    }

    /// On `/signin/mfa`: answers with a code of `email`'s enrolled secret that was not used
    /// yet (the current one, or the next; the clock moves on a step when both were used).
    pub async fn answer_mfa(&self, email: &str) -> Reply {
        let page = self.get("/signin/mfa").await;
        let token = page.csrf().unwrap_or_else(|| {
            panic!(
                "GET /signin/mfa ({}) has no _csrf token:\n{}",
                page.status, page.body
            )
        });
        let code = unused_code(&self.secrets, &self.clock, email);
        self.post_form_token("/signin/mfa", &[("code", &code)], &token)
            .await
    }

    /// Whether this client is fully signed in (the home page renders).
    pub async fn is_signed_in(&self) -> bool {
        self.get("/").await.status == StatusCode::OK
    }
}

// ---------------------------------------------------------------- PostgreSQL

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const DB_PREFIX: &str = "onramp_w_";
/// Databases of killed runs older than this are dropped when a run starts.
const LEFTOVER_AGE: StdDuration = StdDuration::from_secs(2 * 60 * 60);

static POSTGRES_DOWN: AtomicBool = AtomicBool::new(false);
static SKIP_NOTE: Once = Once::new();
static SWEEP: Once = Once::new();

fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn admin_url() -> String {
    std::env::var("ONRAMP_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

fn postgres_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("ONRAMP_REQUIRE_POSTGRES").is_ok_and(|v| v.trim() == "1")
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{root}/{db}{query}")
}

async fn admin_connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(StdDuration::from_secs(5), PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out after 5 s".into()),
    }
}

fn unavailable<T>(url: &str, why: &str) -> Option<T> {
    if postgres_required() {
        panic!("PostgreSQL is required (CI or ONRAMP_REQUIRE_POSTGRES=1 is set) but {url} cannot be reached: {why}");
    }
    POSTGRES_DOWN.store(true, Ordering::SeqCst);
    SKIP_NOTE.call_once(|| {
        loud(&format!(
            "\n** SKIPPING the PostgreSQL variants of the web tests: cannot reach {url} ({why}).\n\
             ** Only SQLite was tested. Set ONRAMP_TEST_DATABASE_URL, or CI / ONRAMP_REQUIRE_POSTGRES=1 to make this a failure.\n"
        ));
    });
    None
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn sweep_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'onramp\\_w\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let cutoff = unix_now().saturating_sub(LEFTOVER_AGE.as_secs());
    for name in names {
        let created = name
            .strip_prefix(DB_PREFIX)
            .and_then(|r| r.split('_').next())
            .and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// Owns a throwaway PostgreSQL database and drops it when dropped.
struct PgGuard {
    admin_url: String,
    name: String,
}

async fn postgres_store() -> Option<(Store, PgGuard)> {
    let url = admin_url();
    if POSTGRES_DOWN.load(Ordering::SeqCst) {
        return unavailable(&url, "an earlier test could not connect");
    }
    let mut admin = match admin_connect(&url).await {
        Ok(c) => c,
        Err(why) => return unavailable(&url, &why),
    };
    let mut first = false;
    SWEEP.call_once(|| first = true);
    if first {
        sweep_leftovers(&mut admin).await;
    }
    let name = format!("{DB_PREFIX}{}_{:016x}", unix_now(), rand::random::<u64>());
    let mut tries = 0;
    loop {
        match sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
        {
            Ok(_) => break,
            // Concurrent CREATE DATABASE can collide on the template database; try again.
            Err(_) if tries < 5 => {
                tries += 1;
                tokio::time::sleep(StdDuration::from_millis(200 * tries)).await;
            }
            Err(e) => panic!("cannot create test database {name} on {url}: {e}"),
        }
    }
    let _ = admin.close().await;
    let guard = PgGuard {
        admin_url: url.clone(),
        name: name.clone(),
    };
    let store = Store::open_postgres(&with_database(&url, &name), 5)
        .await
        .unwrap_or_else(|e| panic!("open PostgreSQL database {name}: {e}"));
    Some((store, guard))
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = admin_connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let _ = admin.close().await;
    Ok(())
}

impl Drop for PgGuard {
    /// Runs inside the test's runtime, so the database is dropped from a thread with a
    /// runtime of its own; `WITH (FORCE)` ends the pool's connections.
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(drop_database(&url, &name))
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            loud(&format!(
                "web tests: could not drop test database {}; a later run removes it",
                self.name
            ));
        }
    }
}
