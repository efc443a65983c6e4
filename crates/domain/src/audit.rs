//! The audit chain: every event carries the SHA-256 of its predecessor, so an edited or
//! deleted row breaks the chain at a place that can be named.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash of "no previous event".
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an event that the hash covers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub seq: i64,
    pub implementation_id: Option<i64>,
    pub occurred_at: &'a str,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub summary: &'a str,
    pub source_addr: &'a str,
}

/// SHA-256 over the previous hash and an unambiguous encoding of the fields.
pub fn event_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    for part in [
        f.seq.to_string(),
        opt(f.implementation_id),
        f.occurred_at.to_string(),
        opt(f.actor_id),
        f.actor_label.to_string(),
        f.action.to_string(),
        f.subject_type.to_string(),
        opt(f.subject_id),
        f.summary.to_string(),
        f.source_addr.to_string(),
    ] {
        // Length-prefixed, so no two field lists encode alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// A stored event as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub seq: i64,
    pub implementation_id: Option<i64>,
    pub occurred_at: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub summary: String,
    pub source_addr: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    pub fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            seq: self.seq,
            implementation_id: self.implementation_id,
            occurred_at: &self.occurred_at,
            actor_id: self.actor_id,
            actor_label: &self.actor_label,
            action: &self.action,
            subject_type: &self.subject_type,
            subject_id: self.subject_id,
            summary: &self.summary,
            source_addr: &self.source_addr,
        }
    }
}

/// What is wrong with the chain, row by row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChainProblem {
    /// The row's contents no longer match its hash: it was edited.
    Edited { id: i64, seq: i64 },
    /// The row does not follow the one before it: rows were deleted before it.
    Missing {
        before_id: i64,
        expected_seq: i64,
        found_seq: i64,
    },
    /// The row's stored previous hash is not the hash of the row before it.
    Broken { id: i64, seq: i64 },
    /// The chain's recorded head does not match its last row: rows were deleted at the end.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Edited { id, seq } => write!(f, "audit event id {id} (seq {seq}) was edited: its contents do not match its hash"),
            Self::Missing { before_id, expected_seq, found_seq } => write!(
                f,
                "audit events seq {expected_seq}..{} are missing before audit event id {before_id}",
                found_seq - 1
            ),
            Self::Broken { id, seq } => {
                write!(f, "audit event id {id} (seq {seq}) does not chain to the event before it")
            }
            Self::Truncated { last_seq, head_seq } => write!(
                f,
                "audit events after seq {last_seq} are missing: the chain head records seq {head_seq}"
            ),
        }
    }
}

/// Streaming verifier: feed events in `seq` order, then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
    pub problems: Vec<ChainProblem>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS.to_string(),
            next_seq: 1,
            checked: 0,
            problems: Vec::new(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &StoredEvent) {
        self.checked += 1;
        if e.seq != self.next_seq {
            self.problems.push(ChainProblem::Missing {
                before_id: e.id,
                expected_seq: self.next_seq,
                found_seq: e.seq,
            });
        } else if e.prev_hash != self.prev_hash {
            self.problems.push(ChainProblem::Broken {
                id: e.id,
                seq: e.seq,
            });
        }
        if event_hash(&e.prev_hash, &e.fields()) != e.hash {
            self.problems.push(ChainProblem::Edited {
                id: e.id,
                seq: e.seq,
            });
        }
        self.prev_hash = e.hash.clone();
        self.next_seq = e.seq + 1;
    }

    /// `head_seq` is the sequence number the chain head says was written last.
    pub fn finish(mut self, head_seq: i64) -> Vec<ChainProblem> {
        let last = self.next_seq - 1;
        if head_seq != last {
            self.problems.push(ChainProblem::Truncated {
                last_seq: last,
                head_seq,
            });
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEvent> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = StoredEvent {
                    id: seq * 10,
                    seq,
                    implementation_id: Some(1),
                    occurred_at: format!("2026-01-01T00:00:{seq:02}Z"),
                    actor_id: Some(3),
                    actor_label: "Ana".into(),
                    action: "agency.create".into(),
                    subject_type: "agency".into(),
                    subject_id: Some(seq),
                    summary: "{}".into(),
                    source_addr: "127.0.0.1".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = event_hash(&prev, &e.fields());
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[StoredEvent], head: i64) -> Vec<ChainProblem> {
        let mut v = ChainVerifier::default();
        events.iter().for_each(|e| v.push(e));
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        assert!(verify(&chain(5), 5).is_empty());
        assert!(verify(&[], 0).is_empty());
    }

    #[test]
    fn edit_is_named() {
        let mut c = chain(5);
        c[2].summary = "{\"changed\":true}".into();
        assert_eq!(verify(&c, 5), vec![ChainProblem::Edited { id: 30, seq: 3 }]);
    }

    #[test]
    fn deletion_in_the_middle_and_at_the_end_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c, 5),
            vec![ChainProblem::Missing {
                before_id: 30,
                expected_seq: 2,
                found_seq: 3
            }]
        );
        let c = chain(5);
        assert_eq!(
            verify(&c[..4], 5),
            vec![ChainProblem::Truncated {
                last_seq: 4,
                head_seq: 5
            }]
        );
    }

    #[test]
    fn rewriting_a_row_with_a_fresh_hash_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].summary = "forged".into();
        c[1].hash = event_hash(&c[1].prev_hash, &c[1].fields());
        assert_eq!(verify(&c, 4), vec![ChainProblem::Broken { id: 30, seq: 3 }]);
    }
}
