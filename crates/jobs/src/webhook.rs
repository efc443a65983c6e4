//! Webhook delivery: the outbox's `webhook` messages, POSTed as signed JSON.
//!
//! The application queues the exact body to send with its signature already computed
//! (`onramp_app::provisioning`), so the worker needs no secret: it POSTs `body` to `url`
//! with these headers and records the outcome like an email's.
//!
//! | Header                | Value                                  |
//! |-----------------------|----------------------------------------|
//! | `Content-Type`        | `application/json`                     |
//! | `X-Onramp-Signature`  | `sha256=<hex HMAC-SHA256 of the body>` |
//! | `X-Onramp-Delivery`   | the outbox message's id                |
//! | `User-Agent`          | `Onramp`                               |
//!
//! A 2xx answer is a delivery. 5xx, 429 and 408 answers, timeouts and connection errors
//! are tried again after the worker's backoff; any other answer (other 4xx, a redirect)
//! fails the message for good, since sending the same body again would not help — an
//! admin can retry it from the outbox once the receiver is fixed. Redirects are not
//! followed, so that a body is only ever sent to the configured address.

use crate::mailer::DeliveryError;
use crate::{JobsError, Result};
use onramp_store::OutboxMessage;
use reqwest::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The outbox `kind` of a webhook call.
pub const KIND_WEBHOOK: &str = "webhook";

/// The header carrying `sha256=<hex HMAC>` of the body.
pub const SIGNATURE_HEADER: &str = "X-Onramp-Signature";
/// The header carrying the outbox message's id, the same on every attempt, so that the
/// receiver can recognise a repeated delivery.
pub const DELIVERY_HEADER: &str = "X-Onramp-Delivery";
/// The `User-Agent` of every call.
pub const USER_AGENT_VALUE: &str = "Onramp";
/// How long one call may take, connecting included (10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The JSON stored in a `webhook` outbox message's `payload`:
/// `{"url": "https://…", "body": "<the exact JSON text to POST>", "signature": "sha256=<hex>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// Where to POST; when missing, the row's `recipient` is used.
    #[serde(default)]
    pub url: String,
    /// The request body, sent byte for byte as stored.
    pub body: String,
    /// The `X-Onramp-Signature` header's value.
    #[serde(default)]
    pub signature: String,
}

impl WebhookPayload {
    /// Reads the payload of an outbox row, filling `url` from the row when the JSON
    /// leaves it out.
    pub fn from_outbox(m: &OutboxMessage) -> Result<Self, serde_json::Error> {
        let mut p: WebhookPayload = serde_json::from_str(&m.payload)?;
        if p.url.trim().is_empty() {
            p.url = m.recipient.clone();
        }
        Ok(p)
    }
}

/// Sends webhook calls over HTTP or HTTPS (rustls, with the webpki root certificates).
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    timeout: Duration,
}

impl WebhookSender {
    /// A sender whose calls give up after `timeout` (connecting included).
    pub fn new(timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| JobsError::Config(format!("webhook HTTP client: {e}")))?;
        Ok(Self { client, timeout })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs the payload's body; `delivery_id` is the outbox message's id.
    pub async fn send(
        &self,
        payload: &WebhookPayload,
        delivery_id: i64,
    ) -> Result<(), DeliveryError> {
        let url = reqwest::Url::parse(payload.url.trim()).map_err(|e| {
            DeliveryError::Permanent(format!("webhook address is not a valid URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(DeliveryError::Permanent(format!(
                "webhook address '{}' is not an http(s) address",
                where_to(&url)
            )));
        }
        let target = where_to(&url);
        let signature = HeaderValue::from_str(payload.signature.trim()).map_err(|_| {
            DeliveryError::Permanent("webhook signature is not a valid header value".into())
        })?;
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, HeaderValue::from(delivery_id))
            .body(payload.body.clone())
            .send()
            .await
            .map_err(|e| self.request_error(&target, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let excerpt = excerpt(response).await;
        let text = format!(
            "webhook {target} answered {status}{}",
            if excerpt.is_empty() {
                String::new()
            } else {
                format!(": {excerpt}")
            }
        );
        if is_retryable(status) {
            Err(DeliveryError::Transient(text))
        } else {
            Err(DeliveryError::Permanent(text))
        }
    }

    fn request_error(&self, target: &str, e: &reqwest::Error) -> DeliveryError {
        let cause = causes(e);
        if e.is_timeout() {
            DeliveryError::Transient(format!(
                "webhook {target} did not answer within {} s{cause}",
                self.timeout.as_secs_f32()
            ))
        } else if e.is_builder() {
            DeliveryError::Permanent(format!("webhook call to {target} cannot be built{cause}"))
        } else if e.is_connect() {
            DeliveryError::Transient(format!("webhook {target} cannot be reached{cause}"))
        } else {
            DeliveryError::Transient(format!("webhook call to {target} failed{cause}"))
        }
    }
}

/// Whether an answer other than 2xx is worth trying again: the receiver is failing or
/// busy (5xx, 429 Too Many Requests, 408 Request Timeout).
pub fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The address without user, password, path or query, for messages and logs.
fn where_to(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// The error's sources (reqwest hides the interesting part there), after ": ".
fn causes(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The first 200 characters of an answer's body, on one line.
async fn excerpt(mut response: reqwest::Response) -> String {
    const MAX: usize = 200;
    let mut bytes = Vec::new();
    while bytes.len() < MAX * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        for s in [500, 502, 503, 504, 429, 408] {
            assert!(is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 422, 301, 302] {
            assert!(!is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn addresses_in_messages_hide_credentials_and_paths() {
        let u = reqwest::Url::parse("https://user:pw@hooks.example.org:8443/x?token=1").unwrap();
        assert_eq!(where_to(&u), "https://hooks.example.org:8443");
        let u = reqwest::Url::parse("http://hooks.example.org/x").unwrap();
        assert_eq!(where_to(&u), "http://hooks.example.org");
    }

    #[test]
    fn url_falls_back_to_the_recipient() {
        let m = OutboxMessage {
            id: 1,
            implementation_id: Some(1),
            kind: KIND_WEBHOOK.into(),
            recipient: "https://r.example.org/hook".into(),
            subject: "s".into(),
            payload: r#"{"body":"{}","signature":"sha256=00"}"#.into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: chrono::Utc::now(),
            last_error: None,
            created_at: chrono::Utc::now(),
            sent_at: None,
        };
        let p = WebhookPayload::from_outbox(&m).unwrap();
        assert_eq!(p.url, "https://r.example.org/hook");
        assert_eq!(p.body, "{}");
    }
}
