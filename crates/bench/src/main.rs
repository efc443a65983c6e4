//! `onramp-bench`: measures Onramp's pages under load beside a bare axum handler served
//! and measured the same way in the same run, and prints the ratios.
//!
//! It builds a data set (agencies, projects, people with accounts) in a fresh SQLite
//! database, serves the real router on a loopback port, and drives it with a fixed number
//! of concurrent keep-alive clients for a fixed time per scenario. Figures are printed,
//! never asserted: these machines are noisy.

mod quizzes;

use anyhow::{bail, Context, Result};
use clap::Parser;
use onramp_app::{App, AppConfig};
use onramp_domain::clock::SystemClock;
use onramp_domain::{HudProjectType, ParticipationStatus};
use onramp_store::organisation::NewAgency;
use onramp_store::people::PersonFields;
use onramp_store::reads::*;
use onramp_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "onramp-bench",
    about = "Benchmark Onramp's pages against a bare axum handler"
)]
struct Args {
    /// People (each with an account) in the generated data set.
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// Agencies in the generated data set (each with two projects).
    #[arg(long, default_value_t = 200)]
    agencies: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of measurement per scenario (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Instead of the pages, time each statement of the trainee's plan, in the process, and stop.
    #[arg(long)]
    statements: bool,
    /// Measure only the scenarios whose name holds this text (the baseline always runs).
    #[arg(long)]
    only: Option<String>,
}

impl Args {
    fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| name.contains(o))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let store = Store::open_sqlite(&dir.path().join("bench.db")).await?;
    store.migrate().await?;
    let app = App::new(store, Arc::new(SystemClock), AppConfig::default());

    let t = Instant::now();
    generate(&app, &args).await?;
    println!(
        "data set: {} people with accounts and six-course plans, {} agencies, {} projects, generated in {:.1} s",
        args.people,
        args.agencies,
        args.agencies * 2,
        t.elapsed().as_secs_f64()
    );

    if args.statements {
        return statement_figures(&app).await;
    }
    let quiz_data = if args.wants(quizzes::SUBMIT) || args.wants(quizzes::ANALYSIS) {
        let t = Instant::now();
        let d = quizzes::generate(&app, &args).await?;
        println!(
            "quizzes: {} past attempts of 20 questions, one quiz with 10,000 graded, generated in {:.1} s",
            d.past_attempts,
            t.elapsed().as_secs_f64()
        );
        Some(d)
    } else {
        None
    };
    let onramp = serve(onramp_web::router(onramp_web::AppState::new(
        app.clone(),
        false,
    )))
    .await?;
    let bare = serve(axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html(BARE_PAGE) }),
    ))
    .await?;

    let anon = client()?;
    let trainee = client()?;
    sign_in(&trainee, onramp, "trainee@harbor.example.org").await?;
    let auditor = client()?;
    sign_in(&auditor, onramp, "auditor@demo.example.org").await?;

    println!(
        "load: {} concurrent clients, {} s per scenario, on {} cores\n",
        args.concurrency,
        args.seconds,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let baseline = measure(
        "bare axum handler (baseline)",
        &anon,
        format!("http://{bare}/"),
        &args,
    )
    .await?;
    let pages: [(&'static str, &reqwest::Client, String); 5] = [
        (
            "GET /signin (anonymous)",
            &anon,
            format!("http://{onramp}/signin"),
        ),
        (
            "GET / (trainee home with a six-item plan)",
            &trainee,
            format!("http://{onramp}/"),
        ),
        (
            "GET /training (trainee's plan page)",
            &trainee,
            format!("http://{onramp}/training"),
        ),
        (
            "GET /admin/people (auditor, first page of all)",
            &auditor,
            format!("http://{onramp}/admin/people"),
        ),
        (
            "GET /admin/people?q=smith (auditor, search)",
            &auditor,
            format!("http://{onramp}/admin/people?q=smith"),
        ),
    ];
    let mut rows = Vec::new();
    for (name, c, url) in pages {
        if args.wants(name) {
            rows.push(measure(name, c, url, &args).await?);
        }
    }
    println!(
        "{:<48} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "scenario", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "ratio"
    );
    print_row(&baseline, baseline.rps);
    for r in &rows {
        print_row(r, baseline.rps);
    }
    if args.wants(VIDEO) {
        let video = video_figures(&app, onramp, &args).await?;
        print_row(&video, baseline.rps);
    }
    if args.wants(PREVIEW) {
        let preview = preview_figures(&app, &args).await?;
        print_row(&preview, baseline.rps);
    }
    if let Some(d) = &quiz_data {
        if args.wants(quizzes::SUBMIT) {
            print_row(
                &quizzes::submission_figures(&app, onramp, &args).await?,
                baseline.rps,
            );
        }
        if args.wants(quizzes::ANALYSIS) {
            print_row(
                &quizzes::analysis_figures(&app, d, &args).await?,
                baseline.rps,
            );
        }
    }
    println!("\nratio = requests/s of the scenario ÷ requests/s of the bare handler, measured in this run.");
    Ok(())
}

const VIDEO: &str = "POST video progress (a viewer per client)";
const PREVIEW: &str = "rule preview (in process, one caller)";

const BARE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><title>ok</title></head><body><main><h1>ok</h1></main></body></html>";

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()?)
}

async fn serve(router: axum::Router) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(addr)
}

/// The password of every generated person.
const BENCH_PASSWORD: &str = "bench-password-2026";

async fn sign_in(c: &reqwest::Client, addr: SocketAddr, email: &str) -> Result<()> {
    sign_in_with(c, addr, email, onramp_app::demo::DEMO_PASSWORD).await
}

async fn sign_in_with(
    c: &reqwest::Client,
    addr: SocketAddr,
    email: &str,
    password: &str,
) -> Result<()> {
    let page = c
        .get(format!("http://{addr}/signin"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("no CSRF token on the sign-in page")?
        .to_string();
    let res = c
        .post(format!("http://{addr}/signin"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("signing in as {email} failed: {}", res.status());
    }
    Ok(())
}

struct Figures {
    name: &'static str,
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn print_row(f: &Figures, base: f64) {
    println!(
        "{:<48} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.2}",
        f.name,
        f.rps,
        f.p50,
        f.p90,
        f.p99,
        f.max,
        f.rps / base
    );
}

/// Runs `concurrency` clients in a loop for `seconds` after a one-second warm-up.
async fn measure(
    name: &'static str,
    c: &reqwest::Client,
    url: String,
    args: &Args,
) -> Result<Figures> {
    let check = c.get(&url).send().await?;
    if !check.status().is_success() {
        bail!("{name}: {url} answered {}", check.status());
    }
    let warm_until = Instant::now() + Duration::from_secs(1);
    let end = warm_until + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let c = c.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                let ok = match c.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if t >= warm_until {
                    if ok {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    if errors > 0 {
        bail!("{name}: {errors} requests failed");
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Ok(Figures {
        name,
        rps: all.len() as f64 / args.seconds as f64,
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or(0.0),
    })
}

const GIVEN: [&str; 12] = [
    "Ana", "Ben", "Carla", "Dev", "Elena", "Femi", "Grace", "Hugo", "Ines", "Jon", "Kai", "Lea",
];
const FAMILY: [&str; 12] = [
    "Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Haddad", "Lopez", "Brown", "Singh",
    "Ivanova", "Moreau", "Tanaka",
];

/// The demo implementation plus generated agencies, projects and people. Every generated
/// account shares one password hash, so the set builds in seconds.
async fn generate(app: &App, args: &Args) -> Result<()> {
    let (imp, _) = onramp_app::demo::load(app)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash =
        onramp_app::auth::hash_password(app, BENCH_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut agencies = Vec::with_capacity(args.agencies);
    for i in 0..args.agencies {
        let name = format!("Bench Agency {i:04}");
        let id = tx
            .agency_create(
                &NewAgency {
                    implementation_id: imp,
                    name: &name,
                    participation_status: ParticipationStatus::Participating.as_str(),
                    participation_date: None,
                },
                now,
            )
            .await?;
        tx.project_create(
            imp,
            id,
            &format!("{name} Shelter"),
            HudProjectType::EmergencyShelterEntryExit.code(),
            now,
        )
        .await?;
        tx.project_create(
            imp,
            id,
            &format!("{name} RRH"),
            HudProjectType::RapidReHousing.code(),
            now,
        )
        .await?;
        agencies.push(id);
    }
    for i in 0..args.people {
        let email = format!("person{i}@bench.example.org");
        let given = GIVEN[i % GIVEN.len()];
        let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
        let agency = agencies.get(i % agencies.len().max(1)).copied();
        let id = tx
            .person_create(
                imp,
                &PersonFields {
                    given_name: given,
                    family_name: family,
                    email: &email,
                    agency_id: agency,
                },
                now,
            )
            .await?;
        tx.account_create(id, &email).await?;
        tx.account_set_password(id, &hash, false, now).await?;
        if i % 20_000 == 19_999 {
            tx.commit().await?;
            tx = app.store.begin().await?;
        }
    }
    // The auditor signs in with a password alone: the benchmark measures pages, not
    // two-step sign-in.
    tx.setting_put(imp, onramp_app::auth::MFA_FOR_ALL_READERS, "false")
        .await?;
    tx.commit().await?;
    plans(app, imp, args).await?;
    Ok(())
}

/// Six published courses, rules that require all six, and a plan with enrolments for every
/// person (the demo trainee among them): about half the people have finished one course,
/// and the demo trainee has finished two and started a third.
async fn plans(app: &App, imp: i64, args: &Args) -> Result<()> {
    use onramp_app::learning::{courses, plans};
    use onramp_domain::learning::rules::{compute_plan, PlanFacts, RuleSet};
    use onramp_store::learning::plans::{NewCompletion, NewPlan};
    let lead = lead_ctx(app).await?;
    let mut keys = Vec::new();
    for n in 1..=6 {
        let key = format!("bench-course-{n}");
        let id = courses::create(
            app,
            &lead,
            &courses::CourseInput {
                key: key.clone(),
                title: format!("Bench course {n}"),
                summary: "A course of the benchmark's data set.".into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for l in 1..=4 {
            courses::save_lesson(
                app,
                &lead,
                id,
                None,
                &courses::LessonInput {
                    key: format!("lesson-{l}"),
                    title: format!("Lesson {l}"),
                    kind: "reading".into(),
                    body: "Read this.".into(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        courses::publish(app, &lead, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        keys.push(key);
    }
    let rules = format!(
        "[[rules]]\nkey = \"bench\"\ntitle = \"Everyone takes the six bench courses\"\nall_of = [{}]\n",
        keys.iter()
            .map(|k| format!("\"course:{k}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    plans::save_rules(app, &lead, &rules)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let set: RuleSet = toml::from_str(&rules)?;
    let facts = PlanFacts::default();
    let spec = compute_plan(&set, &facts, |_| None);
    let facts = serde_json::to_string(&facts)?;
    let spec = serde_json::to_string(&spec)?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut course_rows = Vec::new();
    for k in &keys {
        let c = tx.course_by_key(imp, k).await?.context("bench course")?;
        let v = tx.course_versions(c.id).await?;
        course_rows.push((c, v.last().map(|v| v.id).context("a version")?));
    }
    let people: Vec<i64> = {
        let trainee = tx
            .person_by_email(imp, "trainee@harbor.example.org")
            .await?
            .context("the demo trainee")?
            .id;
        let mut v = vec![trainee];
        for i in 0..args.people {
            if let Some(p) = tx
                .person_by_email(imp, &format!("person{i}@bench.example.org"))
                .await?
            {
                v.push(p.id);
            }
        }
        v
    };
    for (n, person) in people.iter().enumerate() {
        tx.plan_save(
            &NewPlan {
                implementation_id: imp,
                person_id: *person,
                request_id: None,
                rules_version: 1,
                facts: &facts,
                spec: &spec,
                began_at: now,
                carry_over_days: 365,
                reason: "Benchmark data set",
            },
            now,
        )
        .await?;
        let finished = if n == 0 { 2 } else { n % 2 };
        for (i, (c, version)) in course_rows.iter().enumerate() {
            let (e, _) = tx
                .enrolment_ensure(imp, *person, c.id, *version, now)
                .await?;
            if i < finished {
                tx.enrolment_complete(e.id, now).await?;
                tx.completion_add(&NewCompletion {
                    implementation_id: imp,
                    person_id: *person,
                    item_kind: "course",
                    item_key: &c.key,
                    item_version: Some(1),
                    completed_at: now,
                    evidence: "Benchmark",
                    recorded_by: None,
                    reason: "",
                })
                .await?;
            } else if i == finished && n == 0 {
                let lesson = tx
                    .lessons_of_version(*version)
                    .await?
                    .first()
                    .context("a lesson")?
                    .id;
                let mut p = onramp_app::learning::lessons::blank_progress(e.id, lesson, now);
                p.completed_at = Some(now);
                p.how = "read".into();
                tx.lesson_progress_save(&p).await?;
            }
        }
        if n % 5_000 == 4_999 {
            tx.commit().await?;
            tx = app.store.begin().await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Video progress reports: `concurrency` trainees (people of the data set, each enrolled in
/// the starter course with a video) each open the video lesson's page, as the player does,
/// and post reports of what they played at normal speed, as fast as the server answers.
/// Every report must be accepted.
async fn video_figures(app: &App, onramp: SocketAddr, args: &Args) -> Result<Figures> {
    let imp = lead_ctx(app).await?.implementation_id();
    let (course_id, lesson_key, duration_ms) = {
        let mut tx = app.store.begin().await?;
        let c = tx
            .course_by_key(imp, "security-awareness")
            .await?
            .context("the starter course with a video")?;
        let version = tx
            .course_versions(c.id)
            .await?
            .last()
            .map(|v| v.id)
            .context("a version")?;
        let lesson = tx
            .lessons_of_version(version)
            .await?
            .into_iter()
            .find(|l| l.kind == "video")
            .context("a video lesson")?;
        let now = app.now();
        for i in 0..args.concurrency {
            let person = tx
                .person_by_email(imp, &format!("person{i}@bench.example.org"))
                .await?
                .context("a person of the data set")?;
            tx.enrolment_ensure(imp, person.id, c.id, version, now)
                .await?;
        }
        tx.commit().await?;
        (
            c.id,
            lesson.key,
            lesson.duration_ms.unwrap_or(0).max(1) as u64,
        )
    };
    let page_url = format!("http://{onramp}/training/courses/{course_id}/lessons/{lesson_key}");
    let attr = |page: &str, name: &str| -> Result<String> {
        Ok(page
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .with_context(|| format!("no {name} on the lesson page"))?
            .to_string())
    };
    let mut viewers = Vec::new();
    for i in 0..args.concurrency {
        let c = client()?;
        sign_in_with(
            &c,
            onramp,
            &format!("person{i}@bench.example.org"),
            BENCH_PASSWORD,
        )
        .await?;
        let page = c.get(&page_url).send().await?.text().await?;
        let view = attr(&page, "data-view")?;
        let csrf = attr(&page, "data-csrf")?;
        let url = format!("http://{onramp}{}", attr(&page, "data-progress-url")?);
        viewers.push((c, view, csrf, url));
    }
    let opened = Instant::now();
    let warm_until = opened + Duration::from_secs(1);
    let end = warm_until + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for (c, view, csrf, url) in viewers {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut refused = 0u64;
            let mut seq = 0u32;
            while Instant::now() < end {
                seq += 1;
                // What an honest player has played by now, at normal speed.
                let played = (opened.elapsed().as_millis() as u64).min(duration_ms);
                let body = serde_json::json!({
                    "view": view, "seq": seq, "ranges": [[0, played]], "position_ms": played
                });
                let t = Instant::now();
                let ok = match c
                    .post(&url)
                    .header("X-CSRF-Token", &csrf)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if t >= warm_until {
                    if ok {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        refused += 1;
                    }
                }
            }
            (lat, refused)
        }));
    }
    let mut all = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (l, r) = t.await?;
        all.extend(l);
        refused += r;
    }
    if refused > 0 {
        bail!("video progress: {refused} reports refused or failed");
    }
    Ok(figures(VIDEO, all, args))
}

/// The demo's Lead admin, as a service caller.
async fn lead_ctx(app: &App) -> Result<onramp_app::Ctx> {
    let mut tx = app.store.read().await?;
    let a = tx
        .account_by_email("lead@demo.example.org")
        .await?
        .context("the demo Lead admin")?;
    let actor = onramp_app::auth::load_actor(&mut tx, a.person_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(onramp_app::Ctx::new(actor, "127.0.0.1"))
}

/// Times the rule preview (the function that builds real plans) in the process.
async fn preview_figures(app: &App, args: &Args) -> Result<Figures> {
    use onramp_domain::learning::rules::PlanFacts;
    let lead = lead_ctx(app).await?;
    let facts = PlanFacts {
        process: "courses-and-proctored-session".into(),
        access_level: "end_user".into(),
        project_types: vec![0, 13],
        ..Default::default()
    };
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let mut lat = Vec::new();
    while Instant::now() < end {
        let t = Instant::now();
        onramp_app::learning::plans::preview(app, &lead, &facts)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(figures(PREVIEW, lat, args))
}

fn figures(name: &'static str, mut all: Vec<f64>, args: &Args) -> Figures {
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Figures {
        name,
        rps: all.len() as f64 / args.seconds as f64,
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or(0.0),
    }
}

/// Runs `$rows` a number of times and prints the time each took and the rows it gave.
macro_rules! time {
    ($name:expr, $rows:expr) => {{
        const RUNS: u32 = 2000;
        let t = Instant::now();
        let mut rows = 0usize;
        for _ in 0..RUNS {
            rows = $rows;
        }
        println!(
            "{:<48} {:>9.1} {:>6}",
            $name,
            t.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS),
            rows
        );
    }};
}

/// Times each read of the trainee's plan on its own (one caller, in the process), on a
/// reading transaction (sqlx) and on a snapshot (inline on SQLite), beside the whole plan
/// read: what one statement costs through each SQLite driver, by rows.
async fn statement_figures(app: &App) -> Result<()> {
    let mut tx = app.store.read().await?;
    let person = tx
        .account_by_email("trainee@harbor.example.org")
        .await?
        .context("the demo trainee")?
        .person_id;
    let plan = tx
        .plan_current(person)
        .await?
        .context("the trainee's plan")?;
    println!("{:<48} {:>9} {:>6}", "statement", "µs each", "rows");
    time_reads("transaction", &mut tx, person, &plan).await?;
    drop(tx);
    time_reads("snapshot", &mut app.store.snapshot().await?, person, &plan).await?;
    time!("the whole plan (transaction)", {
        let mut tx = app.store.read().await?;
        usize::from(
            onramp_app::learning::plans::state_in(&mut tx, person)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_some(),
        )
    });
    let ctx = onramp_app::Ctx::new(
        onramp_app::auth::load_actor(&mut app.store.read().await?, person)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        "127.0.0.1",
    );
    time!("the trainee's own plan (as the pages read it)", {
        usize::from(
            onramp_app::learning::plans::person_plan(app, &ctx, person)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_some(),
        )
    });
    time!("the trainee's home without the plan", {
        onramp_app::home::home(app, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .own
            .len()
    });
    time!("who holds a session", {
        usize::from(
            app.store
                .session_holder("no such session", "mfa_for_all_readers")
                .await?
                .is_some(),
        )
    });
    time!("the whole plan (snapshot)", {
        let mut s = app.store.snapshot().await?;
        usize::from(
            onramp_app::learning::plans::state_in(&mut s, person)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_some(),
        )
    });
    Ok(())
}

async fn time_reads<R: PlanReads + CourseReads>(
    on: &str,
    r: &mut R,
    person: i64,
    plan: &onramp_store::learning::plans::TrainingPlan,
) -> Result<()> {
    time!(
        format!("{on}: waivers of no plan (no rows)"),
        r.plan_waivers(-1).await?.len()
    );
    time!(format!("{on}: current plan (one row)"), {
        usize::from(r.plan_current(person).await?.is_some())
    });
    time!(
        format!("{on}: completions"),
        r.completions_of(person).await?.len()
    );
    time!(
        format!("{on}: waivers"),
        r.plan_waivers(plan.id).await?.len()
    );
    time!(
        format!("{on}: enrolments"),
        r.enrolments_of_person(person).await?.len()
    );
    time!(
        format!("{on}: lesson progress"),
        r.lesson_progress_of_person(person).await?.len()
    );
    time!(
        format!("{on}: lesson outlines"),
        r.lesson_outlines_of_open_enrolments(person).await?.len()
    );
    time!(
        format!("{on}: the implementation's courses"),
        r.courses(plan.implementation_id).await?.len()
    );
    Ok(())
}
