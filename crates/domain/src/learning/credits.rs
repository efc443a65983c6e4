//! Training credits: an agency's ledger of prepaid paid courses.
//!
//! A credit pays for one paid course (seed 004: "the project-specific courses cost $25
//! each, in which we can either redeem training credits for or an invoice will be sent"):
//! credits are counted in courses, not in money. A pack bought by an agency is recorded
//! with the number of credits, what was paid (cents) and a reference (the payment's or the
//! invoice's number). When a paid course is assigned and the agency has no credit left, the
//! course's price becomes a charge to invoice instead.

use std::fmt;

/// The most credits one grant or purchase may add.
pub const MAX_CREDITS_AT_ONCE: i64 = 10_000;

/// A number of credits that is never negative. Parsed, not validated: a value of this
/// type is a count of credits that a ledger may hold or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct CreditAmount(u32);

impl CreditAmount {
    pub const ZERO: CreditAmount = CreditAmount(0);
    pub const ONE: CreditAmount = CreditAmount(1);

    /// A count from a stored or computed number; None when it is negative or too large.
    pub fn new(n: i64) -> Option<Self> {
        u32::try_from(n).ok().map(CreditAmount)
    }

    /// Reads a positive whole number of credits, as typed in a form ("10"), at most
    /// [`MAX_CREDITS_AT_ONCE`].
    pub fn parse_positive(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter how many credits".into());
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("Enter a whole number of credits, such as 10".into());
        }
        match s.parse::<i64>() {
            Ok(0) => Err("Enter at least 1 credit".into()),
            Ok(n) if n <= MAX_CREDITS_AT_ONCE => Ok(CreditAmount(n as u32)),
            _ => Err(format!(
                "Enter at most {MAX_CREDITS_AT_ONCE} credits at once"
            )),
        }
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for CreditAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1 {
            write!(f, "1 credit")
        } else {
            write!(f, "{} credits", self.0)
        }
    }
}

/// What a paid course costs in credits: one credit per paid course; a free course (no
/// price, or zero) costs nothing and is never drawn for.
pub fn credits_for_price(price_cents: Option<i64>) -> Option<CreditAmount> {
    price_cents.filter(|p| *p > 0).map(|_| CreditAmount::ONE)
}

/// The kinds of movement, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    Granted,
    Bought,
    Drawn,
    Refunded,
}

impl MovementKind {
    pub const ALL: [MovementKind; 4] = [
        MovementKind::Granted,
        MovementKind::Bought,
        MovementKind::Drawn,
        MovementKind::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Granted => "granted",
            MovementKind::Bought => "bought",
            MovementKind::Drawn => "drawn",
            MovementKind::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MovementKind::Granted => "Granted",
            MovementKind::Bought => "Bought",
            MovementKind::Drawn => "Drawn",
            MovementKind::Refunded => "Refunded",
        }
    }

    /// Whether the movement adds to the balance (or takes from it).
    pub fn adds(self) -> bool {
        !matches!(self, MovementKind::Drawn)
    }
}

/// The course assignment a draw or a refund concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub person_id: i64,
    pub course_id: i64,
    pub request_id: i64,
}

/// One movement of an agency's ledger, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Movement {
    /// Given by the HMIS Lead, with the reason.
    Granted {
        credits: CreditAmount,
        reason: String,
    },
    /// A pack the agency paid for, recorded by the HMIS Lead: what was paid and the
    /// payment's reference.
    Bought {
        credits: CreditAmount,
        amount_cents: i64,
        reference: String,
    },
    /// One credit for a paid course assigned to a person of the agency.
    Drawn(Assignment),
    /// A drawn credit given back: the request was withdrawn or closed before the course
    /// was started.
    Refunded(Assignment),
}

impl Movement {
    pub fn kind(&self) -> MovementKind {
        match self {
            Movement::Granted { .. } => MovementKind::Granted,
            Movement::Bought { .. } => MovementKind::Bought,
            Movement::Drawn(_) => MovementKind::Drawn,
            Movement::Refunded(_) => MovementKind::Refunded,
        }
    }

    /// How many credits it moves (a draw or a refund moves one).
    pub fn credits(&self) -> CreditAmount {
        match self {
            Movement::Granted { credits, .. } | Movement::Bought { credits, .. } => *credits,
            Movement::Drawn(_) | Movement::Refunded(_) => CreditAmount::ONE,
        }
    }

    /// The change to the balance, signed.
    pub fn delta(&self) -> i64 {
        if self.kind().adds() {
            self.credits().get()
        } else {
            -self.credits().get()
        }
    }

    pub fn assignment(&self) -> Option<Assignment> {
        match self {
            Movement::Drawn(a) | Movement::Refunded(a) => Some(*a),
            _ => None,
        }
    }

    /// The balance after this movement, or None when it would go below zero (a draw on an
    /// empty ledger) or overflow.
    pub fn apply(&self, balance: CreditAmount) -> Option<CreditAmount> {
        CreditAmount::new(balance.get().checked_add(self.delta())?)
    }
}

/// A charge's status, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeStatus {
    /// To invoice to the requesting agency's administrator.
    Open,
    /// The course was not started and its request was withdrawn or closed.
    Cancelled,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Open => "open",
            ChargeStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ChargeStatus::Open),
            "cancelled" => Some(ChargeStatus::Cancelled),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ChargeStatus::Open => "To invoice",
            ChargeStatus::Cancelled => "Cancelled",
        }
    }
}

/// Checks a ledger: replaying its movements from zero never goes below zero and ends at
/// `balance`. Gives the first movement (by index) where it breaks.
pub fn replay(movements: &[Movement], balance: CreditAmount) -> Result<(), usize> {
    let mut b = CreditAmount::ZERO;
    for (i, m) in movements.iter().enumerate() {
        b = m.apply(b).ok_or(i)?;
    }
    if b == balance {
        Ok(())
    } else {
        Err(movements.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Assignment = Assignment {
        person_id: 1,
        course_id: 2,
        request_id: 3,
    };

    #[test]
    fn credit_amounts_are_positive_whole_numbers() {
        assert_eq!(
            CreditAmount::parse_positive(" 10 ").map(|c| c.get()),
            Ok(10)
        );
        assert!(CreditAmount::parse_positive("").is_err());
        assert!(CreditAmount::parse_positive("0").is_err());
        assert!(CreditAmount::parse_positive("-3").is_err());
        assert!(CreditAmount::parse_positive("2.5").is_err());
        assert!(CreditAmount::parse_positive("ten").is_err());
        assert!(CreditAmount::parse_positive("10001").is_err());
        assert!(CreditAmount::parse_positive("99999999999999999999").is_err());
        assert_eq!(CreditAmount::new(-1), None);
        assert_eq!(CreditAmount::new(0), Some(CreditAmount::ZERO));
        assert_eq!(CreditAmount::ONE.to_string(), "1 credit");
        assert_eq!(CreditAmount::new(3).unwrap().to_string(), "3 credits");
    }

    #[test]
    fn one_credit_pays_for_one_paid_course() {
        assert_eq!(credits_for_price(Some(2500)), Some(CreditAmount::ONE));
        assert_eq!(credits_for_price(Some(9900)), Some(CreditAmount::ONE));
        assert_eq!(credits_for_price(None), None);
        assert_eq!(credits_for_price(Some(0)), None);
    }

    #[test]
    fn a_draw_never_takes_the_balance_below_zero() {
        let draw = Movement::Drawn(A);
        assert_eq!(draw.apply(CreditAmount::ZERO), None);
        assert_eq!(draw.apply(CreditAmount::ONE), Some(CreditAmount::ZERO));
        assert_eq!(
            Movement::Refunded(A).apply(CreditAmount::ZERO),
            Some(CreditAmount::ONE)
        );
        let two = CreditAmount::new(2).unwrap();
        let grant = Movement::Granted {
            credits: two,
            reason: "Pilot".into(),
        };
        assert_eq!(grant.delta(), 2);
        assert_eq!(
            replay(
                &[grant.clone(), draw.clone(), draw.clone()],
                CreditAmount::ZERO
            ),
            Ok(())
        );
        assert_eq!(
            replay(
                &[grant.clone(), draw.clone(), draw.clone(), draw.clone()],
                CreditAmount::ZERO
            ),
            Err(3)
        );
        assert_eq!(replay(&[grant, draw], CreditAmount::ZERO), Err(2));
    }

    #[test]
    fn kinds_read_back() {
        for k in MovementKind::ALL {
            assert_eq!(MovementKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MovementKind::parse("stolen"), None);
        assert_eq!(ChargeStatus::parse("open"), Some(ChargeStatus::Open));
        assert_eq!(ChargeStatus::parse("paid"), None);
    }
}
