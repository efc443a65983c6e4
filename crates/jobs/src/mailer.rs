//! Email transports: SMTP (lettre) when a server is configured, otherwise a maildir in the
//! data directory, so that an installation without SMTP still keeps every message.

use crate::payload::EmailPayload;
use crate::{JobsError, Result};
use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text: only for a trusted local relay (or tests).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte ("implicit TLS", usually port 465).
    Tls,
}

impl TlsMode {
    /// The usual port for this mode: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

impl FromStr for TlsMode {
    type Err = JobsError;
    /// `none`, `starttls` or `tls` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" | "implicit" => Ok(TlsMode::Tls),
            other => Err(JobsError::Config(format!(
                "smtp tls mode '{other}' is not one of: none, starttls, tls"
            ))),
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        })
    }
}

/// Where and how to send mail over SMTP.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: TlsMode,
    /// The `From` address, e.g. `Onramp <onramp@hmis.example.org>`.
    pub from: String,
    /// Time allowed for each network step (connect, each command).
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A configuration with no credentials, STARTTLS and a 30 s timeout.
    pub fn new(host: impl Into<String>, port: u16, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            username: None,
            password: None,
            tls: TlsMode::StartTls,
            from: from.into(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why one delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Trying again will not help (bad address or payload, the server refused with 5xx).
    #[error("{0}")]
    Permanent(String),
    /// Worth another try later (server down, timeout, 4xx, disk error).
    #[error("{0}")]
    Transient(String),
}

impl DeliveryError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Permanent(_))
    }
}

/// Delivers over SMTP, one connection per message.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    endpoint: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        let host = config.host.trim();
        if host.is_empty() {
            return Err(JobsError::Config("smtp host is empty".into()));
        }
        if config.port == 0 {
            return Err(JobsError::Config("smtp port must not be 0".into()));
        }
        let from = parse_from(&config.from, "smtp from")?;
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_parameters(host)?),
            TlsMode::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        match (&config.username, &config.password) {
            (Some(u), Some(p)) if !u.is_empty() => {
                builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
            }
            (Some(u), None) if !u.is_empty() => {
                return Err(JobsError::Config(
                    "smtp password is required when smtp username is set".into(),
                ));
            }
            _ => {}
        }
        Ok(Self {
            transport: builder.build(),
            from,
            endpoint: format!("{host}:{} ({})", config.port, config.tls),
        })
    }

    async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(format!(
                "SMTP server {} refused the message: {e}",
                self.endpoint
            ))),
            Err(e) => Err(DeliveryError::Transient(format!(
                "SMTP delivery through {} failed: {e}",
                self.endpoint
            ))),
        }
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters> {
    TlsParameters::new(host.to_string())
        .map_err(|e| JobsError::Config(format!("smtp tls setup for host '{host}' failed: {e}")))
}

fn parse_from(from: &str, setting: &str) -> Result<Mailbox> {
    from.trim()
        .parse::<Mailbox>()
        .map_err(|e| JobsError::Config(format!("{setting} address '{from}' is not valid: {e}")))
}

/// Delivers into a maildir (`tmp/`, `new/`, `cur/`): each message is written to `tmp/`
/// and renamed into `new/<unique>.eml`, so readers never see a partial file.
#[derive(Debug, Clone)]
pub struct MaildirMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl MaildirMailer {
    /// Creates the maildir layout under `dir` if needed.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self> {
        let dir = dir.into();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| {
                JobsError::Config(format!(
                    "maildir directory '{}' cannot be created: {e}",
                    dir.join(sub).display()
                ))
            })?;
        }
        Ok(Self {
            dir,
            from: parse_from(from, "mail from")?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory delivered messages appear in.
    pub fn new_dir(&self) -> PathBuf {
        self.dir.join("new")
    }

    async fn send(&self, message: &Message, message_id: &str) -> Result<(), DeliveryError> {
        let name = maildir_file_name(message_id);
        let tmp = self.dir.join("tmp").join(&name);
        let new = self.dir.join("new").join(&name);
        let bytes = message.formatted();
        let written = async {
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            // Messages hold sign-in links: readable by the service's user only.
            #[cfg(unix)]
            options.mode(0o600);
            let mut f = options.open(&tmp).await?;
            f.write_all(&bytes).await?;
            f.sync_all().await?;
            drop(f);
            tokio::fs::rename(&tmp, &new).await
        }
        .await;
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            DeliveryError::Transient(format!(
                "writing to maildir '{}' failed: {e}",
                self.dir.display()
            ))
        })
    }
}

/// A file name for a message in the maildir: the Message-ID made safe, so that a repeated
/// delivery of the same outbox message replaces the file instead of duplicating it.
fn maildir_file_name(message_id: &str) -> String {
    let inner = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let mut name: String = inner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, 'm');
    }
    name.push_str(".eml");
    name
}

/// The transport the worker delivers through.
#[derive(Debug, Clone)]
pub enum Mailer {
    Smtp(SmtpMailer),
    Maildir(MaildirMailer),
}

impl Mailer {
    /// The one-time links whose tokens are masked in Onramp's copy of a message once this
    /// mailer delivered it. Over SMTP, every kind: the recipient holds the message now. Into
    /// the embedded maildir, password resets only: with no SMTP server, the Outbox page is
    /// where a Lead admin reads an invitation to hand it over (each viewing audited), while
    /// a reset link is for its recipient alone and is never shown there.
    pub fn links_to_mask_after_delivery(&self) -> &'static [&'static str] {
        match self {
            Mailer::Smtp(_) => &onramp_domain::links::ONE_TIME_PATHS,
            Mailer::Maildir(_) => &[onramp_domain::links::PASSWORD_RESET_PATH],
        }
    }

    /// SMTP delivery with `config`.
    pub fn smtp(config: &SmtpConfig) -> Result<Self> {
        Ok(Mailer::Smtp(SmtpMailer::new(config)?))
    }

    /// Delivery into a maildir at `dir` (created if needed), with `from` as the sender.
    pub fn maildir(dir: impl Into<PathBuf>, from: &str) -> Result<Self> {
        Ok(Mailer::Maildir(MaildirMailer::new(dir, from)?))
    }

    /// SMTP when configured, else the maildir at `maildir_dir` with `from` as the sender.
    pub fn from_config(smtp: Option<&SmtpConfig>, maildir_dir: &Path, from: &str) -> Result<Self> {
        match smtp {
            Some(c) => Self::smtp(c),
            None => Self::maildir(maildir_dir, from),
        }
    }

    /// The sender of every message.
    pub fn from_address(&self) -> &Mailbox {
        match self {
            Mailer::Smtp(m) => &m.from,
            Mailer::Maildir(m) => &m.from,
        }
    }

    /// Where mail goes, for start-up logs (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(m) => format!("smtp {}", m.endpoint),
            Mailer::Maildir(m) => format!("maildir {}", m.dir.display()),
        }
    }

    /// A fresh, unique `Message-ID` (with its angle brackets) in the sender's domain.
    pub fn new_message_id(&self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!(
            "<onramp.{}.{}.{n}@{}>",
            Utc::now().timestamp_micros(),
            std::process::id(),
            self.from_address().email.domain()
        )
    }

    /// The stable `Message-ID` of an outbox message: the same on every attempt.
    pub fn outbox_message_id(&self, outbox_id: i64, created_at: DateTime<Utc>) -> String {
        format!(
            "<onramp.outbox.{outbox_id}.{}@{}>",
            created_at.timestamp_micros(),
            self.from_address().email.domain()
        )
    }

    /// Builds the message (multipart/alternative when there is an HTML body) and delivers it.
    /// `message_id` is the full header value, angle brackets included.
    pub async fn send(&self, email: &EmailPayload, message_id: &str) -> Result<(), DeliveryError> {
        let message = build_message(self.from_address(), email, message_id)?;
        match self {
            Mailer::Smtp(m) => m.send(message).await,
            Mailer::Maildir(m) => m.send(&message, message_id).await,
        }
    }
}

/// The email as lettre will send it.
pub fn build_message(
    from: &Mailbox,
    email: &EmailPayload,
    message_id: &str,
) -> Result<Message, DeliveryError> {
    let to: Mailbox = email.to.trim().parse().map_err(|e| {
        DeliveryError::Permanent(format!(
            "recipient address '{}' is not valid: {e}",
            email.to
        ))
    })?;
    let subject = email.subject.replace(['\r', '\n'], " ");
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.trim())
        .message_id(Some(message_id.to_string()));
    let built = match email.html_body() {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            html.to_string(),
        )),
        None => builder.singlepart(SinglePart::plain(email.text.clone())),
    };
    built.map_err(|e| DeliveryError::Permanent(format!("the message cannot be built: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse() {
        assert_eq!("none".parse::<TlsMode>().unwrap(), TlsMode::None);
        assert_eq!("STARTTLS".parse::<TlsMode>().unwrap(), TlsMode::StartTls);
        assert_eq!("tls".parse::<TlsMode>().unwrap(), TlsMode::Tls);
        let e = "ssl3".parse::<TlsMode>().unwrap_err().to_string();
        assert!(e.contains("smtp tls mode"), "{e}");
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let mut c = SmtpConfig::new("", 25, "onramp@example.org");
        assert!(Mailer::smtp(&c)
            .unwrap_err()
            .to_string()
            .contains("smtp host"));
        c.host = "localhost".into();
        c.from = "not an address".into();
        assert!(Mailer::smtp(&c)
            .unwrap_err()
            .to_string()
            .contains("smtp from"));
        c.from = "Onramp <onramp@example.org>".into();
        c.username = Some("u".into());
        assert!(Mailer::smtp(&c)
            .unwrap_err()
            .to_string()
            .contains("smtp password"));
        c.password = Some("secret".into());
        assert!(!format!("{c:?}").contains("secret"));
        assert!(Mailer::smtp(&c).is_ok());
    }

    #[test]
    fn maildir_names_are_safe() {
        assert_eq!(
            maildir_file_name("<onramp.outbox.1.2@example.org>"),
            "onramp.outbox.1.2@example.org.eml"
        );
        assert_eq!(maildir_file_name("<../../x/y>"), "m.._.._x_y.eml");
    }

    #[test]
    fn bad_recipient_is_permanent() {
        let from: Mailbox = "a@example.org".parse().unwrap();
        let p = EmailPayload {
            to: "nope".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        };
        assert!(build_message(&from, &p, "<x@example.org>")
            .unwrap_err()
            .is_permanent());
    }
}
