//! The question bank (nested categories, questions and their versions), quizzes and what
//! they ask, and people's attempts with the questions each asked.

use crate::{exec, on_conn, read_all, Reads, Result, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A category of the bank; `path` is the JSON array of names from the top.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct QuestionCategory {
    pub id: i64,
    pub implementation_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub path: String,
}

/// A question with its current version's body (JSON `Question`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct BankQuestion {
    pub id: i64,
    pub implementation_id: i64,
    pub category_id: i64,
    pub category_path: String,
    pub name: String,
    pub id_number: Option<String>,
    pub tags: String,
    pub kind: String,
    pub current_version: i32,
    pub version_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

pub struct NewQuestion<'a> {
    pub implementation_id: i64,
    pub category_id: i64,
    pub name: &'a str,
    pub id_number: Option<&'a str>,
    pub tags: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub by: Option<i64>,
}

/// A quiz; `settings` is the JSON `QuizSettings`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Quiz {
    pub id: i64,
    pub implementation_id: i64,
    pub key: String,
    pub title: String,
    pub intro: String,
    pub settings: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// One place of a quiz: a question, or a draw from a category.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct QuizSlot {
    pub position: i32,
    pub question_id: Option<i64>,
    pub category_id: Option<i64>,
    pub draw_count: i32,
    pub with_subcategories: bool,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub implementation_id: i64,
    pub quiz_id: i64,
    pub person_id: i64,
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub mark: Option<f64>,
    pub max_mark: f64,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
    pub too_fast: bool,
    pub flag_cleared_at: Option<DateTime<Utc>>,
    pub flag_cleared_by: Option<i64>,
    pub flag_note: String,
}

/// A question of an attempt, with the version's body it asked.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct AttemptQuestion {
    pub id: i64,
    pub attempt_id: i64,
    pub position: i32,
    pub question_version_id: i64,
    pub question_id: i64,
    pub body: String,
    pub answer_order: String,
    pub response: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub seconds: i32,
    pub mark: Option<f64>,
    pub max_mark: f64,
    pub graded_by: Option<i64>,
    pub grader_comment: String,
}

/// An attempt as a Lead queue lists it, with the person and quiz named.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct AttemptListed {
    pub id: i64,
    pub quiz_id: i64,
    pub quiz_title: String,
    pub person_id: i64,
    pub person_name: String,
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
    pub too_fast: bool,
}

/// One graded question of a submitted attempt, for item analysis.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, Deserialize)]
pub struct GradedItem {
    pub attempt_id: i64,
    pub attempt_mark: f64,
    pub question_version_id: i64,
    pub response: Option<String>,
    pub seconds: i32,
    pub mark: f64,
    pub max_mark: f64,
}

const BANK_QUESTION: &str = "SELECT q.id, q.implementation_id, q.category_id, c.path AS category_path, q.name, q.id_number, q.tags, q.kind, q.current_version, v.id AS version_id, v.body, q.created_at, q.retired_at \
     FROM questions q JOIN question_categories c ON c.id = q.category_id \
     JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version";

const ATTEMPT_QUESTION: &str = "SELECT aq.id, aq.attempt_id, aq.position, aq.question_version_id, v.question_id, v.body, aq.answer_order, aq.response, aq.answered_at, aq.seconds, aq.mark, aq.max_mark, aq.graded_by, aq.grader_comment \
     FROM attempt_questions aq JOIN question_versions v ON v.id = aq.question_version_id";

const ATTEMPT_LISTED: &str = "SELECT a.id, a.quiz_id, z.title AS quiz_title, a.person_id, (p.given_name || ' ' || p.family_name) AS person_name, a.number, a.started_at, a.submitted_at, a.percent, a.passed, a.too_fast \
     FROM quiz_attempts a JOIN quizzes z ON z.id = a.quiz_id JOIN people p ON p.id = a.person_id";

impl Tx {
    // ---- categories ----

    /// The category at `path` (names from the top), made with its parents when missing.
    pub async fn question_category_ensure(
        &mut self,
        implementation_id: i64,
        path: &[String],
    ) -> Result<i64> {
        let mut parent: Option<i64> = None;
        for depth in 1..=path.len() {
            let here = serde_json::to_string(&path[..depth]).unwrap_or_default();
            let found: Option<i64> = on_conn!(self, c => sqlx::query_scalar(
                "SELECT id FROM question_categories WHERE implementation_id = $1 AND path = $2")
                .bind(implementation_id).bind(&here).fetch_optional(c).await)?;
            let id = match found {
                Some(id) => id,
                None => on_conn!(self, c => sqlx::query_scalar(
                    "INSERT INTO question_categories (implementation_id, parent_id, name, path) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(implementation_id).bind(parent).bind(&path[depth - 1]).bind(&here)
                    .fetch_one(c).await)?,
            };
            parent = Some(id);
        }
        match parent {
            Some(id) => Ok(id),
            // The top of the bank is a category too: the one with an empty path.
            None => {
                let found: Option<i64> = on_conn!(self, c => sqlx::query_scalar(
                    "SELECT id FROM question_categories WHERE implementation_id = $1 AND path = '[]'")
                    .bind(implementation_id).fetch_optional(c).await)?;
                match found {
                    Some(id) => Ok(id),
                    None => Ok(on_conn!(self, c => sqlx::query_scalar(
                        "INSERT INTO question_categories (implementation_id, parent_id, name, path) VALUES ($1, NULL, 'Top', '[]') RETURNING id")
                        .bind(implementation_id).fetch_one(c).await)?),
                }
            }
        }
    }

    pub async fn question_categories(
        &mut self,
        implementation_id: i64,
    ) -> Result<Vec<QuestionCategory>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, QuestionCategory>(
            "SELECT * FROM question_categories WHERE implementation_id = $1 ORDER BY path")
            .bind(implementation_id).fetch_all(c).await)?)
    }

    // ---- questions ----

    /// Adds a question with its first version; gives back its id and the version's id.
    pub async fn question_insert(
        &mut self,
        q: &NewQuestion<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO questions (implementation_id, category_id, name, id_number, tags, kind, current_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id")
            .bind(q.implementation_id).bind(q.category_id).bind(q.name).bind(q.id_number)
            .bind(q.tags).bind(q.kind).bind(now).fetch_one(c).await)?;
        let v = self.question_version_add(id, 1, q.body, q.by, now).await?;
        Ok((id, v))
    }

    async fn question_version_add(
        &mut self,
        question_id: i64,
        version: i32,
        body: &str,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO question_versions (question_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(question_id).bind(version).bind(body).bind(now).bind(by).fetch_one(c).await)?)
    }

    /// Saves a new version of a question (attempts keep the version they asked); gives
    /// back the new version's id.
    pub async fn question_revise(
        &mut self,
        question_id: i64,
        q: &NewQuestion<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let version: i32 = on_conn!(self, c => sqlx::query_scalar(
            "UPDATE questions SET category_id = $1, name = $2, id_number = $3, tags = $4, kind = $5, current_version = current_version + 1 \
             WHERE id = $6 AND implementation_id = $7 RETURNING current_version")
            .bind(q.category_id).bind(q.name).bind(q.id_number).bind(q.tags).bind(q.kind)
            .bind(question_id).bind(q.implementation_id).fetch_one(c).await)?;
        self.question_version_add(question_id, version, q.body, q.by, now)
            .await
    }

    /// The implementation's questions with their current versions, by category and name.
    pub async fn bank_questions(&mut self, implementation_id: i64) -> Result<Vec<BankQuestion>> {
        let sql =
            format!("{BANK_QUESTION} WHERE q.implementation_id = $1 ORDER BY c.path, q.name, q.id");
        Ok(on_conn!(self, c => sqlx::query_as::<_, BankQuestion>(&sql)
            .bind(implementation_id).fetch_all(c).await)?)
    }

    pub async fn bank_question_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> Result<BankQuestion> {
        let sql = format!("{BANK_QUESTION} WHERE q.implementation_id = $1 AND q.id = $2");
        Ok(on_conn!(self, c => sqlx::query_as::<_, BankQuestion>(&sql)
            .bind(implementation_id).bind(id).fetch_one(c).await)?)
    }

    pub async fn bank_question_by_id_number(
        &mut self,
        implementation_id: i64,
        id_number: &str,
    ) -> Result<Option<BankQuestion>> {
        let sql = format!("{BANK_QUESTION} WHERE q.implementation_id = $1 AND q.id_number = $2");
        Ok(on_conn!(self, c => sqlx::query_as::<_, BankQuestion>(&sql)
            .bind(implementation_id).bind(id_number).fetch_optional(c).await)?)
    }

    /// The current versions of the live questions in these categories: (question, version).
    pub async fn question_versions_in_categories(
        &mut self,
        implementation_id: i64,
        categories: &[i64],
    ) -> Result<Vec<(i64, i64)>> {
        if categories.is_empty() {
            return Ok(Vec::new());
        }
        let list = categories
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT q.id, v.id FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version \
             WHERE q.implementation_id = $1 AND q.retired_at IS NULL AND q.category_id IN ({list}) ORDER BY q.id"
        );
        Ok(on_conn!(self, c => sqlx::query_as::<_, (i64, i64)>(&sql)
            .bind(implementation_id).fetch_all(c).await)?)
    }

    /// A question version's body.
    pub async fn question_version_body(&mut self, version_id: i64) -> Result<String> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT body FROM question_versions WHERE id = $1")
            .bind(version_id).fetch_one(c).await)?,
        )
    }

    // ---- quizzes ----

    pub async fn quiz_insert(
        &mut self,
        implementation_id: i64,
        key: &str,
        title: &str,
        intro: &str,
        settings: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO quizzes (implementation_id, key, title, intro, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id")
            .bind(implementation_id).bind(key).bind(title).bind(intro).bind(settings).bind(now)
            .fetch_one(c).await)?)
    }

    pub async fn quiz_update(
        &mut self,
        implementation_id: i64,
        id: i64,
        title: &str,
        intro: &str,
        settings: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE quizzes SET title = $1, intro = $2, settings = $3, updated_at = $4 WHERE id = $5 AND implementation_id = $6")
            .bind(title).bind(intro).bind(settings).bind(now).bind(id).bind(implementation_id)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn quizzes(&mut self, implementation_id: i64) -> Result<Vec<Quiz>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Quiz>(
            "SELECT * FROM quizzes WHERE implementation_id = $1 ORDER BY title, id")
            .bind(implementation_id).fetch_all(c).await)?)
    }

    pub async fn quiz_get(&mut self, implementation_id: i64, id: i64) -> Result<Quiz> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Quiz>(
            "SELECT * FROM quizzes WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?)
    }

    pub async fn quiz_by_key(&mut self, implementation_id: i64, key: &str) -> Result<Option<Quiz>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Quiz>(
            "SELECT * FROM quizzes WHERE implementation_id = $1 AND key = $2")
            .bind(implementation_id).bind(key).fetch_optional(c).await)?)
    }

    /// Replaces what a quiz asks.
    pub async fn quiz_slots_set(&mut self, quiz_id: i64, slots: &[QuizSlot]) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM quiz_slots WHERE quiz_id = $1").bind(quiz_id).execute(c).await)?;
        for s in slots {
            exec!(self, c => sqlx::query(
                "INSERT INTO quiz_slots (quiz_id, position, question_id, category_id, draw_count, with_subcategories) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(quiz_id).bind(s.position).bind(s.question_id).bind(s.category_id)
                .bind(s.draw_count).bind(s.with_subcategories).execute(c).await)?;
        }
        Ok(())
    }

    pub async fn quiz_slots(&mut self, quiz_id: i64) -> Result<Vec<QuizSlot>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, QuizSlot>(
            "SELECT position, question_id, category_id, draw_count, with_subcategories FROM quiz_slots WHERE quiz_id = $1 ORDER BY position")
            .bind(quiz_id).fetch_all(c).await)?)
    }

    // ---- attempts ----

    /// Opens an attempt, unless the person has one open at this quiz already: then nothing
    /// is written and None comes back (even when two tabs race).
    #[allow(clippy::too_many_arguments)]
    pub async fn attempt_insert(
        &mut self,
        implementation_id: i64,
        quiz_id: i64,
        person_id: i64,
        number: i32,
        started_at: DateTime<Utc>,
        deadline_at: Option<DateTime<Utc>>,
        max_mark: f64,
    ) -> Result<Option<i64>> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO quiz_attempts (implementation_id, quiz_id, person_id, number, started_at, deadline_at, max_mark) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id")
            .bind(implementation_id).bind(quiz_id).bind(person_id).bind(number)
            .bind(started_at).bind(deadline_at).bind(max_mark).fetch_optional(c).await)?)
    }

    pub async fn attempt_question_insert(
        &mut self,
        attempt_id: i64,
        position: i32,
        question_version_id: i64,
        answer_order: &str,
        max_mark: f64,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO attempt_questions (attempt_id, position, question_version_id, answer_order, max_mark) VALUES ($1, $2, $3, $4, $5)")
            .bind(attempt_id).bind(position).bind(question_version_id).bind(answer_order).bind(max_mark)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn attempts_of(&mut self, quiz_id: i64, person_id: i64) -> Result<Vec<Attempt>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Attempt>(
            "SELECT * FROM quiz_attempts WHERE quiz_id = $1 AND person_id = $2 ORDER BY number")
            .bind(quiz_id).bind(person_id).fetch_all(c).await)?)
    }

    pub async fn attempt_get(&mut self, implementation_id: i64, id: i64) -> Result<Attempt> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, Attempt>(
            "SELECT * FROM quiz_attempts WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?)
    }

    pub async fn attempt_questions(&mut self, attempt_id: i64) -> Result<Vec<AttemptQuestion>> {
        let sql = format!("{ATTEMPT_QUESTION} WHERE aq.attempt_id = $1 ORDER BY aq.position");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AttemptQuestion>(&sql)
            .bind(attempt_id).fetch_all(c).await)?,
        )
    }

    /// The question versions a person's latest attempt at a quiz asked.
    pub async fn last_attempt_questions(
        &mut self,
        quiz_id: i64,
        person_id: i64,
    ) -> Result<Vec<i64>> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "SELECT v.question_id FROM attempt_questions aq JOIN question_versions v ON v.id = aq.question_version_id \
             WHERE aq.attempt_id = (SELECT id FROM quiz_attempts WHERE quiz_id = $1 AND person_id = $2 ORDER BY number DESC LIMIT 1)")
            .bind(quiz_id).bind(person_id).fetch_all(c).await)?)
    }

    /// Saves answers of an open attempt, `(position, response JSON)`, a statement per 200:
    /// the number of questions changed (none once the attempt is submitted). A question's
    /// `answered_at` moves only when its answer does.
    pub async fn attempt_answers_save(
        &mut self,
        attempt_id: i64,
        answers: &[(i32, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut n = 0;
        for chunk in answers.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(CAST(${} AS INTEGER), CAST(${} AS TEXT))",
                        3 + 2 * i,
                        4 + 2 * i
                    )
                })
                .collect();
            let sql = format!(
                "UPDATE attempt_questions SET answered_at = CASE WHEN attempt_questions.response = v.column2 THEN attempt_questions.answered_at ELSE $1 END, \
                 response = v.column2 FROM (VALUES {}) AS v \
                 WHERE attempt_questions.attempt_id = $2 AND attempt_questions.position = v.column1 \
                 AND EXISTS (SELECT 1 FROM quiz_attempts WHERE id = $2 AND submitted_at IS NULL)",
                values.join(", ")
            );
            n += exec!(self, c => {
                let mut q = sqlx::query(&sql).bind(now).bind(attempt_id);
                for (position, response) in chunk {
                    q = q.bind(*position).bind(response.as_deref());
                }
                q.execute(c).await
            })?;
        }
        Ok(n)
    }

    /// Marks many questions of an attempt at once, `(attempt question id, mark, seconds)`,
    /// as graded by the server (no grader, no comment).
    pub async fn attempt_questions_mark(
        &mut self,
        marks: &[(i64, Option<f64>, i32)],
    ) -> Result<()> {
        for chunk in marks.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(CAST(${} AS BIGINT), CAST(${} AS DOUBLE PRECISION), CAST(${} AS INTEGER))",
                        1 + 3 * i,
                        2 + 3 * i,
                        3 + 3 * i
                    )
                })
                .collect();
            let sql = format!(
                "UPDATE attempt_questions SET mark = v.column2, seconds = v.column3, graded_by = NULL, grader_comment = '' \
                 FROM (VALUES {}) AS v WHERE attempt_questions.id = v.column1",
                values.join(", ")
            );
            exec!(self, c => {
                let mut q = sqlx::query(&sql);
                for (id, mark, seconds) in chunk {
                    q = q.bind(*id).bind(*mark).bind(*seconds);
                }
                q.execute(c).await
            })?;
        }
        Ok(())
    }

    /// Marks an attempt submitted, once: false when it already was.
    pub async fn attempt_submit(&mut self, attempt_id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = exec!(self, c => sqlx::query(
            "UPDATE quiz_attempts SET submitted_at = $1 WHERE id = $2 AND submitted_at IS NULL")
            .bind(now).bind(attempt_id).execute(c).await)?;
        Ok(n == 1)
    }

    pub async fn attempt_question_mark(
        &mut self,
        id: i64,
        mark: Option<f64>,
        seconds: i32,
        graded_by: Option<i64>,
        comment: &str,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE attempt_questions SET mark = $1, seconds = $2, graded_by = $3, grader_comment = $4 WHERE id = $5")
            .bind(mark).bind(seconds).bind(graded_by).bind(comment).bind(id).execute(c).await)?;
        Ok(())
    }

    /// Records an attempt's grade (None while a question waits for a person).
    pub async fn attempt_grade(
        &mut self,
        attempt_id: i64,
        mark: Option<f64>,
        percent: Option<f64>,
        passed: Option<bool>,
        too_fast: bool,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE quiz_attempts SET mark = $1, percent = $2, passed = $3, too_fast = $4 WHERE id = $5")
            .bind(mark).bind(percent).bind(passed).bind(too_fast).bind(attempt_id).execute(c).await)?;
        Ok(())
    }

    /// Clears an attempt's too-fast flag, with a note; false when it was not flagged.
    pub async fn attempt_flag_clear(
        &mut self,
        implementation_id: i64,
        attempt_id: i64,
        by: i64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query(
            "UPDATE quiz_attempts SET flag_cleared_at = $1, flag_cleared_by = $2, flag_note = $3 \
             WHERE id = $4 AND implementation_id = $5 AND too_fast AND flag_cleared_at IS NULL")
            .bind(now).bind(by).bind(note).bind(attempt_id).bind(implementation_id).execute(c).await)?;
        Ok(n == 1)
    }

    /// Submitted attempts flagged as too fast and not cleared, oldest first.
    pub async fn attempts_flagged(&mut self, implementation_id: i64) -> Result<Vec<AttemptListed>> {
        let sql = format!("{ATTEMPT_LISTED} WHERE a.implementation_id = $1 AND a.too_fast AND a.flag_cleared_at IS NULL ORDER BY a.submitted_at, a.id");
        Ok(on_conn!(self, c => sqlx::query_as::<_, AttemptListed>(&sql)
            .bind(implementation_id).fetch_all(c).await)?)
    }

    /// Submitted attempts with a question that waits for a person to grade it.
    pub async fn attempts_to_grade(
        &mut self,
        implementation_id: i64,
    ) -> Result<Vec<AttemptListed>> {
        let sql = format!(
            "{ATTEMPT_LISTED} WHERE a.implementation_id = $1 AND a.submitted_at IS NOT NULL \
             AND EXISTS (SELECT 1 FROM attempt_questions aq WHERE aq.attempt_id = a.id AND aq.mark IS NULL) ORDER BY a.submitted_at, a.id");
        Ok(on_conn!(self, c => sqlx::query_as::<_, AttemptListed>(&sql)
            .bind(implementation_id).fetch_all(c).await)?)
    }
}

/// A question version a quiz's attempts asked.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, Deserialize)]
pub struct AskedVersion {
    pub id: i64,
    pub question_id: i64,
    pub version: i32,
    pub body: String,
}

/// The reads of item analysis, on a [`Tx`] or a [`crate::Snapshot`] (which reads the
/// many rows far faster on SQLite).
pub trait QuizReads: Reads {
    /// Every graded question of a quiz's graded attempts.
    fn quiz_graded_items(
        &mut self,
        quiz_id: i64,
    ) -> impl Future<Output = Result<Vec<GradedItem>>> + Send {
        async move {
            read_all!(
                self,
                GradedItem,
                "SELECT aq.attempt_id, a.mark AS attempt_mark, aq.question_version_id, aq.response, aq.seconds, aq.mark, aq.max_mark \
                 FROM attempt_questions aq JOIN quiz_attempts a ON a.id = aq.attempt_id \
                 WHERE a.quiz_id = $1 AND a.mark IS NOT NULL AND aq.mark IS NOT NULL ORDER BY aq.question_version_id, aq.attempt_id",
                quiz_id
            )
        }
    }

    /// The question versions a quiz's attempts asked, once each.
    fn quiz_asked_versions(
        &mut self,
        quiz_id: i64,
    ) -> impl Future<Output = Result<Vec<AskedVersion>>> + Send {
        async move {
            read_all!(
                self,
                AskedVersion,
                "SELECT v.id, v.question_id, v.version, v.body FROM question_versions v \
                 WHERE v.id IN (SELECT aq.question_version_id FROM attempt_questions aq JOIN quiz_attempts a ON a.id = aq.attempt_id WHERE a.quiz_id = $1) \
                 ORDER BY v.id",
                quiz_id
            )
        }
    }
}

impl<R: Reads> QuizReads for R {}
