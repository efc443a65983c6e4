//! Building quizzes: the list, and one form for a new quiz or a quiz's settings and the
//! questions it asks.

use crate::chrome::{flash_redirect, Chrome};
use crate::error::WebResult;
use crate::forms::{checkbox, CsrfForm, FormErrors};
use crate::pages::list::{self, SelectOption};
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::quizzes::{self, QuizInput};
use onramp_app::AppError;
use onramp_domain::authz::Permission;
use onramp_domain::learning::quiz::{GradingMethod, ReviewPolicy};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quizzes", get(list_page)),
        Route::get("/quizzes/new", get(new_form)),
        Route::post("/quizzes/new", post(create)),
        Route::get("/quizzes/{id}", get(edit_form)),
        Route::post("/quizzes/{id}", post(update)),
    ]
}

struct QuizRow {
    id: i64,
    key: String,
    title: String,
    pass: String,
    attempts: String,
    review: &'static str,
}

#[derive(Template)]
#[template(path = "learning/quizzes/list.html")]
struct ListPage {
    chrome: Chrome,
    quizzes: Vec<QuizRow>,
}

async fn list_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let quizzes = quizzes::list(&state.app, &v.ctx)
        .await?
        .into_iter()
        .map(|(q, s)| QuizRow {
            id: q.id,
            key: q.key,
            title: q.title,
            pass: format!("{}%", s.pass_percent),
            attempts: s
                .max_attempts
                .map(|m| m.to_string())
                .unwrap_or_else(|| "Unlimited".into()),
            review: s.review.label(),
        })
        .collect();
    let (chrome, jar) = Chrome::for_viewer(&v, "Quizzes", "/quizzes").with_flash(&jar);
    Ok((jar, render(&ListPage { chrome, quizzes })?).into_response())
}

/// The form as posted: checkboxes arrive only when ticked.
#[derive(Debug, Default, Deserialize)]
pub struct QuizForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    pass_percent: String,
    #[serde(default)]
    max_attempts: String,
    #[serde(default)]
    delay_minutes: String,
    #[serde(default)]
    time_limit_minutes: String,
    #[serde(default)]
    grading: String,
    #[serde(default)]
    review: String,
    #[serde(default)]
    min_seconds_per_question: String,
    #[serde(default, deserialize_with = "checkbox")]
    shuffle_answers: bool,
    #[serde(default, deserialize_with = "checkbox")]
    open_book: bool,
    #[serde(default, deserialize_with = "checkbox")]
    email_results: bool,
    #[serde(default, deserialize_with = "checkbox")]
    tell_agency_administrator: bool,
    #[serde(default, deserialize_with = "checkbox")]
    tell_lead: bool,
    #[serde(default, deserialize_with = "checkbox")]
    recertification: bool,
    #[serde(default)]
    questions: String,
}

impl From<QuizForm> for QuizInput {
    fn from(f: QuizForm) -> Self {
        QuizInput {
            key: f.key,
            title: f.title,
            intro: f.intro,
            pass_percent: f.pass_percent,
            max_attempts: f.max_attempts,
            delay_minutes: f.delay_minutes,
            time_limit_minutes: f.time_limit_minutes,
            grading: f.grading,
            review: f.review,
            min_seconds_per_question: f.min_seconds_per_question,
            shuffle_answers: f.shuffle_answers,
            open_book: f.open_book,
            email_results: f.email_results,
            tell_agency_administrator: f.tell_agency_administrator,
            tell_lead: f.tell_lead,
            recertification: f.recertification,
            questions: f.questions,
        }
    }
}

#[derive(Template)]
#[template(path = "learning/quizzes/form.html")]
struct FormPage {
    chrome: Chrome,
    id: Option<i64>,
    form: QuizInput,
    errors: FormErrors,
    gradings: Vec<SelectOption>,
    reviews: Vec<SelectOption>,
}

fn form_page(v: &Viewer, id: Option<i64>, form: QuizInput, errors: FormErrors) -> FormPage {
    FormPage {
        chrome: Chrome::for_viewer(
            v,
            if id.is_some() {
                "Quiz settings"
            } else {
                "New quiz"
            },
            "/quizzes",
        ),
        id,
        form,
        errors,
        gradings: GradingMethod::ALL
            .iter()
            .map(|g| SelectOption::new(g.as_str(), g.label()))
            .collect(),
        reviews: ReviewPolicy::ALL
            .iter()
            .map(|r| SelectOption::new(r.as_str(), r.label()))
            .collect(),
    }
}

async fn new_form(v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    Ok(render(&form_page(
        &v,
        None,
        QuizInput::new_quiz(),
        FormErrors::default(),
    ))?
    .into_response())
}

async fn save(
    state: &AppState,
    v: &Viewer,
    jar: CookieJar,
    id: Option<i64>,
    input: QuizInput,
) -> WebResult<Response> {
    match quizzes::save(&state.app, &v.ctx, id, &input).await {
        Ok(saved) => Ok(flash_redirect(
            jar,
            "The quiz is saved.",
            &format!("/quizzes/{saved}"),
        )),
        Err(AppError::Invalid(errors)) => Ok(list::unprocessable(render(&form_page(
            v,
            id,
            input,
            FormErrors(errors),
        ))?)),
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<QuizForm>,
) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    save(&state, &v, jar, None, f.into()).await
}

async fn edit_form(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (_, input) = quizzes::for_edit(&state.app, &v.ctx, id).await?;
    let mut page = form_page(&v, Some(id), input, FormErrors::default());
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<QuizForm>,
) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    save(&state, &v, jar, Some(id), f.into()).await
}
