//! An agency's training credits: its balance, movements and charges to invoice. The Lead
//! admin grants credits and records the packs an agency bought here; the agency's
//! administrators read their own.

use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::credits::{self, GrantInput, Ledger, PurchaseInput};
use onramp_domain::learning::course::format_cents;
use onramp_domain::learning::credits::{ChargeStatus, MovementKind};
use onramp_domain::FieldError;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/agencies/{id}/credits", get(show)),
        Route::post("/admin/agencies/{id}/credits/grant", post(grant)),
        Route::post("/admin/agencies/{id}/credits/purchase", post(purchase)),
    ]
}

/// A movement as the page lists it.
struct MovementRow {
    at: String,
    kind: &'static str,
    change: String,
    balance_after: i64,
    /// The person, course and request it concerns, or what was paid and its reference.
    concerns: String,
    reason: String,
    by: String,
}

struct ChargeRow {
    at: String,
    person: String,
    course: String,
    request: String,
    amount: String,
    status: &'static str,
    status_class: &'static str,
    note: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    credits: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PurchaseForm {
    #[serde(default)]
    pack_credits: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reference: String,
}

#[derive(Template)]
#[template(path = "learning/credits.html")]
struct CreditsPage {
    chrome: Chrome,
    agency_id: i64,
    agency: String,
    balance: String,
    open_charges: String,
    movements: Vec<MovementRow>,
    charges: Vec<ChargeRow>,
    may_manage: bool,
    errors: FormErrors,
    grant: GrantForm,
    purchase: PurchaseForm,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn page(
    v: &Viewer,
    l: Ledger,
    errors: FormErrors,
    grant: GrantForm,
    purchase: PurchaseForm,
) -> CreditsPage {
    let movements = l
        .movements
        .iter()
        .map(|m| {
            let kind = MovementKind::parse(&m.kind);
            let concerns = match kind {
                Some(MovementKind::Bought) => format!(
                    "{} paid, reference {}",
                    m.amount_cents.map(format_cents).unwrap_or_default(),
                    m.reference
                ),
                Some(MovementKind::Drawn | MovementKind::Refunded) => format!(
                    "{} · {}{}",
                    m.person_name.clone().unwrap_or_default(),
                    m.course_title.clone().unwrap_or_default(),
                    m.request_id
                        .map(|r| format!(" · request #{r}"))
                        .unwrap_or_default()
                ),
                _ => String::new(),
            };
            MovementRow {
                at: when(m.at),
                kind: kind.map(MovementKind::label).unwrap_or("Other"),
                change: if m.credits > 0 {
                    format!("+{}", m.credits)
                } else {
                    m.credits.to_string()
                },
                balance_after: m.balance_after,
                concerns,
                reason: m.reason.clone(),
                by: m
                    .recorded_by_name
                    .clone()
                    .unwrap_or_else(|| "Onramp".into()),
            }
        })
        .collect();
    let charges = l
        .charges
        .iter()
        .map(|c| {
            let status = ChargeStatus::parse(&c.status);
            ChargeRow {
                at: when(c.created_at),
                person: c.person_name.clone(),
                course: c.course_title.clone(),
                request: c.request_id.map(|r| format!("#{r}")).unwrap_or_default(),
                amount: format_cents(c.amount_cents),
                status: status.map(ChargeStatus::label).unwrap_or("Unknown"),
                status_class: if status == Some(ChargeStatus::Open) {
                    "warn"
                } else {
                    "muted"
                },
                note: c.cancelled_reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    let balance = if l.balance == 1 {
        "1 credit".to_string()
    } else {
        format!("{} credits", l.balance)
    };
    let open_charges = if l.open_charges == 0 {
        "No open charges".to_string()
    } else {
        format!(
            "{} open {} to invoice, {} in all",
            l.open_charges,
            if l.open_charges == 1 {
                "charge"
            } else {
                "charges"
            },
            format_cents(l.open_cents)
        )
    };
    CreditsPage {
        chrome: Chrome::for_viewer(
            v,
            &format!("Training credits: {}", l.agency.name),
            "/admin/agencies",
        ),
        agency_id: l.agency.id,
        agency: l.agency.name.clone(),
        balance,
        open_charges,
        movements,
        charges,
        may_manage: l.may_manage,
        errors,
        grant,
        purchase,
    }
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let l = credits::ledger(&state.app, &v.ctx, id).await?;
    let mut p = page(
        &v,
        l,
        FormErrors::default(),
        GrantForm::default(),
        PurchaseForm::default(),
    );
    let (chrome, jar) = p.chrome.with_flash(&jar);
    p.chrome = chrome;
    Ok((jar, render(&p)?).into_response())
}

async fn grant(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<GrantForm>,
) -> WebResult<Response> {
    let input = GrantInput {
        credits: f.credits.clone(),
        reason: f.reason.clone(),
    };
    match credits::grant(&state.app, &v.ctx, id, &input).await {
        Ok(b) => Ok((
            jar.add(flash(&format!("Credits granted. The balance is now {b}."))),
            Redirect::to(&format!("/admin/agencies/{id}/credits")),
        )
            .into_response()),
        Err(e) => {
            let errors = FormErrors::from_app(e)?;
            let l = credits::ledger(&state.app, &v.ctx, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(&v, l, errors, f, PurchaseForm::default()))?,
            )
                .into_response())
        }
    }
}

async fn purchase(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<PurchaseForm>,
) -> WebResult<Response> {
    let input = PurchaseInput {
        credits: f.pack_credits.clone(),
        amount: f.amount.clone(),
        reference: f.reference.clone(),
    };
    match credits::record_purchase(&state.app, &v.ctx, id, &input).await {
        Ok(b) => Ok((
            jar.add(flash(&format!(
                "Purchase recorded. The balance is now {b}."
            ))),
            Redirect::to(&format!("/admin/agencies/{id}/credits")),
        )
            .into_response()),
        Err(e) => {
            // The purchase form's credits field has its own name on the page.
            let errors = FormErrors(
                FormErrors::from_app(e)?
                    .0
                    .into_iter()
                    .map(|fe| {
                        if fe.field == "credits" {
                            FieldError::new("pack_credits", fe.message)
                        } else {
                            fe
                        }
                    })
                    .collect(),
            );
            let l = credits::ledger(&state.app, &v.ctx, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(&v, l, errors, GrantForm::default(), f))?,
            )
                .into_response())
        }
    }
}
