//! Webhook delivery: the outbox's `webhook` messages, POSTed as signed JSON.
//!
//! The application queues the exact body to send (`onramp_app::provisioning`); the worker
//! signs each attempt when it makes it, with the implementation's webhook secret, over the
//! time of sending and the body, and POSTs it with these headers:
//!
//! | Header                | Value                                                          |
//! |-----------------------|----------------------------------------------------------------|
//! | `Content-Type`        | `application/json`                                             |
//! | `X-Onramp-Signature`  | `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`        |
//! | `X-Onramp-Delivery`   | the outbox message's id, the same on every attempt             |
//! | `User-Agent`          | `Onramp`                                                       |
//!
//! A receiver recomputes the HMAC over `t`, a dot and the raw body, compares it in constant
//! time, refuses a `t` more than five minutes from its own clock, and remembers the
//! delivery ids it has processed: a captured request replayed later fails the time check,
//! and one replayed at once is a delivery id already seen (`docs/webhooks.md`).
//!
//! Only public addresses receive webhooks: the host's addresses are resolved at delivery
//! time and the call connects to exactly the addresses checked (the client's resolver is
//! the check), so a name cannot be made to point elsewhere between the check and the
//! connection. Loopback, private, link-local, metadata and other special addresses are
//! refused unless the operator allows the host (`ONRAMP_WEBHOOK_ALLOW_HOSTS`); proxies from
//! the environment are not used, since they would resolve the name themselves.
//!
//! A 2xx answer is a delivery. 5xx, 429 and 408 answers, timeouts and connection errors
//! are tried again after the worker's backoff; any other answer (other 4xx, a redirect), a
//! refused address or a missing secret fails the message for good — an admin can retry it
//! from the outbox once the cause is fixed. Redirects are not followed, so that a body is
//! only ever sent to the configured address. Of a failed answer only the status is kept,
//! never the receiver's body.

use crate::mailer::DeliveryError;
use crate::{JobsError, Result};
use chrono::{DateTime, Utc};
use onramp_domain::webhook::{check_host, check_resolved, signature_header, AllowedHosts};
use onramp_store::OutboxMessage;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The outbox `kind` of a webhook call.
pub const KIND_WEBHOOK: &str = "webhook";

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-Onramp-Signature";
/// The header carrying the outbox message's id, the same on every attempt, so that the
/// receiver can recognise a repeated delivery.
pub const DELIVERY_HEADER: &str = "X-Onramp-Delivery";
/// The `User-Agent` of every call.
pub const USER_AGENT_VALUE: &str = "Onramp";
/// How long one call may take, connecting included (10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The JSON stored in a `webhook` outbox message's `payload`:
/// `{"url": "https://…", "body": "<the exact JSON text to POST>"}`. (A `signature` that
/// older messages carry is ignored: every attempt is signed when it is made.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// Where to POST; when missing, the row's `recipient` is used.
    #[serde(default)]
    pub url: String,
    /// The request body, sent byte for byte as stored.
    pub body: String,
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

/// Sends webhook calls over HTTP or HTTPS (rustls, with the webpki root certificates),
/// only to addresses the webhook rules allow.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    timeout: Duration,
    allowed: Arc<AllowedHosts>,
}

impl WebhookSender {
    /// A sender whose calls give up after `timeout` (connecting included), to public
    /// addresses only.
    pub fn new(timeout: Duration) -> Result<Self> {
        Self::build(timeout, AllowedHosts::default())
    }

    /// The same sender, also delivering to the hosts the operator allows.
    pub fn allowing(self, allowed: AllowedHosts) -> Result<Self> {
        Self::build(self.timeout, allowed)
    }

    fn build(timeout: Duration, allowed: AllowedHosts) -> Result<Self> {
        let allowed = Arc::new(allowed);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                allowed: allowed.clone(),
            }))
            .build()
            .map_err(|e| JobsError::Config(format!("webhook HTTP client: {e}")))?;
        Ok(Self {
            client,
            timeout,
            allowed,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs the payload's body, signed at `now` with `secret`; `delivery_id` is the
    /// outbox message's id.
    pub async fn send(
        &self,
        payload: &WebhookPayload,
        delivery_id: i64,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DeliveryError> {
        let url = reqwest::Url::parse(payload.url.trim()).map_err(|e| {
            DeliveryError::Permanent(format!("webhook address is not a valid URL: {e}"))
        })?;
        let Some(host) = url
            .host_str()
            .filter(|_| matches!(url.scheme(), "http" | "https"))
        else {
            return Err(DeliveryError::Permanent(format!(
                "webhook address '{}' is not an http(s) address",
                where_to(&url)
            )));
        };
        let target = where_to(&url);
        // Addresses written as such are not resolved, so they are checked here; names are
        // checked by the resolver, on the addresses the call then connects to.
        check_host(host, &self.allowed).map_err(|why| refused(&target, &why))?;
        if secret.is_empty() {
            return Err(DeliveryError::Permanent(
                "the webhook has no secret to sign with: set one on the webhook settings page"
                    .into(),
            ));
        }
        let signature = signature_header(secret, now.timestamp(), &payload.body);
        let signature = HeaderValue::from_str(&signature).map_err(|_| {
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
        // The answer's body is never read nor kept: only its status.
        drop(response);
        if status.is_success() {
            return Ok(());
        }
        let text = format!("webhook {target} answered {status}");
        if is_retryable(status) {
            Err(DeliveryError::Transient(text))
        } else {
            Err(DeliveryError::Permanent(text))
        }
    }

    fn request_error(&self, target: &str, e: &reqwest::Error) -> DeliveryError {
        if let Some(r) = refusal(e) {
            return refused(target, &r.0);
        }
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

fn refused(target: &str, why: &str) -> DeliveryError {
    DeliveryError::Permanent(format!(
        "webhook {target} refused: {why}; Onramp does not post to loopback, private, link-local or metadata addresses unless ONRAMP_WEBHOOK_ALLOW_HOSTS names the host"
    ))
}

/// Why the resolver refused a host's addresses.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused webhook address: {}", self.0)
    }
}

impl std::error::Error for Refusal {}

/// The resolver's refusal among the error's causes, if that is why the call failed.
fn refusal(e: &reqwest::Error) -> Option<&Refusal> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return Some(r);
        }
        source = s.source();
    }
    None
}

/// Resolves a webhook's host name and gives the connection only addresses that passed the
/// check: the addresses checked are the addresses connected to.
struct CheckedResolver {
    allowed: Arc<AllowedHosts>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<IpAddr> = found.iter().map(|a| a.ip()).collect();
            check_resolved(&host, &ips, &allowed).map_err(Refusal)?;
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
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
