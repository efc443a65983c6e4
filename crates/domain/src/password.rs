//! Password rules: HUD's HMIS baseline (at least 8 characters with a letter and a digit,
//! not containing the username) plus NIST SP 800-63B practice (a configurable minimum
//! length, default 12, and no password from a list of commonly used ones).

use std::collections::HashSet;
use std::sync::OnceLock;

/// The most common passwords of 8 characters or more, from a public list of leaked
/// passwords ordered by frequency (top 20,000 of that length).
const COMMON: &str = include_str!("../data/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// At least 8; HUD's baseline.
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 12 }
    }
}

/// A password that met the policy. It is never displayed, logged or serialised.
pub struct NewPassword(String);

impl NewPassword {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl PasswordPolicy {
    /// Checks a new password against the rules; `username` is the sign-in email.
    pub fn check(&self, password: &str, username: &str) -> Result<NewPassword, String> {
        let min = self.min_length.max(8);
        let count = password.chars().count();
        if count < min {
            return Err(format!("Use at least {min} characters"));
        }
        if count > 256 {
            return Err("Use at most 256 characters".into());
        }
        if !password.chars().any(char::is_alphabetic)
            || !password.chars().any(|c| c.is_ascii_digit())
        {
            return Err("Use at least one letter and one digit".into());
        }
        let lower = password.to_lowercase();
        let user = username.trim().to_lowercase();
        let local = user.split('@').next().unwrap_or_default();
        if (!user.is_empty() && lower.contains(&user))
            || (local.len() >= 3 && lower.contains(local))
        {
            return Err("Do not include your username".into());
        }
        if common().contains(lower.as_str()) || common().contains(password) {
            return Err(
                "This password is on a list of commonly used passwords: choose another".into(),
            );
        }
        Ok(NewPassword(password.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("short1a", "x@y.org").unwrap_err(),
            "Use at least 12 characters"
        );
        assert!(p.check("onlyletterslong", "x@y.org").is_err());
        assert!(p.check("123456789012345", "x@y.org").is_err());
        assert_eq!(
            p.check("ana.smith-2026-garden", "ana.smith@agency.org")
                .unwrap_err(),
            "Do not include your username"
        );
        assert!(p
            .check("password1234", "x@y.org")
            .unwrap_err()
            .contains("commonly used"));
        assert!(p.check("blue-kettle-42-harbor", "x@y.org").is_ok());
    }

    #[test]
    fn hud_minimum_of_eight_holds_even_when_configured_lower() {
        let p = PasswordPolicy { min_length: 4 };
        assert!(p.check("ab1", "x@y.org").is_err());
        assert!(p.check("kq7zmw3x", "x@y.org").is_ok());
    }

    #[test]
    fn list_is_loaded() {
        assert!(common().len() > 10_000);
    }
}
