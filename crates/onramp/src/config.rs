//! Settings: defaults < TOML file < `ONRAMP_*` environment < command-line flags.
//! Secrets may come from files (`--smtp-password-file`). Errors name the setting to fix.

use anyhow::{bail, Context, Result};
use clap::Args;
use onramp_app::config::TrustedProxies;
use onramp_app::AppConfig;
use onramp_domain::audit::AuditKey;
use onramp_domain::webhook::AllowedHosts;
use onramp_jobs::mailer::{SmtpConfig, TlsMode};
use serde::Deserialize;
use std::path::PathBuf;

/// Settings shared by every command that opens the database.
#[derive(Debug, Clone, Args, Default)]
pub struct Settings {
    /// A TOML file of settings (keys as the flags, with `_` for `-`).
    #[arg(long, env = "ONRAMP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Where Onramp keeps its SQLite database, maildir and files [default: ./data].
    #[arg(long, env = "ONRAMP_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user@host/db). When unset, the embedded SQLite database is used.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ONRAMP_LISTEN", global = true)]
    pub listen: Option<String>,
    /// The address people use to reach Onramp, for links in emails [default: http://<listen>].
    #[arg(long, env = "ONRAMP_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// SMTP server host. When unset, email goes to the maildir in the data directory.
    #[arg(long, env = "ONRAMP_SMTP_HOST", global = true)]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 587 with starttls, 465 with tls, 25 with none].
    #[arg(long, env = "ONRAMP_SMTP_PORT", global = true)]
    pub smtp_port: Option<u16>,
    /// SMTP security: none, starttls or tls [default: starttls].
    #[arg(long, env = "ONRAMP_SMTP_TLS", global = true)]
    pub smtp_tls: Option<String>,
    #[arg(long, env = "ONRAMP_SMTP_USERNAME", global = true)]
    pub smtp_username: Option<String>,
    /// A file holding the SMTP password (keeps it out of the environment and process list).
    #[arg(long, env = "ONRAMP_SMTP_PASSWORD_FILE", global = true)]
    pub smtp_password_file: Option<PathBuf>,
    /// The From address of Onramp's email [default: onramp@localhost].
    #[arg(long, env = "ONRAMP_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Minutes of inactivity after which a session ends [default: 30].
    #[arg(long, env = "ONRAMP_SESSION_IDLE_MINUTES", global = true)]
    pub session_idle_minutes: Option<i64>,
    /// End a person's other sessions when they sign in [default: false].
    #[arg(long, env = "ONRAMP_SINGLE_SESSION", global = true)]
    pub single_session: Option<bool>,
    /// Minimum password length, at least 8 [default: 12].
    #[arg(long, env = "ONRAMP_PASSWORD_MIN_LENGTH", global = true)]
    pub password_min_length: Option<usize>,
    /// Mark cookies Secure (set when Onramp is served over HTTPS) [default: true when base-url is https].
    #[arg(long, env = "ONRAMP_SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "ONRAMP_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,

    // ---- audit key, webhooks and metrics (operations)
    /// A file holding the audit chain's key [default: <data-dir>/audit.key, created with mode 0600 at first start].
    #[arg(long, env = "ONRAMP_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,
    /// The audit chain's key itself, 32 characters or more (prefer --audit-key-file).
    #[arg(long, env = "ONRAMP_AUDIT_KEY", global = true, hide_env_values = true)]
    pub audit_key: Option<String>,
    /// Hosts that may receive webhooks although they are loopback, private or link-local, comma-separated (e.g. hooks.internal,127.0.0.1).
    #[arg(long, env = "ONRAMP_WEBHOOK_ALLOW_HOSTS", global = true)]
    pub webhook_allow_hosts: Option<String>,
    /// The bearer token /metrics asks for. Without it (and without --metrics-listen) /metrics answers 404.
    #[arg(
        long,
        env = "ONRAMP_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// A file holding the metrics token.
    #[arg(long, env = "ONRAMP_METRICS_TOKEN_FILE", global = true)]
    pub metrics_token_file: Option<PathBuf>,
    /// A separate address and port serving only /metrics (e.g. 127.0.0.1:9090), for a scraper on a private network.
    #[arg(long, env = "ONRAMP_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges separated
    /// by commas (e.g. 10.0.0.0/8,::1). Empty: the header is ignored [default: empty].
    #[arg(long, env = "ONRAMP_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
}

/// A list in the config file: `"10.0.0.0/8, ::1"` or `["10.0.0.0/8", "::1"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ListSetting {
    Text(String),
    Items(Vec<String>),
}

impl ListSetting {
    fn joined(&self) -> String {
        match self {
            ListSetting::Text(s) => s.clone(),
            ListSetting::Items(v) => v.join(","),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    base_url: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_username: Option<String>,
    smtp_password_file: Option<PathBuf>,
    mail_from: Option<String>,
    session_idle_minutes: Option<i64>,
    single_session: Option<bool>,
    password_min_length: Option<usize>,
    secure_cookies: Option<bool>,
    log_format: Option<String>,
    // ---- audit key, webhooks and metrics (operations)
    audit_key_file: Option<PathBuf>,
    audit_key: Option<String>,
    webhook_allow_hosts: Option<String>,
    metrics_token: Option<String>,
    metrics_token_file: Option<PathBuf>,
    metrics_listen: Option<String>,
    trusted_proxies: Option<ListSetting>,
}

/// Settings resolved and checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub listen: String,
    pub base_url: String,
    pub smtp: Option<SmtpConfig>,
    pub mail_from: String,
    pub app: AppConfig,
    pub secure_cookies: bool,
    pub log_json: bool,
    /// Where the audit key comes from.
    pub audit_key: AuditKeySource,
    /// A separate address serving only `/metrics`.
    pub metrics_listen: Option<String>,
}

/// Where the audit chain's key comes from.
#[derive(Debug, Clone)]
pub enum AuditKeySource {
    /// Given by a setting (`ONRAMP_AUDIT_KEY`, or the file `ONRAMP_AUDIT_KEY_FILE` names).
    Given(AuditKey),
    /// The data directory's `audit.key`, created at first start when missing.
    DataDir(PathBuf),
}

/// Reads a secret from a file, without its final line break; errors name the setting.
fn read_secret(path: &std::path::Path, setting: &str) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {setting} {}", path.display()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

macro_rules! pick {
    ($cli:expr, $file:expr, $field:ident) => {
        $cli.$field.clone().or($file.$field.clone())
    };
}

impl Settings {
    pub fn resolve(&self) -> Result<Resolved> {
        let file: FileSettings = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the config file {} (setting: --config / ONRAMP_CONFIG)",
                        path.display()
                    )
                })?;
                toml::from_str(&text)
                    .with_context(|| format!("the config file {} is not valid", path.display()))?
            }
            None => FileSettings::default(),
        };
        let data_dir = pick!(self, file, data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = pick!(self, file, database_url).filter(|s| !s.trim().is_empty());
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!("DATABASE_URL must be a PostgreSQL URL (postgres://user@host/database); leave it unset to use the embedded SQLite database");
            }
        }
        let listen = pick!(self, file, listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            bail!("--listen / ONRAMP_LISTEN must be an address and port like 127.0.0.1:8080, not {listen:?}");
        }
        let base_url = pick!(self, file, base_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("--base-url / ONRAMP_BASE_URL must start with http:// or https://");
        }
        let mail_from = pick!(self, file, mail_from).unwrap_or_else(|| "onramp@localhost".into());
        if onramp_domain::Email::parse(&mail_from).is_err() && !mail_from.ends_with("@localhost") {
            bail!("--mail-from / ONRAMP_MAIL_FROM must be an email address, not {mail_from:?}");
        }
        let smtp = match pick!(self, file, smtp_host) {
            None => None,
            Some(host) => {
                let tls = match pick!(self, file, smtp_tls).as_deref().unwrap_or("starttls") {
                    "none" => TlsMode::None,
                    "starttls" => TlsMode::StartTls,
                    "tls" => TlsMode::Tls,
                    other => bail!(
                        "--smtp-tls / ONRAMP_SMTP_TLS must be none, starttls or tls, not {other:?}"
                    ),
                };
                let port = pick!(self, file, smtp_port).unwrap_or(tls.default_port());
                let mut c = SmtpConfig::new(host, port, mail_from.clone());
                c.tls = tls;
                c.username = pick!(self, file, smtp_username);
                if let Some(path) = pick!(self, file, smtp_password_file) {
                    let pw = std::fs::read_to_string(&path).with_context(|| {
                        format!(
                            "cannot read --smtp-password-file / ONRAMP_SMTP_PASSWORD_FILE {}",
                            path.display()
                        )
                    })?;
                    c.password = Some(pw.trim_end_matches(['\r', '\n']).to_string());
                }
                Some(c)
            }
        };
        let mut app = AppConfig {
            base_url: base_url.clone(),
            mail_to_maildir: smtp.is_none(),
            ..AppConfig::default()
        };
        if let Some(m) = pick!(self, file, session_idle_minutes) {
            if !(1..=24 * 60).contains(&m) {
                bail!("--session-idle-minutes / ONRAMP_SESSION_IDLE_MINUTES must be between 1 and 1440");
            }
            app.session_idle_minutes = m;
        }
        if let Some(s) = pick!(self, file, single_session) {
            app.single_session = s;
        }
        if let Some(n) = pick!(self, file, password_min_length) {
            if !(8..=128).contains(&n) {
                bail!("--password-min-length / ONRAMP_PASSWORD_MIN_LENGTH must be between 8 (HUD's minimum) and 128");
            }
            app.password_policy.min_length = n;
        }
        let proxies = self
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies.as_ref().map(ListSetting::joined))
            .unwrap_or_default();
        app.trusted_proxies = TrustedProxies::parse(&proxies)
            .map_err(|e| anyhow::anyhow!("--trusted-proxies / ONRAMP_TRUSTED_PROXIES: {e}"))?;
        let secure_cookies =
            pick!(self, file, secure_cookies).unwrap_or(base_url.starts_with("https://"));
        let log_json = match pick!(self, file, log_format).as_deref().unwrap_or("text") {
            "text" => false,
            "json" => true,
            other => bail!("--log-format / ONRAMP_LOG_FORMAT must be text or json, not {other:?}"),
        };
        // ---- audit key, webhooks and metrics (operations)
        let audit_key = match (pick!(self, file, audit_key), pick!(self, file, audit_key_file)) {
            (Some(_), Some(_)) => bail!("set either --audit-key / ONRAMP_AUDIT_KEY or --audit-key-file / ONRAMP_AUDIT_KEY_FILE, not both"),
            (Some(k), None) => AuditKeySource::Given(
                AuditKey::parse(&k).map_err(|m| anyhow::anyhow!("--audit-key / ONRAMP_AUDIT_KEY: {m}"))?,
            ),
            (None, Some(path)) => {
                let text = read_secret(&path, "--audit-key-file / ONRAMP_AUDIT_KEY_FILE")?;
                AuditKeySource::Given(AuditKey::parse(&text).map_err(|m| {
                    anyhow::anyhow!("--audit-key-file / ONRAMP_AUDIT_KEY_FILE {}: {m}", path.display())
                })?)
            }
            (None, None) => AuditKeySource::DataDir(data_dir.join("audit.key")),
        };
        if let Some(hosts) = pick!(self, file, webhook_allow_hosts) {
            app.webhook_allow_hosts = AllowedHosts::parse(&hosts);
        }
        app.metrics_token = match (pick!(self, file, metrics_token), pick!(self, file, metrics_token_file)) {
            (Some(_), Some(_)) => bail!("set either --metrics-token / ONRAMP_METRICS_TOKEN or --metrics-token-file / ONRAMP_METRICS_TOKEN_FILE, not both"),
            (Some(t), None) => Some(t),
            (None, Some(path)) => Some(read_secret(&path, "--metrics-token-file / ONRAMP_METRICS_TOKEN_FILE")?),
            (None, None) => None,
        }
        .map(|t| t.trim().to_string());
        if app.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("--metrics-token / ONRAMP_METRICS_TOKEN must be at least 16 characters long");
        }
        let metrics_listen = pick!(self, file, metrics_listen).filter(|s| !s.trim().is_empty());
        if let Some(m) = &metrics_listen {
            if m.parse::<std::net::SocketAddr>().is_err() {
                bail!("--metrics-listen / ONRAMP_METRICS_LISTEN must be an address and port like 127.0.0.1:9090, not {m:?}");
            }
            if *m == listen {
                bail!("--metrics-listen / ONRAMP_METRICS_LISTEN must differ from --listen / ONRAMP_LISTEN");
            }
        }
        Ok(Resolved {
            audit_key,
            metrics_listen,
            data_dir,
            database_url,
            listen,
            base_url,
            smtp,
            mail_from,
            app,
            secure_cookies,
            log_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_trusted_proxy_list_names_the_setting_and_the_entry() {
        let s = Settings {
            trusted_proxies: Some("10.0.0.0/8, proxy.internal".into()),
            ..Settings::default()
        };
        let e = format!("{:#}", s.resolve().unwrap_err());
        assert!(e.contains("ONRAMP_TRUSTED_PROXIES"), "{e}");
        assert!(e.contains("proxy.internal"), "{e}");
    }

    #[test]
    fn trusted_proxies_are_empty_by_default_and_read_from_the_file_as_a_list() {
        let r = Settings::default().resolve().unwrap();
        assert!(r.app.trusted_proxies.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("onramp.toml");
        std::fs::write(&path, "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        let r = Settings {
            config: Some(path),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        assert!(r.app.trusted_proxies.trusts("10.2.3.4".parse().unwrap()));
        assert!(r.app.trusted_proxies.trusts("::1".parse().unwrap()));
        assert!(!r.app.trusted_proxies.trusts("192.0.2.1".parse().unwrap()));
    }
}
