//! The audit trail: filters, pages newest first, a CSV export of the filtered list, and
//! the chain head (sequence number and hash) to publish for outside comparison.

use super::list;
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::FormErrors;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Days, NaiveDate, Utc};
use onramp_app::{audit, AppError};
use onramp_domain::authz::Permission;
use onramp_domain::FieldError;
use onramp_store::audit::AuditFilter;
use onramp_store::{AuditEvent, Page};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/audit", get(audit_page)),
        Route::get("/admin/audit.csv", get(export)),
    ]
}

/// Filters of the audit trail, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// The start of an action name, like `person.` or `agency.create`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    /// YYYY-MM-DD, from 00:00 UTC.
    #[serde(default)]
    from: String,
    /// YYYY-MM-DD, up to the end of that day (UTC).
    #[serde(default)]
    to: String,
    page: Option<i64>,
}

/// 00:00 UTC of a day typed as YYYY-MM-DD; None when blank.
fn day_start(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "Enter a date as YYYY-MM-DD, like 2026-07-01",
            ));
            None
        }
    }
}

impl ListQuery {
    /// The store filter; `to` is exclusive, so the day typed is included whole.
    fn filter(&self) -> Result<AuditFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let from = day_start("from", &self.from, &mut errors);
        let to =
            day_start("to", &self.to, &mut errors).and_then(|t| t.checked_add_days(Days::new(1)));
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                errors.push(FieldError::new(
                    "to",
                    "The end date must be on or after the start date",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AuditFilter {
            action: list::search_text(&self.action),
            subject_type: list::search_text(&self.subject),
            actor_id: None,
            from,
            to,
        })
    }
    fn base(&self, path: &str) -> String {
        list::query_base(
            path,
            &[
                ("action", &self.action),
                ("subject", &self.subject),
                ("from", &self.from),
                ("to", &self.to),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    errors: FormErrors,
    /// None when the filters need fixing first.
    page: Option<Page<AuditEvent>>,
    q: ListQuery,
    base: String,
    csv: String,
    /// The chain head, to publish for outside comparison.
    head: audit::ChainHead,
}

impl AuditPage {
    /// Where the subject of an event can be seen, when it has a page.
    fn subject_href(&self, e: &AuditEvent) -> Option<String> {
        let id = e.subject_id?;
        let path = match e.subject_type.as_str() {
            "agency" => "/admin/agencies",
            "project" => "/admin/projects",
            "person" => "/admin/people",
            "access_level" => "/admin/access-levels",
            "responsibility" => "/admin/responsibilities",
            "outbox_message" => "/admin/outbox",
            _ => return None,
        };
        Some(format!("{path}/{id}"))
    }
}

async fn audit_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let (chrome, jar) = Chrome::for_viewer(&v, "Audit trail", "/admin/audit").with_flash(&jar);
    let base = q.base("/admin/audit");
    let csv = q.base("/admin/audit.csv");
    let head = audit::head(&state.app, &v.ctx).await?;
    match q.filter() {
        Ok(f) => {
            let page = audit::list(&state.app, &v.ctx, &f, list::page_request(q.page)).await?;
            Ok((
                jar,
                render(&AuditPage {
                    chrome,
                    errors: FormErrors::default(),
                    page: Some(page),
                    q,
                    base,
                    csv,
                    head,
                })?,
            )
                .into_response())
        }
        Err(errors) => {
            // Check the permission before saying anything about the filters.
            v.ctx.require(Permission::ViewAudit)?;
            let page = AuditPage {
                chrome,
                errors: FormErrors(errors),
                page: None,
                q,
                base,
                csv,
                head,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, render(&page)?).into_response())
        }
    }
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let f = q.filter().map_err(AppError::Invalid)?;
    let csv = audit::csv(&state.app, &v.ctx, &f).await?;
    Ok(list::csv_download("audit.csv", csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: &str, to: &str) -> ListQuery {
        ListQuery {
            from: from.into(),
            to: to.into(),
            ..Default::default()
        }
    }

    #[test]
    fn dates_are_whole_utc_days_with_an_exclusive_end() {
        let f = query("2026-07-01", "2026-07-01")
            .filter()
            .map_err(|e| e.len())
            .unwrap_or_default();
        assert_eq!(
            f.from.map(|t| t.to_rfc3339()),
            Some("2026-07-01T00:00:00+00:00".into())
        );
        assert_eq!(
            f.to.map(|t| t.to_rfc3339()),
            Some("2026-07-02T00:00:00+00:00".into())
        );
    }

    #[test]
    fn bad_or_reversed_dates_are_reported_on_their_field() {
        let fields = |q: ListQuery| {
            q.filter()
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(query("2026-13-01", "")), vec!["from"]);
        assert_eq!(fields(query("", "July 1")), vec!["to"]);
        assert_eq!(fields(query("2026-07-02", "2026-07-01")), vec!["to"]);
        assert!(fields(query("", "")).is_empty());
    }
}
