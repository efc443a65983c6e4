//! Settings the services need.

use onramp_domain::password::PasswordPolicy;

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
    /// Email goes to the embedded maildir (no SMTP server configured): the Outbox page is
    /// then where a Lead admin reads it, invitation links included (each view audited).
    pub mail_to_maildir: bool,
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
            mail_to_maildir: true,
        }
    }
}
