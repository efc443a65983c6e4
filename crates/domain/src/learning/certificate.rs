//! Certificates: what completing a course or a plan earns, the code anyone can check it
//! with, and whether it still holds.
//!
//! A [`VerificationCode`] is printed on the certificate and typed by people into the public
//! verification page, so it is written in Crockford's base 32 (no I, L, O or U), in groups
//! of four, and read back whatever the case, spacing or dashes, with the letters people
//! confuse with digits taken for those digits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::values::Slug;

/// Crockford's base-32 alphabet: digits, then the letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code: 12 × 5 = 60 random bits.
pub const CODE_SYMBOLS: usize = 12;
/// Symbols per printed group.
const GROUP: usize = 4;
/// The random bytes a code is made from (the low 60 bits of them are used).
pub const CODE_RANDOM_BYTES: usize = 8;
/// Longer input than this is not read at all.
const INPUT_MAX: usize = 64;

/// The code a certificate is checked with, as printed: `7KQ2-M9XD-4TRB`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VerificationCode(String);

impl VerificationCode {
    /// A code from random bytes (the caller's source of randomness: the domain has none).
    /// Every 60-bit value gives a different code.
    pub fn from_random_bytes(bytes: [u8; CODE_RANDOM_BYTES]) -> Self {
        let value = u64::from_be_bytes(bytes);
        let mut symbols = [0u8; CODE_SYMBOLS];
        for (i, s) in symbols.iter_mut().enumerate() {
            let shift = 5 * (CODE_SYMBOLS - 1 - i);
            *s = ALPHABET[((value >> shift) & 0x1f) as usize];
        }
        Self(grouped(&symbols))
    }

    /// Reads a code as a person typed it: any case, with or without spaces and dashes,
    /// O read as 0 and I or L as 1.
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.trim().is_empty() {
            return Err("Enter the verification code".into());
        }
        if input.len() > INPUT_MAX {
            return Err(format!(
                "A verification code has {CODE_SYMBOLS} letters and digits, like 7KQ2-M9XD-4TRB"
            ));
        }
        let mut symbols = Vec::with_capacity(CODE_SYMBOLS);
        for ch in input.chars() {
            if ch.is_whitespace() || matches!(ch, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}') {
                continue;
            }
            match symbol(ch) {
                Some(s) => symbols.push(s),
                None => {
                    return Err(
                        "A verification code has only the letters and digits printed on the certificate"
                            .into(),
                    )
                }
            }
        }
        if symbols.len() != CODE_SYMBOLS {
            return Err(format!(
                "A verification code has {CODE_SYMBOLS} letters and digits, like 7KQ2-M9XD-4TRB"
            ));
        }
        Ok(Self(grouped(&symbols)))
    }

    /// The code as printed, with its dashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The symbol a typed character stands for, if any.
fn symbol(ch: char) -> Option<u8> {
    let up = ch.to_ascii_uppercase();
    let mapped = match up {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    let b = u8::try_from(mapped).ok()?;
    ALPHABET.contains(&b).then_some(b)
}

fn grouped(symbols: &[u8]) -> String {
    let mut out = String::with_capacity(symbols.len() + symbols.len() / GROUP);
    for (i, s) in symbols.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(char::from(*s));
    }
    out
}

impl TryFrom<String> for VerificationCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<VerificationCode> for String {
    fn from(c: VerificationCode) -> Self {
        c.0
    }
}
impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a certificate holds at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Valid,
    /// Its validity ended.
    Expired,
    /// Withdrawn by the HMIS Lead.
    Revoked,
}

impl CertificateStatus {
    /// The status at `now`: revoked once revoked, else expired from `valid_until` on, else
    /// valid. A certificate with no `valid_until` does not expire.
    pub fn at(
        valid_until: Option<DateTime<Utc>>,
        revoked_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        if revoked_at.is_some() {
            CertificateStatus::Revoked
        } else if valid_until.is_some_and(|until| now >= until) {
            CertificateStatus::Expired
        } else {
            CertificateStatus::Valid
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Valid => "Valid",
            Self::Expired => "Expired",
            Self::Revoked => "Revoked",
        }
    }
}

/// What a certificate certifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertificateSubject {
    /// One version of a course, completed.
    Course { key: Slug, version: i32 },
    /// A person's training plan complete: all of it (`None`) or a named part.
    Plan { part: Option<String> },
}

impl CertificateSubject {
    pub const COURSE: &'static str = "course";
    pub const PLAN: &'static str = "plan";

    /// `course` or `plan`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Course { .. } => Self::COURSE,
            Self::Plan { .. } => Self::PLAN,
        }
    }

    /// Which course version or part of the plan, as stored: `intro-hmis:2`; a plan's part,
    /// or empty for the whole plan. With [`Self::kind`], it names the subject uniquely.
    pub fn reference(&self) -> String {
        match self {
            Self::Course { key, version } => format!("{key}:{version}"),
            Self::Plan { part } => part.clone().unwrap_or_default(),
        }
    }

    /// Reads back what [`Self::kind`] and [`Self::reference`] stored.
    pub fn from_stored(kind: &str, reference: &str) -> Result<Self, String> {
        match kind {
            Self::COURSE => {
                let (key, version) = reference.rsplit_once(':').ok_or_else(|| {
                    format!("a course certificate names key:version, not {reference:?}")
                })?;
                let version = version
                    .parse::<i32>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .ok_or_else(|| format!("not a course version: {version:?}"))?;
                Ok(Self::Course {
                    key: Slug::parse(key)?,
                    version,
                })
            }
            Self::PLAN => Ok(Self::Plan {
                part: (!reference.is_empty()).then(|| reference.to_string()),
            }),
            other => Err(format!("not a kind of certificate: {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    #[test]
    fn codes_are_printed_in_groups_of_four() {
        let c = VerificationCode::from_random_bytes([0; 8]);
        assert_eq!(c.as_str(), "0000-0000-0000");
        let c = VerificationCode::from_random_bytes([0xff; 8]);
        assert_eq!(c.as_str(), "ZZZZ-ZZZZ-ZZZZ");
        let c = VerificationCode::from_random_bytes(1u64.to_be_bytes());
        assert_eq!(c.as_str(), "0000-0000-0001");
        let c = VerificationCode::from_random_bytes(32u64.to_be_bytes());
        assert_eq!(c.as_str(), "0000-0000-0010");
        // Only the low 60 bits count; the top four are dropped.
        assert_eq!(
            VerificationCode::from_random_bytes((0xf000_0000_0000_0001u64).to_be_bytes()),
            VerificationCode::from_random_bytes(1u64.to_be_bytes())
        );
    }

    #[test]
    fn typed_codes_are_read_kindly() {
        let want = VerificationCode::parse("7KQ2-M9XD-4TRB").unwrap();
        for typed in [
            "7KQ2-M9XD-4TRB",
            "7kq2-m9xd-4trb",
            "7KQ2M9XD4TRB",
            " 7KQ2 M9XD 4TRB ",
            "7kq2 - m9xd - 4trb",
            "7KQ2\u{2013}M9XD\u{2013}4TRB",
        ] {
            assert_eq!(
                VerificationCode::parse(typed).as_ref(),
                Ok(&want),
                "{typed:?}"
            );
        }
        // O is read as zero, I and L as one.
        assert_eq!(
            VerificationCode::parse("OIL0-ilo1-0000").unwrap().as_str(),
            "0110-1101-0000"
        );
    }

    #[test]
    fn what_is_not_a_code_says_why() {
        assert_eq!(
            VerificationCode::parse("  ").unwrap_err(),
            "Enter the verification code"
        );
        for short_or_long in ["7KQ2-M9XD", "7KQ2-M9XD-4TRB-A", &"7".repeat(100)] {
            assert!(
                VerificationCode::parse(short_or_long)
                    .unwrap_err()
                    .contains("12 letters and digits"),
                "{short_or_long:?}"
            );
        }
        for foreign in [
            "7KQ2-M9XD-4TRU",
            "7KQ2-M9XD-4TR!",
            "7KQ2-M9XD-4TRé",
            "7KQ2_M9XD_4TRB",
        ] {
            assert!(
                VerificationCode::parse(foreign)
                    .unwrap_err()
                    .contains("only the letters and digits"),
                "{foreign:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn every_code_reads_back_however_it_is_typed(bytes in any::<[u8; 8]>(), lower in any::<bool>(), dashes in any::<bool>()) {
            let code = VerificationCode::from_random_bytes(bytes);
            prop_assert_eq!(code.as_str().len(), 14);
            let mut typed = code.as_str().to_string();
            if lower { typed = typed.to_lowercase(); }
            if !dashes { typed = typed.replace('-', ""); }
            prop_assert_eq!(VerificationCode::parse(&typed), Ok(code));
        }

        #[test]
        fn different_random_bits_make_different_codes(a in any::<u64>(), b in any::<u64>()) {
            let mask = (1u64 << 60) - 1;
            prop_assume!(a & mask != b & mask);
            prop_assert_ne!(
                VerificationCode::from_random_bytes(a.to_be_bytes()),
                VerificationCode::from_random_bytes(b.to_be_bytes())
            );
        }
    }

    fn t(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::days(days)
    }

    #[test]
    fn a_certificate_is_valid_until_it_expires_or_is_revoked() {
        use CertificateStatus::*;
        assert_eq!(CertificateStatus::at(None, None, t(10_000)), Valid);
        assert_eq!(CertificateStatus::at(Some(t(365)), None, t(364)), Valid);
        assert_eq!(CertificateStatus::at(Some(t(365)), None, t(365)), Expired);
        assert_eq!(CertificateStatus::at(Some(t(365)), None, t(400)), Expired);
        assert_eq!(
            CertificateStatus::at(Some(t(365)), Some(t(2)), t(3)),
            Revoked
        );
        assert_eq!(CertificateStatus::at(None, Some(t(2)), t(3)), Revoked);
        assert_eq!(CertificateStatus::at(Some(t(1)), Some(t(2)), t(3)), Revoked);
        assert_eq!(Expired.as_str(), "expired");
        assert_eq!(Revoked.label(), "Revoked");
    }

    #[test]
    fn subjects_are_stored_and_read_back() {
        let course = CertificateSubject::Course {
            key: Slug::parse("intro-hmis").unwrap(),
            version: 2,
        };
        let whole = CertificateSubject::Plan { part: None };
        let part = CertificateSubject::Plan {
            part: Some("online".into()),
        };
        assert_eq!(
            (course.kind(), course.reference().as_str()),
            ("course", "intro-hmis:2")
        );
        assert_eq!((whole.kind(), whole.reference().as_str()), ("plan", ""));
        assert_eq!((part.kind(), part.reference().as_str()), ("plan", "online"));
        for s in [course, whole, part] {
            assert_eq!(
                CertificateSubject::from_stored(s.kind(), &s.reference()),
                Ok(s)
            );
        }
        assert!(CertificateSubject::from_stored("course", "intro-hmis").is_err());
        assert!(CertificateSubject::from_stored("course", "intro-hmis:0").is_err());
        assert!(CertificateSubject::from_stored("course", "Intro HMIS:1").is_err());
        assert!(CertificateSubject::from_stored("badge", "x").is_err());
    }
}
