//! Course packages in and out: an archive (or the starter curriculum compiled into the
//! binary) imported into an implementation with a report of everything left out and why,
//! and a course exported as a package. Importing the same package twice changes nothing;
//! a changed package becomes the course's next version.

use super::courses::{self, content_hash, CourseInput, LessonInput};
use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::files::MediaType;
use onramp_domain::learning::course::LessonKind;
use onramp_formats::course_package::{
    self as package, CourseManifest, Package, PackageContent, PackageLesson, PackageProblem,
    VideoFormat,
};
use onramp_store::learning::courses::Lesson;
use onramp_store::reads::*;
use onramp_store::Tx;
use serde_json::json;
use std::collections::BTreeMap;

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/curriculum.rs"));
}

/// What importing one package did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new course, published as version 1.
    Created { version: i32 },
    /// The course existed and the package differs: a new version.
    NewVersion { version: i32 },
    /// The package teaches exactly what the published version does.
    Unchanged { version: i32 },
    /// Stored as a draft, because publishing found problems (in `problems`).
    Draft { version: i32 },
}

/// The report of one package's import.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub key: String,
    pub title: String,
    pub outcome: ImportOutcome,
    /// Lessons imported, by key.
    pub lessons: Vec<String>,
    /// What was left out, and why.
    pub problems: Vec<PackageProblem>,
}

/// A lesson ready to store: its row's fields, files already stored.
struct Prepared {
    key: String,
    title: String,
    kind: LessonKind,
    body: String,
    file_hash: Option<String>,
    duration_ms: Option<i64>,
    captions_hash: Option<String>,
    transcript: String,
    url: String,
    instructions: String,
    quiz: String,
}

async fn store_file(tx: &mut Tx, app: &App, bytes: &[u8], m: MediaType) -> AppResult<String> {
    let max = app.config.upload_limits.of(m);
    if bytes.len() as u64 > max {
        return Err(AppError::field(
            "file",
            format!("The file is larger than {} MB", max >> 20),
        ));
    }
    Ok(app.files.put(tx, bytes, m.as_str(), app.now()).await?.hash)
}

async fn prepare(
    tx: &mut Tx,
    app: &App,
    l: &PackageLesson,
    problems: &mut Vec<PackageProblem>,
) -> AppResult<Option<Prepared>> {
    let mut p = Prepared {
        key: l.key.as_str().to_string(),
        title: l.title.clone(),
        kind: l.content.kind(),
        body: String::new(),
        file_hash: None,
        duration_ms: None,
        captions_hash: None,
        transcript: String::new(),
        url: String::new(),
        instructions: String::new(),
        quiz: String::new(),
    };
    let place = format!("lesson {}", l.key.as_str());
    let mut refuse = |m: String| {
        problems.push(PackageProblem {
            place: place.clone(),
            message: m,
        });
        Ok(None)
    };
    match &l.content {
        PackageContent::Markdown(md) => p.body = md.clone(),
        PackageContent::Pdf(bytes) => match store_file(tx, app, bytes, MediaType::Pdf).await {
            Ok(h) => p.file_hash = Some(h),
            Err(e) => return refuse(format!("the PDF was not stored: {e}")),
        },
        PackageContent::Video {
            format,
            video,
            captions,
            transcript,
        } => {
            let duration = match onramp_formats::media::video_duration_ms(video) {
                Ok(d) => d,
                Err(m) => return refuse(m),
            };
            if let Err(problems) = onramp_formats::media::validate_webvtt(captions) {
                let first = problems
                    .first()
                    .map(|p| format!("line {}: {}", p.line, p.message))
                    .unwrap_or_default();
                return refuse(format!("the captions are not valid WebVTT ({first})"));
            }
            let m = match format {
                VideoFormat::WebM => MediaType::WebM,
                VideoFormat::Mp4 => MediaType::Mp4,
            };
            p.file_hash = match store_file(tx, app, video, m).await {
                Ok(h) => Some(h),
                Err(e) => return refuse(format!("the video was not stored: {e}")),
            };
            p.captions_hash =
                Some(store_file(tx, app, captions.as_bytes(), MediaType::WebVtt).await?);
            p.duration_ms = i64::try_from(duration).ok();
            p.transcript = transcript.clone();
        }
        PackageContent::ExternalLink { url, instructions } => {
            p.url = url.clone();
            p.instructions = instructions.clone();
        }
        PackageContent::Quiz { .. } => {
            return refuse(
                "quizzes are not available in Onramp yet, so this lesson was left out".into(),
            )
        }
    }
    Ok(Some(p))
}

fn as_row(i: usize, p: &Prepared) -> Lesson {
    Lesson {
        id: 0,
        version_id: 0,
        position: i32::try_from(i + 1).unwrap_or(i32::MAX),
        key: p.key.clone(),
        title: p.title.clone(),
        kind: p.kind.as_str().to_string(),
        body: p.body.clone(),
        file_hash: p.file_hash.clone(),
        duration_ms: p.duration_ms,
        captions_hash: p.captions_hash.clone(),
        transcript: p.transcript.clone(),
        url: p.url.clone(),
        instructions: p.instructions.clone(),
        quiz_key: p.quiz.clone(),
    }
}

fn course_input(
    m: &CourseManifest,
    known: &[String],
    problems: &mut Vec<PackageProblem>,
) -> CourseInput {
    let mut keep = |keys: &[onramp_domain::Slug]| -> Vec<String> {
        keys.iter()
            .filter(|k| {
                let ok = known.iter().any(|c| c == k.as_str());
                if !ok {
                    problems.push(PackageProblem {
                        place: "course".into(),
                        message: format!(
                            "the prerequisite {:?} is not a course here, so it was left out",
                            k.as_str()
                        ),
                    });
                }
                ok
            })
            .map(|k| k.as_str().to_string())
            .collect()
    };
    let all = keep(&m.prerequisites.all_of);
    let one = keep(&m.prerequisites.one_of);
    CourseInput {
        key: m.key.as_str().to_string(),
        title: m.title.clone(),
        summary: m.summary.clone(),
        data_standards: m
            .data_standards
            .map(|d| d.as_str().to_string())
            .unwrap_or_default(),
        price: m
            .price_cents
            .map(|c| format!("{}.{:02}", c / 100, c % 100))
            .unwrap_or_default(),
        restrict_seeking: m.restrict_seeking,
        tags: m.tags.join(", "),
        objectives: m.objectives.join("\n"),
        prerequisites_all: all,
        prerequisites_one: if one.len() == 1 { Vec::new() } else { one },
    }
}

/// Imports one package into the actor's implementation, in the caller's transaction.
pub async fn import_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    pkg: &Package,
) -> AppResult<ImportReport> {
    let imp = ctx.implementation_id();
    let mut problems = pkg.problems.clone();
    let mut prepared = Vec::new();
    for l in &pkg.lessons {
        if let Some(p) = prepare(tx, app, l, &mut problems).await? {
            prepared.push(p);
        }
    }
    let rows: Vec<Lesson> = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| as_row(i, p))
        .collect();
    let hash = content_hash(&rows);
    let known: Vec<String> = tx.courses(imp).await?.into_iter().map(|c| c.key).collect();
    let input = course_input(&pkg.manifest, &known, &mut problems);
    let key = pkg.manifest.key.as_str().to_string();
    let existing = tx.course_by_key(imp, &key).await?;
    let created = existing.is_none();
    let course_id = match &existing {
        Some(c) => {
            let versions = tx.course_versions(c.id).await?;
            if let Some(p) = versions.iter().rev().find(|v| v.status == "published") {
                if p.content_hash == hash {
                    return Ok(ImportReport {
                        key,
                        title: c.title.clone(),
                        outcome: ImportOutcome::Unchanged { version: p.version },
                        lessons: prepared.iter().map(|p| p.key.clone()).collect(),
                        problems,
                    });
                }
            }
            courses::update_in(tx, app, ctx, c.id, &input).await?;
            c.id
        }
        None => courses::create_in_from(tx, app, ctx, &input).await?,
    };
    let course = tx.course_get(imp, course_id).await?;
    let draft = courses::draft_in(tx, ctx, &course, app.now()).await?;
    for l in tx.lessons_of_version(draft.id).await? {
        tx.lesson_delete(l.id).await?;
    }
    for p in &prepared {
        courses::save_lesson_in(
            tx,
            app,
            ctx,
            course_id,
            None,
            &LessonInput {
                key: p.key.clone(),
                title: p.title.clone(),
                kind: p.kind.as_str().to_string(),
                body: p.body.clone(),
                file_hash: p.file_hash.clone(),
                duration_ms: p.duration_ms.and_then(|d| u64::try_from(d).ok()),
                captions_hash: p.captions_hash.clone(),
                transcript: p.transcript.clone(),
                url: p.url.clone(),
                instructions: p.instructions.clone(),
                quiz: p.quiz.clone(),
            },
        )
        .await?;
    }
    let outcome = match courses::publish_in(tx, app, ctx, course_id).await {
        Ok(version) if created => ImportOutcome::Created { version },
        Ok(version) => ImportOutcome::NewVersion { version },
        Err(AppError::Invalid(fields)) => {
            for f in fields {
                problems.push(PackageProblem {
                    place: "course".into(),
                    message: format!("not published: {}", f.message),
                });
            }
            ImportOutcome::Draft {
                version: draft.version,
            }
        }
        Err(e) => return Err(e),
    };
    record(
        tx,
        app,
        ctx,
        "course.import",
        "course",
        Some(course_id),
        json!({"key": key, "outcome": format!("{outcome:?}"), "lessons": prepared.len(), "left_out": problems.len()}),
    )
    .await?;
    Ok(ImportReport {
        key,
        title: course.title,
        outcome,
        lessons: prepared.iter().map(|p| p.key.clone()).collect(),
        problems,
    })
}

/// Imports a zip archive (Lead staff). A package that cannot be read at all is refused with
/// why; otherwise every lesson left out is named in the report.
pub async fn import_zip(app: &App, ctx: &Ctx, bytes: &[u8]) -> AppResult<ImportReport> {
    ctx.require(Permission::ManageCourses)?;
    let pkg = package::read_package_zip(bytes, &package::Limits::default())
        .map_err(|e| AppError::field("package", e.to_string()))?;
    let mut tx = app.store.begin().await?;
    let report = import_in(&mut tx, app, ctx, &pkg).await?;
    tx.commit().await?;
    Ok(report)
}

/// Exports a course's published version as a package (a zip archive).
pub async fn export_zip(app: &App, ctx: &Ctx, course_id: i64) -> AppResult<(String, Vec<u8>)> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    let course = tx.course_get(ctx.implementation_id(), course_id).await?;
    let version = tx
        .course_versions(course.id)
        .await?
        .into_iter()
        .rev()
        .find(|v| v.status == "published")
        .ok_or_else(|| {
            AppError::Conflict("This course has no published version to export yet.".into())
        })?;
    let mut lessons = Vec::new();
    for l in tx.lessons_of_version(version.id).await? {
        let read = |hash: &Option<String>| hash.clone();
        let content = match LessonKind::parse(&l.kind) {
            Some(LessonKind::Reading) => match read(&l.file_hash) {
                Some(h) => PackageContent::Pdf(whole_file(app, &mut tx, &h).await?),
                None => PackageContent::Markdown(l.body.clone()),
            },
            Some(LessonKind::Video) => {
                let video = match read(&l.file_hash) {
                    Some(h) => whole_file(app, &mut tx, &h).await?,
                    None => continue,
                };
                let captions = match read(&l.captions_hash) {
                    Some(h) => {
                        String::from_utf8_lossy(&whole_file(app, &mut tx, &h).await?).into_owned()
                    }
                    None => continue,
                };
                PackageContent::Video {
                    format: if MediaType::sniff(&video) == Some(MediaType::Mp4) {
                        VideoFormat::Mp4
                    } else {
                        VideoFormat::WebM
                    },
                    video,
                    captions,
                    transcript: l.transcript.clone(),
                }
            }
            Some(LessonKind::ExternalLink) => PackageContent::ExternalLink {
                url: l.url.clone(),
                instructions: l.instructions.clone(),
            },
            _ => continue,
        };
        lessons.push(PackageLesson {
            key: onramp_domain::Slug::parse(&l.key).map_err(AppError::Internal)?,
            title: l.title.clone(),
            content,
        });
    }
    let manifest = CourseManifest {
        key: onramp_domain::Slug::parse(&course.key).map_err(AppError::Internal)?,
        title: course.title.clone(),
        summary: course.summary.clone(),
        data_standards: course
            .data_standards
            .as_deref()
            .and_then(|d| onramp_domain::learning::course::DataStandards::parse(d).ok()),
        price_cents: course.price_cents,
        restrict_seeking: course.restrict_seeking,
        tags: courses::string_list(&course.tags),
        objectives: courses::string_list(&course.objectives),
        prerequisites: courses::prerequisites_of(&course),
    };
    let bytes = package::write_package_zip(&manifest, &lessons)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((course.key, bytes))
}

async fn whole_file(app: &App, tx: &mut Tx, hash: &str) -> AppResult<Vec<u8>> {
    let f = tx.file_meta(hash).await?.ok_or(AppError::NotFound)?;
    Ok(app
        .files
        .read_range(&app.store, &f, 0, u64::try_from(f.size).unwrap_or(0))
        .await?)
}

/// The starter curriculum's packages, read from the files compiled into the binary, in an
/// order where every course comes after its prerequisites.
pub fn starter_curriculum() -> Result<Vec<Package>, String> {
    let mut by_course: BTreeMap<&str, Vec<(String, package::PackageEntry)>> = BTreeMap::new();
    for (path, bytes) in compiled::FILES {
        if let Some((course, rest)) = path.split_once('/') {
            by_course
                .entry(course)
                .or_default()
                .push((rest.to_string(), Ok(bytes.to_vec())));
        }
    }
    let mut packages = Vec::new();
    for (course, entries) in by_course {
        let pkg = package::read_package_entries(entries, Vec::new())
            .map_err(|e| format!("starter course {course}: {e}"))?;
        packages.push(pkg);
    }
    // Prerequisites first.
    let mut ordered: Vec<Package> = Vec::new();
    while !packages.is_empty() {
        let before = packages.len();
        let mut i = 0;
        while i < packages.len() {
            let ready = packages[i]
                .manifest
                .prerequisites
                .courses()
                .iter()
                .all(|k| ordered.iter().any(|p| p.manifest.key == **k));
            if ready {
                ordered.push(packages.remove(i));
            } else {
                i += 1;
            }
        }
        if packages.len() == before {
            ordered.append(&mut packages);
        }
    }
    Ok(ordered)
}

/// The starter curriculum's learning paths.
pub fn starter_paths() -> Result<Vec<package::LearningPath>, String> {
    let text = compiled::FILES
        .iter()
        .find(|(p, _)| *p == "paths.toml")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    package::read_paths(&text).map_err(|problems| {
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The demo's rules: which starter courses each seed process's plans hold.
pub const DEMO_RULES: &str = include_str!("../../processes/training-rules.toml");

/// Installs the starter curriculum, its learning paths and the demo's requirement rules in
/// an implementation (the demo), as the implementation itself.
pub async fn install_starter_in(
    tx: &mut Tx,
    app: &App,
    implementation_id: i64,
) -> AppResult<Vec<ImportReport>> {
    let ctx = Ctx::new(
        onramp_domain::authz::Actor {
            person_id: 0,
            implementation_id,
            display_name: "Onramp (starter curriculum)".into(),
            implementation_roles: vec![onramp_domain::ImplementationRole::LeadAdmin],
            agency_roles: vec![],
            agency_id: None,
        },
        "local",
    );
    let mut reports = Vec::new();
    for pkg in starter_curriculum().map_err(AppError::Internal)? {
        reports.push(import_in(tx, app, &ctx, &pkg).await?);
    }
    for path in starter_paths().map_err(AppError::Internal)? {
        let courses: Vec<&str> = path.courses.iter().map(|c| c.as_str()).collect();
        tx.learning_path_save(
            implementation_id,
            path.key.as_str(),
            &path.title,
            &serde_json::to_string(&courses).map_err(|e| AppError::Internal(e.to_string()))?,
        )
        .await?;
    }
    super::quizzes::install_starter_in(tx, app, &ctx).await?;
    super::plans::parse_rules_in(tx, implementation_id, DEMO_RULES).await?;
    tx.rules_save(implementation_id, DEMO_RULES, None, app.now())
        .await?;
    Ok(reports)
}
