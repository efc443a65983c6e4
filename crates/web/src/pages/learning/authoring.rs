//! The course writers' side (Permission::ManageCourses): the catalogue (`/courses`), a
//! course's fields, its lessons of each kind with their uploaded files, publishing with the
//! problems named lesson by lesson, retiring, and course packages out and in.

use super::super::list::{self, SelectOption};
use super::super::render;
use crate::chrome::Chrome;
use crate::error::{WebError, WebResult};
use crate::forms::{CsrfForm, FormErrors, UploadForm};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::authoring::{self, CatalogueEntry, LessonUploads};
use onramp_app::learning::courses::{self, CourseDetail, CourseInput, LessonInput};
use onramp_app::learning::packages::{self, ImportOutcome, ImportReport};
use onramp_app::AppError;
use onramp_domain::authz::Permission;
use onramp_domain::learning::course::{
    format_cents, publish_problems, DataStandards, LessonKind, Prerequisites,
};
use onramp_domain::FieldError;
use onramp_store::learning::courses::{Course, Lesson};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/courses", get(catalogue)),
        Route::get("/courses/new", get(new_form)),
        Route::post("/courses/new", post(create)),
        Route::get("/courses/import", get(import_form)),
        Route::upload("/courses/import", post(import)),
        Route::get("/courses/{id}", get(show)),
        Route::get("/courses/{id}/edit", get(edit_form)),
        Route::post("/courses/{id}/edit", post(update)),
        Route::get("/courses/{id}/lessons/new", get(new_lesson_form)),
        Route::upload("/courses/{id}/lessons/new", post(add_lesson)),
        Route::get("/courses/{id}/lessons/{lesson}", get(edit_lesson_form)),
        Route::upload("/courses/{id}/lessons/{lesson}", post(save_lesson)),
        Route::post("/courses/{id}/lessons/{lesson}/arrange", post(arrange)),
        Route::post("/courses/{id}/publish", post(publish)),
        Route::post("/courses/{id}/retire", post(retire)),
        Route::post("/courses/{id}/unretire", post(unretire)),
        Route::get("/courses/{id}/package.zip", get(export)),
    ]
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// "1:05" for 65 seconds.
fn minutes(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn price_text(cents: Option<i64>) -> String {
    cents.map(format_cents).unwrap_or_else(|| "Free".into())
}

/// Titles of the courses named by key, as a sentence ("A, B" / "one of A or B").
fn course_names(keys: &[onramp_domain::Slug], all: &[Course], joiner: &str) -> String {
    let names: Vec<String> = keys
        .iter()
        .map(|k| {
            all.iter()
                .find(|c| c.key == k.as_str())
                .map(|c| c.title.clone())
                .unwrap_or_else(|| k.as_str().to_string())
        })
        .collect();
    names.join(joiner)
}

fn prerequisites_text(p: &Prerequisites, all: &[Course]) -> String {
    let mut parts = Vec::new();
    if !p.all_of.is_empty() {
        parts.push(course_names(&p.all_of, all, "; "));
    }
    if !p.one_of.is_empty() {
        parts.push(format!("one of: {}", course_names(&p.one_of, all, " or ")));
    }
    parts.join("; and ")
}

/// A course's state in words: what people enrol in, and whether a draft waits.
fn status_of(e: &CatalogueEntry) -> (&'static str, &'static str) {
    if e.course.retired_at.is_some() {
        ("Retired", "muted")
    } else if e.published().is_some() && e.draft().is_some() {
        ("Published, with a draft", "ok")
    } else if e.published().is_some() {
        ("Published", "ok")
    } else {
        ("Draft", "warn")
    }
}

// ---------------------------------------------------------------- the catalogue

struct CatalogueLine {
    href: String,
    title: String,
    key: String,
    data_standards: String,
    status: &'static str,
    class: &'static str,
    version: String,
    price: String,
    prerequisites: String,
    people: String,
}

#[derive(Template)]
#[template(path = "learning/authoring/catalogue.html")]
struct CataloguePage {
    chrome: Chrome,
    courses: Vec<CatalogueLine>,
}

async fn catalogue(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let entries = authoring::catalogue(&state.app, &v.ctx).await?;
    let all: Vec<Course> = entries.iter().map(|e| e.course.clone()).collect();
    let courses = entries
        .iter()
        .map(|e| {
            let (status, class) = status_of(e);
            let version = match (e.published(), e.draft()) {
                (Some(p), Some(d)) => format!("{} (draft {})", p.version, d.version),
                (Some(p), None) => p.version.to_string(),
                (None, Some(d)) => format!("draft {}", d.version),
                (None, None) => String::new(),
            };
            CatalogueLine {
                href: format!("/courses/{}", e.course.id),
                title: e.course.title.clone(),
                key: e.course.key.clone(),
                data_standards: e.course.data_standards.clone().unwrap_or_default(),
                status,
                class,
                version,
                price: price_text(e.course.price_cents),
                prerequisites: prerequisites_text(&courses::prerequisites_of(&e.course), &all),
                people: format!("{} enrolled, {} completed", e.enrolled, e.completed),
            }
        })
        .collect();
    let (chrome, jar) = Chrome::for_viewer(&v, "Courses", "/courses").with_flash(&jar);
    Ok((jar, render(&CataloguePage { chrome, courses })?).into_response())
}

// ---------------------------------------------------------------- the course form

/// The course form's fields as typed.
#[derive(Debug, Clone, Default)]
pub struct CourseForm {
    key: String,
    title: String,
    summary: String,
    data_standards: String,
    price: String,
    restrict_seeking: bool,
    tags: String,
    objectives: String,
    prerequisites_all: Vec<String>,
    prerequisites_one: Vec<String>,
}

impl CourseForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| crate::forms::field(pairs, k);
        let many = |k: &str| crate::forms::repeated(pairs, k);
        Self {
            key: one("key"),
            title: one("title"),
            summary: one("summary"),
            data_standards: one("data_standards"),
            price: one("price"),
            restrict_seeking: matches!(one("restrict_seeking").as_str(), "on" | "true" | "1"),
            tags: one("tags"),
            objectives: one("objectives"),
            prerequisites_all: many("prerequisites_all"),
            prerequisites_one: many("prerequisites_one"),
        }
    }
    fn from_course(c: &Course) -> Self {
        let p = courses::prerequisites_of(c);
        Self {
            key: c.key.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            data_standards: c.data_standards.clone().unwrap_or_default(),
            price: c
                .price_cents
                .map(|c| format!("{}.{:02}", c / 100, c % 100))
                .unwrap_or_default(),
            restrict_seeking: c.restrict_seeking,
            tags: courses::string_list(&c.tags).join(", "),
            objectives: courses::string_list(&c.objectives).join("\n"),
            prerequisites_all: p.all_of.iter().map(|k| k.as_str().to_string()).collect(),
            prerequisites_one: p.one_of.iter().map(|k| k.as_str().to_string()).collect(),
        }
    }
    fn input(&self) -> CourseInput {
        CourseInput {
            key: self.key.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            data_standards: self.data_standards.clone(),
            price: self.price.clone(),
            restrict_seeking: self.restrict_seeking,
            tags: self.tags.clone(),
            objectives: self.objectives.clone(),
            prerequisites_all: self.prerequisites_all.clone(),
            prerequisites_one: self.prerequisites_one.clone(),
        }
    }
}

/// A course offered as a prerequisite, with whether it is ticked in each list.
struct PrerequisiteChoice {
    key: String,
    title: String,
    all: bool,
    one: bool,
}

#[derive(Template)]
#[template(path = "learning/authoring/course_form.html")]
struct CourseFormPage {
    chrome: Chrome,
    errors: FormErrors,
    form: CourseForm,
    /// None when creating.
    id: Option<i64>,
    standards: Vec<SelectOption>,
    choices: Vec<PrerequisiteChoice>,
}

async fn course_form_page(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    form: CourseForm,
    id: Option<i64>,
) -> WebResult<CourseFormPage> {
    let entries = authoring::catalogue(&state.app, &v.ctx).await?;
    let choices = entries
        .iter()
        .filter(|e| Some(e.course.id) != id)
        .map(|e| PrerequisiteChoice {
            all: form.prerequisites_all.contains(&e.course.key),
            one: form.prerequisites_one.contains(&e.course.key),
            key: e.course.key.clone(),
            title: e.course.title.clone(),
        })
        .collect();
    let standards =
        std::iter::once(SelectOption::new("", "Not tied to a year"))
            .chain(DataStandards::ALL.iter().map(|d| {
                SelectOption::new(d.as_str(), format!("HMIS Data Standards {}", d.as_str()))
            }))
            .collect();
    let title = match id {
        Some(_) => format!("Edit {}", form.title),
        None => "New course".to_string(),
    };
    Ok(CourseFormPage {
        chrome: Chrome::for_viewer(v, &title, "/courses"),
        errors,
        form,
        id,
        standards,
        choices,
    })
}

async fn new_form(State(state): State<AppState>, v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    let page = course_form_page(
        &state,
        &v,
        FormErrors::default(),
        CourseForm::default(),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let f = CourseForm::from_pairs(&pairs);
    match courses::create(&state.app, &v.ctx, &f.input()).await {
        Ok(id) => Ok(list::saved(
            jar,
            "Course created as a draft. Add its lessons, then publish it.",
            &format!("/courses/{id}"),
        )),
        Err(e) => Ok(list::unprocessable(render(
            &course_form_page(&state, &v, FormErrors::from_app(e)?, f, None).await?,
        )?)),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let d = courses::detail(&state.app, &v.ctx, id).await?;
    let page = course_form_page(
        &state,
        &v,
        FormErrors::default(),
        CourseForm::from_course(&d.course),
        Some(id),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn update(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let mut f = CourseForm::from_pairs(&pairs);
    let d = courses::detail(&state.app, &v.ctx, id).await?;
    f.key = d.course.key.clone();
    match courses::update(&state.app, &v.ctx, id, &f.input()).await {
        Ok(()) => Ok(list::saved(jar, "Course saved.", &format!("/courses/{id}"))),
        Err(e) => Ok(list::unprocessable(render(
            &course_form_page(&state, &v, FormErrors::from_app(e)?, f, Some(id)).await?,
        )?)),
    }
}

// ---------------------------------------------------------------- a course

struct LessonRow {
    number: usize,
    id: i64,
    title: String,
    key: String,
    kind: &'static str,
    what: String,
    /// What publishing would say about this lesson.
    problems: Vec<String>,
    first: bool,
    last: bool,
}

/// A problem that keeps the draft from being published, as the page lists it.
struct ProblemLine {
    href: String,
    text: String,
}

struct VersionLine {
    version: i32,
    status: String,
    when: String,
}

#[derive(Template)]
#[template(path = "learning/authoring/course.html")]
struct CoursePage {
    chrome: Chrome,
    id: i64,
    title: String,
    key: String,
    summary: String,
    data_standards: String,
    price: String,
    prerequisites: String,
    restrict_seeking: bool,
    retired: bool,
    published: Option<i32>,
    /// The version the lessons below belong to, and whether it is a draft.
    shown: Option<i32>,
    draft: bool,
    versions: Vec<VersionLine>,
    lessons: Vec<LessonRow>,
    problems: Vec<ProblemLine>,
    /// The publish button was pressed and refused.
    refused: bool,
    kinds: Vec<(&'static str, &'static str)>,
}

fn lesson_what(l: &Lesson) -> String {
    match LessonKind::parse(&l.kind) {
        Some(LessonKind::Video) => {
            let mut parts = Vec::new();
            parts.push(match (l.file_hash.is_some(), l.duration_ms) {
                (true, Some(d)) => format!("video {}", minutes(d)),
                (true, None) => "video of unknown length".into(),
                (false, _) => "no video yet".into(),
            });
            parts.push(if l.captions_hash.is_some() {
                "captions".into()
            } else {
                "no captions".into()
            });
            parts.push(if l.transcript.trim().is_empty() {
                "no transcript".into()
            } else {
                "transcript".into()
            });
            parts.join(", ")
        }
        Some(LessonKind::Reading) => {
            if l.file_hash.is_some() {
                "PDF".into()
            } else if l.body.trim().is_empty() {
                "no text yet".into()
            } else {
                format!("{} words", l.body.split_whitespace().count())
            }
        }
        Some(LessonKind::ExternalLink) => l.url.clone(),
        Some(LessonKind::Quiz) => {
            if l.quiz_key.is_empty() {
                "no quiz chosen".into()
            } else {
                format!("quiz {}", l.quiz_key)
            }
        }
        None => String::new(),
    }
}

const KINDS: [(&str, &str); 4] = [
    ("video", "Add a video"),
    ("reading", "Add a reading"),
    ("external_link", "Add an external link"),
    ("quiz", "Add a quiz slot"),
];

async fn course_page(
    state: &AppState,
    v: &Viewer,
    d: CourseDetail,
    refused: bool,
) -> WebResult<CoursePage> {
    let all: Vec<Course> = authoring::catalogue(&state.app, &v.ctx)
        .await?
        .into_iter()
        .map(|e| e.course)
        .collect();
    let c = &d.course;
    let draft = d.shown.as_ref().is_some_and(|v| v.status == "draft");
    let contents: Vec<_> = d.lessons.iter().map(courses::content_of).collect();
    let found = if draft {
        publish_problems(&c.title, &contents)
    } else {
        Vec::new()
    };
    let n = d.lessons.len();
    let lessons: Vec<LessonRow> = d
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| LessonRow {
            number: i + 1,
            id: l.id,
            title: l.title.clone(),
            key: l.key.clone(),
            kind: LessonKind::parse(&l.kind)
                .map(|k| k.label())
                .unwrap_or("Unknown"),
            what: lesson_what(l),
            problems: found
                .iter()
                .filter(|p| p.place == format!("lesson {}", l.key))
                .map(|p| p.message.clone())
                .collect(),
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    let problems = found
        .iter()
        .map(|p| match p.place.strip_prefix("lesson ") {
            Some(key) => {
                let row = lessons.iter().find(|l| l.key == key);
                ProblemLine {
                    href: row
                        .map(|l| format!("/courses/{}/lessons/{}#f-{}", c.id, l.id, p.field))
                        .unwrap_or_else(|| "#lessons".into()),
                    text: match row {
                        Some(l) => format!(
                            "Lesson {} \u{2018}{}\u{2019}: {}",
                            l.number, l.title, p.message
                        ),
                        None => format!("Lesson {key}: {}", p.message),
                    },
                }
            }
            None => ProblemLine {
                href: if p.field == "lessons" {
                    "#lessons".into()
                } else {
                    format!("/courses/{}/edit#f-{}", c.id, p.field)
                },
                text: p.message.clone(),
            },
        })
        .collect();
    let versions = d
        .versions
        .iter()
        .rev()
        .map(|v| VersionLine {
            version: v.version,
            status: match v.status.as_str() {
                "draft" => "Draft".to_string(),
                "published" => "Published: new enrolments take this version".to_string(),
                _ => "Earlier version: people enrolled in it keep it".to_string(),
            },
            when: v
                .published_at
                .map(|t| format!("published {}", day(t)))
                .unwrap_or_else(|| format!("started {}", day(v.created_at))),
        })
        .collect();
    Ok(CoursePage {
        chrome: Chrome::for_viewer(v, &c.title, "/courses"),
        id: c.id,
        title: c.title.clone(),
        key: c.key.clone(),
        summary: c.summary.clone(),
        data_standards: c.data_standards.clone().unwrap_or_default(),
        price: price_text(c.price_cents),
        prerequisites: prerequisites_text(&courses::prerequisites_of(c), &all),
        restrict_seeking: c.restrict_seeking,
        retired: c.retired_at.is_some(),
        published: c.published_version,
        shown: d.shown.as_ref().map(|v| v.version),
        draft,
        versions,
        lessons,
        problems,
        refused,
        kinds: KINDS.to_vec(),
    })
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let d = courses::detail(&state.app, &v.ctx, id).await?;
    let mut page = course_page(&state, &v, d, false).await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn publish(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    match courses::publish(&state.app, &v.ctx, id).await {
        Ok(version) => Ok(list::saved(
            jar,
            &format!("Version {version} is published: new enrolments take it, and people already in progress keep theirs."),
            &format!("/courses/{id}"),
        )),
        Err(AppError::Invalid(fields)) => {
            let d = courses::detail(&state.app, &v.ctx, id).await?;
            let mut page = course_page(&state, &v, d, true).await?;
            if page.problems.is_empty() {
                // Not a lesson's problem (no draft to publish): say so the same way.
                page.problems = fields
                    .into_iter()
                    .map(|f: FieldError| ProblemLine {
                        href: "#lessons".into(),
                        text: f.message,
                    })
                    .collect();
            }
            Ok(list::unprocessable(render(&page)?))
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_retired(
    state: AppState,
    v: Viewer,
    jar: CookieJar,
    id: i64,
    retired: bool,
) -> WebResult<Response> {
    courses::set_retired(&state.app, &v.ctx, id, retired).await?;
    Ok(list::saved(
        jar,
        if retired {
            "Course retired: it leaves new plans. People in progress may finish it."
        } else {
            "Course brought back: new plans may include it again."
        },
        &format!("/courses/{id}"),
    ))
}

async fn retire(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    set_retired(state, v, jar, id, true).await
}

async fn unretire(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    set_retired(state, v, jar, id, false).await
}

/// Moving a lesson: `to` is `up`, `down` or `remove`.
#[derive(Debug, Default, Deserialize)]
pub struct ArrangeForm {
    #[serde(default)]
    to: String,
}

async fn arrange(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path((id, lesson)): Path<(i64, i64)>,
    CsrfForm(f): CsrfForm<ArrangeForm>,
) -> WebResult<Response> {
    let (change, message) = match f.to.as_str() {
        "up" => (-1, "Lesson moved up."),
        "down" => (1, "Lesson moved down."),
        "remove" => (0, "Lesson removed from the draft."),
        _ => {
            v.ctx.require(Permission::ManageCourses)?;
            return Err(AppError::field("to", "Say where the lesson goes: up, down or out").into());
        }
    };
    courses::arrange_lesson(&state.app, &v.ctx, id, lesson, change).await?;
    Ok(list::saved(jar, message, &format!("/courses/{id}")))
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (key, bytes) = packages::export_zip(&state.app, &v.ctx, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{key}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- a lesson

/// The lesson form's fields as typed (files travel separately).
#[derive(Debug, Clone, Default)]
pub struct LessonForm {
    key: String,
    title: String,
    kind: String,
    body: String,
    transcript: String,
    url: String,
    instructions: String,
    quiz: String,
}

impl LessonForm {
    fn from_upload(f: &UploadForm) -> Self {
        Self {
            key: f.text("key"),
            title: f.text("title"),
            kind: f.text("kind"),
            body: f.text("body"),
            transcript: f.text("transcript"),
            url: f.text("url"),
            instructions: f.text("instructions"),
            quiz: f.text("quiz"),
        }
    }
    fn from_lesson(l: &Lesson) -> Self {
        Self {
            key: l.key.clone(),
            title: l.title.clone(),
            kind: l.kind.clone(),
            body: l.body.clone(),
            transcript: l.transcript.clone(),
            url: l.url.clone(),
            instructions: l.instructions.clone(),
            quiz: l.quiz_key.clone(),
        }
    }
    fn input(&self) -> LessonInput {
        LessonInput {
            key: self.key.clone(),
            title: self.title.clone(),
            kind: self.kind.clone(),
            body: self.body.clone(),
            transcript: self.transcript.clone(),
            url: self.url.clone(),
            instructions: self.instructions.clone(),
            quiz: self.quiz.clone(),
            ..Default::default()
        }
    }
}

/// A file the lesson already has, to look at.
struct CurrentFile {
    href: String,
    label: String,
}

#[derive(Template)]
#[template(path = "learning/authoring/lesson_form.html")]
struct LessonFormPage {
    chrome: Chrome,
    errors: FormErrors,
    form: LessonForm,
    course_id: i64,
    course_title: String,
    /// None when adding.
    lesson_id: Option<i64>,
    kind_label: &'static str,
    /// Whether the lesson belongs to the published version (saving makes a draft).
    published: bool,
    file: Option<CurrentFile>,
    captions: Option<CurrentFile>,
    /// Files were chosen but the form was refused: they must be chosen again.
    files_dropped: bool,
    video_hint: String,
    pdf_hint: String,
    captions_hint: String,
}

fn megabytes(n: u64) -> String {
    format!("{} MB", (n >> 20).max(1))
}

fn lesson_form_page(
    state: &AppState,
    v: &Viewer,
    d: &CourseDetail,
    lesson: Option<&Lesson>,
    form: LessonForm,
    errors: FormErrors,
    files_dropped: bool,
) -> LessonFormPage {
    let kind = LessonKind::parse(&form.kind).unwrap_or(LessonKind::Reading);
    let base = format!("/training/courses/{}/files", d.course.id);
    let file = lesson.and_then(|l| {
        l.file_hash.as_ref().map(|h| CurrentFile {
            href: format!("{base}/{h}"),
            label: match (kind, l.duration_ms) {
                (LessonKind::Video, Some(ms)) => format!("The current video ({})", minutes(ms)),
                (LessonKind::Video, None) => "The current video".into(),
                _ => "The current PDF".into(),
            },
        })
    });
    let captions = lesson.and_then(|l| {
        l.captions_hash.as_ref().map(|h| CurrentFile {
            href: format!("{base}/{h}"),
            label: "The current captions".into(),
        })
    });
    let title = match lesson {
        Some(l) => format!("Edit lesson: {}", l.title),
        None => format!("New lesson: {}", kind.label().to_lowercase()),
    };
    let limits = &state.app.config.upload_limits;
    LessonFormPage {
        chrome: Chrome::for_viewer(v, &title, "/courses"),
        errors,
        course_id: d.course.id,
        course_title: d.course.title.clone(),
        lesson_id: lesson.map(|l| l.id),
        kind_label: kind.label(),
        published: d.shown.as_ref().is_none_or(|v| v.status != "draft"),
        file,
        captions,
        files_dropped,
        video_hint: format!(
            "WebM or MP4, at most {}. Onramp reads its length from the file.",
            megabytes(limits.video)
        ),
        pdf_hint: format!("Optional: a PDF of at most {}.", megabytes(limits.pdf)),
        captions_hint: format!(
            "A WebVTT (.vtt) file, at most {}. A video cannot be published without captions.",
            megabytes(limits.captions)
        ),
        form: LessonForm {
            kind: kind.as_str().to_string(),
            ..form
        },
    }
}

/// `?kind=video` on the new-lesson form.
#[derive(Debug, Default, Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    kind: String,
}

async fn new_lesson_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<KindQuery>,
) -> WebResult<Response> {
    let d = courses::detail(&state.app, &v.ctx, id).await?;
    let form = LessonForm {
        kind: q.kind,
        ..Default::default()
    };
    let page = lesson_form_page(&state, &v, &d, None, form, FormErrors::default(), false);
    Ok(render(&page)?.into_response())
}

async fn edit_lesson_form(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, lesson)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let d = courses::detail(&state.app, &v.ctx, id).await?;
    let l = d
        .lessons
        .iter()
        .find(|l| l.id == lesson)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let page = lesson_form_page(
        &state,
        &v,
        &d,
        Some(&l),
        LessonForm::from_lesson(&l),
        FormErrors::default(),
        false,
    );
    Ok(render(&page)?.into_response())
}

fn uploads_of(f: &UploadForm) -> LessonUploads {
    LessonUploads {
        file: f.file("file").map(|u| u.bytes.clone()),
        captions: f.file("captions").map(|u| u.bytes.clone()),
    }
}

async fn save_lesson_form(
    state: AppState,
    v: Viewer,
    jar: CookieJar,
    id: i64,
    lesson: Option<i64>,
    f: UploadForm,
) -> WebResult<Response> {
    let form = LessonForm::from_upload(&f);
    let uploads = uploads_of(&f);
    match authoring::save_lesson_with_uploads(
        &state.app,
        &v.ctx,
        id,
        lesson,
        &form.input(),
        &uploads,
    )
    .await
    {
        Ok(_) => Ok(list::saved(
            jar,
            &format!(
                "Lesson \u{2018}{}\u{2019} saved in the draft.",
                form.title.trim()
            ),
            &format!("/courses/{id}"),
        )),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let d = courses::detail(&state.app, &v.ctx, id).await?;
            let current = lesson.and_then(|l| d.lessons.iter().find(|x| x.id == l).cloned());
            if lesson.is_some() && current.is_none() {
                return Err(WebError::App(AppError::NotFound));
            }
            let dropped = uploads.file.is_some() || uploads.captions.is_some();
            Ok(list::unprocessable(render(&lesson_form_page(
                &state,
                &v,
                &d,
                current.as_ref(),
                form,
                errors,
                dropped,
            ))?))
        }
    }
}

async fn add_lesson(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    f: UploadForm,
) -> WebResult<Response> {
    save_lesson_form(state, v, jar, id, None, f).await
}

async fn save_lesson(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path((id, lesson)): Path<(i64, i64)>,
    f: UploadForm,
) -> WebResult<Response> {
    save_lesson_form(state, v, jar, id, Some(lesson), f).await
}

// ---------------------------------------------------------------- packages in

#[derive(Template)]
#[template(path = "learning/authoring/import.html")]
struct ImportPage {
    chrome: Chrome,
    errors: FormErrors,
    package_max: String,
}

#[derive(Template)]
#[template(path = "learning/authoring/import_report.html")]
struct ImportReportPage {
    chrome: Chrome,
    course_href: String,
    title: String,
    key: String,
    outcome: String,
    lessons: Vec<String>,
    problems: Vec<(String, String)>,
}

fn import_page(state: &AppState, v: &Viewer, errors: FormErrors) -> ImportPage {
    let limit = UploadForm::body_limit(&state.app.config.upload_limits);
    ImportPage {
        chrome: Chrome::for_viewer(v, "Import a course package", "/courses"),
        errors,
        package_max: megabytes((limit - crate::forms::UPLOAD_FORM_OVERHEAD) as u64),
    }
}

async fn import_form(State(state): State<AppState>, v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    Ok(render(&import_page(&state, &v, FormErrors::default()))?.into_response())
}

fn outcome_text(o: &ImportOutcome) -> String {
    match o {
        ImportOutcome::Created { version } => {
            format!("A new course, published as version {version}.")
        }
        ImportOutcome::NewVersion { version } => format!(
            "The course existed and the package differs: published as version {version}. People in progress keep their version."
        ),
        ImportOutcome::Unchanged { version } => format!(
            "Nothing changed: the package teaches exactly what published version {version} does."
        ),
        ImportOutcome::Draft { version } => format!(
            "Kept as draft version {version}: it cannot be published yet (see below)."
        ),
    }
}

async fn import(State(state): State<AppState>, v: Viewer, f: UploadForm) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    let Some(file) = f.file("package") else {
        return Ok(list::unprocessable(render(&import_page(
            &state,
            &v,
            FormErrors(vec![FieldError::new(
                "package",
                "Choose a course package (a .zip file) to import",
            )]),
        ))?));
    };
    match packages::import_zip(&state.app, &v.ctx, &file.bytes).await {
        Ok(r) => Ok(render(&report_page(&state, &v, &r).await?)?.into_response()),
        Err(e) => Ok(list::unprocessable(render(&import_page(
            &state,
            &v,
            FormErrors::from_app(e)?,
        ))?)),
    }
}

async fn report_page(
    state: &AppState,
    v: &Viewer,
    r: &ImportReport,
) -> WebResult<ImportReportPage> {
    let id = authoring::catalogue(&state.app, &v.ctx)
        .await?
        .into_iter()
        .find(|e| e.course.key == r.key)
        .map(|e| e.course.id);
    Ok(ImportReportPage {
        chrome: Chrome::for_viewer(v, "Package imported", "/courses"),
        course_href: id.map(|i| format!("/courses/{i}")).unwrap_or_default(),
        title: r.title.clone(),
        key: r.key.clone(),
        outcome: outcome_text(&r.outcome),
        lessons: r.lessons.clone(),
        problems: r
            .problems
            .iter()
            .map(|p| (p.place.clone(), p.message.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(minutes(65_400), "1:05");
        assert_eq!(minutes(0), "0:00");
        assert_eq!(minutes(3_600_000), "60:00");
    }
}
