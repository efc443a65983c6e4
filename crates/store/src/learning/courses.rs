//! Courses, their versions and lessons; enrolments and lesson progress; accommodations.

use crate::{exec, on_conn, read_all, read_one, read_optional, Reads, Result, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Course {
    pub id: i64,
    pub implementation_id: i64,
    pub key: String,
    pub title: String,
    pub summary: String,
    pub data_standards: Option<String>,
    pub price_cents: Option<i64>,
    pub restrict_seeking: bool,
    /// JSON list of strings.
    pub tags: String,
    /// JSON list of strings.
    pub objectives: String,
    /// JSON of `onramp_domain::learning::course::Prerequisites`.
    pub prerequisites: String,
    pub published_version: Option<i32>,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CourseFields<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub data_standards: Option<&'a str>,
    pub price_cents: Option<i64>,
    pub restrict_seeking: bool,
    pub tags: &'a str,
    pub objectives: &'a str,
    pub prerequisites: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CourseVersion {
    pub id: i64,
    pub course_id: i64,
    pub version: i32,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lesson {
    pub id: i64,
    pub version_id: i64,
    pub position: i32,
    pub key: String,
    pub title: String,
    pub kind: String,
    pub body: String,
    pub file_hash: Option<String>,
    pub duration_ms: Option<i64>,
    pub captions_hash: Option<String>,
    pub transcript: String,
    pub url: String,
    pub instructions: String,
    pub quiz_key: String,
}

#[derive(Debug, Clone)]
pub struct NewLesson<'a> {
    pub position: i32,
    pub key: &'a str,
    pub title: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub file_hash: Option<&'a str>,
    pub duration_ms: Option<i64>,
    pub captions_hash: Option<&'a str>,
    pub transcript: &'a str,
    pub url: &'a str,
    pub instructions: &'a str,
    pub quiz_key: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Enrolment {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub course_id: i64,
    pub version_id: i64,
    pub enrolled_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct LessonProgress {
    pub enrolment_id: i64,
    pub lesson_id: i64,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// `watched`, `read`, `confirmed`, `transcript` (an accommodation), `quiz`.
    pub how: String,
    /// JSON list of `[start_ms, end_ms]`.
    pub covered: String,
    pub covered_ms: i64,
    pub furthest_ms: i64,
    pub view_token: Option<String>,
    pub view_started_at: Option<DateTime<Utc>>,
    pub last_seq: i32,
    pub last_report_at: Option<DateTime<Utc>>,
    pub refused_reports: i32,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Accommodation {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub course_id: Option<i64>,
    pub kind: String,
    pub reason: String,
    pub granted_by: i64,
    pub granted_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Completion figures of one course.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CourseCompletion {
    pub course_id: i64,
    pub enrolled: i64,
    pub completed: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct LearningPath {
    pub id: i64,
    pub implementation_id: i64,
    pub key: String,
    pub title: String,
    /// JSON list of course keys, in order.
    pub courses: String,
}

impl Tx {
    // ---- courses ----

    pub async fn course_create(
        &mut self,
        implementation_id: i64,
        key: &str,
        f: &CourseFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO courses (implementation_id, key, title, summary, data_standards, price_cents, restrict_seeking, tags, objectives, prerequisites, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id")
            .bind(implementation_id).bind(key).bind(f.title).bind(f.summary).bind(f.data_standards).bind(f.price_cents).bind(f.restrict_seeking).bind(f.tags).bind(f.objectives).bind(f.prerequisites).bind(now)
            .fetch_one(c).await)?)
    }

    pub async fn course_update(
        &mut self,
        id: i64,
        f: &CourseFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE courses SET title = $2, summary = $3, data_standards = $4, price_cents = $5, restrict_seeking = $6, tags = $7, objectives = $8, prerequisites = $9, updated_at = $10 WHERE id = $1")
            .bind(id).bind(f.title).bind(f.summary).bind(f.data_standards).bind(f.price_cents).bind(f.restrict_seeking).bind(f.tags).bind(f.objectives).bind(f.prerequisites).bind(now)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn course_set_retired(
        &mut self,
        id: i64,
        retired_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE courses SET retired_at = $2, updated_at = $3 WHERE id = $1")
            .bind(id).bind(retired_at).bind(now).execute(c).await)?;
        Ok(())
    }

    // ---- versions and lessons ----

    pub async fn course_version_create(
        &mut self,
        course_id: i64,
        version: i32,
        created_by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO course_versions (course_id, version, status, created_at, created_by) VALUES ($1, $2, 'draft', $3, $4) RETURNING id")
            .bind(course_id).bind(version).bind(now).bind(created_by).fetch_one(c).await)?)
    }

    pub async fn course_versions(&mut self, course_id: i64) -> Result<Vec<CourseVersion>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, CourseVersion>("SELECT * FROM course_versions WHERE course_id = $1 ORDER BY version")
            .bind(course_id).fetch_all(c).await)?,
        )
    }

    pub async fn course_version_get(&mut self, id: i64) -> Result<CourseVersion> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, CourseVersion>("SELECT * FROM course_versions WHERE id = $1")
            .bind(id).fetch_one(c).await)?,
        )
    }

    /// Publishes a draft: the earlier published version becomes superseded.
    pub async fn course_version_publish(
        &mut self,
        course_id: i64,
        version_id: i64,
        version: i32,
        content_hash: &str,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE course_versions SET status = 'superseded' WHERE course_id = $1 AND status = 'published'")
            .bind(course_id).execute(c).await)?;
        exec!(self, c => sqlx::query("UPDATE course_versions SET status = 'published', content_hash = $2, published_at = $3, published_by = $4 WHERE id = $1")
            .bind(version_id).bind(content_hash).bind(now).bind(by).execute(c).await)?;
        exec!(self, c => sqlx::query("UPDATE courses SET published_version = $2, updated_at = $3 WHERE id = $1")
            .bind(course_id).bind(version).bind(now).execute(c).await)?;
        Ok(())
    }

    pub async fn lesson_insert(&mut self, version_id: i64, l: &NewLesson<'_>) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO lessons (version_id, position, key, title, kind, body, file_hash, duration_ms, captions_hash, transcript, url, instructions, quiz_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
            .bind(version_id).bind(l.position).bind(l.key).bind(l.title).bind(l.kind).bind(l.body).bind(l.file_hash).bind(l.duration_ms).bind(l.captions_hash).bind(l.transcript).bind(l.url).bind(l.instructions).bind(l.quiz_key)
            .fetch_one(c).await)?)
    }

    pub async fn lesson_update(&mut self, id: i64, l: &NewLesson<'_>) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE lessons SET position = $2, key = $3, title = $4, kind = $5, body = $6, file_hash = $7, duration_ms = $8, captions_hash = $9, transcript = $10, url = $11, instructions = $12, quiz_key = $13 WHERE id = $1")
            .bind(id).bind(l.position).bind(l.key).bind(l.title).bind(l.kind).bind(l.body).bind(l.file_hash).bind(l.duration_ms).bind(l.captions_hash).bind(l.transcript).bind(l.url).bind(l.instructions).bind(l.quiz_key)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn lesson_delete(&mut self, id: i64) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM lessons WHERE id = $1").bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn lessons_of_version(&mut self, version_id: i64) -> Result<Vec<Lesson>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Lesson>("SELECT * FROM lessons WHERE version_id = $1 ORDER BY position, id")
            .bind(version_id).fetch_all(c).await)?,
        )
    }

    pub async fn lesson_get(&mut self, id: i64) -> Result<Lesson> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Lesson>("SELECT * FROM lessons WHERE id = $1")
            .bind(id).fetch_one(c).await)?,
        )
    }

    /// Whether any version's lesson holds this file (as its video, PDF or captions) in an
    /// implementation's courses.
    pub async fn file_used_by_course(
        &mut self,
        implementation_id: i64,
        course_id: i64,
        hash: &str,
    ) -> Result<bool> {
        let n: i64 = on_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM lessons l JOIN course_versions v ON v.id = l.version_id JOIN courses co ON co.id = v.course_id WHERE co.id = $1 AND co.implementation_id = $2 AND (l.file_hash = $3 OR l.captions_hash = $3)")
            .bind(course_id).bind(implementation_id).bind(hash).fetch_one(c).await)?;
        Ok(n > 0)
    }

    // ---- enrolments and progress ----

    /// Enrols a person in a course version, unless they are enrolled already; gives the
    /// enrolment either way.
    pub async fn enrolment_ensure(
        &mut self,
        implementation_id: i64,
        person_id: i64,
        course_id: i64,
        version_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(Enrolment, bool)> {
        if let Some(e) = self.enrolment_of(person_id, course_id).await? {
            return Ok((e, false));
        }
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO enrolments (implementation_id, person_id, course_id, version_id, enrolled_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(implementation_id).bind(person_id).bind(course_id).bind(version_id).bind(now).fetch_one(c).await)?;
        Ok((
            Enrolment {
                id,
                implementation_id,
                person_id,
                course_id,
                version_id,
                enrolled_at: now,
                completed_at: None,
            },
            true,
        ))
    }

    pub async fn enrolment_complete(&mut self, id: i64, at: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE enrolments SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL")
            .bind(id).bind(at).execute(c).await)?;
        Ok(())
    }

    pub async fn lesson_progress_of_enrolment(
        &mut self,
        enrolment_id: i64,
    ) -> Result<Vec<LessonProgress>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, LessonProgress>("SELECT * FROM lesson_progress WHERE enrolment_id = $1")
            .bind(enrolment_id).fetch_all(c).await)?,
        )
    }

    /// The person's open enrolments whose version has a quiz lesson for `quiz_key`, with
    /// that lesson's id: (enrolment, lesson id).
    pub async fn open_quiz_lessons(
        &mut self,
        person_id: i64,
        quiz_key: &str,
    ) -> Result<Vec<(Enrolment, i64)>> {
        let rows: Vec<(i64, i64)> = on_conn!(self, c => sqlx::query_as(
            "SELECT e.id, l.id FROM enrolments e JOIN lessons l ON l.version_id = e.version_id \
             WHERE e.person_id = $1 AND e.completed_at IS NULL AND l.kind = 'quiz' AND l.quiz_key = $2 ORDER BY e.id, l.id")
            .bind(person_id).bind(quiz_key).fetch_all(c).await)?;
        let mut out = Vec::new();
        for (enrolment_id, lesson_id) in rows {
            let e = on_conn!(self, c => sqlx::query_as::<_, Enrolment>("SELECT * FROM enrolments WHERE id = $1")
                .bind(enrolment_id).fetch_one(c).await)?;
            out.push((e, lesson_id));
        }
        Ok(out)
    }

    /// Writes a progress row (inserting it the first time).
    pub async fn lesson_progress_save(&mut self, p: &LessonProgress) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO lesson_progress (enrolment_id, lesson_id, started_at, completed_at, how, covered, covered_ms, furthest_ms, view_token, view_started_at, last_seq, last_report_at, refused_reports) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (enrolment_id, lesson_id) DO UPDATE SET completed_at = excluded.completed_at, how = excluded.how, covered = excluded.covered, covered_ms = excluded.covered_ms, furthest_ms = excluded.furthest_ms, view_token = excluded.view_token, view_started_at = excluded.view_started_at, last_seq = excluded.last_seq, last_report_at = excluded.last_report_at, refused_reports = excluded.refused_reports")
            .bind(p.enrolment_id).bind(p.lesson_id).bind(p.started_at).bind(p.completed_at).bind(&p.how).bind(&p.covered).bind(p.covered_ms).bind(p.furthest_ms).bind(&p.view_token).bind(p.view_started_at).bind(p.last_seq).bind(p.last_report_at).bind(p.refused_reports)
            .execute(c).await)?;
        Ok(())
    }

    /// Counts one refused progress report.
    pub async fn lesson_progress_refused(
        &mut self,
        enrolment_id: i64,
        lesson_id: i64,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE lesson_progress SET refused_reports = refused_reports + 1 WHERE enrolment_id = $1 AND lesson_id = $2")
            .bind(enrolment_id).bind(lesson_id).execute(c).await)?;
        Ok(())
    }

    /// Enrolled and completed counts per course of an implementation.
    pub async fn course_completion_counts(
        &mut self,
        implementation_id: i64,
    ) -> Result<Vec<CourseCompletion>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, CourseCompletion>(
            "SELECT course_id, COUNT(*) AS enrolled, COUNT(completed_at) AS completed FROM enrolments WHERE implementation_id = $1 GROUP BY course_id")
            .bind(implementation_id).fetch_all(c).await)?)
    }

    // ---- accommodations ----

    #[allow(clippy::too_many_arguments)]
    pub async fn accommodation_grant(
        &mut self,
        implementation_id: i64,
        person_id: i64,
        course_id: Option<i64>,
        kind: &str,
        reason: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO accommodations (implementation_id, person_id, course_id, kind, reason, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(implementation_id).bind(person_id).bind(course_id).bind(kind).bind(reason).bind(by).bind(now).fetch_one(c).await)?)
    }

    pub async fn accommodations_of(&mut self, person_id: i64) -> Result<Vec<Accommodation>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Accommodation>("SELECT * FROM accommodations WHERE person_id = $1 AND ended_at IS NULL ORDER BY id")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    // ---- learning paths ----

    pub async fn learning_path_save(
        &mut self,
        implementation_id: i64,
        key: &str,
        title: &str,
        courses: &str,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO learning_paths (implementation_id, key, title, courses) VALUES ($1, $2, $3, $4) ON CONFLICT (implementation_id, key) DO UPDATE SET title = excluded.title, courses = excluded.courses")
            .bind(implementation_id).bind(key).bind(title).bind(courses).execute(c).await)?;
        Ok(())
    }

    pub async fn learning_paths(&mut self, implementation_id: i64) -> Result<Vec<LearningPath>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, LearningPath>("SELECT * FROM learning_paths WHERE implementation_id = $1 ORDER BY title")
            .bind(implementation_id).fetch_all(c).await)?,
        )
    }
}

/// Progress reports of videos arrive every few seconds from every player: the ones that only
/// move coverage on are one statement each, outside any transaction, so that on SQLite the
/// single writer is held for as little as possible.
impl crate::Store {
    /// Saves a video's coverage and last report, unless another report changed the row
    /// since it was read (its sequence number moved, or its viewing changed).
    /// Gives whether it was saved.
    pub async fn lesson_progress_advance(&self, p: &LessonProgress, read_seq: i32) -> Result<bool> {
        const SQL: &str = "UPDATE lesson_progress SET covered = $3, covered_ms = $4, furthest_ms = $5, last_seq = $6, last_report_at = $7 \
             WHERE enrolment_id = $1 AND lesson_id = $2 AND last_seq = $8 AND view_token = $9";
        let n = match &*self.pools {
            crate::Pools::Sqlite { write, .. } => sqlx::query(SQL)
                .bind(p.enrolment_id)
                .bind(p.lesson_id)
                .bind(&p.covered)
                .bind(p.covered_ms)
                .bind(p.furthest_ms)
                .bind(p.last_seq)
                .bind(p.last_report_at)
                .bind(read_seq)
                .bind(&p.view_token)
                .execute(write)
                .await?
                .rows_affected(),
            crate::Pools::Postgres(pool) => sqlx::query(SQL)
                .bind(p.enrolment_id)
                .bind(p.lesson_id)
                .bind(&p.covered)
                .bind(p.covered_ms)
                .bind(p.furthest_ms)
                .bind(p.last_seq)
                .bind(p.last_report_at)
                .bind(read_seq)
                .bind(&p.view_token)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(n == 1)
    }

    /// Counts one refused progress report, in one statement.
    pub async fn lesson_progress_count_refused(
        &self,
        enrolment_id: i64,
        lesson_id: i64,
    ) -> Result<()> {
        const SQL: &str = "UPDATE lesson_progress SET refused_reports = refused_reports + 1 WHERE enrolment_id = $1 AND lesson_id = $2";
        match &*self.pools {
            crate::Pools::Sqlite { write, .. } => {
                sqlx::query(SQL)
                    .bind(enrolment_id)
                    .bind(lesson_id)
                    .execute(write)
                    .await?;
            }
            crate::Pools::Postgres(pool) => {
                sqlx::query(SQL)
                    .bind(enrolment_id)
                    .bind(lesson_id)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The reads of courses and enrolments that a person's plan needs, on a [`Tx`] or a
/// [`crate::Snapshot`].
pub trait CourseReads: Reads {
    /// A number that changes whenever any course of the implementation changes (kept by
    /// triggers on `courses`): the catalogue read with it stays true until it moves.
    fn catalogue_version(
        &mut self,
        implementation_id: i64,
    ) -> impl Future<Output = Result<i64>> + Send {
        async move {
            read_one!(
                self,
                CatalogueVersion,
                "SELECT catalogue_version FROM implementations WHERE id = $1",
                implementation_id
            )
            .map(|v| v.catalogue_version)
        }
    }

    /// Every course of an implementation, by title (retired ones too).
    fn courses(
        &mut self,
        implementation_id: i64,
    ) -> impl Future<Output = Result<Vec<Course>>> + Send {
        async move {
            read_all!(
                self,
                Course,
                "SELECT * FROM courses WHERE implementation_id = $1 ORDER BY title, id",
                implementation_id
            )
        }
    }

    fn enrolments_of_person(
        &mut self,
        person_id: i64,
    ) -> impl Future<Output = Result<Vec<Enrolment>>> + Send {
        async move {
            read_all!(
                self,
                Enrolment,
                "SELECT * FROM enrolments WHERE person_id = $1 ORDER BY id",
                person_id
            )
        }
    }

    /// Every lesson progress row of a person's enrolments.
    fn lesson_progress_of_person(
        &mut self,
        person_id: i64,
    ) -> impl Future<Output = Result<Vec<LessonProgress>>> + Send {
        async move {
            read_all!(self, LessonProgress, "SELECT p.* FROM lesson_progress p JOIN enrolments e ON e.id = p.enrolment_id WHERE e.person_id = $1", person_id)
        }
    }

    /// The lessons of every course a person is enrolled in and has not completed, in one
    /// read, without their texts (`body`, `transcript` and `instructions` are empty): what a
    /// plan's progress bars need.
    fn lesson_outlines_of_open_enrolments(
        &mut self,
        person_id: i64,
    ) -> impl Future<Output = Result<Vec<Lesson>>> + Send {
        async move {
            read_all!(self, Lesson,
                "SELECT l.id, l.version_id, l.position, l.key, l.title, l.kind, '' AS body, l.file_hash, \
                 l.duration_ms, l.captions_hash, '' AS transcript, l.url, '' AS instructions, l.quiz_key \
                 FROM lessons l WHERE l.version_id IN \
                 (SELECT e.version_id FROM enrolments e WHERE e.person_id = $1 AND e.completed_at IS NULL) \
                 ORDER BY l.version_id, l.position, l.id",
                person_id)
        }
    }

    fn course_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<Course>> + Send {
        async move {
            read_one!(
                self,
                Course,
                "SELECT * FROM courses WHERE id = $1 AND implementation_id = $2",
                id,
                implementation_id
            )
        }
    }

    fn course_by_key(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> impl Future<Output = Result<Option<Course>>> + Send {
        async move {
            read_optional!(
                self,
                Course,
                "SELECT * FROM courses WHERE implementation_id = $1 AND key = $2",
                implementation_id,
                key
            )
        }
    }

    /// One lesson of a version by its key, without its texts (`body`, `transcript` and
    /// `instructions` are empty): what judging a progress report needs.
    fn lesson_outline_by_key(
        &mut self,
        version_id: i64,
        key: &str,
    ) -> impl Future<Output = Result<Option<Lesson>>> + Send {
        async move {
            read_optional!(self, Lesson,
                "SELECT l.id, l.version_id, l.position, l.key, l.title, l.kind, '' AS body, l.file_hash, \
                 l.duration_ms, l.captions_hash, '' AS transcript, l.url, '' AS instructions, l.quiz_key \
                 FROM lessons l WHERE l.version_id = $1 AND l.key = $2",
                version_id, key)
        }
    }

    fn enrolment_of(
        &mut self,
        person_id: i64,
        course_id: i64,
    ) -> impl Future<Output = Result<Option<Enrolment>>> + Send {
        async move {
            read_optional!(
                self,
                Enrolment,
                "SELECT * FROM enrolments WHERE person_id = $1 AND course_id = $2",
                person_id,
                course_id
            )
        }
    }

    fn lesson_progress_get(
        &mut self,
        enrolment_id: i64,
        lesson_id: i64,
    ) -> impl Future<Output = Result<Option<LessonProgress>>> + Send {
        async move {
            read_optional!(
                self,
                LessonProgress,
                "SELECT * FROM lesson_progress WHERE enrolment_id = $1 AND lesson_id = $2",
                enrolment_id,
                lesson_id
            )
        }
    }
}

impl<R: Reads> CourseReads for R {}

#[derive(sqlx::FromRow, Deserialize)]
struct CatalogueVersion {
    catalogue_version: i64,
}
