//! Request counters and latency, served in Prometheus text format at `/metrics`.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status class) → series.
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            let s = m
                .entry((method.to_string(), route.to_string(), status))
                .or_default();
            s.count += 1;
            s.sum += seconds;
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    /// The Prometheus text exposition of the request series, plus `extra` lines.
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP onramp_http_requests_total HTTP requests served.\n# TYPE onramp_http_requests_total counter\n");
        let Ok(m) = self.requests.lock() else {
            return out;
        };
        for ((method, route, status), s) in m.iter() {
            out.push_str(&format!("onramp_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}\n", s.count));
        }
        out.push_str("# HELP onramp_http_request_duration_seconds Time to serve a request.\n# TYPE onramp_http_request_duration_seconds histogram\n");
        let mut per_route: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((method, route, _), s) in m.iter() {
            let t = per_route
                .entry((method.clone(), route.clone()))
                .or_default();
            t.count += s.count;
            t.sum += s.sum;
            for i in 0..BUCKETS.len() {
                t.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in per_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "onramp_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}\n",
                    s.buckets[i]
                ));
            }
            out.push_str(&format!(
                "onramp_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                s.count
            ));
            out.push_str(&format!(
                "onramp_http_request_duration_seconds_sum{{{labels}}} {}\n",
                s.sum
            ));
            out.push_str(&format!(
                "onramp_http_request_duration_seconds_count{{{labels}}} {}\n",
                s.count
            ));
        }
        out.push_str(extra);
        out
    }
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let elapsed = start.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed);
    // One structured line per request: the route pattern, never the path (it may hold a token).
    tracing::info!(target: "onramp::http", %method, %route, status, ms = elapsed * 1000.0, "request");
    res
}
