//! The Lead's side of attempts: the queue of attempts finished implausibly fast (with each
//! one's timeline), essays waiting for a grade, and item analysis per question version.

use super::attempts::{answer_in_words, finish_in};
use super::settings_of;
use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::Permission;
use onramp_domain::learning::question::{Question, QuestionKind, Response};
use onramp_domain::learning::quiz_statistics::{
    item_statistics, median, ItemScore, ItemStatistics,
};
use onramp_store::learning::quizzes::{AskedVersion, Attempt, AttemptListed, Quiz};
use onramp_store::reads::QuizReads;
use serde_json::json;
use std::collections::BTreeMap;

/// What waits for the Lead: attempts flagged as too fast, and essays to grade.
#[derive(Debug, Clone)]
pub struct Queues {
    pub too_fast: Vec<AttemptListed>,
    pub to_grade: Vec<AttemptListed>,
}

pub async fn queues(app: &App, ctx: &Ctx) -> AppResult<Queues> {
    ctx.require(Permission::ViewTrainingReports)?;
    let mut tx = app.store.read().await?;
    let imp = ctx.implementation_id();
    Ok(Queues {
        too_fast: tx.attempts_flagged(imp).await?,
        to_grade: tx.attempts_to_grade(imp).await?,
    })
}

/// One question of an attempt's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub position: i32,
    pub text: String,
    pub kind: &'static str,
    pub answered_at: Option<DateTime<Utc>>,
    pub seconds: i32,
    pub answer: String,
    pub mark: Option<f64>,
    pub max_mark: f64,
    /// An essay waiting for a grade: its attempt question's id.
    pub to_grade: Option<i64>,
    pub grader_comment: String,
}

/// An attempt as the Lead reviews it.
#[derive(Debug, Clone)]
pub struct AttemptReview {
    pub attempt: Attempt,
    pub quiz: Quiz,
    pub person: String,
    pub timeline: Vec<TimelineEntry>,
    pub seconds: i64,
    pub floor_seconds: i64,
}

pub async fn attempt_review(app: &App, ctx: &Ctx, attempt_id: i64) -> AppResult<AttemptReview> {
    ctx.require(Permission::ViewTrainingReports)?;
    let mut tx = app.store.read().await?;
    let imp = ctx.implementation_id();
    let attempt = tx.attempt_get(imp, attempt_id).await?;
    let quiz = tx.quiz_get(imp, attempt.quiz_id).await?;
    let settings = settings_of(&quiz)?;
    let person = tx.person_by_id(attempt.person_id).await?.display_name();
    let mut timeline = Vec::new();
    let questions = tx.attempt_questions(attempt.id).await?;
    for aq in &questions {
        let q: Question =
            serde_json::from_str(&aq.body).map_err(|e| AppError::Internal(e.to_string()))?;
        let r: Option<Response> = aq
            .response
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        timeline.push(TimelineEntry {
            position: aq.position,
            text: onramp_formats::quiz::html_to_text(&q.text.text),
            kind: q.kind.name(),
            answered_at: aq.answered_at,
            seconds: aq.seconds,
            answer: answer_in_words(&q, r.as_ref()),
            mark: aq.mark,
            max_mark: aq.max_mark,
            to_grade: (aq.mark.is_none() && attempt.submitted_at.is_some()).then_some(aq.id),
            grader_comment: aq.grader_comment.clone(),
        });
    }
    timeline.sort_by_key(|t| (t.answered_at.is_none(), t.answered_at, t.position));
    Ok(AttemptReview {
        seconds: attempt
            .submitted_at
            .map(|s| (s - attempt.started_at).num_seconds())
            .unwrap_or(0),
        floor_seconds: i64::from(settings.min_seconds_per_question)
            * i64::try_from(questions.len()).unwrap_or(0),
        attempt,
        quiz,
        person,
        timeline,
    })
}

/// Clears a too-fast flag after looking into it, with a note saying what was found.
pub async fn clear_flag(app: &App, ctx: &Ctx, attempt_id: i64, note: &str) -> AppResult<()> {
    ctx.require(Permission::ManageTrainingPlans)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::field(
            "note",
            "Say what you found, for the record",
        ));
    }
    if note.chars().count() > 1000 {
        return Err(AppError::field(
            "note",
            "Keep the note under 1,000 characters",
        ));
    }
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    tx.attempt_get(imp, attempt_id).await?;
    if !tx
        .attempt_flag_clear(imp, attempt_id, ctx.actor.person_id, note, app.now())
        .await?
    {
        return Err(AppError::Conflict(
            "This attempt has no flag to clear.".into(),
        ));
    }
    record(
        &mut tx,
        app,
        ctx,
        "quiz.flag_clear",
        "quiz_attempt",
        Some(attempt_id),
        json!({"note": note}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Grades an essay of a submitted attempt: the mark (0 to its maximum) and a comment. The
/// attempt is graded when its last essay is.
pub async fn grade_essay(
    app: &App,
    ctx: &Ctx,
    attempt_id: i64,
    position: i32,
    mark: &str,
    comment: &str,
) -> AppResult<()> {
    ctx.require(Permission::ManageTrainingPlans)?;
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let attempt = tx.attempt_get(imp, attempt_id).await?;
    let quiz = tx.quiz_get(imp, attempt.quiz_id).await?;
    let settings = settings_of(&quiz)?;
    let aq = tx
        .attempt_questions(attempt_id)
        .await?
        .into_iter()
        .find(|q| q.position == position)
        .ok_or(AppError::NotFound)?;
    if attempt.submitted_at.is_none() || aq.mark.is_some() {
        return Err(AppError::Conflict(
            "This answer is not waiting for a grade.".into(),
        ));
    }
    let value = mark
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|m| m.is_finite() && *m >= 0.0 && *m <= aq.max_mark)
        .ok_or_else(|| {
            AppError::field("mark", format!("Enter a mark from 0 to {}", aq.max_mark))
        })?;
    tx.attempt_question_mark(
        aq.id,
        Some(value),
        aq.seconds,
        Some(ctx.actor.person_id),
        comment.trim(),
    )
    .await?;
    record(
        &mut tx,
        app,
        ctx,
        "quiz.essay_grade",
        "quiz_attempt",
        Some(attempt_id),
        json!({"position": position, "mark": value, "comment": comment.trim()}),
    )
    .await?;
    finish_in(&mut tx, app, ctx, &quiz, &settings, attempt_id).await?;
    tx.commit().await?;
    Ok(())
}

/// How often one answer was given.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCount {
    pub answer: String,
    pub right: bool,
    pub count: usize,
}

/// One question version's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionStatistics {
    pub question_id: i64,
    pub version: i32,
    pub name: String,
    pub kind: &'static str,
    pub stats: ItemStatistics,
    pub median_seconds: Option<f64>,
    /// For questions with answers to choose from: how often each was chosen.
    pub answers: Vec<AnswerCount>,
}

/// A quiz's item analysis.
#[derive(Debug, Clone)]
pub struct QuizStatistics {
    pub quiz: Quiz,
    pub attempts: usize,
    pub questions: Vec<QuestionStatistics>,
}

/// The item analysis of a quiz's graded attempts, per question version.
pub async fn statistics(app: &App, ctx: &Ctx, quiz_id: i64) -> AppResult<QuizStatistics> {
    ctx.require(Permission::ViewTrainingReports)?;
    let quiz = app
        .store
        .read()
        .await?
        .quiz_get(ctx.implementation_id(), quiz_id)
        .await?;
    // Many rows: read on a snapshot.
    let mut snapshot = app.store.snapshot().await?;
    let rows = snapshot.quiz_graded_items(quiz.id).await?;
    let versions = snapshot.quiz_asked_versions(quiz.id).await?;
    drop(snapshot);
    Ok(QuizStatistics {
        attempts: rows
            .iter()
            .map(|r| r.attempt_id)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        questions: analyse(&versions, &rows)?,
        quiz,
    })
}

/// The figures of every question version in `rows` (sorted by version); `versions` are
/// the versions the rows name.
pub fn analyse(
    versions: &[AskedVersion],
    rows: &[onramp_store::learning::quizzes::GradedItem],
) -> AppResult<Vec<QuestionStatistics>> {
    let mut by_version: BTreeMap<i64, Vec<&onramp_store::learning::quizzes::GradedItem>> =
        BTreeMap::new();
    for r in rows {
        by_version.entry(r.question_version_id).or_default().push(r);
    }
    let mut out = Vec::new();
    for (version_id, items) in &by_version {
        let Some(asked) = versions.iter().find(|v| v.id == *version_id) else {
            continue;
        };
        let q: Question =
            serde_json::from_str(&asked.body).map_err(|e| AppError::Internal(e.to_string()))?;
        let scores: Vec<ItemScore> = items
            .iter()
            .map(|r| ItemScore {
                mark: r.mark,
                max_mark: r.max_mark,
                attempt_mark: r.attempt_mark,
            })
            .collect();
        let mut secs: Vec<f64> = items.iter().map(|r| f64::from(r.seconds)).collect();
        let answers = match &q.kind {
            QuestionKind::SingleChoice { choices } | QuestionKind::MultipleResponse { choices } => {
                let mut counts = vec![0usize; choices.len()];
                for r in items {
                    match r
                        .response
                        .as_deref()
                        .and_then(|s| serde_json::from_str::<Response>(s).ok())
                    {
                        Some(Response::Choice(i)) => {
                            if let Some(c) = counts.get_mut(i) {
                                *c += 1;
                            }
                        }
                        Some(Response::Choices(is)) => {
                            for i in is {
                                if let Some(c) = counts.get_mut(i) {
                                    *c += 1;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                choices
                    .iter()
                    .zip(counts)
                    .map(|(c, count)| AnswerCount {
                        answer: onramp_formats::quiz::html_to_text(&c.text),
                        right: c.weight > 0.0,
                        count,
                    })
                    .collect()
            }
            QuestionKind::TrueFalse { answer, .. } => {
                let mut t = 0;
                let mut f = 0;
                for r in items {
                    match r
                        .response
                        .as_deref()
                        .and_then(|s| serde_json::from_str::<Response>(s).ok())
                    {
                        Some(Response::Bool(true)) => t += 1,
                        Some(Response::Bool(false)) => f += 1,
                        _ => {}
                    }
                }
                vec![
                    AnswerCount {
                        answer: "True".into(),
                        right: *answer,
                        count: t,
                    },
                    AnswerCount {
                        answer: "False".into(),
                        right: !*answer,
                        count: f,
                    },
                ]
            }
            _ => Vec::new(),
        };
        out.push(QuestionStatistics {
            question_id: asked.question_id,
            version: asked.version,
            name: if q.name.trim().is_empty() {
                super::bank::label_of(&q)
            } else {
                q.name.clone()
            },
            kind: q.kind.name(),
            stats: item_statistics(&scores),
            median_seconds: median(&mut secs),
            answers,
        });
    }
    Ok(out)
}
