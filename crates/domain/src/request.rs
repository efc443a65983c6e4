//! The access request: its states and the moves between them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Submitted and being worked through its steps.
    Open,
    /// Paused by the Lead (waiting for something outside Onramp).
    OnHold,
    /// Saved, but the person belongs elsewhere (another agency, or none): Lead staff decide
    /// whether they move to the request's agency before anything else happens.
    AwaitingMove,
    /// Every step settled: the person holds live credentials.
    Completed,
    Withdrawn,
    /// Refused by the Lead, with a reason.
    Rejected,
    /// A deadline passed.
    Expired,
}

/// What someone asks to do to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMove {
    Hold,
    Resume,
    Withdraw,
    Reject,
    Reopen,
    Complete,
    Expire,
    /// Lead staff approve the person's move to the request's agency: the request goes on.
    ApproveMove,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 7] = [
        Self::Open,
        Self::OnHold,
        Self::AwaitingMove,
        Self::Completed,
        Self::Withdrawn,
        Self::Rejected,
        Self::Expired,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::OnHold => "on_hold",
            Self::AwaitingMove => "awaiting_move",
            Self::Completed => "completed",
            Self::Withdrawn => "withdrawn",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "In progress",
            Self::OnHold => "On hold",
            Self::AwaitingMove => "Waiting for the HMIS Lead (agency change)",
            Self::Completed => "Completed",
            Self::Withdrawn => "Withdrawn",
            Self::Rejected => "Rejected",
            Self::Expired => "Expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Still being worked (counts as a duplicate for a new request).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Open | Self::OnHold | Self::AwaitingMove)
    }

    /// The statuses of requests still being worked, as stored (the queue's default).
    pub fn live_names() -> Vec<String> {
        Self::ALL
            .into_iter()
            .filter(|s| s.is_live())
            .map(|s| s.as_str().to_string())
            .collect()
    }

    /// The state after a move, or why the move is not possible now.
    pub fn apply(self, m: RequestMove) -> Result<RequestStatus, String> {
        use RequestMove as M;
        use RequestStatus as S;
        match (self, m) {
            (S::Open, M::Hold) => Ok(S::OnHold),
            (S::OnHold, M::Resume) => Ok(S::Open),
            (S::Open | S::OnHold | S::AwaitingMove, M::Withdraw) => Ok(S::Withdrawn),
            (S::Open | S::OnHold | S::AwaitingMove, M::Reject) => Ok(S::Rejected),
            (S::AwaitingMove, M::ApproveMove) => Ok(S::Open),
            (S::Open, M::Complete) => Ok(S::Completed),
            (S::Open, M::Expire) => Ok(S::Expired),
            (S::Withdrawn | S::Rejected | S::Expired, M::Reopen) => Ok(S::Open),
            (s, m) => Err(format!(
                "A request that is {} cannot be {}",
                s.label().to_lowercase(),
                move_word(m)
            )),
        }
    }
}

fn move_word(m: RequestMove) -> &'static str {
    match m {
        RequestMove::Hold => "put on hold",
        RequestMove::Resume => "resumed",
        RequestMove::Withdraw => "withdrawn",
        RequestMove::Reject => "rejected",
        RequestMove::Reopen => "reopened",
        RequestMove::Complete => "completed",
        RequestMove::Expire => "expired",
        RequestMove::ApproveMove => "moved to its agency",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestMove as M;
    use RequestStatus as S;

    #[test]
    fn moves() {
        assert_eq!(S::Open.apply(M::Hold), Ok(S::OnHold));
        assert_eq!(S::OnHold.apply(M::Resume), Ok(S::Open));
        assert_eq!(S::Rejected.apply(M::Reopen), Ok(S::Open));
        assert_eq!(S::Expired.apply(M::Reopen), Ok(S::Open));
        assert!(S::Completed.apply(M::Reopen).is_err());
        assert!(S::Completed.apply(M::Withdraw).is_err());
        assert_eq!(
            S::OnHold.apply(M::Complete).unwrap_err(),
            "A request that is on hold cannot be completed"
        );
    }

    #[test]
    fn a_request_awaiting_a_move_waits_for_the_lead() {
        assert!(S::AwaitingMove.is_live());
        assert_eq!(S::AwaitingMove.apply(M::ApproveMove), Ok(S::Open));
        assert_eq!(S::AwaitingMove.apply(M::Reject), Ok(S::Rejected));
        assert_eq!(S::AwaitingMove.apply(M::Withdraw), Ok(S::Withdrawn));
        assert!(S::AwaitingMove.apply(M::Hold).is_err());
        assert!(S::AwaitingMove.apply(M::Complete).is_err());
        assert!(S::AwaitingMove.apply(M::Expire).is_err());
        assert!(S::Open.apply(M::ApproveMove).is_err());
        assert_eq!(
            S::live_names(),
            vec!["open".to_string(), "on_hold".into(), "awaiting_move".into()]
        );
    }

    #[test]
    fn every_state_parses_its_name() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }
}
