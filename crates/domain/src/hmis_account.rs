//! The live account in the HMIS itself, as Onramp records it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HmisAccountStatus {
    /// Proposed by Onramp; not yet created in the HMIS.
    Pending,
    Active,
    Suspended,
    Deactivated,
}

impl HmisAccountStatus {
    pub const ALL: [HmisAccountStatus; 4] = [
        Self::Pending,
        Self::Active,
        Self::Suspended,
        Self::Deactivated,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deactivated => "deactivated",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
            Self::Suspended => "Suspended",
            Self::Deactivated => "Deactivated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
    /// Whether an account may go from this status to `to`.
    pub fn may_become(self, to: HmisAccountStatus) -> bool {
        use HmisAccountStatus as S;
        matches!(
            (self, to),
            (S::Pending, S::Active)
                | (S::Pending, S::Deactivated)
                | (S::Active, S::Suspended)
                | (S::Active, S::Deactivated)
                | (S::Suspended, S::Active)
                | (S::Suspended, S::Deactivated)
                | (S::Deactivated, S::Active)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HmisAccountStatus as S;

    #[test]
    fn transitions() {
        assert!(S::Pending.may_become(S::Active));
        assert!(S::Active.may_become(S::Suspended));
        assert!(S::Suspended.may_become(S::Active));
        assert!(!S::Pending.may_become(S::Suspended));
        assert!(!S::Active.may_become(S::Active));
        assert!(S::Deactivated.may_become(S::Active));
    }
}
