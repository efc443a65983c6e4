//! Taking a quiz: starting (or resuming) an attempt, autosaving answers, submitting once,
//! grading on the server, the result with the review the quiz allows, and the emails.
//!
//! The browser never sees an answer key before submission: a question is shown as its
//! text and its answers in the attempt's order, with nothing of their weights or feedback.
//! Time is the server's: the deadline is fixed when the attempt starts, answers arriving
//! after it (and its grace) are refused, and the attempt is then graded on what was saved.

use super::{settings_of, QuizSettings};
use crate::audit::record;
use crate::learning::plans;
use crate::{mail, App, AppError, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::Permission;
use onramp_domain::learning::question::{
    grade, right_answer_text, Question, QuestionKind, Response, RichText,
};
use onramp_domain::learning::quiz::{answer_order, draw, AttemptSummary, Seeded, StartRefused};
use onramp_domain::learning::rules::{ItemKind, ItemRef};
use onramp_domain::Slug;
use onramp_formats::quiz::text_to_html;
use onramp_store::learning::quizzes::{Attempt, AttemptQuestion, Quiz};
use onramp_store::Tx;
use rand::RngCore;
use serde_json::json;
use std::collections::HashSet;

pub const RESULT_TEMPLATE: &str = "quiz_result";
pub const FAILED_TEMPLATE: &str = "quiz_failed";

/// Where a person takes a quiz.
pub fn quiz_link(app: &App, key: &str) -> String {
    format!("{}/training/quizzes/{key}", app.config.base_url)
}

/// Where an attempt's result is.
pub fn result_link(app: &App, attempt_id: i64) -> String {
    format!(
        "{}/training/attempts/{attempt_id}/result",
        app.config.base_url
    )
}

fn summaries(attempts: &[Attempt]) -> Vec<AttemptSummary> {
    attempts
        .iter()
        .map(|a| AttemptSummary {
            number: u32::try_from(a.number).unwrap_or(0),
            started_at: a.started_at,
            submitted_at: a.submitted_at,
            percent: a.percent,
        })
        .collect()
}

fn item_of(quiz: &Quiz) -> AppResult<ItemRef> {
    Ok(ItemRef {
        kind: ItemKind::Quiz,
        key: Slug::parse(&quiz.key).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}

/// Whether the actor may take the quiz: it is in their training plan or a lesson of a
/// course they are taking, or they build quizzes (and are trying one out).
async fn may_take(tx: &mut Tx, ctx: &Ctx, quiz: &Quiz) -> AppResult<()> {
    if quiz.retired_at.is_some() {
        return Err(AppError::NotFound);
    }
    if ctx.actor.may(Permission::ManageCourses) {
        return Ok(());
    }
    let item = item_of(quiz)?;
    let in_plan = plans::state_in(tx, ctx.actor.person_id)
        .await?
        .is_some_and(|s| {
            s.view
                .groups
                .iter()
                .any(|g| g.items.iter().any(|i| i.item == item))
        });
    // Or a lesson of a course the person is taking asks for it.
    if in_plan
        || !tx
            .open_quiz_lessons(ctx.actor.person_id, &quiz.key)
            .await?
            .is_empty()
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A quiz as the person about to take it sees it.
#[derive(Debug, Clone)]
pub struct QuizOverview {
    pub quiz: Quiz,
    pub settings: QuizSettings,
    pub attempts: Vec<Attempt>,
    pub open: Option<Attempt>,
    pub may_start: Result<(), StartRefused>,
    pub attempts_left: Option<u32>,
    /// The attempt whose grade counts.
    pub kept: Option<Attempt>,
    pub passed: bool,
    pub questions: usize,
}

pub async fn overview(app: &App, ctx: &Ctx, key: &str) -> AppResult<QuizOverview> {
    let mut tx = app.store.read().await?;
    let quiz = tx
        .quiz_by_key(ctx.implementation_id(), key)
        .await?
        .ok_or(AppError::NotFound)?;
    may_take(&mut tx, ctx, &quiz).await?;
    let settings = settings_of(&quiz)?;
    let attempts = tx.attempts_of(quiz.id, ctx.actor.person_id).await?;
    let s = summaries(&attempts);
    let kept = settings
        .kept(&s)
        .and_then(|k| {
            attempts
                .iter()
                .find(|a| a.number == i32::try_from(k.number).unwrap_or(0))
        })
        .cloned();
    let questions = tx
        .quiz_slots(quiz.id)
        .await?
        .iter()
        .map(|s| usize::try_from(s.draw_count).unwrap_or(0))
        .sum();
    Ok(QuizOverview {
        may_start: settings.may_start(&s, app.now()),
        attempts_left: settings.attempts_left(&s),
        open: attempts.iter().find(|a| a.submitted_at.is_none()).cloned(),
        passed: attempts.iter().any(|a| a.passed == Some(true)),
        kept,
        attempts,
        settings,
        quiz,
        questions,
    })
}

/// The categories under (and including) `root`.
fn with_descendants(
    categories: &[onramp_store::learning::quizzes::QuestionCategory],
    root: i64,
) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            categories
                .iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

/// How many answers a question shows, to put them in an order.
fn answer_count(q: &Question) -> usize {
    match &q.kind {
        QuestionKind::SingleChoice { choices } | QuestionKind::MultipleResponse { choices } => {
            choices.len()
        }
        QuestionKind::Matching { pairs } => distinct_answers(pairs).len(),
        _ => 0,
    }
}

fn distinct_answers(pairs: &[onramp_domain::learning::question::MatchPair]) -> Vec<String> {
    let mut seen = Vec::new();
    for p in pairs {
        if !seen.contains(&p.answer) {
            seen.push(p.answer.clone());
        }
    }
    seen
}

fn parse_question(body: &str) -> AppResult<Question> {
    serde_json::from_str(body)
        .map_err(|e| AppError::Internal(format!("stored question does not parse: {e}")))
}

/// Starts an attempt, or gives back the one already open (two tabs resume the same
/// attempt). An open attempt past its deadline is first graded on what it saved.
pub async fn start(app: &App, ctx: &Ctx, key: &str) -> AppResult<Result<i64, StartRefused>> {
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let quiz = tx.quiz_by_key(imp, key).await?.ok_or(AppError::NotFound)?;
    may_take(&mut tx, ctx, &quiz).await?;
    let settings = settings_of(&quiz)?;
    let now = app.now();
    let mut attempts = tx.attempts_of(quiz.id, ctx.actor.person_id).await?;
    if let Some(open) = attempts.iter().find(|a| a.submitted_at.is_none()) {
        if !QuizSettings::is_late(open.deadline_at, now) {
            return Ok(Ok(open.id));
        }
        let open = open.clone();
        close_late_in(&mut tx, app, ctx, &quiz, &settings, &open, now).await?;
        attempts = tx.attempts_of(quiz.id, ctx.actor.person_id).await?;
    }
    if let Err(why) = settings.may_start(&summaries(&attempts), now) {
        tx.commit().await?;
        return Ok(Err(why));
    }
    // What it asks: each place in order, draws avoiding the last attempt's questions.
    let mut rng = Seeded::new(rand::rngs::OsRng.next_u64());
    let recently: HashSet<i64> = tx
        .last_attempt_questions(quiz.id, ctx.actor.person_id)
        .await?
        .into_iter()
        .collect();
    let categories = tx.question_categories(imp).await?;
    let mut chosen: Vec<(i64, i64)> = Vec::new();
    for slot in tx.quiz_slots(quiz.id).await? {
        if let Some(qid) = slot.question_id {
            let q = tx.bank_question_get(imp, qid).await?;
            if q.retired_at.is_none() && !chosen.iter().any(|(c, _)| *c == q.id) {
                chosen.push((q.id, q.version_id));
            }
        } else if let Some(cat) = slot.category_id {
            let cats = if slot.with_subcategories {
                with_descendants(&categories, cat)
            } else {
                vec![cat]
            };
            let pool: Vec<(i64, i64)> = tx
                .question_versions_in_categories(imp, &cats)
                .await?
                .into_iter()
                .filter(|(q, _)| !chosen.iter().any(|(c, _)| c == q))
                .collect();
            let ids: Vec<i64> = pool.iter().map(|(q, _)| *q).collect();
            let count = usize::try_from(slot.draw_count).unwrap_or(0);
            for q in draw(&ids, count, &recently, &mut rng) {
                if let Some(p) = pool.iter().find(|(id, _)| *id == q) {
                    chosen.push(*p);
                }
            }
        }
    }
    if chosen.is_empty() {
        return Err(AppError::Conflict(
            "This quiz has no questions to ask yet. Tell your HMIS Lead.".into(),
        ));
    }
    let number = attempts.iter().map(|a| a.number).max().unwrap_or(0) + 1;
    let max_mark = chosen.len() as f64;
    let Some(id) = tx
        .attempt_insert(
            imp,
            quiz.id,
            ctx.actor.person_id,
            number,
            now,
            settings.deadline(now),
            max_mark,
        )
        .await?
    else {
        // Another tab opened one at the same moment: resume it.
        drop(tx);
        let mut tx = app.store.read().await?;
        return tx
            .attempts_of(quiz.id, ctx.actor.person_id)
            .await?
            .into_iter()
            .find(|a| a.submitted_at.is_none())
            .map(|a| Ok(a.id))
            .ok_or(AppError::Conflict("Try starting the quiz again.".into()));
    };
    for (i, (_, version_id)) in chosen.iter().enumerate() {
        let body = tx_version_body(&mut tx, *version_id).await?;
        let order = answer_order(answer_count(&body), settings.shuffle_answers, &mut rng);
        tx.attempt_question_insert(
            id,
            i32::try_from(i + 1).unwrap_or(i32::MAX),
            *version_id,
            &serde_json::to_string(&order).unwrap_or_else(|_| "[]".into()),
            1.0,
        )
        .await?;
    }
    record(
        &mut tx,
        app,
        ctx,
        "quiz.attempt_start",
        "quiz_attempt",
        Some(id),
        json!({"quiz": quiz.key, "number": number, "questions": chosen.len(), "deadline": settings.deadline(now)}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

async fn tx_version_body(tx: &mut Tx, version_id: i64) -> AppResult<Question> {
    let body: String = tx.question_version_body(version_id).await?;
    parse_question(&body)
}

/// How a question is answered on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum ShownInput {
    /// Pick one: (value, label as HTML).
    One(Vec<(usize, String)>),
    /// Pick any.
    Many(Vec<(usize, String)>),
    TrueFalse,
    /// For each prompt (as HTML), pick one of the answers.
    Matching {
        prompts: Vec<String>,
        answers: Vec<String>,
    },
    Text,
    Number,
    Essay,
}

/// A question as the person answering sees it: no weights, no feedback, no key.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownQuestion {
    pub position: i32,
    pub text_html: String,
    pub input: ShownInput,
    pub saved: Option<Response>,
}

fn order_of(aq: &AttemptQuestion) -> Vec<usize> {
    serde_json::from_str(&aq.answer_order).unwrap_or_default()
}

fn in_order<T: Clone>(items: &[T], order: &[usize]) -> Vec<(usize, T)> {
    let mut out: Vec<(usize, T)> = order
        .iter()
        .filter_map(|i| items.get(*i).map(|x| (*i, x.clone())))
        .collect();
    // Anything the order misses (it should not), in its own place.
    for (i, x) in items.iter().enumerate() {
        if !order.contains(&i) {
            out.push((i, x.clone()));
        }
    }
    out
}

fn label(text: &str, q: &Question) -> String {
    text_to_html(&RichText {
        text: text.to_string(),
        format: q.text.format,
    })
}

pub fn shown(aq: &AttemptQuestion) -> AppResult<ShownQuestion> {
    let q = parse_question(&aq.body)?;
    let order = order_of(aq);
    let input = match &q.kind {
        QuestionKind::SingleChoice { choices } => ShownInput::One(
            in_order(choices, &order)
                .into_iter()
                .map(|(i, c)| (i, label(&c.text, &q)))
                .collect(),
        ),
        QuestionKind::MultipleResponse { choices } => ShownInput::Many(
            in_order(choices, &order)
                .into_iter()
                .map(|(i, c)| (i, label(&c.text, &q)))
                .collect(),
        ),
        QuestionKind::TrueFalse { .. } => ShownInput::TrueFalse,
        QuestionKind::Matching { pairs } => ShownInput::Matching {
            prompts: pairs.iter().map(|p| label(&p.prompt, &q)).collect(),
            answers: in_order(&distinct_answers(pairs), &order)
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
        },
        QuestionKind::ShortAnswer { .. } => ShownInput::Text,
        QuestionKind::Numeric { .. } => ShownInput::Number,
        QuestionKind::Essay => ShownInput::Essay,
    };
    Ok(ShownQuestion {
        position: aq.position,
        text_html: text_to_html(&q.text),
        input,
        saved: aq
            .response
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
    })
}

/// An open attempt as its person sees it.
#[derive(Debug, Clone)]
pub struct AttemptView {
    pub attempt: Attempt,
    pub quiz: Quiz,
    pub settings: QuizSettings,
    pub questions: Vec<ShownQuestion>,
    /// Seconds left before the deadline, by the server's clock.
    pub seconds_left: Option<i64>,
}

async fn own_attempt(tx: &mut Tx, ctx: &Ctx, attempt_id: i64) -> AppResult<(Attempt, Quiz)> {
    let attempt = tx.attempt_get(ctx.implementation_id(), attempt_id).await?;
    if attempt.person_id != ctx.actor.person_id {
        return Err(AppError::NotFound);
    }
    let quiz = tx
        .quiz_get(ctx.implementation_id(), attempt.quiz_id)
        .await?;
    Ok((attempt, quiz))
}

pub async fn view(app: &App, ctx: &Ctx, attempt_id: i64) -> AppResult<AttemptView> {
    let mut tx = app.store.read().await?;
    let (attempt, quiz) = own_attempt(&mut tx, ctx, attempt_id).await?;
    let settings = settings_of(&quiz)?;
    let mut questions = Vec::new();
    for aq in tx.attempt_questions(attempt.id).await? {
        questions.push(shown(&aq)?);
    }
    let now = app.now();
    Ok(AttemptView {
        seconds_left: attempt.deadline_at.map(|d| (d - now).num_seconds().max(0)),
        attempt,
        quiz,
        settings,
        questions,
    })
}

/// Why answers were not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerRefused {
    /// The attempt was submitted already: nothing changed.
    AlreadySubmitted,
    /// The time limit passed: the answers saved by then were graded.
    Late,
}

impl std::fmt::Display for AnswerRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnswerRefused::AlreadySubmitted => {
                "This attempt was already submitted, so these answers were not taken; its result is below."
            }
            AnswerRefused::Late => {
                "The time limit had passed, so these answers were not taken; the answers saved before it were graded."
            }
        })
    }
}

/// Reads the submitted form into each question's response, refusing what no honest form
/// sends: a question not in the attempt, an answer that is not one of the question's.
/// Questions left unanswered are absent.
fn responses_of(
    questions: &[AttemptQuestion],
    form: &[(String, String)],
) -> AppResult<Vec<(i32, Option<Response>)>> {
    let bad = |m: String| AppError::field("answers", m);
    let kinds: Vec<(i32, Question)> = questions
        .iter()
        .map(|aq| parse_question(&aq.body).map(|q| (aq.position, q)))
        .collect::<AppResult<_>>()?;
    for (name, _) in form {
        let Some(rest) = name.strip_prefix('q') else {
            continue;
        };
        let (pos, part) = match rest.split_once('_') {
            Some((p, i)) => (p, Some(i)),
            None => (rest, None),
        };
        let q = pos
            .parse::<i32>()
            .ok()
            .and_then(|p| kinds.iter().find(|(position, _)| *position == p))
            .map(|(_, q)| q);
        let fits = match (q.map(|q| &q.kind), part) {
            (Some(QuestionKind::Matching { pairs }), Some(i)) => {
                i.parse::<usize>().ok().is_some_and(|i| i < pairs.len())
            }
            (Some(QuestionKind::Matching { .. }), None) | (None, _) | (Some(_), Some(_)) => false,
            (Some(QuestionKind::MultipleResponse { .. }), None) => true,
            (Some(_), None) => form.iter().filter(|(n, _)| n == name).count() == 1,
        };
        if !fits {
            return Err(bad(format!(
                "{name} is not an answer to a question of this attempt"
            )));
        }
    }
    let values = |name: &str| -> Vec<&str> {
        form.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut out = Vec::new();
    for (aq, (_, q)) in questions.iter().zip(&kinds) {
        let name = format!("q{}", aq.position);
        let vals = values(&name);
        let first = vals.first().map(|v| v.trim()).filter(|v| !v.is_empty());
        let index = |v: &str, n: usize| -> AppResult<usize> {
            v.parse::<usize>().ok().filter(|i| *i < n).ok_or_else(|| {
                bad(format!(
                    "{v:?} is not an answer of question {}",
                    aq.position
                ))
            })
        };
        let response = match &q.kind {
            QuestionKind::SingleChoice { choices } => match first {
                Some(v) => Some(Response::Choice(index(v, choices.len())?)),
                None => None,
            },
            QuestionKind::MultipleResponse { choices } => {
                let mut picked = Vec::new();
                for v in vals.iter().filter(|v| !v.is_empty()) {
                    picked.push(index(v, choices.len())?);
                }
                // The page sends an empty marker so that clearing every box is saved too.
                (!picked.is_empty() || !vals.is_empty()).then_some(Response::Choices(picked))
            }
            QuestionKind::TrueFalse { .. } => match first {
                Some("true") => Some(Response::Bool(true)),
                Some("false") => Some(Response::Bool(false)),
                Some(v) => return Err(bad(format!("{v:?} is not true or false"))),
                None => None,
            },
            QuestionKind::Matching { pairs } => {
                let answers = distinct_answers(pairs);
                let mut given = Vec::with_capacity(pairs.len());
                let mut any = false;
                for i in 0..pairs.len() {
                    let v = values(&format!("{name}_{i}"))
                        .first()
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty());
                    if let Some(v) = &v {
                        if !answers.contains(v) {
                            return Err(bad(format!(
                                "{v:?} is not an answer of question {}",
                                aq.position
                            )));
                        }
                        any = true;
                    }
                    given.push(v);
                }
                any.then_some(Response::Matches(given))
            }
            QuestionKind::ShortAnswer { .. } | QuestionKind::Essay => {
                first.map(|v| Response::Text(v.chars().take(20_000).collect()))
            }
            QuestionKind::Numeric { .. } => first.map(|v| {
                let normal = if v.contains('.') {
                    v.to_string()
                } else {
                    v.replace(',', ".")
                };
                match normal.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Response::Number(n),
                    // Kept as typed; it earns nothing.
                    _ => Response::Text(v.chars().take(100).collect()),
                }
            }),
        };
        if response.is_some() {
            out.push((aq.position, response));
        }
    }
    Ok(out)
}

/// Saves answers of an open attempt (the page's autosave and its "Save" button).
pub async fn save(
    app: &App,
    ctx: &Ctx,
    attempt_id: i64,
    form: &[(String, String)],
) -> AppResult<Result<usize, AnswerRefused>> {
    let mut tx = app.store.begin().await?;
    let (attempt, quiz) = own_attempt(&mut tx, ctx, attempt_id).await?;
    let now = app.now();
    if attempt.submitted_at.is_some() {
        return Ok(Err(AnswerRefused::AlreadySubmitted));
    }
    if QuizSettings::is_late(attempt.deadline_at, now) {
        let settings = settings_of(&quiz)?;
        close_late_in(&mut tx, app, ctx, &quiz, &settings, &attempt, now).await?;
        tx.commit().await?;
        return Ok(Err(AnswerRefused::Late));
    }
    let questions = tx.attempt_questions(attempt.id).await?;
    let responses = responses_of(&questions, form)?;
    let n = save_responses(&mut tx, attempt.id, &responses, now).await?;
    tx.commit().await?;
    Ok(Ok(n))
}

async fn save_responses(
    tx: &mut Tx,
    attempt_id: i64,
    responses: &[(i32, Option<Response>)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let answers: Vec<(i32, Option<String>)> = responses
        .iter()
        .map(|(position, r)| {
            (
                *position,
                r.as_ref()
                    .map(|r| serde_json::to_string(r).unwrap_or_default()),
            )
        })
        .collect();
    let n = tx.attempt_answers_save(attempt_id, &answers, now).await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// What a submission came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    Graded,
    /// An essay waits for a person to grade it.
    AwaitingGrading,
    Refused(AnswerRefused),
}

/// Submits an attempt with the answers of the form, once: a second submission (another
/// tab, the form sent again) changes nothing and says so.
pub async fn submit(
    app: &App,
    ctx: &Ctx,
    attempt_id: i64,
    form: &[(String, String)],
) -> AppResult<Submitted> {
    let mut tx = app.store.begin().await?;
    let (attempt, quiz) = own_attempt(&mut tx, ctx, attempt_id).await?;
    let settings = settings_of(&quiz)?;
    let now = app.now();
    if attempt.submitted_at.is_some() {
        return Ok(Submitted::Refused(AnswerRefused::AlreadySubmitted));
    }
    if QuizSettings::is_late(attempt.deadline_at, now) {
        close_late_in(&mut tx, app, ctx, &quiz, &settings, &attempt, now).await?;
        tx.commit().await?;
        return Ok(Submitted::Refused(AnswerRefused::Late));
    }
    let questions = tx.attempt_questions(attempt.id).await?;
    let responses = responses_of(&questions, form)?;
    save_responses(&mut tx, attempt.id, &responses, now).await?;
    if !tx.attempt_submit(attempt.id, now).await? {
        return Ok(Submitted::Refused(AnswerRefused::AlreadySubmitted));
    }
    let graded = settle_in(&mut tx, app, ctx, &quiz, &settings, attempt.id).await?;
    tx.commit().await?;
    Ok(if graded {
        Submitted::Graded
    } else {
        Submitted::AwaitingGrading
    })
}

/// Closes an attempt whose time ran out, grading what it saved.
async fn close_late_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    quiz: &Quiz,
    settings: &QuizSettings,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let at = attempt.deadline_at.unwrap_or(now).min(now);
    if tx.attempt_submit(attempt.id, at).await? {
        settle_in(tx, app, ctx, quiz, settings, attempt.id).await?;
    }
    Ok(())
}

/// Seconds spent on each question: from the previous answer (or the start) to its own
/// last answer, in the order they were answered.
fn seconds_per_question(started: DateTime<Utc>, questions: &[AttemptQuestion]) -> Vec<(i64, i32)> {
    let mut answered: Vec<(DateTime<Utc>, i64)> = questions
        .iter()
        .filter_map(|q| q.answered_at.map(|t| (t, q.id)))
        .collect();
    answered.sort();
    let mut prev = started;
    let mut out = Vec::new();
    for (t, id) in answered {
        let s = (t - prev).num_seconds().max(0);
        out.push((id, i32::try_from(s).unwrap_or(i32::MAX)));
        prev = prev.max(t);
    }
    out
}

/// Grades a submitted attempt's questions on the server, then the attempt when every one
/// is graded. Gives back whether the attempt is graded.
async fn settle_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    quiz: &Quiz,
    settings: &QuizSettings,
    attempt_id: i64,
) -> AppResult<bool> {
    let mut attempt = tx.attempt_get(ctx.implementation_id(), attempt_id).await?;
    let mut questions = tx.attempt_questions(attempt_id).await?;
    let seconds = seconds_per_question(attempt.started_at, &questions);
    let mut marks = Vec::with_capacity(questions.len());
    for aq in &mut questions {
        let q = parse_question(&aq.body)?;
        let response: Option<Response> = aq
            .response
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let mark = match (&q.kind, &response) {
            (QuestionKind::Essay, Some(_)) => None,
            (_, None) => Some(0.0),
            (kind, Some(r)) => Some(grade(kind, r).unwrap_or(0.0) * aq.max_mark),
        };
        let s = seconds
            .iter()
            .find(|(id, _)| *id == aq.id)
            .map(|(_, s)| *s)
            .unwrap_or(0);
        marks.push((aq.id, mark, s));
        aq.mark = mark;
        aq.seconds = s;
        aq.graded_by = None;
        aq.grader_comment.clear();
    }
    tx.attempt_questions_mark(&marks).await?;
    let took = attempt
        .submitted_at
        .map(|s| (s - attempt.started_at).num_seconds())
        .unwrap_or(0);
    let too_fast = settings.too_fast(questions.len(), took);
    attempt.too_fast = too_fast;
    if questions.iter().any(|q| q.mark.is_none()) {
        // An essay waits for a person: only the flag is recorded now.
        tx.attempt_grade(attempt_id, None, None, None, too_fast)
            .await?;
    }
    record(
        tx,
        app,
        ctx,
        "quiz.attempt_submit",
        "quiz_attempt",
        Some(attempt_id),
        json!({"quiz": quiz.key, "number": attempt.number, "seconds": took, "too_fast": too_fast}),
    )
    .await?;
    finish_with(tx, app, ctx, quiz, settings, attempt, questions).await
}

/// When every question of a submitted attempt has a mark: the attempt's grade, the plan's
/// completion when it passed (the first time), and the emails. Gives back whether graded.
pub(super) async fn finish_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    quiz: &Quiz,
    settings: &QuizSettings,
    attempt_id: i64,
) -> AppResult<bool> {
    let attempt = tx.attempt_get(quiz.implementation_id, attempt_id).await?;
    let questions = tx.attempt_questions(attempt_id).await?;
    finish_with(tx, app, ctx, quiz, settings, attempt, questions).await
}

/// [`finish_in`] with the attempt and its questions (marks as stored) already read.
async fn finish_with(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    quiz: &Quiz,
    settings: &QuizSettings,
    attempt: Attempt,
    questions: Vec<AttemptQuestion>,
) -> AppResult<bool> {
    let attempt_id = attempt.id;
    if questions.iter().any(|q| q.mark.is_none()) {
        return Ok(false);
    }
    let mark: f64 = questions.iter().filter_map(|q| q.mark).sum();
    let percent = if attempt.max_mark > 0.0 {
        (100.0 * mark / attempt.max_mark).clamp(0.0, 100.0)
    } else {
        0.0
    };
    let passed = settings.passes(percent);
    tx.attempt_grade(
        attempt_id,
        Some(mark),
        Some(percent),
        Some(passed),
        attempt.too_fast,
    )
    .await?;
    record(
        tx,
        app,
        ctx,
        "quiz.attempt_graded",
        "quiz_attempt",
        Some(attempt_id),
        json!({"quiz": quiz.key, "person_id": attempt.person_id, "number": attempt.number, "percent": percent, "passed": passed}),
    )
    .await?;
    let attempts = tx.attempts_of(quiz.id, attempt.person_id).await?;
    let passed_before = attempts
        .iter()
        .any(|a| a.id != attempt_id && a.passed == Some(true));
    if passed && !passed_before {
        plans::complete_item_in(
            tx,
            app,
            ctx,
            attempt.person_id,
            &item_of(quiz)?,
            None,
            &format!(
                "Passed {} with {:.0}% (attempt {})",
                quiz.title, percent, attempt.number
            ),
            None,
            "",
        )
        .await?;
        crate::learning::lessons::quiz_passed_in(tx, app, ctx, attempt.person_id, &quiz.key)
            .await?;
    }
    let left = settings.attempts_left(&summaries(&attempts));
    tell_in(
        tx, app, quiz, settings, &attempt, &questions, percent, passed, left,
    )
    .await?;
    Ok(true)
}

/// One question's review line for the result email.
fn review_lines(questions: &[AttemptQuestion], with_answers: bool) -> AppResult<String> {
    let mut out = String::new();
    for aq in questions {
        let q = parse_question(&aq.body)?;
        let text = onramp_formats::quiz::html_to_text(&q.text.text);
        let right = aq.mark.unwrap_or(0.0) >= aq.max_mark - 1e-9;
        out.push_str(&format!(
            "{}. {} ({})\n",
            aq.position,
            text.trim(),
            if right { "right" } else { "missed" }
        ));
        if with_answers && !right {
            if let Some(a) = right_answer_text(&q.kind) {
                out.push_str(&format!("   The right answer: {a}\n"));
            }
            if !q.general_feedback.trim().is_empty() {
                out.push_str(&format!("   {}\n", q.general_feedback.trim()));
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn tell_in(
    tx: &mut Tx,
    app: &App,
    quiz: &Quiz,
    settings: &QuizSettings,
    attempt: &Attempt,
    questions: &[AttemptQuestion],
    percent: f64,
    passed: bool,
    left: Option<u32>,
) -> AppResult<()> {
    let person = tx.person_by_id(attempt.person_id).await?;
    let shows = settings.shows_answers(passed, left);
    let score = format!("{percent:.0}%");
    let pass_mark = format!("{}%", settings.pass_percent);
    let outcome = if passed { "passed" } else { "did not pass" };
    let next = if passed {
        "Well done: it now counts in your training plan.".to_string()
    } else {
        if left == Some(0) {
            "You have no attempts left; your HMIS Lead can allow another.".to_string()
        } else if settings.delay_minutes > 0 {
            format!(
                "You can retake it in {} minutes: {}",
                settings.delay_minutes,
                quiz_link(app, &quiz.key)
            )
        } else {
            format!("You can retake it now: {}", quiz_link(app, &quiz.key))
        }
    };
    let review = if shows {
        review_lines(questions, true)?
    } else {
        String::new()
    };
    let name = person.given_name.clone();
    let result = result_link(app, attempt.id);
    if settings.email_results || !passed {
        mail::queue(
            tx,
            app,
            quiz.implementation_id,
            &person.email,
            RESULT_TEMPLATE,
            &[
                ("name", &name),
                ("quiz", &quiz.title),
                ("outcome", outcome),
                ("score", &score),
                ("pass_mark", &pass_mark),
                ("next", &next),
                ("review", &review),
                ("result_link", &result),
            ],
        )
        .await?;
    }
    if !passed {
        let mut told: Vec<(String, String)> = Vec::new();
        if settings.tell_agency_administrator {
            if let Some(agency) = person.agency_id {
                for (_, email, given) in tx
                    .agency_role_holders(agency, &["agency_administrator"])
                    .await?
                {
                    told.push((email, given));
                }
            }
        }
        if settings.tell_lead {
            for (_, email, given) in tx
                .implementation_role_holders(
                    quiz.implementation_id,
                    &["lead_admin", "training_coordinator"],
                )
                .await?
            {
                told.push((email, given));
            }
        }
        told.sort();
        told.dedup_by(|a, b| a.0 == b.0);
        let who = person.display_name();
        let number = attempt.number.to_string();
        for (email, given) in told.iter().filter(|(e, _)| *e != person.email) {
            mail::queue(
                tx,
                app,
                quiz.implementation_id,
                email,
                FAILED_TEMPLATE,
                &[
                    ("name", given),
                    ("person", &who),
                    ("quiz", &quiz.title),
                    ("score", &score),
                    ("pass_mark", &pass_mark),
                    ("attempt", &number),
                    ("next", &next),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// One question of a result, as the person (or a Lead) reviews it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub position: i32,
    pub text_html: String,
    pub your_answer: String,
    pub mark: Option<f64>,
    pub max_mark: f64,
    /// Shown only when the review policy allows.
    pub right_answer: Option<String>,
    pub feedback: Vec<String>,
    pub grader_comment: String,
}

/// A submitted attempt's result.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempt: Attempt,
    pub quiz: Quiz,
    pub settings: QuizSettings,
    pub shows_answers: bool,
    pub attempts_left: Option<u32>,
    pub may_retake: Result<(), StartRefused>,
    pub passed_any: bool,
    pub items: Vec<ReviewItem>,
    /// Whether the viewer is the person who made the attempt.
    pub own: bool,
}

/// What a response was, in words.
pub fn answer_in_words(q: &Question, r: Option<&Response>) -> String {
    let Some(r) = r else {
        return "No answer".into();
    };
    let plain = |t: &str| onramp_formats::quiz::html_to_text(t);
    match (&q.kind, r) {
        (QuestionKind::SingleChoice { choices }, Response::Choice(i)) => {
            choices.get(*i).map(|c| plain(&c.text)).unwrap_or_default()
        }
        (QuestionKind::MultipleResponse { choices }, Response::Choices(is)) => {
            if is.is_empty() {
                "None chosen".into()
            } else {
                is.iter()
                    .filter_map(|i| choices.get(*i).map(|c| plain(&c.text)))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        }
        (_, Response::Bool(b)) => if *b { "True" } else { "False" }.into(),
        (QuestionKind::Matching { pairs }, Response::Matches(given)) => pairs
            .iter()
            .zip(given.iter().chain(std::iter::repeat(&None)))
            .map(|(p, g)| {
                format!(
                    "{} \u{2192} {}",
                    plain(&p.prompt),
                    g.as_deref().unwrap_or("—")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        (_, Response::Text(t)) => t.clone(),
        (_, Response::Number(n)) => n.to_string(),
        _ => "—".into(),
    }
}

/// The feedback written for the answer given, and the question's general feedback.
fn feedback_of(q: &Question, r: Option<&Response>) -> Vec<String> {
    let mut out = Vec::new();
    match (&q.kind, r) {
        (QuestionKind::SingleChoice { choices }, Some(Response::Choice(i))) => {
            if let Some(c) = choices.get(*i) {
                out.push(c.feedback.clone());
            }
        }
        (QuestionKind::MultipleResponse { choices }, Some(Response::Choices(is))) => {
            out.extend(
                is.iter()
                    .filter_map(|i| choices.get(*i).map(|c| c.feedback.clone())),
            );
        }
        (
            QuestionKind::TrueFalse {
                feedback_true,
                feedback_false,
                ..
            },
            Some(Response::Bool(b)),
        ) => {
            out.push(if *b { feedback_true } else { feedback_false }.clone());
        }
        (QuestionKind::ShortAnswer { answers }, Some(Response::Text(t))) => {
            if let Some(a) = answers
                .iter()
                .find(|a| onramp_domain::learning::question::matches_answer(&a.text, t))
            {
                out.push(a.feedback.clone());
            }
        }
        (QuestionKind::Numeric { answers }, Some(Response::Number(n))) => {
            if let Some(a) = answers.iter().find(|a| (n - a.value).abs() <= a.tolerance) {
                out.push(a.feedback.clone());
            }
        }
        _ => {}
    }
    out.push(q.general_feedback.clone());
    out.into_iter()
        .map(|f| onramp_formats::quiz::html_to_text(&f))
        .filter(|f| !f.trim().is_empty())
        .collect()
}

pub async fn result(app: &App, ctx: &Ctx, attempt_id: i64) -> AppResult<AttemptResult> {
    let mut tx = app.store.read().await?;
    let imp = ctx.implementation_id();
    let attempt = tx.attempt_get(imp, attempt_id).await?;
    let own = attempt.person_id == ctx.actor.person_id;
    if !own {
        ctx.require(Permission::ViewTrainingReports)?;
    }
    if attempt.submitted_at.is_none() {
        return Err(AppError::NotFound);
    }
    let quiz = tx.quiz_get(imp, attempt.quiz_id).await?;
    let settings = settings_of(&quiz)?;
    let attempts = tx.attempts_of(quiz.id, attempt.person_id).await?;
    let s = summaries(&attempts);
    let left = settings.attempts_left(&s);
    let passed = attempt.passed == Some(true);
    // Staff reviewing see the answers; the person, as the policy says.
    let shows = !own || attempt.passed.is_some() && settings.shows_answers(passed, left);
    let mut items = Vec::new();
    for aq in tx.attempt_questions(attempt.id).await? {
        let q = parse_question(&aq.body)?;
        let r: Option<Response> = aq
            .response
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        items.push(ReviewItem {
            position: aq.position,
            text_html: text_to_html(&q.text),
            your_answer: answer_in_words(&q, r.as_ref()),
            mark: aq.mark,
            max_mark: aq.max_mark,
            right_answer: if shows {
                right_answer_text(&q.kind)
            } else {
                None
            },
            feedback: if shows {
                feedback_of(&q, r.as_ref())
            } else {
                Vec::new()
            },
            grader_comment: aq.grader_comment.clone(),
        });
    }
    Ok(AttemptResult {
        may_retake: settings.may_start(&s, app.now()),
        passed_any: attempts.iter().any(|a| a.passed == Some(true)),
        attempts_left: left,
        shows_answers: shows,
        attempt,
        quiz,
        settings,
        items,
        own,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn aq(id: i64, answered_min: Option<i64>) -> AttemptQuestion {
        AttemptQuestion {
            id,
            attempt_id: 1,
            position: i32::try_from(id).unwrap(),
            question_version_id: 1,
            question_id: 1,
            body: String::new(),
            answer_order: "[]".into(),
            response: None,
            answered_at: answered_min.map(|m| {
                Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + chrono::Duration::seconds(m)
            }),
            seconds: 0,
            mark: None,
            max_mark: 1.0,
            graded_by: None,
            grader_comment: String::new(),
        }
    }

    #[test]
    fn time_per_question_runs_from_the_previous_answer() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let qs = [aq(1, Some(40)), aq(2, Some(10)), aq(3, None)];
        assert_eq!(seconds_per_question(start, &qs), [(2, 10), (1, 30)]);
    }
}
