//! Process templates: the list (with the default), one template's steps and versions,
//! editing the TOML text (each save adds a version), export and import of a file.
//!
//! The import form takes pasted text or an uploaded file: it posts
//! `multipart/form-data`, read by [`TemplateUpload`], which checks the CSRF token and the
//! origin exactly as [`CsrfForm`] does (and also accepts a urlencoded form).

mod editor;
mod picture;

use super::render;
use crate::chrome::{flash, Chrome};
use crate::error::{WebError, WebResult};
use crate::forms::{CsrfForm, FormErrors};
use crate::session::{MaybeSession, Viewer, PRE_SESSION_COOKIE};
use crate::{AppState, Route};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::auth::csrf_matches;
use onramp_app::processes::{self, TemplateDetail, BODY_FIELD, MAX_TEMPLATE_BYTES};
use onramp_domain::authz::Permission;
use onramp_domain::process::{
    Audience, Condition, Deadline, DeadlineFrom, OnExpiry, StepActor, StepKind,
};
use onramp_domain::{FieldError, HudProjectType};
use onramp_store::ProcessTemplateRow;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/processes", get(list)),
        Route::get("/admin/processes/import", get(import_form)),
        Route::post("/admin/processes/import", post(import)),
        Route::get("/admin/processes/{key}", get(show)),
        Route::get("/admin/processes/{key}/edit", get(edit_form)),
        Route::post("/admin/processes/{key}/edit", post(edit)),
        Route::get("/admin/processes/{key}/export", get(export)),
        Route::post("/admin/processes/{key}/default", post(set_default)),
    ]
    .into_iter()
    .chain(editor::routes())
    .collect()
}

/// The file field of the import form.
const FILE_FIELD: &str = "file";

/// `?version=N`; anything that is not a version number finds nothing.
#[derive(Debug, Default, Deserialize)]
pub struct VersionQuery {
    #[serde(default)]
    version: String,
}

impl VersionQuery {
    fn version(&self) -> WebResult<Option<i32>> {
        let v = self.version.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| WebError::App(onramp_app::AppError::NotFound))
    }
}

// ---------------------------------------------------------------- list

pub struct ListRow {
    pub key: String,
    pub name: String,
    pub version: i32,
    /// Empty when the stored text no longer parses.
    pub steps: String,
    pub is_default: bool,
}

#[derive(Template)]
#[template(path = "processes/processes.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    can_manage: bool,
}

async fn list(State(state): State<AppState>, v: Viewer, jar: CookieJar) -> WebResult<Response> {
    let rows = processes::list(&state.app, &v.ctx)
        .await?
        .into_iter()
        .map(|s| ListRow {
            steps: s.step_count.map(|n| n.to_string()).unwrap_or_default(),
            key: s.latest.key,
            name: s.latest.name,
            version: s.latest.version,
            is_default: s.is_default,
        })
        .collect();
    let (chrome, jar) = Chrome::for_viewer(&v, "Processes", "/admin/settings").with_flash(&jar);
    let can_manage = v.ctx.actor.may(Permission::ManageProcess);
    Ok((
        jar,
        render(&ListPage {
            chrome,
            rows,
            can_manage,
        })?,
    )
        .into_response())
}

async fn set_default(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<BTreeMap<String, String>>,
) -> WebResult<Response> {
    processes::set_default(&state.app, &v.ctx, &key).await?;
    Ok((
        jar.add(flash(
            "Default process changed: new requests will follow it.",
        )),
        Redirect::to("/admin/processes"),
    )
        .into_response())
}

// ---------------------------------------------------------------- one template

/// A step as the page shows it.
pub struct StepRow {
    pub number: usize,
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    pub actor: String,
    pub after: String,
    pub applies: String,
    pub deadline: String,
    pub sla: String,
    pub instructions: String,
}

pub struct VersionRow {
    pub version: i32,
    pub saved: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "processes/process.html")]
struct ShowPage {
    chrome: Chrome,
    key: String,
    name: String,
    description: String,
    version: i32,
    latest_version: i32,
    saved: String,
    is_default: bool,
    carry_over_days: u32,
    username_pattern: String,
    steps: Vec<StepRow>,
    versions: Vec<VersionRow>,
    can_manage: bool,
    timeline: Vec<picture::TimelineStep>,
}

fn saved_at(r: &ProcessTemplateRow) -> String {
    r.created_at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn name_of(names: &BTreeMap<String, String>, code: &str) -> String {
    names.get(code).cloned().unwrap_or_else(|| code.to_string())
}

/// `a`, `a or b`, `a, b or c`.
fn either(items: Vec<String>) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// When a step applies, in words.
pub fn describe_applies(
    c: &Condition,
    access_levels: &BTreeMap<String, String>,
    responsibilities: &BTreeMap<String, String>,
) -> String {
    if c.is_always() {
        return "Always".into();
    }
    let mut parts = Vec::new();
    if !c.access_levels.is_empty() {
        parts.push(format!(
            "Access level is {}",
            either(
                c.access_levels
                    .iter()
                    .map(|a| name_of(access_levels, a))
                    .collect()
            )
        ));
    }
    if !c.except_access_levels.is_empty() {
        parts.push(format!(
            "Not for access level {}",
            either(
                c.except_access_levels
                    .iter()
                    .map(|a| name_of(access_levels, a))
                    .collect()
            )
        ));
    }
    if !c.responsibilities.is_empty() {
        parts.push(format!(
            "Responsibilities include {}",
            either(
                c.responsibilities
                    .iter()
                    .map(|r| name_of(responsibilities, r))
                    .collect()
            )
        ));
    }
    if !c.project_types.is_empty() {
        let types = c
            .project_types
            .iter()
            .map(|t| {
                HudProjectType::from_code(*t)
                    .map(|p| p.label().to_string())
                    .unwrap_or_else(|| format!("type {t}"))
            })
            .collect();
        parts.push(format!("A project is {}", either(types)));
    }
    match c.audience {
        Audience::Any => {}
        Audience::New => parts.push("New users only".into()),
        Audience::Returning => parts.push("Returning users only".into()),
    }
    parts.join("; ")
}

/// A deadline and reminders, in words.
pub fn describe_deadline(d: Option<&Deadline>, remind_every_days: Option<u32>) -> String {
    let mut parts = Vec::new();
    if let Some(d) = d {
        let days = if d.days == 1 {
            "1 day".to_string()
        } else {
            format!("{} days", d.days)
        };
        let from = match d.from {
            DeadlineFrom::RequestStart => "from the request",
            DeadlineFrom::StepOpen => "from when the step opens",
        };
        let then = match d.on_expiry {
            OnExpiry::ExpireRequest => "then the request expires and the agency is told",
            OnExpiry::Notify => "then the Lead and the agency are told",
        };
        parts.push(format!("{days} {from}; {then}"));
        if d.warn_days_before > 0 {
            parts.push(format!(
                "warning {} day{} before",
                d.warn_days_before,
                if d.warn_days_before == 1 { "" } else { "s" }
            ));
        }
    }
    if let Some(n) = remind_every_days {
        parts.push(if n == 1 {
            "reminder every day".to_string()
        } else {
            format!("reminder every {n} days")
        });
    }
    parts.join("; ")
}

fn step_rows(d: &TemplateDetail) -> Vec<StepRow> {
    let t = &d.template;
    let titles: BTreeMap<&str, &str> = t
        .steps
        .iter()
        .map(|s| (s.key.as_str(), s.title.as_str()))
        .collect();
    t.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let actor = match (&s.agreement, s.kind) {
                (Some(a), StepKind::AgreementSigning) => format!(
                    "{}: {}",
                    StepActor::Signers.label(),
                    name_of(&d.agreements, a)
                ),
                _ => s.actor.label().to_string(),
            };
            StepRow {
                number: i + 1,
                key: s.key.clone(),
                title: s.title.clone(),
                kind: s.kind.label(),
                actor,
                after: s
                    .after
                    .iter()
                    .map(|a| {
                        titles
                            .get(a.as_str())
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| a.clone())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                applies: describe_applies(&s.applies, &d.access_levels, &d.responsibilities),
                deadline: describe_deadline(s.deadline.as_ref(), s.remind_every_days),
                sla: s
                    .sla_hours
                    .map(|h| {
                        if h == 1 {
                            "1 hour".to_string()
                        } else {
                            format!("{h} hours")
                        }
                    })
                    .unwrap_or_default(),
                instructions: s.instructions.clone(),
            }
        })
        .collect()
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let d = processes::detail(&state.app, &v.ctx, &key, q.version()?).await?;
    let steps = step_rows(&d);
    let latest_version = d
        .versions
        .first()
        .map(|r| r.version)
        .unwrap_or(d.row.version);
    let versions = d
        .versions
        .iter()
        .map(|r| VersionRow {
            version: r.version,
            saved: saved_at(r),
            current: r.version == d.row.version,
        })
        .collect();
    let (chrome, jar) =
        Chrome::for_viewer(&v, &d.template.name, "/admin/settings").with_flash(&jar);
    let page = ShowPage {
        chrome,
        key: d.row.key.clone(),
        name: d.template.name.clone(),
        description: d.template.description.clone(),
        version: d.row.version,
        latest_version,
        saved: saved_at(&d.row),
        is_default: d.is_default,
        carry_over_days: d.template.carry_over_days,
        username_pattern: d.template.username_pattern.clone(),
        timeline: picture::timeline(
            &d.template,
            &picture::Names {
                access_levels: d.access_levels.clone(),
                responsibilities: d.responsibilities.clone(),
                agreements: d.agreements.clone(),
            },
        ),
        steps,
        versions,
        can_manage: v.ctx.actor.may(Permission::ManageProcess),
    };
    Ok((jar, render(&page)?).into_response())
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
) -> WebResult<Response> {
    let (filename, text) = processes::export(&state.app, &v.ctx, &key, q.version()?).await?;
    // Keys are lower-case letters, digits, `_` and `-`: safe inside the quoted name.
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

// ---------------------------------------------------------------- edit and import

#[derive(Template)]
#[template(path = "processes/process_edit.html")]
struct EditPage {
    chrome: Chrome,
    /// None when importing.
    key: Option<String>,
    text: String,
    errors: FormErrors,
    body_errors: Vec<String>,
    file_error: Option<String>,
    kinds: Vec<(&'static str, &'static str)>,
    actors: Vec<(&'static str, &'static str)>,
}

fn edit_page(v: &Viewer, key: Option<String>, text: String, errors: FormErrors) -> EditPage {
    let title = match &key {
        Some(_) => "Edit process",
        None => "Import a process",
    };
    let body_errors = errors
        .all()
        .iter()
        .filter(|e| e.field == BODY_FIELD)
        .map(|e| e.message.clone())
        .collect();
    let file_error = errors.get(FILE_FIELD).map(str::to_string);
    let actors = [
        StepActor::Lead,
        StepActor::AgencyContact,
        StepActor::Supervisor,
        StepActor::Trainee,
        StepActor::ExecutiveDirector,
        StepActor::Proctor,
        StepActor::Signers,
    ];
    EditPage {
        chrome: Chrome::for_viewer(v, title, "/admin/settings"),
        key,
        text,
        errors,
        body_errors,
        file_error,
        kinds: StepKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        actors: actors.iter().map(|a| (a.as_str(), a.label())).collect(),
    }
}

/// The edit form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct BodyForm {
    #[serde(default)]
    body: String,
}

async fn edit_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
) -> WebResult<Response> {
    v.ctx.require(Permission::ManageProcess)?;
    let (_, text) = processes::export(&state.app, &v.ctx, &key, None).await?;
    Ok(render(&edit_page(&v, Some(key), text, FormErrors::default()))?.into_response())
}

fn saved_message(version: i32) -> String {
    if version == 1 {
        "Saved as version 1.".into()
    } else {
        format!("Saved as version {version}. Requests already in progress keep the version they started with.")
    }
}

async fn edit(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<BodyForm>,
) -> WebResult<Response> {
    match processes::save_edit(&state.app, &v.ctx, &key, &f.body).await {
        Ok((_, version)) => Ok((
            jar.add(flash(&saved_message(version))),
            Redirect::to(&format!("/admin/processes/{key}")),
        )
            .into_response()),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&edit_page(&v, Some(key), f.body, errors))?,
            )
                .into_response())
        }
    }
}

async fn import_form(v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageProcess)?;
    Ok(render(&edit_page(&v, None, String::new(), FormErrors::default()))?.into_response())
}

async fn import(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    upload: TemplateUpload,
) -> WebResult<Response> {
    v.ctx.require(Permission::ManageProcess)?;
    if let Some(problem) = upload.file_problem {
        let errors = FormErrors(vec![FieldError::new(FILE_FIELD, problem)]);
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&edit_page(&v, None, upload.text, errors))?,
        )
            .into_response());
    }
    match processes::save(&state.app, &v.ctx, &upload.text).await {
        Ok((_, version)) => {
            let to =
                match onramp_formats::process_template::parse(&upload.text.replace("\r\n", "\n")) {
                    Ok(t) => format!("/admin/processes/{}", t.key),
                    Err(_) => "/admin/processes".into(),
                };
            Ok((jar.add(flash(&saved_message(version))), Redirect::to(&to)).into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&edit_page(&v, None, upload.text, errors))?,
            )
                .into_response())
        }
    }
}

// ---------------------------------------------------------------- the import form's body

/// The import form: the text pasted in `body`, or the text of the file uploaded in `file`
/// (which wins when it is not empty). Read from `multipart/form-data` or a urlencoded form,
/// with the CSRF token and origin checked either way.
pub struct TemplateUpload {
    pub text: String,
    /// Why the uploaded file could not be read, if it could not.
    pub file_problem: Option<String>,
}

impl FromRequest<AppState> for TemplateUpload {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let Some(boundary) = multipart_boundary(&content_type) else {
            let CsrfForm(f) = CsrfForm::<BodyForm>::from_request(req, state).await?;
            return Ok(TemplateUpload {
                text: f.body,
                file_problem: None,
            });
        };
        let (mut parts, body) = req.into_parts();
        if let (Some(origin), Some(host)) = (
            parts.headers.get(header::ORIGIN),
            parts.headers.get(header::HOST),
        ) {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            if origin != "null" && origin_host != host {
                return Err(WebError::Csrf);
            }
        }
        let MaybeSession(session) = MaybeSession::from_request_parts(&mut parts, state).await?;
        let expected = match &session {
            Some(s) => Some(s.csrf_token.clone()),
            None => CookieJar::from_headers(&parts.headers)
                .get(PRE_SESSION_COOKIE)
                .map(|c| c.value().to_string()),
        };
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| WebError::BadRequest("The form could not be read".into()))?;
        let fields = parse_multipart(&bytes, &boundary)
            .ok_or_else(|| WebError::BadRequest("The form could not be read".into()))?;
        let text_of = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name && f.filename.is_none())
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        };
        let submitted = text_of("_csrf").unwrap_or_default();
        match expected {
            Some(e) if !e.is_empty() && csrf_matches(&e, &submitted) => {}
            _ => return Err(WebError::Csrf),
        }
        let pasted = text_of(BODY_FIELD).unwrap_or_default();
        let file = fields
            .iter()
            .find(|f| f.name == FILE_FIELD && f.filename.is_some() && !f.data.is_empty());
        Ok(match file {
            None => TemplateUpload {
                text: pasted,
                file_problem: None,
            },
            Some(f) if f.data.len() > MAX_TEMPLATE_BYTES => TemplateUpload {
                text: pasted,
                file_problem: Some(format!(
                    "The file is too large: a process template is under {} KB",
                    MAX_TEMPLATE_BYTES / 1000
                )),
            },
            Some(f) => match std::str::from_utf8(&f.data) {
                Ok(s) => TemplateUpload {
                    text: s.trim_start_matches('\u{feff}').to_string(),
                    file_problem: None,
                },
                Err(_) => TemplateUpload {
                    text: pasted,
                    file_problem: Some(
                        "The file is not UTF-8 text: choose the .toml file exported from Onramp"
                            .into(),
                    ),
                },
            },
        })
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormPart {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    if !params
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    params
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The parameters of a Content-Disposition value, names lower-cased, quotes removed.
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    pieces.push(current);
    pieces
        .iter()
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.to_string()))
        })
        .collect()
}

/// Splits a `multipart/form-data` body (RFC 7578) into its parts; None when it is not one.
pub(crate) fn parse_multipart(body: &[u8], boundary: &str) -> Option<Vec<FormPart>> {
    let delimiter = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let mut pos = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return None;
        }
        pos += 2;
        let (headers, data_start) = if body[pos..].starts_with(b"\r\n") {
            ("", pos + 2)
        } else {
            let end = find(body, b"\r\n\r\n", pos)?;
            (std::str::from_utf8(&body[pos..end]).ok()?, end + 4)
        };
        let data_end = find(body, next.as_bytes(), data_start)?;
        let mut name = None;
        let mut filename = None;
        for line in headers.split("\r\n") {
            let Some((h, value)) = line.split_once(':') else {
                continue;
            };
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for (k, v) in disposition_params(value) {
                    match k.as_str() {
                        "name" => name = Some(v),
                        "filename" => filename = Some(v),
                        _ => {}
                    }
                }
            }
        }
        if let Some(name) = name {
            parts.push(FormPart {
                name,
                filename,
                data: body[data_start..data_end].to_vec(),
            });
        }
        pos = data_end + next.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_are_split_into_fields_and_files() {
        let body = "preamble\r\n------b1\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok\r\n------b1\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nline 1\r\nline 2\r\n------b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.toml\"\r\nContent-Type: application/toml\r\n\r\nkey = \"x\"\n\r\n------b1--\r\n";
        let b = multipart_boundary("multipart/form-data; boundary=----b1").unwrap();
        let parts = parse_multipart(body.as_bytes(), &b).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].data.as_slice()),
            ("_csrf", b"tok".as_slice())
        );
        assert_eq!(parts[1].data, b"line 1\r\nline 2");
        assert_eq!(parts[2].filename.as_deref(), Some("a;b.toml"));
        assert_eq!(parts[2].data, b"key = \"x\"\n");
        // An empty file input.
        let empty = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--x--\r\n";
        let parts = parse_multipart(empty.as_bytes(), "x").unwrap();
        assert_eq!(
            (parts[0].filename.as_deref(), parts[0].data.len()),
            (Some(""), 0)
        );
    }

    #[test]
    fn malformed_multipart_is_refused() {
        assert_eq!(
            multipart_boundary("application/x-www-form-urlencoded"),
            None
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"q\""),
            Some("q".into())
        );
        assert!(parse_multipart(b"no boundary here", "x").is_none());
        assert!(parse_multipart(
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
            "x"
        )
        .is_none());
    }

    #[test]
    fn conditions_and_deadlines_read_as_sentences() {
        let names: BTreeMap<String, String> = [
            ("assessor".to_string(), "Assessor".to_string()),
            ("ce_specialist".into(), "CE specialist".into()),
        ]
        .into();
        let c = Condition {
            access_levels: vec!["assessor".into(), "ce_specialist".into()],
            project_types: vec![4, 11, 14],
            audience: Audience::New,
            ..Default::default()
        };
        assert_eq!(
            describe_applies(&c, &names, &BTreeMap::new()),
            "Access level is Assessor or CE specialist; A project is Street Outreach, Day Shelter or Coordinated Entry; New users only"
        );
        assert_eq!(
            describe_applies(&Condition::default(), &names, &names),
            "Always"
        );
        let d = Deadline {
            days: 14,
            from: DeadlineFrom::StepOpen,
            on_expiry: OnExpiry::ExpireRequest,
            warn_days_before: 3,
        };
        assert_eq!(describe_deadline(Some(&d), Some(1)), "14 days from when the step opens; then the request expires and the agency is told; warning 3 days before; reminder every day");
        assert_eq!(describe_deadline(None, None), "");
    }
}
