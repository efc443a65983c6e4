//! The trainee's side of a quiz: what it asks of them, an attempt (one form that works
//! without JavaScript; a small script autosaves), and the result with the review the quiz
//! allows.

use super::{percent_text, when};
use crate::chrome::{flash, flash_redirect, Chrome};
use crate::error::WebResult;
use crate::forms::CsrfForm;
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::quizzes::attempts::{
    self, AnswerRefused, AttemptResult, QuizOverview, ShownInput, ShownQuestion, Submitted,
};
use onramp_app::AppError;
use onramp_domain::learning::question::Response as Answer;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/training/quizzes/{key}", get(overview)),
        Route::post("/training/quizzes/{key}/start", post(start)),
        Route::get("/training/attempts/{id}", get(attempt_page)),
        Route::post("/training/attempts/{id}/save", post(save)),
        Route::post("/training/attempts/{id}/submit", post(submit)),
        Route::get("/training/attempts/{id}/result", get(result_page)),
    ]
}

struct AttemptLine {
    number: i32,
    started: String,
    score: String,
    outcome: &'static str,
    class: &'static str,
    href: String,
}

#[derive(Template)]
#[template(path = "learning/quizzes/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    key: String,
    title: String,
    intro_html: String,
    facts: Vec<(String, String)>,
    open_book: bool,
    attempts: Vec<AttemptLine>,
    /// An open attempt to go back to.
    resume_href: String,
    /// Why no attempt can start now (empty: one can).
    refused: String,
    passed: bool,
}

fn attempt_lines(o: &QuizOverview) -> Vec<AttemptLine> {
    o.attempts
        .iter()
        .filter(|a| a.submitted_at.is_some())
        .map(|a| {
            let (outcome, class) = match a.passed {
                Some(true) => ("Passed", "ok"),
                Some(false) => ("Not passed", "warn"),
                None => ("Waiting for grading", "muted"),
            };
            AttemptLine {
                number: a.number,
                started: when(a.started_at),
                score: percent_text(a.percent),
                outcome,
                class,
                href: format!("/training/attempts/{}/result", a.id),
            }
        })
        .collect()
}

async fn overview(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let o = attempts::overview(&state.app, &v.ctx, &key).await?;
    let s = &o.settings;
    let mut facts = vec![
        ("Questions".to_string(), o.questions.to_string()),
        ("Pass mark".to_string(), format!("{}%", s.pass_percent)),
        (
            "Attempts".to_string(),
            match (s.max_attempts, o.attempts_left) {
                (Some(m), Some(left)) => format!("{m} allowed, {left} left"),
                _ => "As many as you need".to_string(),
            },
        ),
        (
            "Time limit".to_string(),
            s.time_limit_minutes
                .map(|m| format!("{m} minutes, from when you start"))
                .unwrap_or_else(|| "None".into()),
        ),
        ("Your grade".to_string(), s.grading.label().to_string()),
        (
            "Right answers shown".to_string(),
            s.review.label().to_string(),
        ),
    ];
    if s.delay_minutes > 0 {
        facts.push((
            "Between attempts".to_string(),
            format!("{} minutes", s.delay_minutes),
        ));
    }
    if let Some(k) = &o.kept {
        facts.push(("Your grade so far".to_string(), percent_text(k.percent)));
    }
    let (chrome, jar) = Chrome::for_viewer(&v, &o.quiz.title, "/training").with_flash(&jar);
    Ok((
        jar,
        render(&OverviewPage {
            chrome,
            key: o.quiz.key.clone(),
            title: o.quiz.title.clone(),
            intro_html: onramp_formats::markdown::render_safe(&o.quiz.intro),
            facts,
            open_book: s.open_book,
            attempts: attempt_lines(&o),
            resume_href: o
                .open
                .as_ref()
                .map(|a| format!("/training/attempts/{}", a.id))
                .unwrap_or_default(),
            refused: o
                .may_start
                .as_ref()
                .err()
                .map(|w| w.to_string())
                .unwrap_or_default(),
            passed: o.passed,
        })?,
    )
        .into_response())
}

async fn start(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(key): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    match attempts::start(&state.app, &v.ctx, &key).await {
        Ok(Ok(id)) => Ok(Redirect::to(&format!("/training/attempts/{id}")).into_response()),
        Ok(Err(why)) => Ok(flash_redirect(
            jar,
            &why.to_string(),
            &format!("/training/quizzes/{key}"),
        )),
        Err(AppError::Conflict(m)) => {
            Ok(flash_redirect(jar, &m, &format!("/training/quizzes/{key}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// One answer to pick.
struct OptionLine {
    value: String,
    label_html: String,
    checked: bool,
}

/// One prompt of a matching question.
struct PromptLine {
    index: usize,
    label_html: String,
    options: Vec<OptionLine>,
}

/// A question as the attempt's form shows it.
struct QuestionBlock {
    position: i32,
    text_html: String,
    /// one, many, true_false, matching, text, number, essay
    kind: &'static str,
    options: Vec<OptionLine>,
    prompts: Vec<PromptLine>,
    value: String,
}

fn block(q: &ShownQuestion) -> QuestionBlock {
    let saved = q.saved.as_ref();
    let picked = |i: usize| match saved {
        Some(Answer::Choice(c)) => *c == i,
        Some(Answer::Choices(cs)) => cs.contains(&i),
        _ => false,
    };
    let options = |opts: &[(usize, String)]| -> Vec<OptionLine> {
        opts.iter()
            .map(|(i, label)| OptionLine {
                value: i.to_string(),
                label_html: label.clone(),
                checked: picked(*i),
            })
            .collect()
    };
    let mut b = QuestionBlock {
        position: q.position,
        text_html: q.text_html.clone(),
        kind: "text",
        options: Vec::new(),
        prompts: Vec::new(),
        value: match saved {
            Some(Answer::Text(t)) => t.clone(),
            Some(Answer::Number(n)) => n.to_string(),
            _ => String::new(),
        },
    };
    match &q.input {
        ShownInput::One(opts) => {
            b.kind = "one";
            b.options = options(opts);
        }
        ShownInput::Many(opts) => {
            b.kind = "many";
            b.options = options(opts);
        }
        ShownInput::TrueFalse => {
            b.kind = "true_false";
            let given = match saved {
                Some(Answer::Bool(x)) => Some(*x),
                _ => None,
            };
            b.options = [("true", "True"), ("false", "False")]
                .into_iter()
                .map(|(value, label)| OptionLine {
                    value: value.into(),
                    label_html: label.into(),
                    checked: given == Some(value == "true"),
                })
                .collect();
        }
        ShownInput::Matching { prompts, answers } => {
            b.kind = "matching";
            let given: Vec<Option<String>> = match saved {
                Some(Answer::Matches(m)) => m.clone(),
                _ => Vec::new(),
            };
            b.prompts = prompts
                .iter()
                .enumerate()
                .map(|(i, p)| PromptLine {
                    index: i,
                    label_html: p.clone(),
                    options: answers
                        .iter()
                        .map(|a| OptionLine {
                            value: a.clone(),
                            label_html: a.clone(),
                            checked: given.get(i).and_then(|g| g.as_deref()) == Some(a.as_str()),
                        })
                        .collect(),
                })
                .collect();
        }
        ShownInput::Text => b.kind = "text",
        ShownInput::Number => b.kind = "number",
        ShownInput::Essay => b.kind = "essay",
    }
    b
}

#[derive(Template)]
#[template(path = "learning/quizzes/attempt.html")]
struct AttemptPage {
    chrome: Chrome,
    id: i64,
    title: String,
    number: i32,
    open_book: bool,
    deadline: String,
    minutes_left: i64,
    questions: Vec<QuestionBlock>,
}

async fn attempt_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let a = attempts::view(&state.app, &v.ctx, id).await?;
    if a.attempt.submitted_at.is_some() {
        return Ok(Redirect::to(&format!("/training/attempts/{id}/result")).into_response());
    }
    let (chrome, jar) = Chrome::for_viewer(&v, &a.quiz.title, "/training").with_flash(&jar);
    Ok((
        jar,
        render(&AttemptPage {
            chrome,
            id,
            title: a.quiz.title.clone(),
            number: a.attempt.number,
            open_book: a.settings.open_book,
            deadline: a.attempt.deadline_at.map(when).unwrap_or_default(),
            minutes_left: a.seconds_left.map(|s| (s + 59) / 60).unwrap_or(0),
            questions: a.questions.iter().map(block).collect(),
        })?,
    )
        .into_response())
}

/// Whether the page's script sent the request (it asks for JSON).
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn json_answer(status: axum::http::StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A refusal for the page's script, as problem+json.
fn problem(status: axum::http::StatusCode, detail: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::json!({
            "type": "about:blank",
            "title": "Refused",
            "status": status.as_u16(),
            "detail": detail,
        })
        .to_string(),
    )
        .into_response()
}

async fn save(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    use axum::http::StatusCode;
    let json = wants_json(&headers);
    match attempts::save(&state.app, &v.ctx, id, &form).await {
        Ok(Ok(n)) if json => Ok(json_answer(
            StatusCode::OK,
            serde_json::json!({"saved": n, "at": when(state.app.now())}),
        )),
        Ok(Ok(_)) => Ok(flash_redirect(
            jar,
            "Your answers are saved.",
            &format!("/training/attempts/{id}"),
        )),
        Ok(Err(why)) if json => Ok(problem(StatusCode::CONFLICT, why.to_string())),
        Ok(Err(why)) => Ok(flash_redirect(
            jar,
            &why.to_string(),
            &format!("/training/attempts/{id}/result"),
        )),
        Err(AppError::Invalid(f)) if json => Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            f.first().map(|e| e.message.clone()).unwrap_or_default(),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let to = format!("/training/attempts/{id}/result");
    let message = match attempts::submit(&state.app, &v.ctx, id, &form).await? {
        Submitted::Graded => None,
        Submitted::AwaitingGrading => Some(
            "Your answers are in. An answer is graded by a person: you will get an email with your result.".to_string(),
        ),
        Submitted::Refused(why @ (AnswerRefused::AlreadySubmitted | AnswerRefused::Late)) => {
            Some(why.to_string())
        }
    };
    let jar = match message {
        Some(m) => jar.add(flash(&m)),
        None => jar,
    };
    Ok((jar, Redirect::to(&to)).into_response())
}

struct ReviewLine {
    position: i32,
    text_html: String,
    your_answer: String,
    mark: String,
    class: &'static str,
    right_answer: String,
    feedback: Vec<String>,
    grader_comment: String,
}

#[derive(Template)]
#[template(path = "learning/quizzes/result.html")]
struct ResultPage {
    chrome: Chrome,
    key: String,
    title: String,
    number: i32,
    score: String,
    pass_mark: String,
    outcome: &'static str,
    outcome_class: &'static str,
    shows_answers: bool,
    review_note: String,
    retake: bool,
    retake_note: String,
    items: Vec<ReviewLine>,
    own: bool,
}

fn result_view(r: &AttemptResult) -> (bool, String) {
    let may = r.may_retake.is_ok() && r.attempt.passed == Some(false) && !r.passed_any;
    let note = match (&r.may_retake, r.attempt.passed) {
        (_, Some(true)) => "You passed: the quiz counts in your training plan.".to_string(),
        (_, None) => "An answer is waiting for a person to grade it.".to_string(),
        (Err(why), _) => why.to_string(),
        (Ok(()), Some(false)) if r.passed_any => {
            "You passed this quiz in an earlier attempt.".to_string()
        }
        (Ok(()), Some(false)) => match r.attempts_left {
            Some(n) => format!(
                "You may retake it: {n} attempt{} left.",
                if n == 1 { "" } else { "s" }
            ),
            None => "You may retake it as many times as you need to pass.".to_string(),
        },
    };
    (may, note)
}

async fn result_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let r = attempts::result(&state.app, &v.ctx, id).await?;
    let (retake, retake_note) = result_view(&r);
    let (outcome, outcome_class) = match r.attempt.passed {
        Some(true) => ("Passed", "ok"),
        Some(false) => ("Not passed", "warn"),
        None => ("Waiting for grading", "muted"),
    };
    let review_note = if r.shows_answers {
        String::new()
    } else {
        format!(
            "The right answers are shown: {}.",
            r.settings.review.label().to_lowercase()
        )
    };
    let items = r
        .items
        .iter()
        .map(|i| {
            let (mark, class) = match i.mark {
                Some(m) if m >= i.max_mark - 1e-9 => {
                    (format!("Right ({m:.2} of {:.2})", i.max_mark), "ok")
                }
                Some(m) if m > 0.0 => (
                    format!("Partly right ({m:.2} of {:.2})", i.max_mark),
                    "warn",
                ),
                Some(m) => (format!("Missed ({m:.2} of {:.2})", i.max_mark), "warn"),
                None => ("Waiting for grading".to_string(), "muted"),
            };
            ReviewLine {
                position: i.position,
                text_html: i.text_html.clone(),
                your_answer: i.your_answer.clone(),
                mark,
                class,
                right_answer: i.right_answer.clone().unwrap_or_default(),
                feedback: i.feedback.clone(),
                grader_comment: i.grader_comment.clone(),
            }
        })
        .collect();
    let (chrome, jar) =
        Chrome::for_viewer(&v, &format!("{}: result", r.quiz.title), "/training").with_flash(&jar);
    Ok((
        jar,
        render(&ResultPage {
            chrome,
            key: r.quiz.key.clone(),
            title: r.quiz.title.clone(),
            number: r.attempt.number,
            score: percent_text(r.attempt.percent),
            pass_mark: format!("{}%", r.settings.pass_percent),
            outcome,
            outcome_class,
            shows_answers: r.shows_answers,
            review_note,
            retake,
            retake_note,
            items,
            own: r.own,
        })?,
    )
        .into_response())
}
