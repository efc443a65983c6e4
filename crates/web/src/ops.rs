//! Health, readiness and metrics endpoints.
//!
//! `/metrics` tells request counts and latencies per route and the outbox's backlog, which
//! is nobody's business but the operator's. On the main address it answers only a request
//! carrying the metrics token (`Authorization: Bearer <ONRAMP_METRICS_TOKEN>`); without a
//! token configured it answers 404, as if it did not exist. [`metrics_router`] serves it on
//! a separate address (`ONRAMP_METRICS_LISTEN`), where the token is asked only if one is set.

use crate::{AppState, Route};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", get(healthz)),
        Route::get("/readyz", get(readyz)),
        Route::get("/metrics", get(metrics)),
    ]
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// The router of the separate metrics address: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_on_own_address))
        .with_state(state)
}

/// Whether the request carries the configured metrics token (compared through hashes, so
/// in constant time).
fn has_token(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    !given.is_empty() && Sha256::digest(given.as_bytes()) == Sha256::digest(token.as_bytes())
}

fn token_required() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"onramp-metrics\"")],
        "send the metrics token as Authorization: Bearer <token>",
    )
        .into_response()
}

/// `/metrics` on the main address: the token is required, and without one configured
/// there is nothing here.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.app.config.metrics_token.as_deref() {
        None => crate::pages::not_found().await.into_response(),
        Some(token) if has_token(&headers, token) => render_metrics(&state).await,
        Some(_) => token_required(),
    }
}

/// `/metrics` on the separate metrics address: the token is required only if one is set.
async fn metrics_on_own_address(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.app.config.metrics_token.as_deref() {
        Some(token) if !has_token(&headers, token) => token_required(),
        _ => render_metrics(&state).await,
    }
}

async fn render_metrics(state: &AppState) -> Response {
    let mut extra = String::new();
    if let Ok(mut tx) = state.app.store.read().await {
        if let Ok(counts) = tx.outbox_counts().await {
            extra.push_str("# HELP onramp_outbox_messages Outbox messages by status.\n# TYPE onramp_outbox_messages gauge\n");
            for (status, n) in counts {
                extra.push_str(&format!(
                    "onramp_outbox_messages{{status=\"{status}\"}} {n}\n"
                ));
            }
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&extra),
    )
        .into_response()
}
