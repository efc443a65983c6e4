//! What the course writers' pages need beyond `courses`: the catalogue with each course's
//! versions, and lessons saved together with their uploaded files.
//!
//! Uploads are checked before anything is stored (kind by their bytes, size, a video's
//! duration read from its header, captions as WebVTT); a refused upload changes nothing, so
//! the lesson keeps the file it had. Accepted files are stored in the same transaction as
//! the lesson.

use super::courses::{self, LessonInput};
use crate::error::Problems;
use crate::{App, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::files::{check_upload, MediaType};
use onramp_domain::learning::course::{lesson_problems, LessonContent, LessonKind};
use onramp_formats::media::{validate_webvtt, video_duration_ms};
use onramp_store::learning::courses::{Course, CourseVersion};

/// A course as the catalogue lists it for its writers.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    pub course: Course,
    pub versions: Vec<CourseVersion>,
    pub enrolled: i64,
    pub completed: i64,
}

impl CatalogueEntry {
    /// The latest version (the draft when there is one).
    pub fn latest(&self) -> Option<&CourseVersion> {
        self.versions.iter().max_by_key(|v| v.version)
    }
    /// The version people enrol in.
    pub fn published(&self) -> Option<&CourseVersion> {
        self.versions
            .iter()
            .filter(|v| v.status == "published")
            .max_by_key(|v| v.version)
    }
    /// A draft newer than the published version, if any.
    pub fn draft(&self) -> Option<&CourseVersion> {
        self.versions
            .iter()
            .filter(|v| v.status == "draft")
            .max_by_key(|v| v.version)
    }
}

/// Every course of the implementation with its versions, for the people who write courses.
pub async fn catalogue(app: &App, ctx: &Ctx) -> AppResult<Vec<CatalogueEntry>> {
    ctx.require(Permission::ManageCourses)?;
    let rows = courses::catalogue(app, ctx).await?;
    let mut tx = app.store.read().await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let versions = tx.course_versions(r.course.id).await?;
        out.push(CatalogueEntry {
            course: r.course,
            versions,
            enrolled: r.enrolled,
            completed: r.completed,
        });
    }
    Ok(out)
}

/// The files sent with a lesson form; `None` (or empty) keeps what the lesson has.
#[derive(Debug, Clone, Default)]
pub struct LessonUploads {
    /// A video lesson's video, or a reading's PDF.
    pub file: Option<Vec<u8>>,
    /// A video lesson's WebVTT captions.
    pub captions: Option<Vec<u8>>,
}

/// An upload that passed its checks, ready to store.
struct Checked {
    bytes: Vec<u8>,
    kind: MediaType,
    duration_ms: Option<u64>,
}

fn check_file(
    app: &App,
    kind: Option<LessonKind>,
    bytes: &[u8],
    p: &mut Problems,
) -> Option<Checked> {
    let limits = &app.config.upload_limits;
    match kind {
        Some(LessonKind::Video) => {
            let m = p.check_str(
                "file",
                check_upload(&[MediaType::WebM, MediaType::Mp4], bytes, limits),
            )?;
            match video_duration_ms(bytes) {
                Ok(d) if d > 0 => Some(Checked {
                    bytes: bytes.to_vec(),
                    kind: m,
                    duration_ms: Some(d),
                }),
                Ok(_) => {
                    p.push("file", "The video's length could not be read: it has no duration. Upload it again as WebM or MP4.");
                    None
                }
                Err(e) => {
                    p.push(
                        "file",
                        format!(
                            "The video could not be read ({e}). Upload it again as WebM or MP4."
                        ),
                    );
                    None
                }
            }
        }
        Some(LessonKind::Reading) => {
            let m = p.check_str("file", check_upload(&[MediaType::Pdf], bytes, limits))?;
            Some(Checked {
                bytes: bytes.to_vec(),
                kind: m,
                duration_ms: None,
            })
        }
        _ => {
            p.push("file", "This kind of lesson takes no file.");
            None
        }
    }
}

fn check_captions(app: &App, bytes: &[u8], p: &mut Problems) -> Option<Checked> {
    let m = p.check_str(
        "captions",
        check_upload(&[MediaType::WebVtt], bytes, &app.config.upload_limits),
    )?;
    let Ok(text) = std::str::from_utf8(bytes) else {
        p.push("captions", "The captions are not UTF-8 text.");
        return None;
    };
    if let Err(problems) = validate_webvtt(text) {
        let lines: Vec<String> = problems
            .iter()
            .take(3)
            .map(|v| format!("line {}: {}", v.line, v.message))
            .collect();
        p.push(
            "captions",
            format!("The captions are not valid WebVTT ({}).", lines.join("; ")),
        );
        return None;
    }
    Some(Checked {
        bytes: bytes.to_vec(),
        kind: m,
        duration_ms: None,
    })
}

/// Adds a lesson to the course's draft (`lesson_id` None) or changes one (of the draft, or
/// of the published version through its copy in the draft), with the files uploaded with it.
/// Any refused upload refuses the whole form: nothing is stored and the lesson is unchanged.
pub async fn save_lesson_with_uploads(
    app: &App,
    ctx: &Ctx,
    course_id: i64,
    lesson_id: Option<i64>,
    input: &LessonInput,
    uploads: &LessonUploads,
) -> AppResult<i64> {
    ctx.require(Permission::ManageCourses)?;
    let kind = LessonKind::parse(&input.kind);
    let mut p = Problems::default();
    let file = uploads
        .file
        .as_deref()
        .filter(|b| !b.is_empty())
        .and_then(|b| check_file(app, kind, b, &mut p));
    let captions = match (kind, uploads.captions.as_deref().filter(|b| !b.is_empty())) {
        (Some(LessonKind::Video), Some(b)) => check_captions(app, b, &mut p),
        _ => None,
    };
    if !p.0.is_empty() {
        // Say what else the form needs, so that one round fixes everything.
        let content = LessonContent {
            key: input.key.trim().to_string(),
            title: input.title.trim().to_string(),
            kind,
            url: input.url.trim().to_string(),
            ..Default::default()
        };
        for e in lesson_problems(&content) {
            if ["key", "title", "kind", "url"].contains(&e.field.as_str())
                && !p.0.iter().any(|f| f.field == e.field)
            {
                p.push(&e.field, e.message);
            }
        }
        return p.into_result().map(|_| 0);
    }
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut input = input.clone();
    if let Some(f) = &file {
        input.file_hash = Some(
            app.files
                .put(&mut tx, &f.bytes, f.kind.as_str(), now)
                .await?
                .hash,
        );
        input.duration_ms = f.duration_ms;
    }
    if let Some(c) = &captions {
        input.captions_hash = Some(
            app.files
                .put(&mut tx, &c.bytes, c.kind.as_str(), now)
                .await?
                .hash,
        );
    }
    let id = courses::save_lesson_in(&mut tx, app, ctx, course_id, lesson_id, &input).await?;
    tx.commit().await?;
    Ok(id)
}
