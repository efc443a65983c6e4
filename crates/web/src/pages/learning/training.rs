//! The trainee's side: their plan (`/training`), a course's lessons, and each lesson —
//! readings marked read, external pages confirmed, videos watched in full.

use super::super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::CsrfForm;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::lessons::{self, Confirmation, OpenedLesson, TraineeCourse};
use onramp_app::learning::plans::{self, PlanState};
use onramp_app::AppError;
use onramp_domain::learning::course::{format_cents, LessonKind};
use onramp_domain::learning::plan::ItemStatus;
use onramp_domain::learning::rules::{GroupMode, ItemKind};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/training", get(my_training)),
        Route::get("/training/courses/{id}", get(course_page)),
        Route::get("/training/courses/{id}/lessons/{key}", get(lesson_page)),
        Route::post(
            "/training/courses/{id}/lessons/{key}/done",
            post(lesson_done),
        ),
        Route::post(
            "/training/courses/{id}/lessons/{key}/progress",
            post(video_progress),
        ),
        Route::get("/training/courses/{id}/files/{hash}", get(course_file)),
    ]
}

/// A percentage for a progress bar, rounded down so that 99.9% never shows as 100.
pub fn percent(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * 100.0).floor() as u32
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// One item of a plan as pages show it.
pub struct ItemLine {
    /// `kind:key`, as the rules name it.
    pub item_ref: String,
    pub title: String,
    pub kind: &'static str,
    pub href: Option<String>,
    pub status: &'static str,
    pub class: &'static str,
    pub percent: u32,
    /// Restricted: why, and the way forward; complete: when and how; waived: why.
    pub detail: String,
    pub price: String,
}

/// One group of a plan as pages show it.
pub struct GroupLine {
    pub heading: String,
    pub because: String,
    pub done: bool,
    pub percent: u32,
    pub items: Vec<ItemLine>,
}

/// A plan as pages show it, part by part.
pub struct PlanLines {
    pub percent: u32,
    pub complete: bool,
    pub groups: Vec<GroupLine>,
    pub next: Option<(String, String)>,
    pub version: i32,
    pub computed: String,
}

/// Turns a plan's state into what its pages show. Links go to the trainee's course pages
/// when `links` is set (the person's own plan).
pub fn plan_lines(s: &PlanState, links: bool) -> PlanLines {
    let groups = s
        .view
        .groups
        .iter()
        .map(|g| GroupLine {
            heading: match g.mode {
                GroupMode::AllOf => format!("{}: all of", part_label(&g.part)),
                GroupMode::OneOf => format!("{}: one of these, your choice", part_label(&g.part)),
            },
            because: g.because.clone(),
            done: g.done,
            percent: percent(if g.done { 1.0 } else { g.share }),
            items: g
                .items
                .iter()
                .map(|i| {
                    let course = (i.item.kind == ItemKind::Course)
                        .then(|| s.courses.get(i.item.key.as_str()))
                        .flatten();
                    let (status, class) = match &i.status {
                        ItemStatus::Restricted { .. } => ("Restricted", "muted"),
                        ItemStatus::Available => ("Not started", ""),
                        ItemStatus::InProgress { .. } => ("In progress", "warn"),
                        ItemStatus::Complete { .. } => ("Complete", "ok"),
                        ItemStatus::Waived { .. } => ("Waived", "ok"),
                    };
                    let detail = match &i.status {
                        ItemStatus::Restricted { reason } => reason.clone(),
                        ItemStatus::Complete {
                            at,
                            evidence,
                            carried_over,
                        } => format!(
                            "Completed {}{} — {evidence}",
                            day(*at),
                            if *carried_over {
                                " (earlier training that still counts)"
                            } else {
                                ""
                            }
                        ),
                        ItemStatus::Waived { reason } => format!("Waived: {reason}"),
                        _ => String::new(),
                    };
                    ItemLine {
                        item_ref: i.item.to_string(),
                        title: s.title_of(&i.item),
                        kind: i.item.kind.label(),
                        href: if !links || matches!(i.status, ItemStatus::Restricted { .. }) {
                            None
                        } else if i.item.kind == ItemKind::Quiz {
                            Some(format!("/training/quizzes/{}", i.item.key.as_str()))
                        } else {
                            course.map(|c| format!("/training/courses/{}", c.id))
                        },
                        status,
                        class,
                        percent: percent(i.status.share()),
                        detail,
                        price: course
                            .and_then(|c| c.price_cents)
                            .map(format_cents)
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let next = s.view.next().map(|n| {
        let title = s.title_of(&n.item);
        let href = if !links {
            String::new()
        } else if n.item.kind == ItemKind::Quiz {
            format!("/training/quizzes/{}", n.item.key.as_str())
        } else {
            s.courses
                .get(n.item.key.as_str())
                .filter(|_| n.item.kind == ItemKind::Course)
                .map(|c| format!("/training/courses/{}", c.id))
                .unwrap_or_default()
        };
        (title, href)
    });
    PlanLines {
        percent: percent(s.view.share(&[])),
        complete: s.view.is_complete(&[]),
        groups,
        next,
        version: s.plan.version,
        computed: day(s.plan.computed_at),
    }
}

fn part_label(part: &str) -> String {
    let mut s = part.replace(['-', '_'], " ");
    if let Some(f) = s.get(0..1) {
        let up = f.to_uppercase();
        s.replace_range(0..1, &up);
    }
    s
}

// ---------------------------------------------------------------- my training

#[derive(Template)]
#[template(path = "learning/training.html")]
struct TrainingPage {
    chrome: Chrome,
    plan: Option<PlanLines>,
}

async fn my_training(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let s = plans::person_plan(&state.app, &v.ctx, v.ctx.actor.person_id).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "My training", "/training").with_flash(&jar);
    Ok((
        jar,
        render(&TrainingPage {
            chrome,
            plan: s.as_ref().map(|s| plan_lines(s, true)),
        })?,
    )
        .into_response())
}

// ---------------------------------------------------------------- a course

struct LessonLine {
    href: String,
    title: String,
    kind: &'static str,
    status: &'static str,
    class: &'static str,
    percent: u32,
}

#[derive(Template)]
#[template(path = "learning/course.html")]
struct CoursePage {
    chrome: Chrome,
    title: String,
    summary_html: String,
    objectives: Vec<String>,
    version: i32,
    data_standards: String,
    restricted: Option<String>,
    percent: u32,
    complete: bool,
    completed_on: String,
    lessons: Vec<LessonLine>,
    next_href: Option<String>,
    /// A paid course's price and who pays it.
    price_note: Option<String>,
}

fn lesson_lines(c: &TraineeCourse) -> Vec<LessonLine> {
    c.lessons
        .iter()
        .map(|l| {
            let kind = LessonKind::parse(&l.lesson.kind).unwrap_or(LessonKind::Reading);
            let (status, class) = if l.complete {
                ("Complete", "ok")
            } else if l.share > 0.0 {
                ("In progress", "warn")
            } else {
                ("Not started", "")
            };
            LessonLine {
                href: format!("/training/courses/{}/lessons/{}", c.course.id, l.lesson.key),
                title: l.lesson.title.clone(),
                kind: kind.label(),
                status,
                class,
                percent: percent(l.share),
            }
        })
        .collect()
}

async fn course_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let c = lessons::course(&state.app, &v.ctx, id).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, &c.course.title, "/training").with_flash(&jar);
    let lines = lesson_lines(&c);
    let next_href = c
        .lessons
        .iter()
        .zip(&lines)
        .find(|(l, _)| !l.complete)
        .map(|(_, line)| line.href.clone())
        .filter(|_| c.restricted.is_none());
    Ok((
        jar,
        render(&CoursePage {
            chrome,
            title: c.course.title.clone(),
            summary_html: onramp_formats::markdown::render_safe(&c.course.summary),
            objectives: onramp_app::learning::courses::string_list(&c.course.objectives),
            version: c.version.version,
            data_standards: c.course.data_standards.clone().unwrap_or_default(),
            restricted: c.restricted.clone(),
            price_note: c.price_note.clone(),
            percent: percent(c.share),
            complete: c.complete,
            completed_on: c
                .enrolment
                .as_ref()
                .and_then(|e| e.completed_at)
                .map(day)
                .unwrap_or_default(),
            lessons: lines,
            next_href,
        })?,
    )
        .into_response())
}

// ---------------------------------------------------------------- a lesson

#[derive(Template)]
#[template(path = "learning/lesson.html")]
struct LessonPage {
    chrome: Chrome,
    course_title: String,
    course_href: String,
    title: String,
    number: usize,
    of: usize,
    kind: &'static str,
    complete: bool,
    /// Reading: the sanitised HTML of its Markdown.
    body_html: String,
    /// Reading given as a PDF, or the video, or its captions: where to fetch them.
    file_href: Option<String>,
    captions_href: Option<String>,
    transcript_html: String,
    url: String,
    instructions: String,
    /// Quiz: where the person takes it.
    quiz_href: String,
    /// Video: the viewing's token, where to report, where to resume.
    view: String,
    progress_href: String,
    resume_ms: i64,
    furthest_ms: i64,
    restrict_seeking: bool,
    percent: u32,
    transcript_instead: bool,
    done_href: String,
    next_href: Option<String>,
}

fn new_view_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

async fn lesson_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path((id, key)): Path<(i64, String)>,
) -> WebResult<Response> {
    let opened: OpenedLesson =
        match lessons::open(&state.app, &v.ctx, id, &key, new_view_token).await {
            Ok(o) => o,
            // Restricted: back to the course, which says why.
            Err(AppError::Conflict(m)) => {
                return Ok((
                    jar.add(crate::chrome::flash(&m)),
                    Redirect::to(&format!("/training/courses/{id}")),
                )
                    .into_response())
            }
            Err(e) => return Err(e.into()),
        };
    let c = &opened.course;
    let row = &c.lessons[opened.index];
    let l = &row.lesson;
    let kind = LessonKind::parse(&l.kind).unwrap_or(LessonKind::Reading);
    let base = format!("/training/courses/{}", c.course.id);
    let file_href = l.file_hash.as_ref().map(|h| format!("{base}/files/{h}"));
    let captions_href = l
        .captions_hash
        .as_ref()
        .map(|h| format!("{base}/files/{h}"));
    let next_href = c
        .lessons
        .get(opened.index + 1)
        .map(|n| format!("{base}/lessons/{}", n.lesson.key));
    let (chrome, jar) = Chrome::for_viewer(&v, &l.title, "/training").with_flash(&jar);
    Ok((
        jar,
        render(&LessonPage {
            chrome,
            course_title: c.course.title.clone(),
            course_href: base.clone(),
            title: l.title.clone(),
            number: opened.index + 1,
            of: c.lessons.len(),
            kind: kind.as_str(),
            complete: row.complete,
            body_html: onramp_formats::markdown::render_safe(&l.body),
            file_href,
            captions_href,
            transcript_html: onramp_formats::markdown::render_safe(&l.transcript),
            url: l.url.clone(),
            instructions: l.instructions.clone(),
            quiz_href: format!("/training/quizzes/{}", l.quiz_key),
            view: opened.view.clone().unwrap_or_default(),
            progress_href: format!("{base}/lessons/{}/progress", l.key),
            resume_ms: opened.resume_ms,
            furthest_ms: row.progress.as_ref().map(|p| p.furthest_ms).unwrap_or(0),
            restrict_seeking: c.course.restrict_seeking,
            percent: percent(row.share),
            transcript_instead: c.transcript_instead,
            done_href: format!("{base}/lessons/{}/done", l.key),
            next_href,
        })?,
    )
        .into_response())
}

/// The confirmation form: what the person confirms.
#[derive(Debug, Default, Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    what: String,
}

async fn lesson_done(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path((id, key)): Path<(i64, String)>,
    CsrfForm(f): CsrfForm<DoneForm>,
) -> WebResult<Response> {
    let what = match f.what.as_str() {
        "read" => Confirmation::Read,
        "visited" => Confirmation::ExternalPage,
        "transcript" => Confirmation::Transcript,
        _ => {
            return Err(AppError::field("what", "Say what you are confirming").into());
        }
    };
    let back = format!("/training/courses/{id}/lessons/{key}");
    match lessons::confirm(&state.app, &v.ctx, id, &key, what).await {
        Ok(()) => {
            let c = lessons::course(&state.app, &v.ctx, id).await?;
            let message = if c.complete {
                format!("{} is complete.", c.course.title)
            } else {
                "Lesson complete.".to_string()
            };
            let to = match c.lessons.iter().find(|l| !l.complete) {
                Some(n) if !c.complete => {
                    format!("/training/courses/{id}/lessons/{}", n.lesson.key)
                }
                _ => format!("/training/courses/{id}"),
            };
            Ok((jar.add(crate::chrome::flash(&message)), Redirect::to(&to)).into_response())
        }
        Err(AppError::Conflict(m)) => {
            Ok((jar.add(crate::chrome::flash(&m)), Redirect::to(&back)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- video progress

fn problem(status: axum::http::StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
        serde_json::json!({"type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail})
            .to_string(),
    )
        .into_response()
}

/// `POST …/progress`: one report of the played ranges (JSON, with the page's CSRF token in
/// `X-CSRF-Token`). Answers the share watched, or a problem saying why the report was refused.
async fn video_progress(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, key)): Path<(i64, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    use axum::http::StatusCode;
    let token = headers
        .get("x-csrf-token")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default();
    if token.is_empty() || token != v.session.csrf_token {
        return Ok(problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The page's security token is missing or out of date; reload the lesson.",
        ));
    }
    if body.len() > 64 * 1024 {
        return Ok(problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The progress report is too large.",
        ));
    }
    let report: onramp_domain::learning::coverage::ProgressReport =
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(_) => {
                return Ok(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Refused",
                    "The progress report is not well formed.",
                ))
            }
        };
    match lessons::report_progress(&state.app, &v.ctx, id, &key, &report).await? {
        Ok(answer) => Ok(axum::Json(answer).into_response()),
        Err(why) => Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Refused",
            why.message(),
        )),
    }
}

// ---------------------------------------------------------------- files

/// A single byte range `bytes=a-b`, `a-` or `-n` of a file of `size` bytes: Some((start,
/// end exclusive)), None when unsatisfiable; several ranges read as the whole file.
pub fn byte_range(header: &str, size: u64) -> Option<Option<(u64, u64)>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return Some(None);
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return None;
        }
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        if start >= size || start >= end {
            return None;
        }
        (start, end)
    };
    Some(Some(range))
}

/// `GET …/files/{hash}`: a course's video, captions or PDF, to its enrolled people (and
/// course writers), with single byte ranges for seeking and resuming.
async fn course_file(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, hash)): Path<(i64, String)>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    use axum::http::{header, StatusCode};
    let hash = onramp_domain::files::FileHash::parse(&hash).map_err(|_| AppError::NotFound)?;
    let file = lessons::course_file(&state.app, &v.ctx, id, hash.as_str()).await?;
    let size = u64::try_from(file.size).unwrap_or(0);
    let wanted = headers
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .map(|r| byte_range(r, size));
    let (status, start, end) = match wanted {
        None | Some(Some(None)) => (StatusCode::OK, 0, size),
        Some(Some(Some((a, b)))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Some(None) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response())
        }
    };
    let bytes = state
        .app
        .files
        .read_range(&state.app.store, &file, start, end)
        .await
        .map_err(AppError::from)?;
    let mut r = (status, bytes).into_response();
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, file.media_type.clone());
    set(h, header::ACCEPT_RANGES, "bytes".into());
    set(h, header::ETAG, format!("\"{}\"", file.hash));
    set(
        h,
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable".into(),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            h,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
        );
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_read_as_browsers_send_them() {
        assert_eq!(byte_range("bytes=0-99", 1000), Some(Some((0, 100))));
        assert_eq!(byte_range("bytes=900-", 1000), Some(Some((900, 1000))));
        assert_eq!(byte_range("bytes=-100", 1000), Some(Some((900, 1000))));
        assert_eq!(byte_range("bytes=0-5000", 1000), Some(Some((0, 1000))));
        assert_eq!(byte_range("bytes=1000-", 1000), None);
        assert_eq!(byte_range("bytes=5-2", 1000), None);
        assert_eq!(byte_range("bytes=0-1,5-9", 1000), Some(None));
        assert_eq!(byte_range("items=0-1", 1000), None);
    }
}
