//! Agreements: the admin list, create, edit (details and new text versions); signing an
//! agreement step of a request in turn; and the printable signed document.

use super::list::{saved, unprocessable, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{checkbox, CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::agreements::{
    self, AgreementDetail, AgreementInput, AgreementSummary, MetaInput, SignatureInput,
    SignedDocument, VersionOutcome,
};
use onramp_app::AppError;
use onramp_domain::agreement::AgreementKind;
use onramp_domain::authz::Permission;
use onramp_domain::FieldError;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/agreements", get(list)),
        Route::get("/admin/agreements/new", get(new_form)),
        Route::post("/admin/agreements/new", post(create)),
        Route::get("/admin/agreements/{id}", get(detail)),
        Route::post("/admin/agreements/{id}", post(update_meta)),
        Route::post("/admin/agreements/{id}/versions", post(add_version)),
        Route::get("/requests/{id}/sign/{step}", get(sign_page)),
        Route::post("/requests/{id}/sign/{step}", post(sign)),
        Route::get("/requests/{id}/agreements/{step}/print", get(print)),
    ]
}

fn kinds() -> Vec<SelectOption> {
    AgreementKind::ALL
        .iter()
        .map(|k| SelectOption::new(k.as_str(), k.label()))
        .collect()
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "agreements/agreements.html")]
struct ListPage {
    chrome: Chrome,
    items: Vec<AgreementSummary>,
    can_manage: bool,
}

async fn list(State(state): State<AppState>, v: Viewer, jar: CookieJar) -> WebResult<Response> {
    let items = agreements::list(&state.app, &v.ctx).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "Agreements", "/admin/agreements").with_flash(&jar);
    let can_manage = v.ctx.actor.may(Permission::ManageProcess);
    Ok((
        jar,
        render(&ListPage {
            chrome,
            items,
            can_manage,
        })?,
    )
        .into_response())
}

// ---------------------------------------------------------------- create

/// The new-agreement form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default, deserialize_with = "checkbox")]
    resign_yearly: bool,
    #[serde(default)]
    body: String,
}

#[derive(Template)]
#[template(path = "agreements/agreement_new.html")]
struct NewPage {
    chrome: Chrome,
    errors: FormErrors,
    form: NewForm,
    kinds: Vec<SelectOption>,
}

fn new_page(v: &Viewer, errors: FormErrors, form: NewForm) -> NewPage {
    NewPage {
        chrome: Chrome::for_viewer(v, "New agreement", "/admin/agreements"),
        errors,
        form,
        kinds: kinds(),
    }
}

async fn new_form(v: Viewer) -> WebResult<Response> {
    v.ctx.require(Permission::ManageProcess)?;
    let form = NewForm {
        kind: AgreementKind::EndUser.as_str().into(),
        ..Default::default()
    };
    Ok(render(&new_page(&v, FormErrors::default(), form))?.into_response())
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<NewForm>,
) -> WebResult<Response> {
    let input = AgreementInput {
        key: f.key.clone(),
        title: f.title.clone(),
        kind: f.kind.clone(),
        resign_yearly: f.resign_yearly,
        body: f.body.clone(),
    };
    match agreements::create(&state.app, &v.ctx, &input).await {
        Ok(id) => Ok(saved(
            jar,
            "Agreement created as version 1.",
            &format!("/admin/agreements/{id}"),
        )),
        Err(e) => Ok(unprocessable(render(&new_page(
            &v,
            FormErrors::from_app(e)?,
            f,
        ))?)),
    }
}

// ---------------------------------------------------------------- detail, details and versions

/// The details form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct MetaForm {
    #[serde(default)]
    title: String,
    #[serde(default, deserialize_with = "checkbox")]
    resign_yearly: bool,
    #[serde(default, deserialize_with = "checkbox")]
    active: bool,
}

/// The new-version form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    body: String,
}

#[derive(Template)]
#[template(path = "agreements/agreement.html")]
struct DetailPage {
    chrome: Chrome,
    d: AgreementDetail,
    errors: FormErrors,
    meta: MetaForm,
    /// The text in the new-version box: the latest text, or what was typed.
    body: String,
}

fn detail_page(
    v: &Viewer,
    d: AgreementDetail,
    errors: FormErrors,
    meta: Option<MetaForm>,
    body: Option<String>,
) -> DetailPage {
    let meta = meta.unwrap_or_else(|| MetaForm {
        title: d.agreement.title.clone(),
        resign_yearly: d.agreement.resign_yearly,
        active: d.agreement.active,
    });
    let body = body.unwrap_or_else(|| d.latest().map(|l| l.body.clone()).unwrap_or_default());
    let title = d.agreement.title.clone();
    DetailPage {
        chrome: Chrome::for_viewer(v, &title, "/admin/agreements"),
        d,
        errors,
        meta,
        body,
    }
}

async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let d = agreements::get(&state.app, &v.ctx, id).await?;
    let mut page = detail_page(&v, d, FormErrors::default(), None, None);
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update_meta(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<MetaForm>,
) -> WebResult<Response> {
    let input = MetaInput {
        title: f.title.clone(),
        resign_yearly: f.resign_yearly,
        active: f.active,
    };
    match agreements::update_meta(&state.app, &v.ctx, id, &input).await {
        Ok(()) => Ok(saved(
            jar,
            "Agreement saved.",
            &format!("/admin/agreements/{id}"),
        )),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let d = agreements::get(&state.app, &v.ctx, id).await?;
            Ok(unprocessable(render(&detail_page(
                &v,
                d,
                errors,
                Some(f),
                None,
            ))?))
        }
    }
}

async fn add_version(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<VersionForm>,
) -> WebResult<Response> {
    match agreements::new_version(&state.app, &v.ctx, id, &f.body).await {
        Ok(VersionOutcome::Created(n)) => Ok(saved(jar, &format!("Saved as version {n}. New signatures are on this version; those already given stay on record."), &format!("/admin/agreements/{id}"))),
        Ok(VersionOutcome::Unchanged(n)) => Ok(saved(jar, &format!("The text is the same as version {n}: no new version was saved."), &format!("/admin/agreements/{id}"))),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let d = agreements::get(&state.app, &v.ctx, id).await?;
            Ok(unprocessable(render(&detail_page(&v, d, errors, None, Some(f.body)))?))
        }
    }
}

// ---------------------------------------------------------------- signing

/// The signing form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct SignForm {
    #[serde(default)]
    typed_name: String,
    #[serde(default, deserialize_with = "checkbox")]
    agree: bool,
    /// The version of the text the page showed (a hidden field).
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "agreements/agreement_sign.html")]
struct SignPage {
    chrome: Chrome,
    doc: SignedDocument,
    errors: FormErrors,
    form: SignForm,
    name_hint: String,
}

fn sign_page_of(v: &Viewer, doc: SignedDocument, errors: FormErrors, form: SignForm) -> SignPage {
    let title = format!("Sign: {}", doc.title);
    let name_hint = format!("Your name as Onramp knows it: {}", doc.viewer_name);
    SignPage {
        chrome: Chrome::for_viewer(v, &title, ""),
        doc,
        errors,
        form,
        name_hint,
    }
}

async fn sign_page(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(i64, String)>,
    jar: CookieJar,
) -> WebResult<Response> {
    let doc = agreements::signature_record(&state.app, &v.ctx, id, &step).await?;
    let mut page = sign_page_of(&v, doc, FormErrors::default(), SignForm::default());
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn sign(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(i64, String)>,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<SignForm>,
) -> WebResult<Response> {
    let result = if f.agree {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let input = SignatureInput {
            typed_name: &f.typed_name,
            // A form without the version it showed cannot say which text was read.
            version: f.version.trim().parse().unwrap_or(0),
            user_agent: ua,
        };
        agreements::sign(&state.app, &v.ctx, id, &step, &input).await
    } else {
        // The box is asked for only of the signer whose turn it is.
        let doc = agreements::signature_record(&state.app, &v.ctx, id, &step).await?;
        if doc.may_sign {
            Err(AppError::Invalid(vec![FieldError::new(
                "agree",
                "Tick the box to confirm that you have read and agree to the agreement",
            )]))
        } else if doc.next.is_none() {
            Err(AppError::Conflict(format!(
                "\u{201c}{}\u{201d} is not waiting for a signature now.",
                doc.step_title
            )))
        } else {
            Err(AppError::Forbidden)
        }
    };
    match result {
        Ok(()) => {
            let doc = agreements::signature_record(&state.app, &v.ctx, id, &step).await?;
            let message = if doc.step_status.is_settled() {
                "Signed. Everyone has now signed this agreement."
            } else {
                "Signed. The next signer has been told it is their turn."
            };
            Ok(saved(jar, message, &format!("/requests/{id}/sign/{step}")))
        }
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let doc = agreements::signature_record(&state.app, &v.ctx, id, &step).await?;
            let mut f = f;
            if errors.has(agreements::VERSION_FIELD) {
                // The text shown now is another: agreeing to it is asked again.
                f.agree = false;
            }
            Ok(unprocessable(render(&sign_page_of(&v, doc, errors, f))?))
        }
    }
}

// ---------------------------------------------------------------- printable

#[derive(Template)]
#[template(path = "agreements/agreement_print.html")]
struct PrintPage {
    chrome: Chrome,
    doc: SignedDocument,
}

async fn print(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(i64, String)>,
) -> WebResult<Response> {
    let doc = agreements::signature_record(&state.app, &v.ctx, id, &step).await?;
    let title = format!("{} (printable)", doc.title);
    Ok(render(&PrintPage {
        chrome: Chrome::for_viewer(&v, &title, ""),
        doc,
    })?
    .into_response())
}
