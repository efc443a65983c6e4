//! The email outbox (what was sent, what waits, what failed) and the email templates.

use super::list::{self, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::mail::{self, TemplateView};
use onramp_app::{outbox, AppError};
use onramp_store::outbox::{STATUS_FAILED, STATUS_PENDING, STATUS_SENT};
use onramp_store::{OutboxMessage, Page};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/outbox", get(list_page)),
        Route::get("/admin/outbox/{id}", get(message_page)),
        Route::post("/admin/outbox/{id}/retry", post(retry)),
        Route::get("/admin/email-templates", get(templates_page)),
        Route::get("/admin/email-templates/{key}", get(template_form)),
        Route::post("/admin/email-templates/{key}", post(template_save)),
    ]
}

// ---------------------------------------------------------------- outbox

/// Filters of the outbox, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    page: Option<i64>,
}

impl ListQuery {
    /// The status filter, when it is one the outbox knows.
    fn status(&self) -> Option<&str> {
        [STATUS_PENDING, STATUS_SENT, STATUS_FAILED]
            .into_iter()
            .find(|s| *s == self.status)
    }
}

fn status_options() -> Vec<SelectOption> {
    vec![
        SelectOption::new("", "Any status"),
        SelectOption::new(STATUS_PENDING, "Waiting to be sent"),
        SelectOption::new(STATUS_SENT, "Sent"),
        SelectOption::new(STATUS_FAILED, "Failed (gave up)"),
    ]
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<OutboxMessage>,
    q: ListQuery,
    base: String,
    statuses: Vec<SelectOption>,
}

async fn list_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let page = outbox::list(&state.app, &v.ctx, q.status(), list::page_request(q.page)).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Outbox", "/admin/outbox").with_flash(&jar);
    let base = list::query_base("/admin/outbox", &[("status", &q.status)]);
    Ok((
        jar,
        render(&ListPage {
            chrome,
            page,
            q,
            base,
            statuses: status_options(),
        })?,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "outbox_message.html")]
struct MessagePage {
    chrome: Chrome,
    m: OutboxMessage,
    template: String,
    text: String,
    html: String,
}

async fn message_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let m = outbox::get(&state.app, &v.ctx, id).await?;
    let payload: serde_json::Value = serde_json::from_str(&m.payload).unwrap_or_default();
    let field = |k: &str| {
        payload
            .get(k)
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (chrome, jar) = Chrome::for_viewer(&v, "Outbox message", "/admin/outbox").with_flash(&jar);
    let page = MessagePage {
        chrome,
        template: field("template"),
        text: field("text"),
        html: field("html"),
        m,
    };
    Ok((jar, render(&page)?).into_response())
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct EmptyForm {}

async fn retry(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> WebResult<Response> {
    outbox::retry(&state.app, &v.ctx, id).await?;
    Ok(list::saved(
        jar,
        "The message is queued to be sent again.",
        &format!("/admin/outbox/{id}"),
    ))
}

// ---------------------------------------------------------------- email templates

#[derive(Template)]
#[template(path = "email_templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    templates: Vec<TemplateView>,
}

async fn templates_page(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
) -> WebResult<Response> {
    let templates = mail::templates(&state.app, &v.ctx).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Email templates", "/admin/outbox").with_flash(&jar);
    Ok((jar, render(&TemplatesPage { chrome, templates })?).into_response())
}

/// The template form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    html: String,
}

/// A made-up value for a placeholder, for the preview.
fn sample_value(placeholder: &str) -> String {
    match placeholder {
        "name" => "Alex".into(),
        "implementation" => "Example County HMIS".into(),
        "link" => "https://onramp.example.org/invitation/SAMPLE-LINK".into(),
        "expires" | "until" => "2026-07-01 17:00 UTC".into(),
        other => format!("[{other}]"),
    }
}

#[derive(Template)]
#[template(path = "email_template_form.html")]
struct TemplatePage {
    chrome: Chrome,
    errors: FormErrors,
    key: &'static str,
    title: &'static str,
    customised: bool,
    /// Each placeholder with its sample value.
    samples: Vec<(&'static str, String)>,
    form: TemplateForm,
    preview: mail::RenderedEmail,
}

async fn template_page(
    state: &AppState,
    v: &Viewer,
    key: &str,
    errors: FormErrors,
    form: Option<TemplateForm>,
) -> WebResult<TemplatePage> {
    let t = mail::templates(&state.app, &v.ctx)
        .await?
        .into_iter()
        .find(|t| t.key == key)
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| TemplateForm {
        subject: t.subject.clone(),
        text: t.text.clone(),
        html: t.html.clone(),
    });
    let samples: Vec<(&'static str, String)> = t
        .placeholders
        .iter()
        .map(|p| (*p, sample_value(p)))
        .collect();
    let vars: Vec<(&str, &str)> = samples.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let preview = mail::RenderedEmail {
        subject: mail::render(&form.subject, &vars, false),
        text: mail::render(&form.text, &vars, false),
        html: mail::render(&form.html, &vars, true),
    };
    Ok(TemplatePage {
        chrome: Chrome::for_viewer(v, t.title, "/admin/outbox"),
        errors,
        key: t.key,
        title: t.title,
        customised: t.customised,
        samples,
        form,
        preview,
    })
}

async fn template_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut page = template_page(&state, &v, &key, FormErrors::default(), None).await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn template_save(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<TemplateForm>,
) -> WebResult<Response> {
    match mail::template_save(&state.app, &v.ctx, &key, &f.subject, &f.text, &f.html).await {
        Ok(()) => Ok(list::saved(
            jar,
            "Template saved.",
            &format!("/admin/email-templates/{key}"),
        )),
        Err(e) => Ok(list::unprocessable(render(
            &template_page(&state, &v, &key, FormErrors::from_app(e)?, Some(f)).await?,
        )?)),
    }
}
