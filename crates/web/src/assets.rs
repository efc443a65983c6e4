//! Static assets, embedded in the binary so that one file is the whole deployment.

use crate::Route;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// (name, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "onramp.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/onramp.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/htmx.min.js"),
    ),
    (
        "video-progress.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/video-progress.js"),
    ),
    (
        "quiz-autosave.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/quiz-autosave.js"),
    ),
];

pub fn routes() -> Vec<Route> {
    vec![Route::get("/static/{file}", get(asset))]
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// For tests: the names of the embedded assets.
pub fn names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(n, _, _)| *n)
}
