//! Webhook delivery by the outbox worker against a real local HTTP receiver, on SQLite and
//! PostgreSQL.
//!
//! The receiver is a small axum server on 127.0.0.1 that records every request and
//! answers from a script (200 when the script is empty). It checks signatures the way
//! `docs/webhooks.md` tells a receiver to. Loopback is refused like any private address
//! unless the operator allows it, so the worker here allows `127.0.0.1` by name, as
//! `ONRAMP_WEBHOOK_ALLOW_HOSTS=127.0.0.1` would. PostgreSQL runs use a throwaway
//! database, as the store tests do (`store/tests/support`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration as Delta, TimeZone, Utc};
use hmac::{Hmac, Mac};
use onramp_domain::clock::{Clock, ManualClock};
use onramp_domain::webhook::AllowedHosts;
use onramp_jobs::webhook::DEFAULT_TIMEOUT;
use onramp_jobs::{Mailer, OutboxWorker, RunReport, WebhookSender, WorkerConfig};
use onramp_store::outbox::NewOutboxMessage;
use onramp_store::{OutboxMessage, Store};
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const IMPL: i64 = 1;
const SECRET: &str = "a-webhook-secret-of-some-length";

#[path = "../../store/tests/support/mod.rs"]
mod support;

// ---------------------------------------------------------------- backends

spawned_on_both_backends!(
    delivers_once_with_exact_body_and_signed_headers,
    server_error_is_retried_after_the_backoff,
    client_errors_and_bad_payloads_fail_permanently,
    receiver_down_is_retried_and_nothing_is_lost,
    timeout_is_retried,
    loopback_private_and_metadata_targets_are_refused_at_delivery,
    a_webhook_without_a_secret_is_not_sent,
);

// ---------------------------------------------------------------- the receiver

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Answers to give, in order: status and how long to wait before answering.
    script: Mutex<VecDeque<(u16, Duration)>>,
}

/// A real HTTP server on 127.0.0.1 that records requests and answers from its script.
struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl Receiver {
    async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    async fn start_on(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(record)
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Queues the next answer.
    fn answer(&self, status: u16, delay: Duration) {
        self.shared
            .script
            .lock()
            .unwrap()
            .push_back((status, delay));
    }

    fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.received.lock().unwrap().push(Received {
        method,
        path: uri.path().to_string(),
        headers,
        body,
    });
    let (status, delay) = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, Duration::ZERO));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_redirection() {
        return (status, [("location", "/elsewhere")], "moved").into_response();
    }
    let text = if status.is_success() {
        "thanks"
    } else {
        "receiver says\nno"
    };
    (status, text).into_response()
}

// ---------------------------------------------------------------- helpers

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

/// How far a receiver lets a signature's time be from its own clock.
const TOLERANCE_SECONDS: i64 = 300;

/// Why a receiver refuses a delivery.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    Malformed,
    BadSignature,
    Stale,
    Replayed,
}

/// The receiver's check, written as `docs/webhooks.md` describes it and independently of
/// Onramp's code: parse `t=…,v1=…`, recompute HMAC-SHA256 over `"<t>.<raw body>"` with the
/// shared secret, compare in constant time, refuse a `t` more than five minutes from the
/// receiver's clock, and refuse a delivery id already processed.
fn receiver_check(
    secret: &str,
    signature: &str,
    body: &[u8],
    receiver_now: i64,
    delivery_id: &str,
    seen: &mut HashSet<String>,
) -> Result<(), Refused> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in signature.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let ok = v1.iter().any(|v| {
        hex::decode(v)
            .map(|given| mac.clone().verify_slice(&given).is_ok())
            .unwrap_or(false)
    });
    if !ok {
        return Err(Refused::BadSignature);
    }
    if (receiver_now - t).abs() > TOLERANCE_SECONDS {
        return Err(Refused::Stale);
    }
    if !seen.insert(delivery_id.to_string()) {
        return Err(Refused::Replayed);
    }
    Ok(())
}

/// Whether a received request passes the receiver's check at `now` (a fresh receiver that
/// has seen no delivery yet).
fn verifies(r: &Received, now: DateTime<Utc>) -> bool {
    receiver_check(
        SECRET,
        r.header("x-onramp-signature").unwrap_or(""),
        &r.body,
        now.timestamp(),
        r.header("x-onramp-delivery").unwrap_or(""),
        &mut HashSet::new(),
    )
    .is_ok()
}

/// A status change as the application would post it.
fn body(n: u32) -> String {
    // Spacing and key order a JSON re-encoder would change, and non-ASCII text.
    format!(
        "{{\"event\":\"hmis_account.status_changed\",  \"account\": {{\"id\": {n}, \"username\": \"ana.lópez\", \"status\": \"active\", \"previous_status\": \"pending\"}}, \"note\": \"Créé — ok\"}}"
    )
}

async fn enqueue_webhook(store: &Store, url: &str, body: &str) -> i64 {
    let payload = serde_json::json!({ "url": url, "body": body }).to_string();
    enqueue_raw(store, url, &payload).await
}

/// The implementation the webhooks belong to, with its webhook secret (as the settings
/// page saves it), once per store.
async fn ensure_implementation(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    if tx.implementation_get(IMPL).await.is_err() {
        let id = tx
            .implementation_create("hooks", "Hooks HMIS", "Lead Org", t0())
            .await
            .unwrap();
        assert_eq!(id, IMPL);
        tx.setting_put(IMPL, onramp_domain::webhook::SECRET_SETTING, SECRET)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn enqueue_raw(store: &Store, recipient: &str, payload: &str) -> i64 {
    ensure_implementation(store).await;
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .outbox_enqueue(
            &NewOutboxMessage {
                implementation_id: Some(IMPL),
                kind: "webhook",
                recipient,
                subject: "hmis_account.status_changed",
                payload,
            },
            t0(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn row(store: &Store, id: i64) -> OutboxMessage {
    let mut tx = store.read().await.unwrap();
    tx.outbox_get(IMPL, id).await.unwrap()
}

/// A sender that may deliver to the local receiver, as an operator allows it.
fn local_sender(timeout: Duration) -> WebhookSender {
    WebhookSender::new(timeout)
        .unwrap()
        .allowing(AllowedHosts::parse("127.0.0.1"))
        .unwrap()
}

/// A worker on a controlled clock (mail goes to a maildir nobody reads), allowed to
/// deliver to 127.0.0.1.
fn worker(store: &Store) -> (OutboxWorker, ManualClock, tempfile::TempDir) {
    let (w, clock, dir) = strict_worker(store);
    (w.with_webhooks(local_sender(DEFAULT_TIMEOUT)), clock, dir)
}

/// A worker with no host allowed: public addresses only.
fn strict_worker(store: &Store) -> (OutboxWorker, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::maildir(dir.path(), "Onramp <onramp@example.org>").unwrap();
    let clock = ManualClock::new(t0());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let w = OutboxWorker::new(store.clone(), shared, mailer, WorkerConfig::default());
    (w, clock, dir)
}

fn last_error(r: &OutboxMessage) -> &str {
    r.last_error.as_deref().unwrap_or("")
}

// ---------------------------------------------------------------- scenarios

async fn delivers_once_with_exact_body_and_signed_headers(store: Store) {
    let receiver = Receiver::start().await;
    let (w, clock, _dir) = worker(&store);
    let sent_body = body(7);
    let id = enqueue_webhook(&store, &receiver.url("/hooks/onramp?src=test"), &sent_body).await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 1,
            sent: 1,
            ..RunReport::default()
        }
    );

    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.path, "/hooks/onramp");
    assert_eq!(
        r.body.as_ref(),
        sent_body.as_bytes(),
        "body sent byte for byte"
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("user-agent"), Some("Onramp"));
    assert_eq!(r.header("x-onramp-delivery"), Some(id.to_string().as_str()));
    // Signed at the time of sending, over that time and the body.
    let signature = r.header("x-onramp-signature").unwrap();
    assert!(
        signature.starts_with(&format!("t={},v1=", t0().timestamp())),
        "{signature}"
    );
    let delivery = id.to_string();
    let mut seen = HashSet::new();
    let now = t0().timestamp();
    assert_eq!(
        receiver_check(SECRET, signature, &r.body, now + 20, &delivery, &mut seen),
        Ok(()),
        "the receiver accepts the delivery"
    );
    // The same request captured and replayed: at once it is a delivery already seen,
    // later its time is too old; altered, or checked with another secret, it fails.
    assert_eq!(
        receiver_check(SECRET, signature, &r.body, now + 30, &delivery, &mut seen),
        Err(Refused::Replayed)
    );
    assert_eq!(
        receiver_check(
            SECRET,
            signature,
            &r.body,
            now + 301,
            "other",
            &mut HashSet::new()
        ),
        Err(Refused::Stale)
    );
    assert_eq!(
        receiver_check(
            SECRET,
            signature,
            b"{}",
            now,
            &delivery,
            &mut HashSet::new()
        ),
        Err(Refused::BadSignature)
    );
    assert_eq!(
        receiver_check(
            "another-secret-entirely",
            signature,
            &r.body,
            now,
            &delivery,
            &mut HashSet::new()
        ),
        Err(Refused::BadSignature)
    );
    // A signature moved to another time does not verify.
    let moved = signature.replacen(&format!("t={now}"), &format!("t={}", now + 600), 1);
    assert_eq!(
        receiver_check(
            SECRET,
            &moved,
            &r.body,
            now + 600,
            &delivery,
            &mut HashSet::new()
        ),
        Err(Refused::BadSignature)
    );

    let m = row(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 1));
    assert_eq!(m.sent_at, Some(t0()));
    assert_eq!(m.last_error, None);

    // Never sent again.
    for _ in 0..3 {
        clock.advance(Delta::hours(2));
        assert_eq!(w.run_once().await.unwrap().claimed, 0);
    }
    assert_eq!(receiver.received().len(), 1);
}

async fn server_error_is_retried_after_the_backoff(store: Store) {
    let receiver = Receiver::start().await;
    let (w, clock, _dir) = worker(&store);
    receiver.answer(500, Duration::ZERO);
    let sent_body = body(8);
    let id = enqueue_webhook(&store, &receiver.url("/hook"), &sent_body).await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 1,
            retrying: 1,
            ..RunReport::default()
        }
    );
    let m = row(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert!(last_error(&m).contains("500"), "{:?}", m.last_error);
    // Only the status is kept, never what the receiver answered.
    assert!(
        !last_error(&m).contains("receiver says"),
        "{:?}",
        m.last_error
    );
    assert_eq!(m.next_attempt_at, t0() + Delta::seconds(30));

    // Not before the backoff ends.
    clock.advance(Delta::seconds(29));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert_eq!(receiver.received().len(), 1);

    clock.advance(Delta::seconds(1));
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 1,
            sent: 1,
            ..RunReport::default()
        }
    );
    let m = row(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 2));
    assert_eq!(m.last_error, None);

    let got = receiver.received();
    assert_eq!(got.len(), 2, "one failed and one delivered call");
    for r in &got {
        assert_eq!(r.body.as_ref(), sent_body.as_bytes());
        assert_eq!(r.header("x-onramp-delivery"), Some(id.to_string().as_str()));
    }
    // Each attempt is signed when it is made, so a retry is not refused as stale.
    assert!(verifies(&got[0], t0()));
    assert!(verifies(&got[1], t0() + Delta::seconds(30)));
    assert!(!verifies(&got[0], t0() + Delta::seconds(30 + 301)));

    clock.advance(Delta::hours(3));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert_eq!(receiver.received().len(), 2);

    // 429 and 503 are retried too.
    receiver.answer(429, Duration::ZERO);
    receiver.answer(503, Duration::ZERO);
    let busy = enqueue_webhook(&store, &receiver.url("/hook"), &body(9)).await;
    clock.set(t0());
    assert_eq!(w.run_once().await.unwrap().retrying, 1);
    assert!(last_error(&row(&store, busy).await).contains("429"));
    clock.advance(Delta::seconds(30));
    assert_eq!(w.run_once().await.unwrap().retrying, 1);
    assert!(last_error(&row(&store, busy).await).contains("503"));
    clock.advance(Delta::seconds(60));
    assert_eq!(w.run_once().await.unwrap().sent, 1);
    let m = row(&store, busy).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 3));
}

async fn client_errors_and_bad_payloads_fail_permanently(store: Store) {
    let receiver = Receiver::start().await;
    let (w, clock, _dir) = worker(&store);
    receiver.answer(404, Duration::ZERO);
    let not_found = enqueue_webhook(&store, &receiver.url("/gone"), &body(1)).await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 1,
            failed: 1,
            ..RunReport::default()
        }
    );
    let m = row(&store, not_found).await;
    assert_eq!((m.status.as_str(), m.attempts), ("failed", 1));
    assert!(last_error(&m).contains("404"), "{:?}", m.last_error);
    clock.advance(Delta::hours(5));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert_eq!(receiver.received().len(), 1);

    // An admin retries it once the receiver is fixed: it goes, once.
    {
        let mut tx = store.begin().await.unwrap();
        assert!(tx.outbox_retry(IMPL, not_found, clock.now()).await.unwrap());
        tx.commit().await.unwrap();
    }
    assert_eq!(w.run_once().await.unwrap().sent, 1);
    let m = row(&store, not_found).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 2));
    assert_eq!(receiver.received().len(), 2);

    // Other refusals, a redirect (never followed) and payloads that cannot be sent.
    receiver.answer(400, Duration::ZERO);
    receiver.answer(401, Duration::ZERO);
    receiver.answer(301, Duration::ZERO);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(enqueue_webhook(&store, &receiver.url("/hook"), &body(2)).await);
    }
    let not_json = enqueue_raw(&store, &receiver.url("/hook"), "not json").await;
    let not_http = enqueue_webhook(&store, "ftp://files.example.org/hook", &body(3)).await;
    let no_url = enqueue_raw(&store, "", &serde_json::json!({ "body": "{}" }).to_string()).await;
    clock.set(t0());
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 6,
            failed: 6,
            ..RunReport::default()
        }
    );
    let mut codes = Vec::new();
    for id in ids {
        let m = row(&store, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("failed", 1));
        codes.push(last_error(&m).to_string());
    }
    for code in ["400", "401", "301"] {
        assert!(
            codes.iter().any(|e| e.contains(code)),
            "{code} in {codes:?}"
        );
    }
    assert!(
        codes.iter().all(|e| !e.contains("receiver says")),
        "no reply body is kept: {codes:?}"
    );
    assert!(
        receiver.received().iter().all(|r| r.path != "/elsewhere"),
        "redirects are not followed"
    );
    assert_eq!(receiver.received().len(), 5);
    assert!(last_error(&row(&store, not_json).await).contains("payload"));
    assert!(last_error(&row(&store, not_http).await).contains("http"));
    assert!(last_error(&row(&store, no_url).await).contains("URL"));
}

async fn receiver_down_is_retried_and_nothing_is_lost(store: Store) {
    // A free port with nobody listening.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let (w, clock, _dir) = worker(&store);
    let url = format!("http://{addr}/hook");
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(enqueue_webhook(&store, &url, &body(n)).await);
    }

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 3,
            retrying: 3,
            ..RunReport::default()
        }
    );
    for &id in &ids {
        let m = row(&store, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
        assert!(
            last_error(&m).contains("cannot be reached"),
            "{:?}",
            m.last_error
        );
        assert_eq!(m.next_attempt_at, t0() + Delta::seconds(30));
    }
    clock.advance(Delta::seconds(30));
    assert_eq!(w.run_once().await.unwrap().retrying, 3);
    let second = clock.now();
    for &id in &ids {
        let m = row(&store, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 2));
        assert_eq!(m.next_attempt_at, second + Delta::seconds(60));
    }

    // The receiver comes up on that port; after the backoff each call goes once.
    let receiver = Receiver::start_on(addr).await;
    clock.advance(Delta::seconds(59));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert!(receiver.received().is_empty());
    clock.advance(Delta::seconds(1));
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 3,
            sent: 3,
            ..RunReport::default()
        }
    );
    for &id in &ids {
        let m = row(&store, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("sent", 3));
        assert_eq!(m.last_error, None);
    }
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    for (n, &id) in ids.iter().enumerate() {
        let r = got
            .iter()
            .find(|r| r.header("x-onramp-delivery") == Some(id.to_string().as_str()))
            .unwrap();
        assert_eq!(r.body.as_ref(), body(n as u32).as_bytes());
        assert!(verifies(r, clock.now()));
    }
    clock.advance(Delta::hours(3));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert_eq!(receiver.received().len(), 3);
}

async fn timeout_is_retried(store: Store) {
    let receiver = Receiver::start().await;
    let (w, clock, _dir) = worker(&store);
    let w = w.with_webhooks(local_sender(Duration::from_millis(300)));
    receiver.answer(200, Duration::from_secs(3));
    let id = enqueue_webhook(&store, &receiver.url("/slow"), &body(4)).await;

    let started = std::time::Instant::now();
    let report = w.run_once().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up at the timeout"
    );
    assert_eq!(
        report,
        RunReport {
            claimed: 1,
            retrying: 1,
            ..RunReport::default()
        }
    );
    let m = row(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert!(
        last_error(&m).contains("did not answer within"),
        "{:?}",
        m.last_error
    );

    clock.advance(Delta::seconds(30));
    assert_eq!(w.run_once().await.unwrap().sent, 1);
    let m = row(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 2));
    // The late first call and the second carry the same delivery id, for the receiver
    // to recognise the repeat.
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|r| r.header("x-onramp-delivery") == Some(id.to_string().as_str())));
}

async fn loopback_private_and_metadata_targets_are_refused_at_delivery(store: Store) {
    // A receiver is listening on loopback: nothing may reach it without the operator's
    // allow list.
    let receiver = Receiver::start().await;
    let (w, clock, _dir) = strict_worker(&store);
    let port = receiver.addr.port();
    let targets = [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        // A name is checked on what it resolves to, when the call is made.
        (format!("http://localhost:{port}/hook"), "resolves to"),
        (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "loopback"),
        (format!("http://0x7f.1:{port}/hook"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "metadata",
        ),
        ("http://[fd00:ec2::254]/".to_string(), "metadata"),
        ("http://10.0.0.8/hook".to_string(), "private"),
        ("https://192.168.1.20/hook".to_string(), "private"),
        ("http://100.64.0.1/hook".to_string(), "carrier-grade NAT"),
        ("http://[fe80::1]/hook".to_string(), "link-local"),
        ("http://0.0.0.0/hook".to_string(), "unspecified"),
    ];
    let mut ids = Vec::new();
    for (url, _) in &targets {
        ids.push(enqueue_webhook(&store, url, &body(1)).await);
    }
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: targets.len(),
            failed: targets.len(),
            ..RunReport::default()
        }
    );
    for ((url, why), id) in targets.iter().zip(&ids) {
        let m = row(&store, *id).await;
        assert_eq!(m.status, "failed", "{url}");
        let e = last_error(&m);
        assert!(e.contains("refused") && e.contains(why), "{url}: {e}");
    }
    assert!(last_error(&row(&store, ids[1]).await).contains("127.0.0.1"));
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
    clock.advance(Delta::hours(2));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);

    // The operator allows 127.0.0.1 by name: that address delivers, `localhost` still
    // does not (allowing an address does not allow names that resolve to it).
    let w = w.with_webhooks(local_sender(DEFAULT_TIMEOUT));
    let ok = enqueue_webhook(&store, &receiver.url("/hook"), &body(2)).await;
    let by_name = enqueue_webhook(&store, &format!("http://localhost:{port}/hook"), &body(3)).await;
    clock.set(t0());
    let report = w.run_once().await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1));
    assert_eq!(row(&store, ok).await.status, "sent");
    assert!(last_error(&row(&store, by_name).await).contains("resolves to 127.0.0.1"));
    assert_eq!(receiver.received().len(), 1);
}

async fn a_webhook_without_a_secret_is_not_sent(store: Store) {
    let receiver = Receiver::start().await;
    let (w, _clock, _dir) = worker(&store);
    let id = enqueue_webhook(&store, &receiver.url("/hook"), &body(5)).await;
    {
        let mut tx = store.begin().await.unwrap();
        tx.setting_put(IMPL, onramp_domain::webhook::SECRET_SETTING, "")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(w.run_once().await.unwrap().failed, 1);
    assert!(last_error(&row(&store, id).await).contains("no secret"));
    assert!(receiver.received().is_empty());
}
