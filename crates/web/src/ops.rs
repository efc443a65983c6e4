//! Health, readiness and metrics endpoints.

use crate::{AppState, Route};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

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

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
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
}
