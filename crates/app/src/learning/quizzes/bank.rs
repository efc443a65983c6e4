//! The question bank: importing GIFT and Moodle XML with a report of every question,
//! listing by category, and exporting in either format.
//!
//! A question with an id number that the bank already holds is revised (a new version;
//! attempts keep the version they asked) when its content differs, and left alone when it
//! is the same, so importing one file twice changes nothing.

use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::learning::question::{Question, QuestionKind};
use onramp_formats::quiz::{gift, moodle_xml, QuestionEntry, QuestionOutcome};
use onramp_store::learning::quizzes::{BankQuestion, NewQuestion, QuestionCategory};
use onramp_store::Tx;
use serde_json::json;

/// Largest file accepted.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

/// The formats the bank reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankFormat {
    Gift,
    MoodleXml,
}

impl BankFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "gift" => Some(Self::Gift),
            "moodle_xml" | "xml" => Some(Self::MoodleXml),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gift => "gift",
            Self::MoodleXml => "moodle_xml",
        }
    }
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Gift => "questions.gift.txt",
            Self::MoodleXml => "questions.xml",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Gift => "text/plain; charset=utf-8",
            Self::MoodleXml => "application/xml; charset=utf-8",
        }
    }
}

/// What became of one question of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportedAs {
    Added,
    /// A new version of the question with the same id number.
    Revised,
    /// The bank already held this question as it is.
    Unchanged,
    Skipped(String),
    Rejected(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    pub line: usize,
    pub label: String,
    pub category: String,
    pub outcome: ImportedAs,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: Vec<ImportLine>,
}

impl ImportReport {
    pub fn count(&self, f: impl Fn(&ImportedAs) -> bool) -> usize {
        self.lines.iter().filter(|l| f(&l.outcome)).count()
    }
}

/// A category path as pages show it.
pub fn path_label(path: &[String]) -> String {
    if path.is_empty() {
        "Top".to_string()
    } else {
        path.join(" / ")
    }
}

/// Why a question the parser read cannot be asked, if it cannot.
fn unaskable(q: &Question) -> Option<String> {
    let best = |ws: &mut dyn Iterator<Item = f64>| ws.fold(f64::MIN, f64::max);
    match &q.kind {
        QuestionKind::SingleChoice { choices } if choices.len() < 2 => {
            Some("A single-choice question needs at least two answers".into())
        }
        QuestionKind::SingleChoice { choices }
            if best(&mut choices.iter().map(|c| c.weight)) < 100.0 - 1e-9 =>
        {
            Some("No answer earns the whole mark: mark the right answer (=) or give it 100%".into())
        }
        QuestionKind::MultipleResponse { choices }
            if choices.iter().map(|c| c.weight.max(0.0)).sum::<f64>() < 100.0 - 1e-6 =>
        {
            Some("The right answers' weights add up to less than 100%".into())
        }
        QuestionKind::Matching { pairs } if pairs.len() < 2 => {
            Some("A matching question needs at least two pairs".into())
        }
        QuestionKind::ShortAnswer { answers } if answers.is_empty() => {
            Some("A short-answer question needs at least one accepted answer".into())
        }
        QuestionKind::Numeric { answers } if answers.is_empty() => {
            Some("A numeric question needs at least one accepted value".into())
        }
        _ if q.text.text.trim().is_empty() => Some("The question has no text".into()),
        _ => None,
    }
}

fn tags_json(q: &Question) -> AppResult<String> {
    serde_json::to_string(&q.tags).map_err(|e| AppError::Internal(e.to_string()))
}

/// Reads a file of questions: per question, what the parser made of it; or why the whole
/// file cannot be read.
pub fn read_file(format: BankFormat, text: &str) -> Result<Vec<QuestionEntry>, String> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(format!(
            "The file is larger than {} MB",
            MAX_IMPORT_BYTES / 1024 / 1024
        ));
    }
    match format {
        BankFormat::Gift => Ok(gift::read_gift(text)),
        BankFormat::MoodleXml => moodle_xml::read_moodle_xml(text).map_err(|e| e.to_string()),
    }
}

/// Adds the questions of a file to the bank, in the caller's transaction.
pub async fn import_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    entries: Vec<QuestionEntry>,
) -> AppResult<ImportReport> {
    let imp = ctx.implementation_id();
    let now = app.now();
    let by = (ctx.actor.person_id > 0).then_some(ctx.actor.person_id);
    let mut report = ImportReport::default();
    for e in entries {
        let (category, outcome) = match e.outcome {
            QuestionOutcome::Skipped(why) => (String::new(), ImportedAs::Skipped(why)),
            QuestionOutcome::Rejected(why) => (String::new(), ImportedAs::Rejected(why)),
            QuestionOutcome::Imported(q) => {
                let category = path_label(&q.category);
                if let Some(why) = unaskable(&q) {
                    (category, ImportedAs::Rejected(why))
                } else {
                    (category, store_question(tx, imp, by, &q, now).await?)
                }
            }
        };
        report.lines.push(ImportLine {
            line: e.line,
            label: e.label,
            category,
            outcome,
        });
    }
    record(
        tx,
        app,
        ctx,
        "question_bank.import",
        "implementation",
        Some(imp),
        json!({
            "added": report.count(|o| *o == ImportedAs::Added),
            "revised": report.count(|o| *o == ImportedAs::Revised),
            "unchanged": report.count(|o| *o == ImportedAs::Unchanged),
            "skipped": report.count(|o| matches!(o, ImportedAs::Skipped(_))),
            "rejected": report.count(|o| matches!(o, ImportedAs::Rejected(_))),
        }),
    )
    .await?;
    Ok(report)
}

async fn store_question(
    tx: &mut Tx,
    imp: i64,
    by: Option<i64>,
    q: &Question,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<ImportedAs> {
    let category_id = tx.question_category_ensure(imp, &q.category).await?;
    let body = serde_json::to_string(q).map_err(|e| AppError::Internal(e.to_string()))?;
    let tags = tags_json(q)?;
    let name = if q.name.trim().is_empty() {
        label_of(q)
    } else {
        q.name.trim().to_string()
    };
    let new = NewQuestion {
        implementation_id: imp,
        category_id,
        name: &name,
        id_number: q.id_number.as_deref().filter(|s| !s.trim().is_empty()),
        tags: &tags,
        kind: q.kind.name(),
        body: &body,
        by,
    };
    if let Some(id_number) = new.id_number {
        if let Some(existing) = tx.bank_question_by_id_number(imp, id_number).await? {
            let same = serde_json::from_str::<Question>(&existing.body)
                .ok()
                .as_ref()
                == Some(q)
                && existing.category_id == category_id;
            if same {
                return Ok(ImportedAs::Unchanged);
            }
            tx.question_revise(existing.id, &new, now).await?;
            return Ok(ImportedAs::Revised);
        }
    }
    tx.question_insert(&new, now).await?;
    Ok(ImportedAs::Added)
}

/// The start of a question's text, to name a question that has no name.
pub fn label_of(q: &Question) -> String {
    let text = onramp_formats::quiz::html_to_text(&q.text.text);
    let mut label: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        label.push('…');
    }
    label
}

/// Imports a file the Lead uploaded, with a report of every question. A file that cannot be
/// read at all is a field error on `file`; nothing is saved then.
pub async fn import(
    app: &App,
    ctx: &Ctx,
    format: BankFormat,
    text: &str,
) -> AppResult<ImportReport> {
    ctx.require(Permission::ManageCourses)?;
    if text.trim().is_empty() {
        return Err(AppError::field(
            "file",
            "Choose a file of questions to import",
        ));
    }
    let entries = read_file(format, text).map_err(|m| AppError::field("file", m))?;
    if entries.is_empty() {
        return Err(AppError::field(
            "file",
            match format {
                BankFormat::Gift => "No questions were found: is this a GIFT file?",
                BankFormat::MoodleXml => "No questions were found in this Moodle XML file",
            },
        ));
    }
    let mut tx = app.store.begin().await?;
    let report = import_in(&mut tx, app, ctx, entries).await?;
    tx.commit().await?;
    Ok(report)
}

/// A category with its questions, as the bank page lists it.
#[derive(Debug, Clone)]
pub struct CategoryView {
    pub category: QuestionCategory,
    pub path: Vec<String>,
    pub questions: Vec<(BankQuestion, Question)>,
}

fn parse_body(q: &BankQuestion) -> AppResult<Question> {
    serde_json::from_str(&q.body)
        .map_err(|e| AppError::Internal(format!("stored question {} does not parse: {e}", q.id)))
}

/// The bank by category (parents before children).
pub async fn bank(app: &App, ctx: &Ctx) -> AppResult<Vec<CategoryView>> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    bank_in(&mut tx, ctx.implementation_id()).await
}

pub async fn bank_in(tx: &mut Tx, imp: i64) -> AppResult<Vec<CategoryView>> {
    let categories = tx.question_categories(imp).await?;
    let questions = tx.bank_questions(imp).await?;
    let mut out: Vec<CategoryView> = Vec::new();
    for c in categories {
        let path: Vec<String> = serde_json::from_str(&c.path).unwrap_or_default();
        let mut qs = Vec::new();
        for q in questions.iter().filter(|q| q.category_id == c.id) {
            qs.push((q.clone(), parse_body(q)?));
        }
        out.push(CategoryView {
            category: c,
            path,
            questions: qs,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The whole bank in a format, for download.
pub async fn export(app: &App, ctx: &Ctx, format: BankFormat) -> AppResult<String> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.read().await?;
    let mut questions = Vec::new();
    for q in tx.bank_questions(ctx.implementation_id()).await? {
        if q.retired_at.is_none() {
            questions.push(parse_body(&q)?);
        }
    }
    Ok(match format {
        BankFormat::Gift => gift::write_gift(&questions),
        BankFormat::MoodleXml => moodle_xml::write_moodle_xml(&questions),
    })
}
