//! The Lead's review of attempts: the queues (finished implausibly fast; essays to grade),
//! one attempt's timeline with the forms to clear its flag or grade its essays, and a quiz's
//! item analysis with a server-drawn chart of each question's facility.

use super::{percent_text, when};
use crate::chrome::{flash_redirect, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::pages::list;
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::quizzes::review::{self, AttemptReview, QuizStatistics};
use onramp_app::AppError;
use onramp_store::learning::quizzes::AttemptListed;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quiz-reviews", get(queues_page)),
        Route::get("/quiz-reviews/{id}", get(attempt_page)),
        Route::post("/quiz-reviews/{id}/clear", post(clear)),
        Route::post("/quiz-reviews/{id}/grade", post(grade)),
        Route::get("/quizzes/{id}/statistics", get(statistics_page)),
    ]
}

struct QueueLine {
    href: String,
    person: String,
    quiz: String,
    number: i32,
    submitted: String,
    score: String,
}

fn queue_lines(rows: &[AttemptListed]) -> Vec<QueueLine> {
    rows.iter()
        .map(|a| QueueLine {
            href: format!("/quiz-reviews/{}", a.id),
            person: a.person_name.clone(),
            quiz: a.quiz_title.clone(),
            number: a.number,
            submitted: a.submitted_at.map(when).unwrap_or_default(),
            score: percent_text(a.percent),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "learning/quizzes/reviews.html")]
struct QueuesPage {
    chrome: Chrome,
    /// Whether the viewer may open the quizzes (and their item analysis).
    may_open_quizzes: bool,
    too_fast: Vec<QueueLine>,
    to_grade: Vec<QueueLine>,
}

async fn queues_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let q = review::queues(&state.app, &v.ctx).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Quiz reviews", "/quiz-reviews").with_flash(&jar);
    Ok((
        jar,
        render(&QueuesPage {
            chrome,
            may_open_quizzes: v
                .ctx
                .require(onramp_domain::authz::Permission::ManageCourses)
                .is_ok(),
            too_fast: queue_lines(&q.too_fast),
            to_grade: queue_lines(&q.to_grade),
        })?,
    )
        .into_response())
}

struct TimelineLine {
    position: i32,
    text: String,
    answered: String,
    seconds: i32,
    answer: String,
    mark: String,
    /// An essay waiting for a grade.
    to_grade: bool,
    max_mark: String,
    grader_comment: String,
}

#[derive(Template)]
#[template(path = "learning/quizzes/review.html")]
struct AttemptReviewPage {
    chrome: Chrome,
    id: i64,
    person: String,
    quiz: String,
    number: i32,
    started: String,
    submitted: String,
    score: String,
    seconds: i64,
    floor_seconds: i64,
    too_fast: bool,
    flag_cleared: String,
    timeline: Vec<TimelineLine>,
    errors: FormErrors,
    note: String,
    may_decide: bool,
}

fn review_page(
    v: &Viewer,
    r: &AttemptReview,
    errors: FormErrors,
    note: String,
) -> AttemptReviewPage {
    let a = &r.attempt;
    AttemptReviewPage {
        chrome: Chrome::for_viewer(
            v,
            &format!("{}: attempt {} by {}", r.quiz.title, a.number, r.person),
            "/quiz-reviews",
        ),
        id: a.id,
        person: r.person.clone(),
        quiz: r.quiz.title.clone(),
        number: a.number,
        started: when(a.started_at),
        submitted: a.submitted_at.map(when).unwrap_or_else(|| "Not yet".into()),
        score: percent_text(a.percent),
        seconds: r.seconds,
        floor_seconds: r.floor_seconds,
        too_fast: a.too_fast && a.flag_cleared_at.is_none(),
        flag_cleared: a
            .flag_cleared_at
            .map(|t| format!("{}: {}", when(t), a.flag_note))
            .unwrap_or_default(),
        timeline: r
            .timeline
            .iter()
            .map(|t| TimelineLine {
                position: t.position,
                text: t.text.clone(),
                answered: t
                    .answered_at
                    .map(when)
                    .unwrap_or_else(|| "Not answered".into()),
                seconds: t.seconds,
                answer: t.answer.clone(),
                mark: match t.mark {
                    Some(m) => format!("{m:.2} of {:.2}", t.max_mark),
                    None => "Waiting for grading".into(),
                },
                to_grade: t.to_grade.is_some(),
                max_mark: format!("{}", t.max_mark),
                grader_comment: t.grader_comment.clone(),
            })
            .collect(),
        errors,
        note,
        may_decide: v
            .ctx
            .require(onramp_domain::authz::Permission::ManageTrainingPlans)
            .is_ok(),
    }
}

async fn attempt_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let r = review::attempt_review(&state.app, &v.ctx, id).await?;
    let mut page = review_page(&v, &r, FormErrors::default(), String::new());
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ClearForm {
    #[serde(default)]
    note: String,
}

async fn clear(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ClearForm>,
) -> WebResult<Response> {
    match review::clear_flag(&state.app, &v.ctx, id, &f.note).await {
        Ok(()) => Ok(flash_redirect(
            jar,
            "The flag is cleared, with your note in the record.",
            &format!("/quiz-reviews/{id}"),
        )),
        Err(AppError::Invalid(errors)) => {
            let r = review::attempt_review(&state.app, &v.ctx, id).await?;
            Ok(list::unprocessable(render(&review_page(
                &v,
                &r,
                FormErrors(errors),
                f.note,
            ))?))
        }
        Err(AppError::Conflict(m)) => Ok(flash_redirect(jar, &m, &format!("/quiz-reviews/{id}"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct GradeForm {
    #[serde(default)]
    position: i32,
    #[serde(default)]
    mark: String,
    #[serde(default)]
    comment: String,
}

async fn grade(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<GradeForm>,
) -> WebResult<Response> {
    match review::grade_essay(&state.app, &v.ctx, id, f.position, &f.mark, &f.comment).await {
        Ok(()) => Ok(flash_redirect(
            jar,
            "The answer is graded.",
            &format!("/quiz-reviews/{id}"),
        )),
        Err(AppError::Invalid(errors)) => {
            let r = review::attempt_review(&state.app, &v.ctx, id).await?;
            let errors = errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("mark-{}", f.position);
                    e
                })
                .collect();
            Ok(list::unprocessable(render(&review_page(
                &v,
                &r,
                FormErrors(errors),
                String::new(),
            ))?))
        }
        Err(AppError::Conflict(m)) => Ok(flash_redirect(jar, &m, &format!("/quiz-reviews/{id}"))),
        Err(e) => Err(e.into()),
    }
}

/// One question's bar in the facility chart.
struct FacilityBar {
    y: u32,
    text_y: u32,
    label: String,
    width: u32,
    value: String,
}

struct StatisticsRow {
    name: String,
    version: i32,
    kind: &'static str,
    attempts: usize,
    facility: String,
    discrimination: String,
    efficiency: String,
    median_seconds: String,
    answers: Vec<(String, bool, usize)>,
    /// A figure that says the question needs a look.
    warning: &'static str,
}

#[derive(Template)]
#[template(path = "learning/quizzes/statistics.html")]
struct StatisticsPage {
    chrome: Chrome,
    quiz_id: i64,
    title: String,
    attempts: usize,
    rows: Vec<StatisticsRow>,
    bars: Vec<FacilityBar>,
    chart_width: u32,
    chart_height: u32,
    label_width: u32,
    bar_width: u32,
}

const LABEL_WIDTH: u32 = 300;
const BAR_WIDTH: u32 = 360;
const ROW: u32 = 28;
const LABEL_CHARS: usize = 42;

fn percent_of(x: Option<f64>) -> String {
    x.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn statistics_view(s: &QuizStatistics) -> (Vec<StatisticsRow>, Vec<FacilityBar>) {
    let rows = s
        .questions
        .iter()
        .map(|q| StatisticsRow {
            name: q.name.clone(),
            version: q.version,
            kind: q.kind,
            attempts: q.stats.attempts,
            facility: percent_of(q.stats.facility),
            discrimination: percent_of(q.stats.discrimination_index),
            efficiency: percent_of(q.stats.discriminative_efficiency),
            median_seconds: q
                .median_seconds
                .map(|m| format!("{m:.0} s"))
                .unwrap_or_else(|| "–".into()),
            answers: q
                .answers
                .iter()
                .map(|a| (a.answer.clone(), a.right, a.count))
                .collect(),
            warning: match (q.stats.facility, q.stats.discrimination_index) {
                (Some(f), _) if f > 0.95 => "Almost everyone gets it right",
                (Some(f), _) if f < 0.2 => "Few get it right: check the key",
                (_, Some(d)) if d < 0.0 => "Strong candidates miss it more often: check the key",
                _ => "",
            },
        })
        .collect();
    let bars = s
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let y = u32::try_from(i).unwrap_or(u32::MAX).saturating_mul(ROW);
            let mut label: String = format!("{} (v{})", q.name, q.version)
                .chars()
                .take(LABEL_CHARS)
                .collect();
            if q.name.chars().count() + 5 > LABEL_CHARS {
                label.push('…');
            }
            let f = q.stats.facility.unwrap_or(0.0).clamp(0.0, 1.0);
            FacilityBar {
                y: y + 6,
                text_y: y + 20,
                label,
                width: (f * f64::from(BAR_WIDTH)).round() as u32,
                value: percent_of(q.stats.facility),
            }
        })
        .collect();
    (rows, bars)
}

async fn statistics_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let s = review::statistics(&state.app, &v.ctx, id).await?;
    let (rows, bars) = statistics_view(&s);
    let n = u32::try_from(bars.len()).unwrap_or(u32::MAX);
    Ok(render(&StatisticsPage {
        chrome: Chrome::for_viewer(&v, &format!("{}: item analysis", s.quiz.title), "/quizzes"),
        quiz_id: s.quiz.id,
        title: s.quiz.title.clone(),
        attempts: s.attempts,
        rows,
        bars,
        chart_width: LABEL_WIDTH + BAR_WIDTH + 80,
        chart_height: n.saturating_mul(ROW) + 12,
        label_width: LABEL_WIDTH,
        bar_width: BAR_WIDTH,
    })?
    .into_response())
}
