//! The quiz rows: submitting a 20-question attempt over HTTP with two million past
//! attempts in the database, and the item analysis of a quiz with ten thousand graded
//! attempts.
//!
//! The quizzes are made through the services (the bank imported from GIFT, each quiz saved
//! from its form); the bulk rows (past attempts, the analysis quiz's graded answers and the
//! attempts the clients submit) are written with one SQL statement each, as a data
//! generator, since making two million attempts one by one would take most of an hour.

use crate::{client, figures, lead_ctx, sign_in_with, Args, Figures, BENCH_PASSWORD};
use anyhow::{bail, Context, Result};
use onramp_app::learning::quizzes::{self, bank, QuizInput};
use onramp_app::App;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const SUBMIT: &str = "POST quiz submission (20 questions)";
pub const ANALYSIS: &str = "quiz item analysis, 10,000 attempts (in process)";

/// Questions per quiz.
const QUESTIONS: usize = 20;
/// Quizzes every person of the data set has one past attempt at.
const PAST_QUIZZES: usize = 20;
/// Quizzes the measuring clients' people each have an open attempt at: more than a client
/// submits in a run.
const OPEN_QUIZZES: usize = 1_500;
/// Graded attempts of the quiz whose item analysis is timed.
const ANALYSED: usize = 10_000;

/// The benchmark's 20 questions, each with one right answer (the first) and three wrong.
fn bank_text() -> String {
    let mut s = String::from("$CATEGORY: Benchmark\n\n");
    for i in 1..=QUESTIONS {
        s.push_str(&format!(
            "// [id:BENCH-{i:02}]\n::Benchmark {i}::Which answer is right for question {i}? {{\n\t=The right answer {i}\n\t~A wrong answer\n\t~Another wrong answer\n\t~A third wrong answer\n}}\n\n"
        ));
    }
    s
}

fn quiz_input(key: &str, title: &str) -> QuizInput {
    let mut q = QuizInput::new_quiz();
    q.key = key.into();
    q.title = title.into();
    q.shuffle_answers = false;
    q.questions = (1..=QUESTIONS)
        .map(|i| format!("question: BENCH-{i:02}\n"))
        .collect();
    q
}

pub struct QuizData {
    /// The quiz whose item analysis is timed.
    pub analysed: i64,
    pub past_attempts: i64,
}

fn app_err(e: onramp_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Makes the bank and the quizzes, then the rows in bulk.
pub async fn generate(app: &App, args: &Args) -> Result<QuizData> {
    let lead = lead_ctx(app).await?;
    let imp = lead.implementation_id();
    let report = bank::import(app, &lead, bank::BankFormat::Gift, &bank_text())
        .await
        .map_err(app_err)?;
    if report.lines.len() != QUESTIONS {
        bail!(
            "the benchmark bank imported {} questions",
            report.lines.len()
        );
    }
    let mut past = Vec::new();
    for i in 0..PAST_QUIZZES {
        let id = quizzes::save(
            app,
            &lead,
            None,
            &quiz_input(
                &format!("bench-past-{i:02}"),
                &format!("Benchmark quiz {i}"),
            ),
        )
        .await
        .map_err(app_err)?;
        past.push(id);
    }
    for i in 0..OPEN_QUIZZES {
        quizzes::save(
            app,
            &lead,
            None,
            &quiz_input(
                &format!("bench-take-{i:04}"),
                &format!("Benchmark retake {i}"),
            ),
        )
        .await
        .map_err(app_err)?;
    }
    let analysed = past[0];
    let mut tx = app.store.begin().await?;
    let ts = format!("(SELECT created_at FROM quizzes WHERE id = {analysed})");
    // Each quiz's questions, as its attempts ask them.
    let slots = "SELECT qs.quiz_id AS quiz_id, qs.position AS pos, qv.id AS vid FROM quiz_slots qs \
                 JOIN questions qu ON qu.id = qs.question_id \
                 JOIN question_versions qv ON qv.question_id = qu.id AND qv.version = qu.current_version";
    let past_attempts = tx
        .execute_raw(&format!(
            "INSERT INTO quiz_attempts (implementation_id, quiz_id, person_id, number, started_at, submitted_at, mark, max_mark, percent, passed) \
             SELECT {imp}, q.id, p.id, 1, {ts}, {ts}, 16.0, 20.0, 80.0, TRUE \
             FROM people p, (SELECT id FROM quizzes WHERE key LIKE 'bench-past-%') q \
             WHERE p.email LIKE '%@bench.example.org'"
        ))
        .await?;
    // The analysed quiz's graded answers: a mix of right and wrong, harder questions later.
    let right = "((a.id * 31 + v.pos * 17) % 20) >= v.pos / 2";
    tx.execute_raw(&format!(
        "INSERT INTO attempt_questions (attempt_id, position, question_version_id, answer_order, response, answered_at, seconds, mark, max_mark) \
         SELECT a.id, v.pos, v.vid, '[0,1,2,3]', \
                CASE WHEN {right} THEN '{{\"kind\":\"choice\",\"value\":0}}' \
                     ELSE '{{\"kind\":\"choice\",\"value\":' || (1 + (a.id + v.pos) % 3) || '}}' END, \
                {ts}, 5 + (a.id + v.pos) % 60, CASE WHEN {right} THEN 1.0 ELSE 0.0 END, 1.0 \
         FROM (SELECT id FROM quiz_attempts WHERE quiz_id = {analysed} ORDER BY id LIMIT {ANALYSED}) a, \
              ({slots}) v WHERE v.quiz_id = {analysed}"
    ))
    .await?;
    tx.execute_raw(&format!(
        "UPDATE quiz_attempts SET mark = (SELECT SUM(mark) FROM attempt_questions WHERE attempt_id = quiz_attempts.id) \
         WHERE quiz_id = {analysed} AND id IN (SELECT attempt_id FROM attempt_questions)"
    ))
    .await?;
    tx.execute_raw(&format!(
        "UPDATE quiz_attempts SET percent = mark * 5.0, passed = (mark >= 16.0) \
         WHERE quiz_id = {analysed} AND id IN (SELECT attempt_id FROM attempt_questions)"
    ))
    .await?;
    // A second attempt open at every retake quiz for each measuring client's person.
    let people: Vec<String> = (0..args.concurrency)
        .map(|i| format!("'person{i}@bench.example.org'"))
        .collect();
    tx.execute_raw(&format!(
        "INSERT INTO quiz_attempts (implementation_id, quiz_id, person_id, number, started_at, max_mark) \
         SELECT {imp}, q.id, p.id, 2, {ts}, 20.0 \
         FROM people p, (SELECT id FROM quizzes WHERE key LIKE 'bench-take-%') q \
         WHERE p.email IN ({})",
        people.join(", ")
    ))
    .await?;
    tx.execute_raw(&format!(
        "INSERT INTO attempt_questions (attempt_id, position, question_version_id, answer_order, max_mark) \
         SELECT a.id, v.pos, v.vid, '[0,1,2,3]', 1.0 FROM quiz_attempts a JOIN ({slots}) v ON v.quiz_id = a.quiz_id \
         WHERE a.submitted_at IS NULL AND a.number = 2"
    ))
    .await?;
    tx.commit().await?;
    Ok(QuizData {
        analysed,
        past_attempts: i64::try_from(past_attempts).unwrap_or(i64::MAX),
    })
}

/// The CSRF token on a page (its first `_csrf` field).
fn csrf_of(page: &str) -> Result<String> {
    Ok(page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("no CSRF token on the attempt's page")?
        .to_string())
}

/// Each client, as its person, submits its open attempts one after another with every
/// answer right; every submission must be graded (a redirect to its result).
pub async fn submission_figures(app: &App, onramp: SocketAddr, args: &Args) -> Result<Figures> {
    let mut clients = Vec::new();
    for i in 0..args.concurrency {
        let email = format!("person{i}@bench.example.org");
        let open: Vec<i64> = {
            let mut tx = app.store.read().await?;
            let imp = lead_ctx(app).await?.implementation_id();
            let person = tx
                .person_by_email(imp, &email)
                .await?
                .context("a person of the data set")?;
            let mut ids = Vec::new();
            for q in tx.quizzes(imp).await? {
                if q.key.starts_with("bench-take-") {
                    ids.extend(
                        tx.attempts_of(q.id, person.id)
                            .await?
                            .into_iter()
                            .filter(|a| a.submitted_at.is_none())
                            .map(|a| a.id),
                    );
                }
            }
            ids
        };
        let c = client()?;
        sign_in_with(&c, onramp, &email, BENCH_PASSWORD).await?;
        let first = open.first().context("no open attempt")?;
        let page = c
            .get(format!("http://{onramp}/training/attempts/{first}"))
            .send()
            .await?;
        if !page.status().is_success() {
            bail!("the attempt's page answered {}", page.status());
        }
        let csrf = csrf_of(&page.text().await?)?;
        clients.push((c, csrf, open));
    }
    let warm_until = Instant::now() + Duration::from_secs(1);
    let end = warm_until + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for (c, csrf, open) in clients {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0u64;
            let mut ran_out = true;
            for id in open {
                if Instant::now() >= end {
                    ran_out = false;
                    break;
                }
                let mut form: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone())];
                form.extend((1..=QUESTIONS).map(|p| (format!("q{p}"), "0".to_string())));
                let t = Instant::now();
                let ok = match c
                    .post(format!("http://{onramp}/training/attempts/{id}/submit"))
                    .form(&form)
                    .send()
                    .await
                {
                    Ok(r) => {
                        r.status().as_u16() == 303
                            && r.headers()
                                .get("location")
                                .and_then(|l| l.to_str().ok())
                                .is_some_and(|l| l.ends_with("/result"))
                    }
                    Err(_) => false,
                };
                if t >= warm_until {
                    if ok {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        failed += 1;
                    }
                }
            }
            (lat, failed, ran_out)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f, ran_out) = t.await?;
        if ran_out {
            bail!("quiz submission: a client ran out of open attempts; raise OPEN_QUIZZES");
        }
        all.extend(l);
        failed += f;
    }
    if failed > 0 {
        bail!("quiz submission: {failed} submissions failed or were not graded");
    }
    Ok(figures(SUBMIT, all, args))
}

/// Times the analysed quiz's item analysis, one caller, in the process.
pub async fn analysis_figures(app: &App, data: &QuizData, args: &Args) -> Result<Figures> {
    use onramp_app::learning::quizzes::review;
    let lead = lead_ctx(app).await?;
    let s = review::statistics(app, &lead, data.analysed)
        .await
        .map_err(app_err)?;
    if s.attempts != ANALYSED || s.questions.len() != QUESTIONS {
        bail!(
            "item analysis: {} attempts and {} questions, not {ANALYSED} and {QUESTIONS}",
            s.attempts,
            s.questions.len()
        );
    }
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let mut lat = Vec::new();
    while Instant::now() < end || lat.len() < 3 {
        let t = Instant::now();
        review::statistics(app, &lead, data.analysed)
            .await
            .map_err(app_err)?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(figures(ANALYSIS, lat, args))
}
