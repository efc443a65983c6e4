//! The question bank: its questions by category, imports (GIFT, Moodle XML) with a report
//! of every question, and exports.

use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{FormErrors, UploadForm};
use crate::pages::list::{self, SelectOption};
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use onramp_app::learning::quizzes::bank::{self, BankFormat, ImportReport, ImportedAs};
use onramp_app::AppError;
use onramp_domain::authz::Permission;
use onramp_domain::FieldError;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/questions", get(bank_page)),
        Route::get("/questions/import", get(import_form)),
        Route::upload("/questions/import", post(import)),
        Route::get("/questions/export/{file}", get(export)),
    ]
}

struct QuestionRow {
    name: String,
    id_number: String,
    kind: &'static str,
    version: i32,
    tags: String,
}

struct CategoryBlock {
    label: String,
    depth: usize,
    questions: Vec<QuestionRow>,
}

#[derive(Template)]
#[template(path = "learning/quizzes/bank.html")]
struct BankPage {
    chrome: Chrome,
    categories: Vec<CategoryBlock>,
    total: usize,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "single_choice" => "Single choice",
        "multiple_response" => "Multiple response",
        "true_false" => "True or false",
        "matching" => "Matching",
        "short_answer" => "Short answer",
        "numeric" => "Numeric",
        "essay" => "Essay",
        _ => "Other",
    }
}

async fn bank_page(State(state): State<AppState>, v: Viewer) -> WebResult<Response> {
    let cats = bank::bank(&state.app, &v.ctx).await?;
    let total = cats.iter().map(|c| c.questions.len()).sum();
    let categories = cats
        .iter()
        .filter(|c| !c.questions.is_empty() || !c.path.is_empty())
        .map(|c| CategoryBlock {
            label: bank::path_label(&c.path),
            depth: c.path.len(),
            questions: c
                .questions
                .iter()
                .map(|(row, q)| QuestionRow {
                    name: row.name.clone(),
                    id_number: row.id_number.clone().unwrap_or_default(),
                    kind: kind_label(q.kind.name()),
                    version: row.current_version,
                    tags: q.tags.join(", "),
                })
                .collect(),
        })
        .collect();
    Ok(render(&BankPage {
        chrome: Chrome::for_viewer(&v, "Question bank", "/quizzes"),
        categories,
        total,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "learning/quizzes/import.html")]
struct ImportPage {
    chrome: Chrome,
    errors: FormErrors,
    formats: Vec<SelectOption>,
    format: String,
}

fn import_page(v: &Viewer, errors: FormErrors, format: &str) -> ImportPage {
    ImportPage {
        chrome: Chrome::for_viewer(v, "Import questions", "/quizzes"),
        errors,
        formats: vec![
            SelectOption::new("gift", "GIFT (.txt)"),
            SelectOption::new("moodle_xml", "Moodle XML (.xml)"),
        ],
        format: format.to_string(),
    }
}

async fn import_form(v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    Ok(render(&import_page(&v, FormErrors::default(), "gift"))?.into_response())
}

struct ReportRow {
    line: usize,
    label: String,
    category: String,
    outcome: &'static str,
    class: &'static str,
    why: String,
}

#[derive(Template)]
#[template(path = "learning/quizzes/import_report.html")]
struct ReportPage {
    chrome: Chrome,
    summary: String,
    rows: Vec<ReportRow>,
}

fn report_page(v: &Viewer, r: &ImportReport) -> ReportPage {
    let n = |f: &dyn Fn(&ImportedAs) -> bool| r.count(f);
    let summary = format!(
        "{} added, {} revised (a new version), {} unchanged, {} skipped, {} rejected.",
        n(&|o| *o == ImportedAs::Added),
        n(&|o| *o == ImportedAs::Revised),
        n(&|o| *o == ImportedAs::Unchanged),
        n(&|o| matches!(o, ImportedAs::Skipped(_))),
        n(&|o| matches!(o, ImportedAs::Rejected(_))),
    );
    ReportPage {
        chrome: Chrome::for_viewer(v, "Questions imported", "/quizzes"),
        summary,
        rows: r
            .lines
            .iter()
            .map(|l| {
                let (outcome, class, why) = match &l.outcome {
                    ImportedAs::Added => ("Added", "ok", String::new()),
                    ImportedAs::Revised => (
                        "Revised",
                        "ok",
                        "A new version; attempts keep the one they asked.".into(),
                    ),
                    ImportedAs::Unchanged => (
                        "Unchanged",
                        "muted",
                        "The bank holds this question as it is.".into(),
                    ),
                    ImportedAs::Skipped(w) => ("Skipped", "muted", w.clone()),
                    ImportedAs::Rejected(w) => ("Rejected", "warn", w.clone()),
                };
                ReportRow {
                    line: l.line,
                    label: l.label.clone(),
                    category: l.category.clone(),
                    outcome,
                    class,
                    why,
                }
            })
            .collect(),
    }
}

async fn import(State(state): State<AppState>, v: Viewer, f: UploadForm) -> WebResult<Response> {
    v.ctx.require(Permission::ManageCourses)?;
    let format_text = f.text("format");
    let again = |errors: Vec<FieldError>| -> WebResult<Response> {
        Ok(list::unprocessable(render(&import_page(
            &v,
            FormErrors(errors),
            &format_text,
        ))?))
    };
    let Some(format) = BankFormat::parse(&format_text) else {
        return again(vec![FieldError::new("format", "Choose the file's format")]);
    };
    let Some(file) = f.file("file") else {
        return again(vec![FieldError::new(
            "file",
            "Choose a file of questions to import",
        )]);
    };
    let Ok(text) = std::str::from_utf8(&file.bytes) else {
        return again(vec![FieldError::new("file", "The file is not UTF-8 text")]);
    };
    let text = text.trim_start_matches('\u{feff}');
    match bank::import(&state.app, &v.ctx, format, text).await {
        Ok(r) => Ok(render(&report_page(&v, &r))?.into_response()),
        Err(AppError::Invalid(errors)) => again(errors),
        Err(e) => Err(e.into()),
    }
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Path(file): Path<String>,
) -> WebResult<Response> {
    let format = [BankFormat::Gift, BankFormat::MoodleXml]
        .into_iter()
        .find(|f| f.file_name() == file)
        .ok_or(AppError::NotFound)?;
    let text = bank::export(&state.app, &v.ctx, format).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", format.file_name()),
            ),
        ],
        text,
    )
        .into_response())
}
