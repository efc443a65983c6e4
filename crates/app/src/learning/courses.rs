//! Writing, publishing and retiring courses.
//!
//! A course's lessons live in versions. Editing a published course edits a draft (the next
//! version, a copy of the published one): people already enrolled keep the version they
//! enrolled in, and new enrolments take the latest published version.

use crate::audit::record;
use crate::error::Problems;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::learning::course::{
    self, lesson_problems, publish_problems, CourseProblem, DataStandards, LessonContent,
    LessonKind, Prerequisites,
};
use onramp_domain::{FieldError, Slug};
use onramp_store::learning::courses::{Course, CourseFields, CourseVersion, Lesson, NewLesson};
use onramp_store::reads::*;
use onramp_store::Tx;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The most a course may cost, in cents.
pub const PRICE_MAX_CENTS: i64 = 1_000_000;

/// A course's own fields as a form or a package gives them.
#[derive(Debug, Clone, Default)]
pub struct CourseInput {
    pub key: String,
    pub title: String,
    pub summary: String,
    /// `FY2024`, `FY2026` or empty.
    pub data_standards: String,
    /// Dollars, e.g. `25.00`; empty for free.
    pub price: String,
    pub restrict_seeking: bool,
    /// Separated by commas.
    pub tags: String,
    /// One per line.
    pub objectives: String,
    /// Course keys.
    pub prerequisites_all: Vec<String>,
    pub prerequisites_one: Vec<String>,
}

/// Reads a price in dollars ("25", "25.00", "$25.5") as cents.
pub fn parse_price(input: &str) -> Result<Option<i64>, String> {
    let s = input.trim().trim_start_matches('$').trim();
    if s.is_empty() {
        return Ok(None);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let bad = || format!("{input:?} is not an amount in dollars, such as 25.00");
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || whole.len() > 7
    {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let cents = whole * 100 + frac;
    if cents > PRICE_MAX_CENTS {
        return Err(format!(
            "A course may cost at most {}",
            course::format_cents(PRICE_MAX_CENTS)
        ));
    }
    Ok((cents > 0).then_some(cents))
}

struct ParsedCourse {
    key: Slug,
    title: String,
    summary: String,
    data_standards: Option<DataStandards>,
    price_cents: Option<i64>,
    tags: Vec<String>,
    objectives: Vec<String>,
    prerequisites: Prerequisites,
    restrict_seeking: bool,
}

fn parse_course(input: &CourseInput) -> AppResult<ParsedCourse> {
    let mut p = Problems::default();
    let key = p.check_str("key", Slug::parse(&input.key));
    let title = input.title.trim().to_string();
    if title.is_empty() {
        p.push("title", "Give the course a title");
    } else if title.chars().count() > course::TITLE_MAX {
        p.push(
            "title",
            format!("Keep the title to {} characters", course::TITLE_MAX),
        );
    }
    if input.summary.chars().count() > course::SUMMARY_MAX {
        p.push(
            "summary",
            format!("Keep the summary to {} characters", course::SUMMARY_MAX),
        );
    }
    let data_standards = if input.data_standards.trim().is_empty() {
        None
    } else {
        p.check_str(
            "data_standards",
            DataStandards::parse(&input.data_standards),
        )
    };
    let price_cents = p.check_str("price", parse_price(&input.price)).flatten();
    let mut prerequisites = Prerequisites::default();
    for (list, into) in [
        (&input.prerequisites_all, &mut prerequisites.all_of),
        (&input.prerequisites_one, &mut prerequisites.one_of),
    ] {
        for k in list.iter().filter(|k| !k.trim().is_empty()) {
            if let Some(k) = p.check_str("prerequisites", Slug::parse(k)) {
                if !into.contains(&k) {
                    into.push(k);
                }
            }
        }
    }
    if prerequisites.one_of.len() == 1 {
        p.push(
            "prerequisites",
            "\"One of\" needs two or more courses; put a single course under \"all of\"",
        );
    }
    if let Some(k) = &key {
        if prerequisites.courses().contains(&k) {
            p.push("prerequisites", "A course cannot require itself");
        }
    }
    let tags: Vec<String> = input
        .tags
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let objectives: Vec<String> = input
        .objectives
        .lines()
        .map(|o| o.trim().trim_start_matches(['-', '*']).trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    p.into_result()?;
    let key = key.ok_or_else(|| AppError::field("key", "Give the course a key"))?;
    Ok(ParsedCourse {
        key,
        title,
        summary: input.summary.trim().to_string(),
        data_standards,
        price_cents,
        tags,
        objectives,
        prerequisites,
        restrict_seeking: input.restrict_seeking,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// Checks that prerequisites name courses that exist and do not go round in a circle.
async fn check_prerequisites(
    tx: &mut Tx,
    implementation_id: i64,
    key: &Slug,
    prerequisites: &Prerequisites,
) -> AppResult<()> {
    let courses = tx.courses(implementation_id).await?;
    let mut catalogue: Vec<(Slug, Prerequisites)> = Vec::new();
    for c in &courses {
        if c.key == key.as_str() {
            continue;
        }
        if let Ok(k) = Slug::parse(&c.key) {
            catalogue.push((k, prerequisites_of(c)));
        }
    }
    for k in prerequisites.courses() {
        if !courses.iter().any(|c| c.key == k.as_str()) {
            return Err(AppError::field(
                "prerequisites",
                format!("There is no course {:?}", k.as_str()),
            ));
        }
    }
    catalogue.push((key.clone(), prerequisites.clone()));
    if let Some(cycle) = course::prerequisite_cycle(&catalogue) {
        let names: Vec<&str> = cycle.iter().map(|k| k.as_str()).collect();
        return Err(AppError::field(
            "prerequisites",
            format!(
                "These courses would each wait for the other: {}",
                names.join(" → ")
            ),
        ));
    }
    Ok(())
}

/// A stored course's prerequisites.
pub fn prerequisites_of(c: &Course) -> Prerequisites {
    serde_json::from_str(&c.prerequisites).unwrap_or_default()
}

/// A stored course's list of strings (tags, objectives).
pub fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Creates a course with an empty draft (version 1). Gives the course's id.
pub async fn create(app: &App, ctx: &Ctx, input: &CourseInput) -> AppResult<i64> {
    ctx.require(Permission::ManageCourses)?;
    let c = parse_course(input)?;
    let mut tx = app.store.begin().await?;
    let id = create_in(&mut tx, app, ctx, &c).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a course from its input in the caller's transaction (package imports).
pub(crate) async fn create_in_from(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    input: &CourseInput,
) -> AppResult<i64> {
    let c = parse_course(input)?;
    create_in(tx, app, ctx, &c).await
}

async fn create_in(tx: &mut Tx, app: &App, ctx: &Ctx, c: &ParsedCourse) -> AppResult<i64> {
    let imp = ctx.implementation_id();
    if tx.course_by_key(imp, c.key.as_str()).await?.is_some() {
        return Err(AppError::field(
            "key",
            "Another course already has this key",
        ));
    }
    check_prerequisites(tx, imp, &c.key, &c.prerequisites).await?;
    let now = app.now();
    let tags = to_json(&c.tags)?;
    let objectives = to_json(&c.objectives)?;
    let prerequisites = to_json(&c.prerequisites)?;
    let id = tx
        .course_create(
            imp,
            c.key.as_str(),
            &CourseFields {
                title: &c.title,
                summary: &c.summary,
                data_standards: c.data_standards.map(|d| d.as_str()),
                price_cents: c.price_cents,
                restrict_seeking: c.restrict_seeking,
                tags: &tags,
                objectives: &objectives,
                prerequisites: &prerequisites,
            },
            now,
        )
        .await?;
    tx.course_version_create(id, 1, actor_id(ctx), now).await?;
    record(
        tx,
        app,
        ctx,
        "course.create",
        "course",
        Some(id),
        json!({"key": c.key.as_str(), "title": c.title, "price_cents": c.price_cents}),
    )
    .await?;
    Ok(id)
}

fn actor_id(ctx: &Ctx) -> Option<i64> {
    (ctx.actor.person_id > 0).then_some(ctx.actor.person_id)
}

/// Changes a course's own fields (its key stays).
pub async fn update(app: &App, ctx: &Ctx, course_id: i64, input: &CourseInput) -> AppResult<()> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    update_in(&mut tx, app, ctx, course_id, input).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn update_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    input: &CourseInput,
) -> AppResult<()> {
    let existing = tx.course_get(ctx.implementation_id(), course_id).await?;
    let mut input = input.clone();
    input.key = existing.key.clone();
    let c = parse_course(&input)?;
    check_prerequisites(tx, ctx.implementation_id(), &c.key, &c.prerequisites).await?;
    let tags = to_json(&c.tags)?;
    let objectives = to_json(&c.objectives)?;
    let prerequisites = to_json(&c.prerequisites)?;
    tx.course_update(
        course_id,
        &CourseFields {
            title: &c.title,
            summary: &c.summary,
            data_standards: c.data_standards.map(|d| d.as_str()),
            price_cents: c.price_cents,
            restrict_seeking: c.restrict_seeking,
            tags: &tags,
            objectives: &objectives,
            prerequisites: &prerequisites,
        },
        app.now(),
    )
    .await?;
    record(
        tx,
        app,
        ctx,
        "course.update",
        "course",
        Some(course_id),
        json!({"before": {"title": existing.title, "price_cents": existing.price_cents, "prerequisites": existing.prerequisites, "restrict_seeking": existing.restrict_seeking},
               "after": {"title": c.title, "price_cents": c.price_cents, "prerequisites": prerequisites, "restrict_seeking": c.restrict_seeking}}),
    )
    .await?;
    Ok(())
}

/// Retires a course (it leaves new plans and the catalogue) or brings it back.
pub async fn set_retired(app: &App, ctx: &Ctx, course_id: i64, retired: bool) -> AppResult<()> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    let c = tx.course_get(ctx.implementation_id(), course_id).await?;
    let now = app.now();
    tx.course_set_retired(course_id, retired.then_some(now), now)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        if retired {
            "course.retire"
        } else {
            "course.unretire"
        },
        "course",
        Some(course_id),
        json!({"key": c.key}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The draft version of a course, made from the published one when there is none.
pub async fn draft_in(
    tx: &mut Tx,
    ctx: &Ctx,
    course: &Course,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<CourseVersion> {
    let versions = tx.course_versions(course.id).await?;
    if let Some(d) = versions.iter().rev().find(|v| v.status == "draft") {
        return Ok(d.clone());
    }
    let next = versions.last().map(|v| v.version + 1).unwrap_or(1);
    let id = tx
        .course_version_create(course.id, next, actor_id(ctx), now)
        .await?;
    if let Some(p) = versions.iter().rev().find(|v| v.status == "published") {
        for l in tx.lessons_of_version(p.id).await? {
            tx.lesson_insert(id, &new_lesson(&l)).await?;
        }
    }
    Ok(tx.course_version_get(id).await?)
}

fn new_lesson(l: &Lesson) -> NewLesson<'_> {
    NewLesson {
        position: l.position,
        key: &l.key,
        title: &l.title,
        kind: &l.kind,
        body: &l.body,
        file_hash: l.file_hash.as_deref(),
        duration_ms: l.duration_ms,
        captions_hash: l.captions_hash.as_deref(),
        transcript: &l.transcript,
        url: &l.url,
        instructions: &l.instructions,
        quiz_key: &l.quiz_key,
    }
}

/// A lesson's content as the domain checks it.
pub fn content_of(l: &Lesson) -> LessonContent {
    LessonContent {
        key: l.key.clone(),
        title: l.title.clone(),
        kind: LessonKind::parse(&l.kind),
        body: l.body.clone(),
        file: l.file_hash.clone(),
        duration_ms: l.duration_ms.and_then(|d| u64::try_from(d).ok()),
        captions: l.captions_hash.clone(),
        transcript: l.transcript.clone(),
        url: l.url.clone(),
        instructions: l.instructions.clone(),
        quiz: l.quiz_key.clone(),
    }
}

/// A lesson as a form gives it. Files are stored before (see `files`), and named here by hash.
#[derive(Debug, Clone, Default)]
pub struct LessonInput {
    pub key: String,
    pub title: String,
    pub kind: String,
    pub body: String,
    /// Video or PDF; `None` keeps the one the lesson has.
    pub file_hash: Option<String>,
    /// With a new video: its duration, read from the file by the server.
    pub duration_ms: Option<u64>,
    /// `None` keeps the captions the lesson has.
    pub captions_hash: Option<String>,
    pub transcript: String,
    pub url: String,
    pub instructions: String,
    pub quiz: String,
}

/// Adds a lesson to the course's draft (`lesson_id` None) or changes one of the draft's
/// lessons. Problems that only publishing checks (a video's captions) wait until then.
pub async fn save_lesson(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_id: Option<i64>,
    input: &LessonInput,
) -> AppResult<i64> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    let id = save_lesson_in(&mut tx, app, ctx, course_id, lesson_id, input).await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn save_lesson_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_id: Option<i64>,
    input: &LessonInput,
) -> AppResult<i64> {
    let now = app.now();
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let draft = draft_in(tx, ctx, &course, now).await?;
    let lessons = tx.lessons_of_version(draft.id).await?;
    let lesson_id = match lesson_id {
        Some(id) => Some(draft_copy_of(tx, course_id, &lessons, id).await?),
        None => None,
    };
    let existing = match lesson_id {
        Some(id) => lessons.iter().find(|l| l.id == id).cloned(),
        None => None,
    };
    let content = LessonContent {
        key: input.key.trim().to_string(),
        title: input.title.trim().to_string(),
        kind: LessonKind::parse(&input.kind),
        body: input.body.clone(),
        file: input
            .file_hash
            .clone()
            .or_else(|| existing.as_ref().and_then(|l| l.file_hash.clone())),
        duration_ms: input.duration_ms.or_else(|| {
            existing
                .as_ref()
                .and_then(|l| l.duration_ms)
                .and_then(|d| u64::try_from(d).ok())
        }),
        captions: input
            .captions_hash
            .clone()
            .or_else(|| existing.as_ref().and_then(|l| l.captions_hash.clone())),
        transcript: input.transcript.clone(),
        url: input.url.trim().to_string(),
        instructions: input.instructions.trim().to_string(),
        quiz: input.quiz.trim().to_string(),
    };
    let mut problems: Vec<FieldError> = lesson_problems(&content)
        .into_iter()
        .filter(|p| !["captions", "transcript", "file", "body"].contains(&p.field.as_str()))
        .map(|p| FieldError::new(p.field, p.message))
        .collect();
    if lessons
        .iter()
        .any(|l| l.key == content.key && Some(l.id) != lesson_id)
    {
        problems.push(FieldError::new(
            "key",
            "Another lesson of this course has this key",
        ));
    }
    if lesson_id.is_none() && lessons.len() >= course::LESSONS_MAX {
        problems.push(FieldError::new(
            "key",
            format!("A course holds at most {} lessons", course::LESSONS_MAX),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let kind = content.kind.map(|k| k.as_str()).unwrap_or("reading");
    let duration = content.duration_ms.and_then(|d| i64::try_from(d).ok());
    let position = existing
        .as_ref()
        .map(|l| l.position)
        .unwrap_or_else(|| lessons.iter().map(|l| l.position).max().unwrap_or(0) + 1);
    let row = NewLesson {
        position,
        key: &content.key,
        title: &content.title,
        kind,
        body: &content.body,
        file_hash: content.file.as_deref(),
        duration_ms: duration,
        captions_hash: content.captions.as_deref(),
        transcript: &content.transcript,
        url: &content.url,
        instructions: &content.instructions,
        quiz_key: &content.quiz,
    };
    let id = match &existing {
        Some(l) => {
            tx.lesson_update(l.id, &row).await?;
            l.id
        }
        None => tx.lesson_insert(draft.id, &row).await?,
    };
    record(
        tx,
        app,
        ctx,
        if existing.is_some() {
            "course.lesson_update"
        } else {
            "course.lesson_add"
        },
        "course",
        Some(course_id),
        json!({"version": draft.version, "lesson": content.key, "kind": kind}),
    )
    .await?;
    Ok(id)
}

/// The draft's lesson for `lesson_id`: the lesson itself when it is the draft's, or its copy
/// in the draft (same key) when it is a lesson of another version of this course.
async fn draft_copy_of(
    tx: &mut Tx,
    course_id: i64,
    draft_lessons: &[Lesson],
    lesson_id: i64,
) -> AppResult<i64> {
    if draft_lessons.iter().any(|l| l.id == lesson_id) {
        return Ok(lesson_id);
    }
    let other = tx.lesson_get(lesson_id).await?;
    let ours = tx
        .course_versions(course_id)
        .await?
        .iter()
        .any(|v| v.id == other.version_id);
    if !ours {
        return Err(AppError::NotFound);
    }
    draft_lessons
        .iter()
        .find(|l| l.key == other.key)
        .map(|l| l.id)
        .ok_or(AppError::NotFound)
}

/// Moves a draft lesson up (`-1`) or down (`1`), or removes it (`0`).
pub async fn arrange_lesson(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_id: i64,
    change: i32,
) -> AppResult<()> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let draft = draft_in(&mut tx, ctx, &course, app.now()).await?;
    let mut lessons = tx.lessons_of_version(draft.id).await?;
    let lesson_id = draft_copy_of(&mut tx, course_id, &lessons, lesson_id).await?;
    let i = lessons
        .iter()
        .position(|l| l.id == lesson_id)
        .ok_or(AppError::NotFound)?;
    let key = lessons[i].key.clone();
    if change == 0 {
        tx.lesson_delete(lesson_id).await?;
        lessons.remove(i);
    } else {
        let j = if change < 0 {
            i.checked_sub(1)
        } else {
            Some(i + 1).filter(|j| *j < lessons.len())
        };
        if let Some(j) = j {
            lessons.swap(i, j);
        }
    }
    for (n, l) in lessons.iter_mut().enumerate() {
        let pos = i32::try_from(n + 1).unwrap_or(i32::MAX);
        if l.position != pos {
            l.position = pos;
            tx.lesson_update(l.id, &new_lesson(l)).await?;
        }
    }
    record(
        &mut tx,
        app,
        ctx,
        if change == 0 {
            "course.lesson_remove"
        } else {
            "course.lesson_move"
        },
        "course",
        Some(course_id),
        json!({"version": draft.version, "lesson": key, "change": change}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The hash of a version's lessons, to tell whether two versions teach the same.
pub fn content_hash(lessons: &[Lesson]) -> String {
    let mut h = Sha256::new();
    for l in lessons {
        let v = json!([
            l.key,
            l.title,
            l.kind,
            l.body,
            l.file_hash,
            l.duration_ms,
            l.captions_hash,
            l.transcript,
            l.url,
            l.instructions,
            l.quiz_key
        ]);
        h.update(v.to_string().as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Publishes the draft: each problem is named with its lesson and field.
pub async fn publish(app: &App, ctx: &Ctx, course_id: i64) -> AppResult<i32> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    let v = publish_in(&mut tx, app, ctx, course_id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Publishing problems as field errors: `lesson-<key>-<field>` or the course field.
pub fn problems_as_fields(problems: Vec<CourseProblem>) -> Vec<FieldError> {
    problems
        .into_iter()
        .map(|p| {
            let field = match p.place.strip_prefix("lesson ") {
                Some(k) => format!("lesson-{k}-{}", p.field),
                None => p.field.clone(),
            };
            let message = match p.place.strip_prefix("lesson ") {
                Some(k) => format!("Lesson {k}: {}", p.message),
                None => p.message,
            };
            FieldError::new(field, message)
        })
        .collect()
}

/// Quiz lessons that name a quiz the implementation does not have.
async fn missing_quizzes(
    tx: &mut Tx,
    implementation_id: i64,
    contents: &[LessonContent],
) -> AppResult<Vec<CourseProblem>> {
    let mut out = Vec::new();
    for l in contents {
        let key = l.quiz.trim();
        if l.kind != Some(LessonKind::Quiz) || key.is_empty() {
            continue;
        }
        if tx.quiz_by_key(implementation_id, key).await?.is_none() {
            out.push(CourseProblem {
                place: format!("lesson {}", l.key),
                field: "quiz".into(),
                message: format!("There is no quiz with the key {key}"),
            });
        }
    }
    Ok(out)
}

pub(crate) async fn publish_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    course_id: i64,
) -> AppResult<i32> {
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let versions = tx.course_versions(course.id).await?;
    let draft = versions
        .iter()
        .rev()
        .find(|v| v.status == "draft")
        .cloned()
        .ok_or_else(|| {
            AppError::field(
                "course",
                "There is no draft to publish: change a lesson first",
            )
        })?;
    let lessons = tx.lessons_of_version(draft.id).await?;
    let contents: Vec<LessonContent> = lessons.iter().map(content_of).collect();
    let mut problems = publish_problems(&course.title, &contents);
    problems.extend(missing_quizzes(tx, course.implementation_id, &contents).await?);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems_as_fields(problems)));
    }
    let hash = content_hash(&lessons);
    tx.course_version_publish(
        course.id,
        draft.id,
        draft.version,
        &hash,
        actor_id(ctx),
        app.now(),
    )
    .await?;
    record(
        tx,
        app,
        ctx,
        "course.publish",
        "course",
        Some(course.id),
        json!({"key": course.key, "version": draft.version, "lessons": lessons.len(), "content_hash": hash}),
    )
    .await?;
    Ok(draft.version)
}

/// One course for its editors: the course, every version, and the draft's (or else the
/// published version's) lessons.
#[derive(Debug, Clone)]
pub struct CourseDetail {
    pub course: Course,
    pub versions: Vec<CourseVersion>,
    /// The version the lesson list shows.
    pub shown: Option<CourseVersion>,
    pub lessons: Vec<Lesson>,
    /// What publishing the draft would say (empty: it can be published).
    pub publish_problems: Vec<FieldError>,
}

pub async fn detail(app: &App, ctx: &Ctx, course_id: i64) -> AppResult<CourseDetail> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let versions = tx.course_versions(course.id).await?;
    let shown = versions
        .iter()
        .rev()
        .find(|v| v.status == "draft")
        .or_else(|| versions.iter().rev().find(|v| v.status == "published"))
        .cloned();
    let lessons = match &shown {
        Some(v) => tx.lessons_of_version(v.id).await?,
        None => Vec::new(),
    };
    let problems = if shown.as_ref().is_some_and(|v| v.status == "draft") {
        let contents: Vec<LessonContent> = lessons.iter().map(content_of).collect();
        let mut p = publish_problems(&course.title, &contents);
        p.extend(missing_quizzes(&mut tx, course.implementation_id, &contents).await?);
        problems_as_fields(p)
    } else {
        Vec::new()
    };
    Ok(CourseDetail {
        course,
        versions,
        shown,
        lessons,
        publish_problems: problems,
    })
}

/// Every course with its enrolment and completion counts, for Lead staff.
#[derive(Debug, Clone)]
pub struct CourseRow {
    pub course: Course,
    pub enrolled: i64,
    pub completed: i64,
}

pub async fn catalogue(app: &App, ctx: &Ctx) -> AppResult<Vec<CourseRow>> {
    if !ctx.actor.may(Permission::ManageCourses) {
        ctx.require(Permission::ViewTrainingReports)?;
    }
    let mut tx = app.store.read().await?;
    let courses = tx.courses(ctx.implementation_id()).await?;
    let counts = tx.course_completion_counts(ctx.implementation_id()).await?;
    Ok(courses
        .into_iter()
        .map(|course| {
            let c = counts.iter().find(|c| c.course_id == course.id);
            CourseRow {
                enrolled: c.map(|c| c.enrolled).unwrap_or(0),
                completed: c.map(|c| c.completed).unwrap_or(0),
                course,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::parse_price;

    #[test]
    fn prices_read_as_cents() {
        assert_eq!(parse_price("25"), Ok(Some(2500)));
        assert_eq!(parse_price("$25.5"), Ok(Some(2550)));
        assert_eq!(parse_price(" 0.05 "), Ok(Some(5)));
        assert_eq!(parse_price(""), Ok(None));
        assert_eq!(parse_price("0"), Ok(None));
        assert!(parse_price("25.555").is_err());
        assert!(parse_price("-3").is_err());
        assert!(parse_price("ten").is_err());
        assert!(parse_price("99999").is_err());
    }
}
