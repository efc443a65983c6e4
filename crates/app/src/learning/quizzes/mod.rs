//! Quizzes: the question bank, the quizzes Leads build from it, people's attempts (taken,
//! autosaved, submitted once, graded on the server), and the Lead's review: attempts
//! finished too fast, essays to grade, and item analysis.
//!
//! A quiz is an item of the training plan (`quiz:<key>`): passing it records a completion,
//! which moves on the requests whose training steps wait for it.

pub mod attempts;
pub mod bank;
pub mod review;

use crate::audit::record;
use crate::error::Problems;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::learning::quiz::{
    parse_slots, write_slots, GradingMethod, QuizSettings, ReviewPolicy, SlotSpec,
};
use onramp_domain::Slug;
use onramp_store::learning::quizzes::{Quiz, QuizSlot};
use onramp_store::Tx;
use serde_json::json;

/// A quiz's settings as stored.
pub fn settings_of(quiz: &Quiz) -> AppResult<QuizSettings> {
    serde_json::from_str(&quiz.settings)
        .map_err(|e| AppError::Internal(format!("stored quiz {} settings: {e}", quiz.id)))
}

/// What a Lead typed to make or change a quiz. Numbers arrive as text, so that a mistyped
/// one is named beside its field.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct QuizInput {
    pub key: String,
    pub title: String,
    pub intro: String,
    pub pass_percent: String,
    /// Empty: as many as needed.
    pub max_attempts: String,
    pub delay_minutes: String,
    /// Empty: no limit.
    pub time_limit_minutes: String,
    pub grading: String,
    pub review: String,
    pub min_seconds_per_question: String,
    pub shuffle_answers: bool,
    pub open_book: bool,
    pub email_results: bool,
    pub tell_agency_administrator: bool,
    pub tell_lead: bool,
    pub recertification: bool,
    /// One place per line (see [`parse_slots`]).
    pub questions: String,
}

impl QuizInput {
    /// The form filled in from a quiz.
    pub fn of(quiz: &Quiz, s: &QuizSettings, slots: &[SlotSpec]) -> Self {
        let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
        QuizInput {
            key: quiz.key.clone(),
            title: quiz.title.clone(),
            intro: quiz.intro.clone(),
            pass_percent: s.pass_percent.to_string(),
            max_attempts: opt(s.max_attempts),
            delay_minutes: s.delay_minutes.to_string(),
            time_limit_minutes: opt(s.time_limit_minutes),
            grading: s.grading.as_str().into(),
            review: s.review.as_str().into(),
            min_seconds_per_question: s.min_seconds_per_question.to_string(),
            shuffle_answers: s.shuffle_answers,
            open_book: s.open_book,
            email_results: s.email_results,
            tell_agency_administrator: s.tell_agency_administrator,
            tell_lead: s.tell_lead,
            recertification: s.recertification,
            questions: write_slots(slots),
        }
    }

    /// A new quiz's form, with the defaults.
    pub fn new_quiz() -> Self {
        let s = QuizSettings::default();
        QuizInput {
            pass_percent: s.pass_percent.to_string(),
            delay_minutes: "0".into(),
            grading: s.grading.as_str().into(),
            review: s.review.as_str().into(),
            min_seconds_per_question: s.min_seconds_per_question.to_string(),
            shuffle_answers: true,
            email_results: true,
            ..QuizInput::default()
        }
    }
}

fn number(p: &mut Problems, field: &str, what: &str, s: &str, max: u32) -> Option<u32> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= max => Some(n),
        _ => {
            p.push(
                field,
                format!("Enter {what}, a whole number from 0 to {max}"),
            );
            None
        }
    }
}

fn optional(p: &mut Problems, field: &str, what: &str, s: &str, max: u32) -> Option<u32> {
    if s.trim().is_empty() {
        None
    } else {
        number(p, field, what, s, max)
    }
}

/// Checks a quiz form: the settings, and each line of what it asks against the bank.
async fn parse_input(
    tx: &mut Tx,
    imp: i64,
    input: &QuizInput,
) -> AppResult<(String, QuizSettings, Vec<QuizSlot>)> {
    let mut p = Problems::default();
    let title = input.title.trim().to_string();
    if title.is_empty() {
        p.push("title", "Enter the quiz's title");
    } else if title.chars().count() > 200 {
        p.push("title", "Keep the title under 200 characters");
    }
    if input.intro.len() > 20_000 {
        p.push("intro", "Keep the introduction under 20,000 characters");
    }
    let pass_percent = number(
        &mut p,
        "pass_percent",
        "the pass mark",
        &input.pass_percent,
        100,
    );
    let settings = QuizSettings {
        pass_percent: pass_percent
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(80),
        max_attempts: optional(
            &mut p,
            "max_attempts",
            "the attempts allowed",
            &input.max_attempts,
            1000,
        ),
        delay_minutes: number(
            &mut p,
            "delay_minutes",
            "the minutes between attempts",
            &input.delay_minutes,
            100_000,
        )
        .unwrap_or(0),
        time_limit_minutes: optional(
            &mut p,
            "time_limit_minutes",
            "the time limit in minutes",
            &input.time_limit_minutes,
            10_000,
        ),
        grading: GradingMethod::parse(&input.grading).unwrap_or_else(|| {
            p.push("grading", "Choose which attempt's grade counts");
            GradingMethod::Highest
        }),
        review: ReviewPolicy::parse(&input.review).unwrap_or_else(|| {
            p.push("review", "Choose when the right answers are shown");
            ReviewPolicy::Always
        }),
        shuffle_answers: input.shuffle_answers,
        open_book: input.open_book,
        email_results: input.email_results,
        min_seconds_per_question: number(
            &mut p,
            "min_seconds_per_question",
            "the seconds per question",
            &input.min_seconds_per_question,
            3600,
        )
        .unwrap_or(0),
        tell_agency_administrator: input.tell_agency_administrator,
        tell_lead: input.tell_lead,
        recertification: input.recertification,
    };
    if pass_percent.is_some() {
        for e in settings.problems() {
            p.0.push(e);
        }
    }
    let mut slots = Vec::new();
    match parse_slots(&input.questions) {
        Err(lines) => {
            for l in lines {
                p.push("questions", l);
            }
        }
        Ok(specs) => {
            let categories = tx.question_categories(imp).await?;
            for (i, spec) in specs.iter().enumerate() {
                let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
                match spec {
                    SlotSpec::Question(id_number) => {
                        match tx.bank_question_by_id_number(imp, id_number).await? {
                            Some(q) => slots.push(QuizSlot {
                                position,
                                question_id: Some(q.id),
                                category_id: None,
                                draw_count: 1,
                                with_subcategories: false,
                            }),
                            None => p.push(
                                "questions",
                                format!("Line {}: the bank has no question with the id number {id_number}", i + 1),
                            ),
                        }
                    }
                    SlotSpec::Draw { count, category } => {
                        let path = serde_json::to_string(category).unwrap_or_default();
                        match categories.iter().find(|c| c.path == path) {
                            Some(c) => slots.push(QuizSlot {
                                position,
                                question_id: None,
                                category_id: Some(c.id),
                                draw_count: i32::try_from(*count).unwrap_or(1),
                                with_subcategories: true,
                            }),
                            None => p.push(
                                "questions",
                                format!(
                                    "Line {}: the bank has no category {}",
                                    i + 1,
                                    category.join(" / ")
                                ),
                            ),
                        }
                    }
                }
            }
        }
    }
    p.into_result()?;
    Ok((title, settings, slots))
}

/// Makes a quiz (id None) or changes one, in the caller's transaction.
pub async fn save_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    id: Option<i64>,
    input: &QuizInput,
) -> AppResult<i64> {
    ctx.require(Permission::ManageCourses)?;
    let imp = ctx.implementation_id();
    let key = match id {
        Some(id) => tx.quiz_get(imp, id).await?.key,
        None => match Slug::parse(&input.key) {
            Ok(k) => k.as_str().to_string(),
            Err(e) => return Err(AppError::field("key", e.to_string())),
        },
    };
    let (title, settings, slots) = parse_input(tx, imp, input).await?;
    let json_settings =
        serde_json::to_string(&settings).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = app.now();
    let id = match id {
        Some(id) => {
            tx.quiz_update(imp, id, &title, input.intro.trim(), &json_settings, now)
                .await?;
            id
        }
        None => {
            if tx.quiz_by_key(imp, &key).await?.is_some() {
                return Err(AppError::field(
                    "key",
                    "A quiz with this key already exists",
                ));
            }
            tx.quiz_insert(imp, &key, &title, input.intro.trim(), &json_settings, now)
                .await?
        }
    };
    tx.quiz_slots_set(id, &slots).await?;
    record(
        tx,
        app,
        ctx,
        "quiz.save",
        "quiz",
        Some(id),
        json!({"key": key, "title": title, "settings": settings_json(&settings), "places": slots.len()}),
    )
    .await?;
    Ok(id)
}

fn settings_json(s: &QuizSettings) -> serde_json::Value {
    serde_json::to_value(s).unwrap_or_default()
}

pub async fn save(app: &App, ctx: &Ctx, id: Option<i64>, input: &QuizInput) -> AppResult<i64> {
    let mut tx = app.store.begin().await?;
    let id = save_in(&mut tx, app, ctx, id, input).await?;
    tx.commit().await?;
    Ok(id)
}

/// The implementation's quizzes, with their settings.
pub async fn list(app: &App, ctx: &Ctx) -> AppResult<Vec<(Quiz, QuizSettings)>> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    let mut out = Vec::new();
    for q in tx.quizzes(ctx.implementation_id()).await? {
        let s = settings_of(&q)?;
        out.push((q, s));
    }
    Ok(out)
}

/// A quiz and its form, for editing.
pub async fn for_edit(app: &App, ctx: &Ctx, id: i64) -> AppResult<(Quiz, QuizInput)> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    let imp = ctx.implementation_id();
    let quiz = tx.quiz_get(imp, id).await?;
    let settings = settings_of(&quiz)?;
    let categories = tx.question_categories(imp).await?;
    let mut specs = Vec::new();
    for s in tx.quiz_slots(quiz.id).await? {
        if let Some(qid) = s.question_id {
            let q = tx.bank_question_get(imp, qid).await?;
            specs.push(SlotSpec::Question(
                q.id_number.unwrap_or_else(|| format!("#{}", q.id)),
            ));
        } else if let Some(c) = s
            .category_id
            .and_then(|c| categories.iter().find(|k| k.id == c))
        {
            specs.push(SlotSpec::Draw {
                count: u32::try_from(s.draw_count).unwrap_or(1),
                category: serde_json::from_str(&c.path).unwrap_or_default(),
            });
        }
    }
    let input = QuizInput::of(&quiz, &settings, &specs);
    Ok((quiz, input))
}

/// The demo's starter quizzes: a GIFT bank and the quizzes built from it.
pub const STARTER_QUESTIONS: &str = include_str!("../../../quizzes/starter.gift");
pub const STARTER_QUIZZES: &str = include_str!("../../../quizzes/quizzes.toml");

#[derive(Debug, serde::Deserialize)]
struct StarterQuizzes {
    quizzes: Vec<QuizInput>,
}

/// Puts the starter bank and quizzes in an implementation, as `ctx`.
pub async fn install_starter_in(tx: &mut Tx, app: &App, ctx: &Ctx) -> AppResult<()> {
    let entries =
        bank::read_file(bank::BankFormat::Gift, STARTER_QUESTIONS).map_err(AppError::Internal)?;
    let report = bank::import_in(tx, app, ctx, entries).await?;
    if let Some(bad) = report
        .lines
        .iter()
        .find(|l| matches!(l.outcome, bank::ImportedAs::Rejected(_)))
    {
        return Err(AppError::Internal(format!(
            "starter question on line {} rejected: {:?}",
            bad.line, bad.outcome
        )));
    }
    let starter: StarterQuizzes =
        toml::from_str(STARTER_QUIZZES).map_err(|e| AppError::Internal(e.to_string()))?;
    for q in &starter.quizzes {
        if tx
            .quiz_by_key(ctx.implementation_id(), &q.key)
            .await?
            .is_none()
        {
            save_in(tx, app, ctx, None, q).await?;
        }
    }
    Ok(())
}
