//! The outbox worker against a real SMTP listener and a maildir, on SQLite and PostgreSQL.
//!
//! PostgreSQL runs use a throwaway database, as the store tests do (`store/tests/support`).

use chrono::{DateTime, Duration as Delta, TimeZone, Utc};
use onramp_domain::clock::{Clock, ManualClock};
use onramp_jobs::testing::{ParsedEmail, TestSmtpServer};
use onramp_jobs::{Mailer, OutboxWorker, RunReport, WorkerConfig};
use onramp_store::outbox::NewOutboxMessage;
use onramp_store::{OutboxMessage, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const IMPL: i64 = 1;
const FROM: &str = "Onramp <onramp@example.org>";
const WAIT: Duration = Duration::from_secs(10);

#[path = "../../store/tests/support/mod.rs"]
mod support;

// ---------------------------------------------------------------- backends

spawned_on_both_backends!(
    delivers_over_smtp_with_text_and_html,
    outage_is_retried_with_backoff_and_nothing_is_lost,
    gives_up_after_max_attempts,
    permanent_errors_are_not_retried,
    maildir_gets_one_parseable_eml_per_message,
    sent_message_is_never_sent_again,
    run_loop_delivers_until_shutdown,
    concurrent_workers_deliver_each_message_once,
    expired_lease_releases_messages_without_losing_them,
);

// ---------------------------------------------------------------- helpers

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

async fn enqueue(
    store: &Store,
    now: DateTime<Utc>,
    to: &str,
    subject: &str,
    text: &str,
    html: Option<&str>,
) -> i64 {
    let payload = serde_json::json!({ "to": to, "subject": subject, "text": text, "html": html, "template": "test" })
        .to_string();
    enqueue_raw(store, now, "email", to, subject, &payload).await
}

async fn enqueue_raw(
    store: &Store,
    now: DateTime<Utc>,
    kind: &str,
    to: &str,
    subject: &str,
    payload: &str,
) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .outbox_enqueue(
            &NewOutboxMessage {
                implementation_id: Some(IMPL),
                kind,
                recipient: to,
                subject,
                payload,
            },
            now,
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

fn worker(
    store: &Store,
    clock: &ManualClock,
    mailer: Mailer,
    config: WorkerConfig,
) -> OutboxWorker {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    OutboxWorker::new(store.clone(), clock, mailer, config)
}

async fn smtp_setup(
    store: &Store,
    config: WorkerConfig,
) -> (TestSmtpServer, ManualClock, OutboxWorker) {
    let server = TestSmtpServer::start().await.unwrap();
    let mailer = Mailer::smtp(&server.smtp_config(FROM)).unwrap();
    let clock = ManualClock::new(t0());
    let w = worker(store, &clock, mailer, config);
    (server, clock, w)
}

fn lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// How many times the server received each subject.
fn subjects(server: &TestSmtpServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in server.received() {
        *counts.entry(m.subject().unwrap_or_default()).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------- scenarios

async fn delivers_over_smtp_with_text_and_html(store: Store) {
    let (server, _clock, w) = smtp_setup(&store, WorkerConfig::default()).await;
    let text = "Hello Ana,\n\nSet your password here (the link works once):\nhttps://onramp.example.org/invitations/accept?token=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\n.A line that starts with a dot\n.\nThanks — l'équipe HMIS\n";
    let html = "<p>Hello Ana,</p><p><a href=\"https://onramp.example.org/invitations/accept?token=0123456789abcdef\">Set your password</a></p><p>Thanks — l'équipe HMIS</p>";
    let subject = "Bienvenue à Onramp — your account";
    let id = enqueue(
        &store,
        t0(),
        "ana@agency.example.org",
        subject,
        text,
        Some(html),
    )
    .await;
    let plain_id = enqueue(
        &store,
        t0(),
        "bo@agency.example.org",
        "Plain only",
        "Just text.\n",
        None,
    )
    .await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 2,
            sent: 2,
            ..RunReport::default()
        }
    );

    let got = server.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2, "{got:#?}");
    let m = got
        .iter()
        .find(|m| m.rcpt_to == ["ana@agency.example.org"])
        .unwrap();
    assert_eq!(m.mail_from, "onramp@example.org");
    assert_eq!(m.authenticated_as, None);
    assert_eq!(m.subject().as_deref(), Some(subject));
    let parsed = m.parsed();
    assert!(parsed
        .header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    assert_eq!(parsed.header("To"), Some("ana@agency.example.org"));
    assert!(parsed
        .header("From")
        .unwrap()
        .contains("onramp@example.org"));
    assert!(parsed.header("Date").is_some());
    let message_id = parsed.header("Message-ID").unwrap();
    assert!(
        message_id.starts_with(&format!("<onramp.outbox.{id}."))
            && message_id.ends_with("@example.org>"),
        "{message_id}"
    );
    assert_eq!(lf(parsed.text().unwrap()).trim_end(), text.trim_end());
    assert_eq!(lf(parsed.html().unwrap()).trim_end(), html);
    assert_eq!(parsed.parts.len(), 2);

    let p = got
        .iter()
        .find(|m| m.rcpt_to == ["bo@agency.example.org"])
        .unwrap();
    assert_eq!(p.subject().as_deref(), Some("Plain only"));
    assert_eq!(p.text().unwrap().trim_end(), "Just text.");
    assert_eq!(p.html(), None);
    assert!(p.header("Content-Type").unwrap().starts_with("text/plain"));

    for id in [id, plain_id] {
        let r = row(&store, id).await;
        assert_eq!(r.status, "sent");
        assert_eq!(r.attempts, 1);
        assert_eq!(r.sent_at, Some(t0()));
        assert_eq!(r.last_error, None);
    }
}

async fn outage_is_retried_with_backoff_and_nothing_is_lost(store: Store) {
    let (server, clock, w) = smtp_setup(&store, WorkerConfig::default()).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let to = format!("user{i}@agency.example.org");
        ids.push(
            enqueue(
                &store,
                t0(),
                &to,
                &format!("Message {i}"),
                "body",
                Some("<p>body</p>"),
            )
            .await,
        );
    }
    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(server.addr()).await.is_err(),
        "stopped server must refuse"
    );

    // First failure: retried after 30 s.
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
        let r = row(&store, id).await;
        assert_eq!(r.status, "pending");
        assert_eq!(r.attempts, 1);
        assert!(
            r.last_error.as_deref().unwrap().contains("SMTP"),
            "{:?}",
            r.last_error
        );
        assert_eq!(r.next_attempt_at, t0() + Delta::seconds(30));
    }
    // Not due before the backoff ends.
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    clock.advance(Delta::seconds(29));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);

    // Second failure: the delay doubles.
    clock.advance(Delta::seconds(2));
    let failed_at = clock.now();
    assert_eq!(w.run_once().await.unwrap().retrying, 3);
    for &id in &ids {
        let r = row(&store, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("pending", 2));
        assert_eq!(r.next_attempt_at, failed_at + Delta::seconds(60));
    }

    // The server comes back on the same port; after the backoff every message goes once.
    server.restart().await.unwrap();
    clock.advance(Delta::seconds(59));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert!(server.received().is_empty());
    clock.advance(Delta::seconds(2));
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 3,
            sent: 3,
            ..RunReport::default()
        }
    );
    assert_eq!(server.wait_for(3, WAIT).await.len(), 3);
    for &id in &ids {
        let r = row(&store, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("sent", 3));
        assert_eq!(r.last_error, None);
    }

    // Nothing is sent again, however long we wait.
    for _ in 0..3 {
        clock.advance(Delta::hours(2));
        assert_eq!(w.run_once().await.unwrap().claimed, 0);
    }
    let counts = subjects(&server);
    assert_eq!(counts.len(), 3, "{counts:?}");
    for i in 0..3 {
        assert_eq!(counts.get(&format!("Message {i}")), Some(&1), "{counts:?}");
    }
}

async fn gives_up_after_max_attempts(store: Store) {
    let config = WorkerConfig {
        max_attempts: 3,
        ..WorkerConfig::default()
    };
    let (server, clock, w) = smtp_setup(&store, config).await;
    server.stop().await;
    let id = enqueue(
        &store,
        t0(),
        "ana@agency.example.org",
        "Doomed",
        "body",
        None,
    )
    .await;

    let r1 = w.run_once().await.unwrap();
    assert_eq!((r1.retrying, r1.failed), (1, 0));
    clock.advance(Delta::seconds(30));
    let r2 = w.run_once().await.unwrap();
    assert_eq!((r2.retrying, r2.failed), (1, 0));
    assert_eq!(
        row(&store, id).await.next_attempt_at,
        clock.now() + Delta::seconds(60)
    );
    clock.advance(Delta::seconds(60));
    let r3 = w.run_once().await.unwrap();
    assert_eq!((r3.retrying, r3.failed), (0, 1));

    let r = row(&store, id).await;
    assert_eq!(r.status, "failed");
    assert_eq!(r.attempts, 3);
    assert!(r.last_error.as_deref().unwrap().contains("SMTP"));
    assert_eq!(r.sent_at, None);

    // A failed message stays failed, even once the server is back.
    server.restart().await.unwrap();
    clock.advance(Delta::hours(5));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    assert!(server.received().is_empty());
}

async fn permanent_errors_are_not_retried(store: Store) {
    let (server, _clock, w) = smtp_setup(&store, WorkerConfig::default()).await;
    let unknown = enqueue_raw(&store, t0(), "fax", "x@example.org", "s", "{}").await;
    let not_json = enqueue_raw(&store, t0(), "email", "x@example.org", "s", "not json").await;
    let bad_address = enqueue(&store, t0(), "not an address", "s", "t", None).await;
    let good = enqueue(&store, t0(), "ok@example.org", "Fine", "t", None).await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 4,
            sent: 1,
            failed: 3,
            ..RunReport::default()
        }
    );

    let r = row(&store, unknown).await;
    assert_eq!((r.status.as_str(), r.attempts), ("failed", 1));
    assert!(
        r.last_error
            .as_deref()
            .unwrap()
            .contains("unknown outbox message kind 'fax'"),
        "{:?}",
        r.last_error
    );
    let r = row(&store, not_json).await;
    assert_eq!(r.status, "failed");
    assert!(
        r.last_error.as_deref().unwrap().contains("payload"),
        "{:?}",
        r.last_error
    );
    let r = row(&store, bad_address).await;
    assert_eq!(r.status, "failed");
    assert!(
        r.last_error
            .as_deref()
            .unwrap()
            .contains("recipient address"),
        "{:?}",
        r.last_error
    );
    assert_eq!(row(&store, good).await.status, "sent");
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
}

async fn maildir_gets_one_parseable_eml_per_message(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    let mailer = Mailer::from_config(None, &maildir, FROM).unwrap();
    for sub in ["tmp", "new", "cur"] {
        assert!(maildir.join(sub).is_dir(), "{sub}/ must exist");
    }
    let clock = ManualClock::new(t0());
    let w = worker(&store, &clock, mailer.clone(), WorkerConfig::default());
    let a = enqueue(
        &store,
        t0(),
        "ana@agency.example.org",
        "Réinitialiser",
        "Text for Ana\n",
        Some("<p>HTML for Ana</p>"),
    )
    .await;
    let b = enqueue(
        &store,
        t0(),
        "bo@agency.example.org",
        "Plain for Bo",
        "Text for Bo\n",
        None,
    )
    .await;

    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 2,
            sent: 2,
            ..RunReport::default()
        }
    );

    let read_new = || {
        let mut files: Vec<_> = std::fs::read_dir(maildir.join("new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    };
    let files = read_new();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        std::fs::read_dir(maildir.join("tmp")).unwrap().count(),
        0,
        "tmp/ must be empty"
    );
    let mut by_to = HashMap::new();
    for f in &files {
        assert_eq!(f.extension().and_then(|e| e.to_str()), Some("eml"), "{f:?}");
        let raw = std::fs::read_to_string(f).unwrap();
        let parsed = ParsedEmail::parse(&raw);
        for h in [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "MIME-Version",
        ] {
            assert!(parsed.header(h).is_some(), "{h} missing in {f:?}");
        }
        by_to.insert(parsed.header("To").unwrap().to_string(), parsed);
    }
    let ana = &by_to["ana@agency.example.org"];
    assert_eq!(ana.subject(), Some("Réinitialiser"));
    assert_eq!(lf(ana.text().unwrap()).trim_end(), "Text for Ana");
    assert_eq!(lf(ana.html().unwrap()).trim_end(), "<p>HTML for Ana</p>");
    assert!(ana
        .header("Message-ID")
        .unwrap()
        .starts_with(&format!("<onramp.outbox.{a}.")));
    let bo = &by_to["bo@agency.example.org"];
    assert_eq!(bo.subject(), Some("Plain for Bo"));
    assert_eq!(bo.text().unwrap().trim_end(), "Text for Bo");
    assert_eq!(bo.html(), None);
    assert!(bo
        .header("Message-ID")
        .unwrap()
        .starts_with(&format!("<onramp.outbox.{b}.")));

    // Later rounds write nothing more; a repeated delivery of the same message (as after a
    // crash between delivery and recording) replaces its file instead of adding one.
    clock.advance(Delta::hours(3));
    assert_eq!(w.run_once().await.unwrap().claimed, 0);
    let again = row(&store, a).await;
    let payload = onramp_jobs::EmailPayload::from_outbox(&again).unwrap();
    mailer
        .send(
            &payload,
            &mailer.outbox_message_id(again.id, again.created_at),
        )
        .await
        .unwrap();
    assert_eq!(read_new(), files);
}

async fn sent_message_is_never_sent_again(store: Store) {
    let (server, clock, w) = smtp_setup(&store, WorkerConfig::default()).await;
    let id = enqueue(&store, t0(), "ana@agency.example.org", "Once", "body", None).await;
    assert_eq!(w.run_once().await.unwrap().sent, 1);
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);

    // Past the lease, past any backoff: still only one delivery.
    for step in [Delta::seconds(61), Delta::minutes(30), Delta::days(2)] {
        clock.advance(step);
        assert_eq!(w.run_once().await.unwrap(), RunReport::default());
    }
    assert_eq!(server.received().len(), 1);
    let r = row(&store, id).await;
    assert_eq!(
        (r.status.as_str(), r.attempts, r.sent_at),
        ("sent", 1, Some(t0()))
    );
}

async fn run_loop_delivers_until_shutdown(store: Store) {
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(50),
        ..WorkerConfig::default()
    };
    let (server, _clock, w) = smtp_setup(&store, config).await;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(w.run(shutdown));
    enqueue(&store, t0(), "a@example.org", "First", "1", None).await;
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
    enqueue(&store, t0(), "b@example.org", "Second", "2", None).await;
    assert_eq!(server.wait_for(2, WAIT).await.len(), 2);

    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, running).await.unwrap().unwrap();
    enqueue(&store, t0(), "c@example.org", "After shutdown", "3", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.received().len(), 2);
}

async fn concurrent_workers_deliver_each_message_once(store: Store) {
    let server = TestSmtpServer::start().await.unwrap();
    let clock = ManualClock::new(t0());
    let n = 30;
    for i in 0..n {
        enqueue(
            &store,
            t0(),
            &format!("u{i}@example.org"),
            &format!("Concurrent {i}"),
            "x",
            None,
        )
        .await;
    }
    let config = WorkerConfig {
        batch_size: 4,
        ..WorkerConfig::default()
    };
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let w = worker(
            &store,
            &clock,
            Mailer::smtp(&server.smtp_config(FROM)).unwrap(),
            config.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let r = w.run_once().await.unwrap();
                sent += r.sent;
                if r.claimed == 0 {
                    return sent;
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, n);
    assert_eq!(server.wait_for(n, WAIT).await.len(), n);
    let counts = subjects(&server);
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

/// Reads `first` once, then `later` forever: time jumps while a round is running.
struct JumpClock {
    calls: AtomicUsize,
    first: DateTime<Utc>,
    later: DateTime<Utc>,
}

impl Clock for JumpClock {
    fn now(&self) -> DateTime<Utc> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            self.first
        } else {
            self.later
        }
    }
}

async fn expired_lease_releases_messages_without_losing_them(store: Store) {
    let server = TestSmtpServer::start().await.unwrap();
    let a = enqueue(&store, t0(), "a@example.org", "Lease A", "x", None).await;
    let b = enqueue(&store, t0(), "b@example.org", "Lease B", "x", None).await;
    let clock = Arc::new(JumpClock {
        calls: AtomicUsize::new(0),
        first: t0(),
        later: t0() + Delta::seconds(61),
    });
    let mailer = Mailer::smtp(&server.smtp_config(FROM)).unwrap();
    let w = OutboxWorker::new(store.clone(), clock, mailer, WorkerConfig::default());

    // The 60 s lease is over before delivery starts: nothing is sent, nothing is counted.
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 2,
            released: 2,
            ..RunReport::default()
        }
    );
    assert!(server.received().is_empty());
    for id in [a, b] {
        let r = row(&store, id).await;
        assert_eq!((r.status.as_str(), r.attempts), ("pending", 0));
        assert_eq!(r.next_attempt_at, t0() + Delta::seconds(60));
    }

    // They are due again at once, and go out once.
    let report = w.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            claimed: 2,
            sent: 2,
            ..RunReport::default()
        }
    );
    assert_eq!(server.wait_for(2, WAIT).await.len(), 2);
    for id in [a, b] {
        assert_eq!(row(&store, id).await.attempts, 1);
    }
}

/// Credentials over a plain connection (as a dev relay would take them), and a body full
/// of dots and long lines, straight through the mailer.
#[tokio::test]
async fn mailer_authenticates_and_keeps_the_body_intact() {
    let server = TestSmtpServer::start().await.unwrap();
    let mut config = server.smtp_config(FROM);
    config.username = Some("relay-user".into());
    config.password = Some("relay-secret".into());
    let mailer = Mailer::smtp(&config).unwrap();
    let text = format!(".\n..\n. starts with a dot\n{}\nend\n", "long-".repeat(60));
    let payload = onramp_jobs::EmailPayload {
        to: "Ana Example <ana@agency.example.org>".into(),
        subject: "Dots\r\nBcc: injected@example.org".into(),
        text: text.clone(),
        html: Some("<p>x</p>".into()),
    };
    let id = mailer.new_message_id();
    mailer.send(&payload, &id).await.unwrap();
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.rcpt_to, ["ana@agency.example.org"]);
    assert_eq!(m.authenticated_as.as_deref(), Some("relay-user"));
    assert_eq!(m.header("Message-ID").as_deref(), Some(id.as_str()));
    assert_eq!(
        m.header("Bcc"),
        None,
        "no header injection through the subject"
    );
    assert_eq!(
        m.subject().as_deref(),
        Some("Dots  Bcc: injected@example.org")
    );
    assert_eq!(lf(&m.text().unwrap()).trim_end(), text.trim_end());
}
