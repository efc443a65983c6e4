//! Helpers shared by the admin list and form pages: filter parsing, pager and CSV links,
//! select options, and the two answers to a submitted form (saved, or shown again).

use crate::chrome::flash;
use crate::error::WebResult;
use crate::session::urlencode;
use crate::AppState;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::{organisation, Ctx};
use onramp_store::organisation::AgencyFilter;
use onramp_store::PageRequest;

/// Rows per page of every admin list.
pub const PER_PAGE: i64 = 25;

/// The page asked for in the query string (the first when absent).
pub fn page_request(page: Option<i64>) -> PageRequest {
    PageRequest::new(page.unwrap_or(1), PER_PAGE)
}

/// The "show" filter: `active`, `inactive`, or anything else for both.
pub fn show_filter(show: &str) -> Option<bool> {
    match show {
        "active" => Some(true),
        "inactive" => Some(false),
        _ => None,
    }
}

/// A search box's text, trimmed; None when blank.
pub fn search_text(q: &str) -> Option<String> {
    Some(q.trim().to_string()).filter(|s| !s.is_empty())
}

/// An id chosen in a filter select; None when blank or not a number.
pub fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// A list's path with its filters as a query string, ending in `&` so that the pager can
/// append `page=N`.
pub fn query_base(path: &str, params: &[(&str, &str)]) -> String {
    let mut s = format!("{path}?");
    for (k, v) in params {
        s.push_str(k);
        s.push('=');
        s.push_str(&urlencode(v));
        s.push('&');
    }
    s
}

/// A CSV export as a download.
pub fn csv_download(filename: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// One `<option>` of a select.
#[derive(Debug, Clone)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

impl SelectOption {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// The options of the "show" filter.
pub fn show_options() -> Vec<SelectOption> {
    vec![
        SelectOption::new("", "Active and inactive"),
        SelectOption::new("active", "Active only"),
        SelectOption::new("inactive", "Inactive only"),
    ]
}

/// The agencies the viewer may see, as options (inactive ones marked), after `first`.
pub async fn agency_options(
    state: &AppState,
    ctx: &Ctx,
    first: Option<SelectOption>,
) -> WebResult<Vec<SelectOption>> {
    let page =
        organisation::agencies(&state.app, ctx, AgencyFilter::default(), PageRequest::ALL).await?;
    let mut out: Vec<SelectOption> = first.into_iter().collect();
    out.extend(page.items.into_iter().map(|a| {
        let label = if a.active {
            a.name
        } else {
            format!("{} (inactive)", a.name)
        };
        SelectOption::new(a.id.to_string(), label)
    }));
    Ok(out)
}

/// After a successful POST: back to `to`, with a message for the next page.
pub fn saved(jar: CookieJar, message: &str, to: &str) -> Response {
    (jar.add(flash(message)), Redirect::to(to)).into_response()
}

/// A form shown again because of bad input.
pub fn unprocessable(html: Html<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_filter_reads_the_three_choices() {
        assert_eq!(show_filter("active"), Some(true));
        assert_eq!(show_filter("inactive"), Some(false));
        assert_eq!(show_filter(""), None);
        assert_eq!(show_filter("bogus"), None);
    }

    #[test]
    fn query_base_encodes_values_and_ends_with_ampersand() {
        assert_eq!(
            query_base("/x", &[("q", "a b&c"), ("show", "")]),
            "/x?q=a%20b%26c&show=&"
        );
        assert_eq!(query_base("/x", &[]), "/x?");
    }

    #[test]
    fn search_text_is_none_when_blank() {
        assert_eq!(search_text("  "), None);
        assert_eq!(search_text(" ana "), Some("ana".into()));
    }
}
