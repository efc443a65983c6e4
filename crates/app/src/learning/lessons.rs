//! A person's work through a course: opening lessons, marking readings read, confirming
//! external pages, the transcript accommodation, and the course's completion.
//!
//! Only people enrolled in a course (it is in their plan) open its lessons, and only once
//! its prerequisites are complete; Lead staff who write courses may look at any of them.

use super::courses::{content_of, prerequisites_of};
use super::plans;
use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::Permission;
use onramp_domain::learning::course::{gate, Gate, LessonKind};
use onramp_domain::learning::plan::counts_for_plan;
use onramp_domain::learning::rules::ItemRef;
use onramp_domain::Slug;
use onramp_store::learning::courses::{Course, CourseVersion, Enrolment, Lesson, LessonProgress};
use onramp_store::reads::*;
use onramp_store::Reads;
use onramp_store::Tx;
use serde_json::json;

/// The accommodation kind: the transcript read and confirmed instead of watching a video.
pub const TRANSCRIPT_INSTEAD: &str = "transcript_instead_of_video";

/// One lesson with where the person stands in it.
#[derive(Debug, Clone)]
pub struct LessonRow {
    pub lesson: Lesson,
    pub progress: Option<LessonProgress>,
    pub share: f64,
    pub complete: bool,
}

/// A course as its trainee sees it.
#[derive(Debug, Clone)]
pub struct TraineeCourse {
    pub course: Course,
    pub version: CourseVersion,
    /// None when a course writer looks at a course they are not enrolled in.
    pub enrolment: Option<Enrolment>,
    pub lessons: Vec<LessonRow>,
    /// Restricted courses say what to complete first.
    pub restricted: Option<String>,
    pub share: f64,
    pub complete: bool,
    /// The person may read the transcript instead of watching (a recorded accommodation).
    pub transcript_instead: bool,
    /// A paid course's price and who pays it ("paid by your agency…"); None when free.
    pub price_note: Option<String>,
}

fn now_of(app: &App) -> DateTime<Utc> {
    app.now()
}

/// The restriction of a course for a person, in words (None: open).
async fn restriction_in<R: Reads>(
    tx: &mut R,
    course: &Course,
    person_id: i64,
) -> AppResult<Option<String>> {
    let prereqs = prerequisites_of(course);
    if prereqs.is_empty() {
        return Ok(None);
    }
    let completions = tx.completions_of(person_id).await?;
    let plan = tx.plan_current(person_id).await?;
    let counted = |k: &Slug| {
        completions.iter().any(|c| {
            c.item_kind == "course"
                && c.item_key == k.as_str()
                && plan.as_ref().is_none_or(|p| {
                    counts_for_plan(
                        c.completed_at,
                        p.began_at,
                        u32::try_from(p.carry_over_days).unwrap_or(0),
                    )
                })
        })
    };
    match gate(&prereqs, counted) {
        Gate::Open => Ok(None),
        Gate::Restricted { missing, any } => {
            let mut names = Vec::new();
            for k in &missing {
                names.push(
                    tx.course_by_key(course.implementation_id, k.as_str())
                        .await?
                        .map(|c| c.title)
                        .unwrap_or_else(|| k.as_str().to_string()),
                );
            }
            Ok(Some(if any {
                format!(
                    "Restricted until one of these is 100% complete: {}",
                    names.join("; ")
                )
            } else {
                format!("Restricted until {} is 100% complete", names.join(" and "))
            }))
        }
    }
}

async fn trainee_course_in(tx: &mut Tx, ctx: &Ctx, course_id: i64) -> AppResult<TraineeCourse> {
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let person_id = ctx.actor.person_id;
    let enrolment = tx.enrolment_of(person_id, course.id).await?;
    let versions = tx.course_versions(course.id).await?;
    let version = match &enrolment {
        Some(e) => versions.iter().find(|v| v.id == e.version_id).cloned(),
        None if ctx.actor.may(Permission::ManageCourses) => versions
            .iter()
            .rev()
            .find(|v| v.status == "published")
            .or(versions.last())
            .cloned(),
        // Not enrolled: the course is not theirs to open.
        None => return Err(AppError::NotFound),
    }
    .ok_or(AppError::NotFound)?;
    let lessons = tx.lessons_of_version(version.id).await?;
    let progress = match &enrolment {
        Some(e) => tx.lesson_progress_of_enrolment(e.id).await?,
        None => Vec::new(),
    };
    let rows: Vec<LessonRow> = lessons
        .into_iter()
        .map(|l| {
            let p = progress.iter().find(|p| p.lesson_id == l.id).cloned();
            let share = p
                .as_ref()
                .map(|p| plans::lesson_share(p, &l))
                .unwrap_or(0.0);
            LessonRow {
                complete: p.as_ref().is_some_and(|p| p.completed_at.is_some()),
                share,
                progress: p,
                lesson: l,
            }
        })
        .collect();
    let restricted = match &enrolment {
        Some(_) => restriction_in(tx, &course, person_id).await?,
        None => None,
    };
    let complete = enrolment.as_ref().is_some_and(|e| e.completed_at.is_some());
    let share = if complete {
        1.0
    } else if rows.is_empty() {
        0.0
    } else {
        (rows.iter().map(|r| r.share).sum::<f64>() / rows.len() as f64).min(0.999)
    };
    let transcript_instead = tx
        .accommodations_of(person_id)
        .await?
        .iter()
        .any(|a| a.kind == TRANSCRIPT_INSTEAD && a.course_id.is_none_or(|c| c == course.id));
    let price_note = super::credits::price_note_in(tx, person_id, &course).await?;
    Ok(TraineeCourse {
        course,
        version,
        enrolment,
        lessons: rows,
        restricted,
        share,
        complete,
        transcript_instead,
        price_note,
    })
}

/// A course as the signed-in person sees it (their enrolled version).
pub async fn course(app: &App, ctx: &Ctx, course_id: i64) -> AppResult<TraineeCourse> {
    let mut tx = app.store.read().await?;
    trainee_course_in(&mut tx, ctx, course_id).await
}

/// A lesson opened by its trainee: refused while the course is restricted.
#[derive(Debug, Clone)]
pub struct OpenedLesson {
    pub course: TraineeCourse,
    pub index: usize,
    /// For a video: the token of this viewing, sent back with each progress report.
    pub view: Option<String>,
    /// Where to resume (ms): the end of what was watched from the start.
    pub resume_ms: i64,
}

/// Opens a lesson. For a video it starts a new viewing (a fresh token; reports of an older
/// viewing are refused from now on).
pub async fn open(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_key: &str,
    view_token: impl FnOnce() -> String,
) -> AppResult<OpenedLesson> {
    let mut tx = app.store.begin().await?;
    let course = trainee_course_in(&mut tx, ctx, course_id).await?;
    let index = course
        .lessons
        .iter()
        .position(|l| l.lesson.key == lesson_key)
        .ok_or(AppError::NotFound)?;
    if let Some(r) = &course.restricted {
        return Err(AppError::Conflict(r.clone()));
    }
    if course.enrolment.is_some() {
        // Starting a course of a "one of" group is the person's choice: it is paid now.
        super::credits::started_in(&mut tx, app, ctx, ctx.actor.person_id, &course.course).await?;
    }
    if let (Some(_), Some(LessonKind::Quiz), false) = (
        &course.enrolment,
        LessonKind::parse(&course.lessons[index].lesson.kind),
        course.lessons[index].complete,
    ) {
        // A quiz passed before the course asked for it counts.
        let key = course.lessons[index].lesson.quiz_key.clone();
        let passed = tx
            .completions_of(ctx.actor.person_id)
            .await?
            .iter()
            .any(|c| c.item_kind == "quiz" && c.item_key == key);
        if passed {
            quiz_passed_in(&mut tx, app, ctx, ctx.actor.person_id, &key).await?;
            tx.commit().await?;
            return Box::pin(open(app, ctx, course_id, lesson_key, view_token)).await;
        }
    }
    let mut view = None;
    let mut resume_ms = 0;
    if let (Some(e), LessonKind::Video) = (
        &course.enrolment,
        LessonKind::parse(&course.lessons[index].lesson.kind).unwrap_or(LessonKind::Reading),
    ) {
        let now = now_of(app);
        let lesson = &course.lessons[index].lesson;
        let mut p = course.lessons[index]
            .progress
            .clone()
            .unwrap_or_else(|| blank_progress(e.id, lesson.id, now));
        let token = view_token();
        p.view_token = Some(token.clone());
        p.view_started_at = Some(now);
        // A new viewing numbers its reports from 1; the speed rule's clock (started_at and
        // the last accepted report) runs on.
        p.last_seq = 0;
        resume_ms = if p.completed_at.is_some() {
            0
        } else {
            p.furthest_ms
        };
        tx.lesson_progress_save(&p).await?;
        view = Some(token);
    }
    tx.commit().await?;
    Ok(OpenedLesson {
        course,
        index,
        view,
        resume_ms,
    })
}

/// A progress row for a lesson not started yet.
pub fn blank_progress(enrolment_id: i64, lesson_id: i64, now: DateTime<Utc>) -> LessonProgress {
    LessonProgress {
        enrolment_id,
        lesson_id,
        started_at: now,
        completed_at: None,
        how: String::new(),
        covered: "[]".into(),
        covered_ms: 0,
        furthest_ms: 0,
        view_token: None,
        view_started_at: None,
        last_seq: 0,
        last_report_at: None,
        refused_reports: 0,
    }
}

/// How a lesson can be completed by the person's say-so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// A reading, read.
    Read,
    /// An external page, visited and read.
    ExternalPage,
    /// A video's transcript read instead of watching, under a recorded accommodation.
    Transcript,
}

/// Completes a lesson on the person's confirmation: a reading, an external page, or (with
/// the accommodation) a video's transcript. A video cannot be confirmed without it.
pub async fn confirm(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_key: &str,
    what: Confirmation,
) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let course = trainee_course_in(&mut tx, ctx, course_id).await?;
    let enrolment = course.enrolment.clone().ok_or(AppError::Forbidden)?;
    if let Some(r) = &course.restricted {
        return Err(AppError::Conflict(r.clone()));
    }
    let row = course
        .lessons
        .iter()
        .find(|l| l.lesson.key == lesson_key)
        .ok_or(AppError::NotFound)?;
    let kind = LessonKind::parse(&row.lesson.kind);
    let how = match (what, kind) {
        (Confirmation::Read, Some(LessonKind::Reading)) => "read",
        (Confirmation::ExternalPage, Some(LessonKind::ExternalLink)) => "confirmed",
        (Confirmation::Transcript, Some(LessonKind::Video)) if course.transcript_instead => {
            "transcript"
        }
        (Confirmation::Transcript, Some(LessonKind::Video)) => {
            return Err(AppError::Conflict(
                "A video is complete once it is watched; reading the transcript instead needs an accommodation recorded by the HMIS Lead".into(),
            ))
        }
        _ => return Err(AppError::Conflict("This lesson is not completed that way".into())),
    };
    if row.complete {
        return Ok(());
    }
    let now = now_of(app);
    let mut p = row
        .progress
        .clone()
        .unwrap_or_else(|| blank_progress(enrolment.id, row.lesson.id, now));
    p.completed_at = Some(now);
    p.how = how.into();
    tx.lesson_progress_save(&p).await?;
    record(
        &mut tx,
        app,
        ctx,
        "lesson.complete",
        "course",
        Some(course.course.id),
        json!({"lesson": row.lesson.key, "version": course.version.version, "how": how}),
    )
    .await?;
    course_done_if_complete_in(
        &mut tx,
        app,
        ctx,
        &course.course,
        &enrolment,
        &course.version,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// When every lesson of the enrolled version is complete: the enrolment completes, a
/// completion record is written and the person's requests move on.
pub async fn course_done_if_complete_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    course: &Course,
    enrolment: &Enrolment,
    version: &CourseVersion,
) -> AppResult<bool> {
    if enrolment.completed_at.is_some() {
        return Ok(false);
    }
    let lessons = tx.lessons_of_version(version.id).await?;
    let progress = tx.lesson_progress_of_enrolment(enrolment.id).await?;
    let all = !lessons.is_empty()
        && lessons.iter().all(|l| {
            progress
                .iter()
                .any(|p| p.lesson_id == l.id && p.completed_at.is_some())
        });
    if !all {
        return Ok(false);
    }
    let now = now_of(app);
    tx.enrolment_complete(enrolment.id, now).await?;
    let key = Slug::parse(&course.key).map_err(AppError::Internal)?;
    // The course's certificate, with its verification code.
    super::certificates::issue_in(
        tx,
        app,
        ctx,
        enrolment.person_id,
        &onramp_domain::learning::certificate::CertificateSubject::Course {
            key: key.clone(),
            version: version.version,
        },
        &course.title,
        now,
        None,
    )
    .await?;
    plans::complete_item_in(
        tx,
        app,
        ctx,
        enrolment.person_id,
        &ItemRef::course(key),
        Some(version.version),
        &format!(
            "{} (version {}) 100% complete",
            course.title, version.version
        ),
        None,
        "",
    )
    .await?;
    Ok(true)
}

/// A quiz passed: every quiz lesson asking for it in the person's open enrolments is
/// complete, and so is each course whose last lesson it was.
pub async fn quiz_passed_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    quiz_key: &str,
) -> AppResult<()> {
    let now = now_of(app);
    for (enrolment, lesson_id) in tx.open_quiz_lessons(person_id, quiz_key).await? {
        let progress = tx.lesson_progress_of_enrolment(enrolment.id).await?;
        let mut p = progress
            .into_iter()
            .find(|p| p.lesson_id == lesson_id)
            .unwrap_or_else(|| blank_progress(enrolment.id, lesson_id, now));
        if p.completed_at.is_some() {
            continue;
        }
        p.completed_at = Some(now);
        p.how = "quiz passed".into();
        tx.lesson_progress_save(&p).await?;
        let course = tx
            .course_get(enrolment.implementation_id, enrolment.course_id)
            .await?;
        let version = tx.course_version_get(enrolment.version_id).await?;
        record(
            tx,
            app,
            ctx,
            "lesson.complete",
            "course",
            Some(course.id),
            json!({"quiz": quiz_key, "version": version.version, "how": "quiz passed", "person_id": person_id}),
        )
        .await?;
        course_done_if_complete_in(tx, app, ctx, &course, &enrolment, &version).await?;
    }
    Ok(())
}

/// Grants the transcript accommodation (Lead staff): the person may read and confirm a
/// video's transcript instead of watching it, in one course or (None) every course.
pub async fn grant_transcript_accommodation(
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    course_id: Option<i64>,
    reason: &str,
) -> AppResult<i64> {
    ctx.require(Permission::ManageTrainingPlans)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field(
            "reason",
            "Record the reason for the accommodation",
        ));
    }
    let mut tx = app.store.begin().await?;
    let person = tx.person_by_id(person_id).await?;
    if person.implementation_id != ctx.implementation_id() {
        return Err(AppError::NotFound);
    }
    if let Some(c) = course_id {
        tx.course_get(ctx.implementation_id(), c)
            .await
            .map_err(|_| AppError::field("course", "Choose a course from the list"))?;
    }
    let id = tx
        .accommodation_grant(
            ctx.implementation_id(),
            person.id,
            course_id,
            TRANSCRIPT_INSTEAD,
            reason,
            ctx.actor.person_id,
            app.now(),
        )
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "accommodation.grant",
        "person",
        Some(person.id),
        json!({"kind": TRANSCRIPT_INSTEAD, "course_id": course_id, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Whether the signed-in person may fetch a stored file of a course: they are enrolled in a
/// version whose lessons use it, or they write courses.
pub async fn may_fetch_file(app: &App, ctx: &Ctx, course_id: i64, hash: &str) -> AppResult<()> {
    let mut tx = app.store.read().await?;
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    if ctx.actor.may(Permission::ManageCourses) {
        if tx
            .file_used_by_course(ctx.implementation_id(), course.id, hash)
            .await?
        {
            return Ok(());
        }
        return Err(AppError::NotFound);
    }
    let e = tx
        .enrolment_of(ctx.actor.person_id, course.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let used =
        tx.lessons_of_version(e.version_id).await?.iter().any(|l| {
            l.file_hash.as_deref() == Some(hash) || l.captions_hash.as_deref() == Some(hash)
        });
    if used {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The lesson's content as the domain checks it (re-exported for pages).
pub fn lesson_content(l: &Lesson) -> onramp_domain::learning::course::LessonContent {
    content_of(l)
}

/// What the player is told after a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VideoAnswer {
    /// 0..1 of the video covered (never lower than before).
    pub share: f64,
    pub complete: bool,
    /// How far the person may seek when seeking is restricted.
    pub furthest_ms: u64,
}

/// Judges one progress report of a video lesson by its enrolled trainee. A refused report
/// changes nothing but the count of refused reports, and is answered with why.
pub async fn report_progress(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_key: &str,
    report: &onramp_domain::learning::coverage::ProgressReport,
) -> AppResult<Result<VideoAnswer, onramp_domain::learning::coverage::Refused>> {
    use onramp_domain::learning::coverage::{apply, Refused};
    // Judged on a read snapshot of only what judging needs (the enrolment, its lesson, its
    // progress row: the player sends a report every few seconds), then saved in one
    // statement that checks the row did not move since. Only a report that completes the
    // video takes a writing transaction.
    let (course, enrolment, lesson, duration, mut p) = {
        let mut tx = app.store.snapshot().await?;
        let course = tx.course_get(ctx.implementation_id(), course_id).await?;
        let enrolment = tx
            .enrolment_of(ctx.actor.person_id, course.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let lesson = tx
            .lesson_outline_by_key(enrolment.version_id, lesson_key)
            .await?
            .ok_or(AppError::NotFound)?;
        if LessonKind::parse(&lesson.kind) != Some(LessonKind::Video) {
            return Err(AppError::NotFound);
        }
        if restriction_in(&mut tx, &course, ctx.actor.person_id)
            .await?
            .is_some()
        {
            return Err(AppError::Forbidden);
        }
        let duration = lesson
            .duration_ms
            .and_then(|d| u64::try_from(d).ok())
            .filter(|d| *d > 0)
            .ok_or(AppError::NotFound)?;
        let Some(p) = tx.lesson_progress_get(enrolment.id, lesson.id).await? else {
            // No viewing was started: the lesson page was never opened.
            return Ok(Err(Refused::StaleView));
        };
        (course, enrolment, lesson, duration, p)
    };
    let now = now_of(app);
    let refused = |why: Refused| {
        tracing::info!(course = course_id, lesson = lesson_key, why = ?why, "video progress report refused");
        Ok(Err(why))
    };
    let applied = match apply(
        &video_state(&p),
        report,
        ms_of(now),
        duration,
        &app.config.video_policy,
    ) {
        Err(why) => {
            app.store
                .lesson_progress_count_refused(enrolment.id, lesson.id)
                .await?;
            return refused(why);
        }
        Ok(a) => a,
    };
    if !applied.completed_now {
        let read_seq = p.last_seq;
        save_applied(&mut p, &applied, now)?;
        if !app.store.lesson_progress_advance(&p, read_seq).await? {
            // Another report of this viewing was saved first: this one came out of order.
            app.store
                .lesson_progress_count_refused(enrolment.id, lesson.id)
                .await?;
            return refused(Refused::OutOfOrder);
        }
        return Ok(Ok(VideoAnswer {
            share: applied.state.coverage.share(duration),
            complete: applied.state.complete,
            furthest_ms: u64::try_from(p.furthest_ms).unwrap_or(0),
        }));
    }
    // Completing: judged again inside the writing transaction, on the row as it is now.
    let mut tx = app.store.begin().await?;
    let Some(mut p) = tx.lesson_progress_get(enrolment.id, lesson.id).await? else {
        return refused(Refused::StaleView);
    };
    let applied = match apply(
        &video_state(&p),
        report,
        ms_of(now),
        duration,
        &app.config.video_policy,
    ) {
        Err(why) => {
            tx.lesson_progress_refused(enrolment.id, lesson.id).await?;
            tx.commit().await?;
            return refused(why);
        }
        Ok(a) => a,
    };
    save_applied(&mut p, &applied, now)?;
    tx.lesson_progress_save(&p).await?;
    if applied.completed_now {
        let version = tx
            .course_versions(course.id)
            .await?
            .into_iter()
            .find(|v| v.id == enrolment.version_id)
            .ok_or(AppError::NotFound)?;
        record(
            &mut tx,
            app,
            ctx,
            "lesson.complete",
            "course",
            Some(course.id),
            json!({"lesson": lesson.key, "version": version.version, "how": "watched", "covered_ms": p.covered_ms, "duration_ms": duration}),
        )
        .await?;
        course_done_if_complete_in(&mut tx, app, ctx, &course, &enrolment, &version).await?;
    }
    tx.commit().await?;
    Ok(Ok(VideoAnswer {
        share: applied.state.coverage.share(duration),
        complete: applied.state.complete,
        furthest_ms: u64::try_from(p.furthest_ms).unwrap_or(0),
    }))
}

fn ms_of(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

/// A video's progress row as the coverage rules see it.
fn video_state(p: &LessonProgress) -> onramp_domain::learning::coverage::VideoState {
    use onramp_domain::learning::coverage::{Coverage, VideoState};
    let coverage: Vec<(u64, u64)> = serde_json::from_str(&p.covered).unwrap_or_default();
    VideoState {
        coverage: Coverage(coverage),
        clock_started_ms: ms_of(p.started_at),
        view: p.view_token.clone(),
        last_seq: u32::try_from(p.last_seq).unwrap_or(0),
        last_report_ms: p.last_report_at.map(ms_of),
        complete: p.completed_at.is_some(),
    }
}

/// Writes an accepted report's outcome into the progress row.
fn save_applied(
    p: &mut LessonProgress,
    applied: &onramp_domain::learning::coverage::Applied,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let s = &applied.state;
    p.covered =
        serde_json::to_string(&s.coverage.0).map_err(|e| AppError::Internal(e.to_string()))?;
    p.covered_ms = i64::try_from(s.coverage.covered()).unwrap_or(i64::MAX);
    p.furthest_ms = p
        .furthest_ms
        .max(i64::try_from(s.coverage.furthest_from_start()).unwrap_or(0));
    p.last_seq = i32::try_from(s.last_seq).unwrap_or(i32::MAX);
    p.last_report_at = Some(now);
    if applied.completed_now {
        p.completed_at = Some(now);
        p.how = "watched".into();
    }
    Ok(())
}

/// A stored file of a course, for someone who may fetch it.
pub async fn course_file(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    hash: &str,
) -> AppResult<onramp_store::files::StoredFile> {
    may_fetch_file(app, ctx, course_id, hash).await?;
    let mut tx = app.store.read().await?;
    tx.file_meta(hash).await?.ok_or(AppError::NotFound)
}
