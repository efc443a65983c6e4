//! Settings the services need.

use onramp_domain::audit::AuditKey;
use onramp_domain::password::PasswordPolicy;
use onramp_domain::webhook::AllowedHosts;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where people reach Onramp, for links in emails (no trailing slash).
    pub base_url: String,
    pub password_policy: PasswordPolicy,
    /// A session unused this long ends (HUD: 30 minutes).
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in whatever happens.
    pub session_absolute_hours: i64,
    /// When true, signing in ends the person's other sessions.
    pub single_session: bool,
    /// Consecutive wrong passwords before an account locks.
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Failed sign-ins from one address in `rate_limit_window_minutes` before it is refused.
    pub rate_limit_failures: i64,
    pub rate_limit_window_minutes: i64,
    pub invitation_days: i64,
    pub password_reset_minutes: i64,
    /// Argon2id cost: memory in KiB and passes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// The issuer shown in authenticator apps.
    pub mfa_issuer: String,

    // ---- audit chain and webhooks (operations)
    /// The key of the audit chain's HMAC, kept outside the database. The default is a
    /// random key for this process only: a server loads its key from the data directory
    /// or a setting, so that the chain can be verified after a restart.
    pub audit_key: AuditKey,
    /// Hosts the operator allows to receive webhooks although they are loopback, private
    /// or link-local (`ONRAMP_WEBHOOK_ALLOW_HOSTS`).
    pub webhook_allow_hosts: AllowedHosts,
    /// The bearer token that `/metrics` asks for (`ONRAMP_METRICS_TOKEN`). Without one,
    /// the main address answers `/metrics` with 404.
    pub metrics_token: Option<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            password_policy: PasswordPolicy::default(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            single_session: false,
            lockout_threshold: 5,
            lockout_minutes: 15,
            rate_limit_failures: 20,
            rate_limit_window_minutes: 15,
            invitation_days: 7,
            password_reset_minutes: 60,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            mfa_issuer: "Onramp".into(),
            audit_key: AuditKey::from_random_bytes(rand::random()),
            webhook_allow_hosts: AllowedHosts::default(),
            metrics_token: None,
        }
    }
}
