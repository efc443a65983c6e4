//! Agreements: versioned documents with ordered signers. Each signature records the
//! SHA-256 of the exact text signed, so a changed text never invalidates what was signed
//! but is detected; new signatures follow the new version.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Kinds of agreement Onramp knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    EndUser,
    SecurityAwareness,
    StaffVerification,
    AgencyParticipation,
    Other,
}

impl AgreementKind {
    pub const ALL: [AgreementKind; 5] = [
        Self::EndUser,
        Self::SecurityAwareness,
        Self::StaffVerification,
        Self::AgencyParticipation,
        Self::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndUser => "end_user",
            Self::SecurityAwareness => "security_awareness",
            Self::StaffVerification => "staff_verification",
            Self::AgencyParticipation => "agency_participation",
            Self::Other => "other",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::EndUser => "End-user agreement",
            Self::SecurityAwareness => "Security awareness agreement",
            Self::StaffVerification => "Staff verification (background check attestation)",
            Self::AgencyParticipation => "Agency participation agreement",
            Self::Other => "Other agreement",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who signs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    /// The person the agreement is about (the new user).
    User,
    /// The agency's supervisor (or an agency administrator).
    Supervisor,
    AgencyAdministrator,
    ExecutiveDirector,
    /// Lead admin or training coordinator.
    Lead,
}

impl SignerRole {
    pub const ALL: [SignerRole; 5] = [
        Self::User,
        Self::Supervisor,
        Self::AgencyAdministrator,
        Self::ExecutiveDirector,
        Self::Lead,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Supervisor => "supervisor",
            Self::AgencyAdministrator => "agency_administrator",
            Self::ExecutiveDirector => "executive_director",
            Self::Lead => "lead",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Supervisor => "Supervisor",
            Self::AgencyAdministrator => "Agency administrator",
            Self::ExecutiveDirector => "Executive director",
            Self::Lead => "HMIS Lead",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// The SHA-256 of an agreement text, as hex: what a signature commits to.
pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Parses a comma-separated signer order, e.g. `user, agency_administrator, executive_director`.
pub fn parse_signers(s: &str) -> Result<Vec<SignerRole>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let r = SignerRole::parse(part).ok_or_else(|| format!("{part:?} is not a signer: use user, supervisor, agency_administrator, executive_director or lead"))?;
        if out.contains(&r) {
            return Err(format!("{part} is listed twice"));
        }
        out.push(r);
    }
    if out.is_empty() {
        return Err("Name at least one signer".into());
    }
    Ok(out)
}

/// Whose turn it is: the first signer role without a signature, if any.
pub fn next_signer(order: &[SignerRole], signed: &[SignerRole]) -> Option<SignerRole> {
    order.iter().copied().find(|r| !signed.contains(r))
}

/// Whether a stored signature still matches the text it claims to have signed.
pub fn signature_matches(stored_text: &str, signed_hash: &str) -> bool {
    text_hash(stored_text) == signed_hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signers_in_order() {
        let order = parse_signers("user, agency_administrator, executive_director").unwrap();
        assert_eq!(next_signer(&order, &[]), Some(SignerRole::User));
        assert_eq!(
            next_signer(&order, &[SignerRole::User]),
            Some(SignerRole::AgencyAdministrator)
        );
        assert_eq!(next_signer(&order, &order), None);
        assert!(parse_signers("user, user").is_err());
        assert!(parse_signers("boss").is_err());
        assert!(parse_signers(" ").is_err());
    }

    #[test]
    fn a_changed_text_is_detected() {
        let h = text_hash("I agree.");
        assert!(signature_matches("I agree.", &h));
        assert!(!signature_matches("I agree!", &h));
    }
}
