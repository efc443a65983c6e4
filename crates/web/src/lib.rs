//! Onramp's HTTP adapter: server-rendered pages, the JSON API and operations endpoints.
//!
//! Handlers are thin: extract, call a service in `onramp_app`, render. Every route is
//! declared once in [`route_table`], which builds the router and lets the authorization
//! matrix test check that no route goes untested.

pub mod api;
pub mod assets;
pub mod chrome;
pub mod error;
pub mod forms;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod security;
pub mod session;

use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use onramp_app::App;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<metrics::Metrics>,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(app: App, secure_cookies: bool) -> Self {
        Self {
            app,
            metrics: Arc::new(metrics::Metrics::default()),
            secure_cookies,
        }
    }
}

/// The most a request body may hold, except on upload routes.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// One route: method, path pattern and handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
    /// An upload route: its handler reads the body itself, within the upload limits of the
    /// settings (see [`forms::UploadForm`]), instead of within [`BODY_LIMIT`].
    pub upload: bool,
}

impl Route {
    pub fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self {
            method,
            path,
            handler,
            upload: false,
        }
    }
    /// A POST route that takes file uploads.
    pub fn upload(path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self {
            upload: true,
            ..Self::new(Method::POST, path, handler)
        }
    }
    pub fn get(path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self::new(Method::GET, path, handler)
    }
    pub fn post(path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self::new(Method::POST, path, handler)
    }
}

/// Every route Onramp serves.
pub fn route_table() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(ops::routes());
    r.extend(assets::routes());
    r.extend(pages::routes());
    r.extend(api::routes());
    r
}

/// (method, path) of every route, for tests.
pub fn route_list() -> Vec<(Method, &'static str)> {
    route_table()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// The most of a refused body read (and thrown away) so that its client gets the answer.
const DRAIN_LIMIT: u64 = 8 * BODY_LIMIT as u64;

/// Refuses a body declared larger than [`BODY_LIMIT`] with 413 at once. What the client is
/// still sending is read and thrown away (up to [`DRAIN_LIMIT`], for ten seconds at most)
/// so that it reads the answer instead of a reset connection; bodies without a declared
/// length are cut off at the limit by the layer inside.
async fn refuse_oversized(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::HttpBody;
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > BODY_LIMIT as u64 => {
            if n <= DRAIN_LIMIT {
                let mut body = req.into_body();
                tokio::spawn(async move {
                    let drain = async {
                        while let Some(Ok(_)) =
                            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx))
                                .await
                        {}
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drain).await;
                });
            }
            (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The request is larger than this page takes (2 MB).",
            )
                .into_response()
        }
        _ => next.run(req).await,
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for r in route_table() {
        let filter = MethodFilter::try_from(r.method.clone()).unwrap_or(MethodFilter::GET);
        let path = r.path;
        let handler = if r.upload {
            r.handler_fn()
                .layer(axum::extract::DefaultBodyLimit::disable())
        } else {
            r.handler_fn()
                .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
                .layer(axum::middleware::from_fn(refuse_oversized))
        };
        router = router.route(path, on(filter, handler));
    }
    router
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}

impl Route {
    fn handler_fn(self) -> MethodRouter<AppState> {
        self.handler
    }
}
