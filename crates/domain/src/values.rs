//! Small validated values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with one input field, told to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The longest email address accepted (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX: usize = 254;
/// The longest part of an email address before the `@` (RFC 5321).
pub const EMAIL_LOCAL_MAX: usize = 64;
/// The longest label of a domain name (RFC 1035).
pub const DOMAIN_LABEL_MAX: usize = 63;
/// The longest given or family name of a person.
pub const PERSON_NAME_MAX: usize = 100;
/// The longest name of an agency or a project.
pub const ORGANISATION_NAME_MAX: usize = 200;
/// The longest note on an access request (longer notes are cut).
pub const REQUEST_NOTE_MAX: usize = 4000;

/// What [`required_text`] accepts, as a regular expression (ECMA-262, Python and Rust `regex`
/// read it alike): at least one character that is neither white space nor a control
/// character, and no control character. The length is checked separately.
pub const REQUIRED_TEXT_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$";

/// An email address as the API accepts it, as a regular expression: a dot-atom local part
/// (letters, digits and ``!#$%&'*+/=?^_`{|}~-``, dots only between them), `@`, and a domain
/// of two or more labels of letters, digits and inner hyphens. [`Email::parse`] checks the
/// lengths (local part, labels, whole address).
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/// An email address, trimmed and lower-cased. Only the shape is checked: one `@`, a
/// local part of at most 64 characters without a leading, trailing or doubled dot, and a
/// domain of two or more non-empty labels of at most 63 characters, with no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an email address".into());
        }
        if s.chars().count() > EMAIL_MAX {
            return Err(format!(
                "An email address is at most {EMAIL_MAX} characters"
            ));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("Enter an email address like name@agency.org".into());
        };
        let ok = !local.is_empty()
            && local.chars().count() <= EMAIL_LOCAL_MAX
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().count() <= DOMAIN_LABEL_MAX)
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s))
        } else {
            Err("Enter an email address like name@agency.org".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A HUD Continuum of Care code: two capital letters, a hyphen, three digits (`IL-510`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CocCode(String);

impl CocCode {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim().to_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 6
            && b[0].is_ascii_uppercase()
            && b[1].is_ascii_uppercase()
            && b[2] == b'-'
            && b[3..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(Self(s))
        } else {
            Err(format!(
                "\u{201c}{}\u{201d} is not a CoC code: use two letters, a hyphen and three digits, like IL-510",
                input.trim()
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for CocCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<CocCode> for String {
    fn from(c: CocCode) -> Self {
        c.0
    }
}
impl fmt::Display for CocCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest [`Slug`].
pub const SLUG_MAX: usize = 64;

/// A short lower-case identifier for URLs and catalogues: `a-z`, `0-9`, `-`, `_`, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim().to_lowercase();
        if s.is_empty() || s.len() > SLUG_MAX {
            return Err("Use 1 to 64 characters".into());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err("Use only letters, digits, hyphens and underscores".into());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Slug> for String {
    fn from(c: Slug) -> Self {
        c.0
    }
}
impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A required single-line text, trimmed, 1..=max characters.
pub fn required_text(
    field: &str,
    label: &str,
    input: &str,
    max: usize,
) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, format!("Enter {label}")));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{} must be at most {max} characters", capitalise(label)),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{} cannot contain control characters", capitalise(label)),
        ));
    }
    Ok(s.to_string())
}

fn capitalise(s: &str) -> String {
    let s = s
        .strip_prefix("a ")
        .or_else(|| s.strip_prefix("an "))
        .or_else(|| s.strip_prefix("the "))
        .unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Ana@Agency.ORG ").unwrap().as_str(),
            "ana@agency.org"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "ana@org",
            "a b@x.org",
            "a@b@c.org",
            "a@.org",
            "a@b..org",
            ".a@b.org",
            "a.@b.org",
            "a..b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
        let local = "a".repeat(EMAIL_LOCAL_MAX);
        assert!(Email::parse(&format!("{local}@b.org")).is_ok());
        assert!(Email::parse(&format!("{local}a@b.org")).is_err());
        let label = "b".repeat(DOMAIN_LABEL_MAX);
        assert!(Email::parse(&format!("a@{label}.org")).is_ok());
        for bad in [
            format!("a@{label}b.org"),
            format!("a@{}.org", "b".repeat(EMAIL_MAX)),
        ] {
            assert!(Email::parse(&bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn coc_codes() {
        assert_eq!(CocCode::parse("il-510").unwrap().as_str(), "IL-510");
        for bad in ["IL510", "I-510", "IL-51", "IL-5100", "12-345", "IL_510"] {
            assert!(CocCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn required_text_messages() {
        assert_eq!(
            required_text("name", "a name", "  ", 10)
                .unwrap_err()
                .message,
            "Enter a name"
        );
        assert_eq!(
            required_text("name", "a name", "abcdefghijk", 10)
                .unwrap_err()
                .message,
            "Name must be at most 10 characters"
        );
        assert_eq!(required_text("name", "a name", " Ok ", 10).unwrap(), "Ok");
    }

    proptest! {
        #[test]
        fn any_valid_coc_round_trips(a in "[A-Z]{2}", n in 0u32..1000) {
            let code = format!("{a}-{n:03}");
            let parsed = CocCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn parsed_emails_are_stable(s in "[a-z0-9_]{1,10}(\\.[a-z0-9_]{1,9})?@[a-z0-9]{1,10}\\.[a-z]{2,5}") {
            let once = Email::parse(&s).unwrap();
            let twice = Email::parse(once.as_str()).unwrap();
            prop_assert_eq!(once.as_str(), twice.as_str());
        }
    }
}
