//! The audit chain: every event carries an HMAC-SHA256, under a key kept outside the
//! database, over its predecessor's hash and its own fields. An edited or deleted row
//! breaks the chain at a place that can be named, and someone who can write the database
//! but does not hold the key cannot recompute the chain after an edit.

use hmac::{Hmac, Mac};
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

/// The secret that keys the audit chain. It is kept outside the database (a file in the
/// data directory, or a setting), so that writing the database is not enough to forge
/// the chain. Its text is the key: at least [`AuditKey::MIN_LEN`] characters.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(Vec<u8>);

impl AuditKey {
    /// The shortest key accepted, in bytes (a generated key has 64 hex digits).
    pub const MIN_LEN: usize = 32;

    /// A key from its text (surrounding white space, such as a file's final new line, is
    /// not part of it).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.len() < Self::MIN_LEN {
            return Err(format!(
                "the audit key must be at least {} characters long (a generated one has 64 hex digits)",
                Self::MIN_LEN
            ));
        }
        Ok(Self(t.as_bytes().to_vec()))
    }

    /// A key from 32 random bytes, as its 64-hex-digit text.
    pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
        Self(hex::encode(bytes).into_bytes())
    }

    /// The key's text, to write to a key file.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// A short name of the key that does not reveal it (the first 16 hex digits of an
    /// HMAC of a fixed text), to tell two keys apart.
    pub fn fingerprint(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"onramp audit key fingerprint");
        hex::encode(mac.finalize().into_bytes())[..16].to_string()
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        }
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.fingerprint())
    }
}

/// HMAC-SHA256 under `key` over the previous hash and an unambiguous encoding of the fields.
pub fn event_hash(key: &AuditKey, prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut mac = key.mac();
    feed(&mut mac, prev_hash, f);
    hex::encode(mac.finalize().into_bytes())
}

/// The unkeyed SHA-256 the chain used before it had a key. Anyone can compute it, so a
/// row whose hash is this (and not [`event_hash`]) was rewritten by someone without the
/// key, or written before there was one.
pub fn unkeyed_event_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    feed(&mut h, prev_hash, f);
    hex::encode(h.finalize())
}

fn feed(h: &mut impl Absorb, prev_hash: &str, f: &AuditFields<'_>) {
    h.put(prev_hash.as_bytes());
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
        h.put(&(part.len() as u64).to_be_bytes());
        h.put(part.as_bytes());
    }
}

/// What [`feed`] writes into: a keyed or a plain hash.
trait Absorb {
    fn put(&mut self, bytes: &[u8]);
}

impl Absorb for Hmac<Sha256> {
    fn put(&mut self, bytes: &[u8]) {
        Mac::update(self, bytes);
    }
}

impl Absorb for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        Digest::update(self, bytes);
    }
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
    /// The row's hash is the unkeyed SHA-256 of its contents: someone without the key
    /// rewrote it and recomputed the chain (or it was written before the chain had a key).
    Unkeyed { id: i64, seq: i64 },
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
    /// The chain head's hash is not the last row's hash.
    HeadMismatch { seq: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Edited { id, seq } => write!(f, "audit event id {id} (seq {seq}) was edited: its contents do not match its hash under the audit key"),
            Self::Unkeyed { id, seq } => write!(f, "audit event id {id} (seq {seq}) was edited: its hash was recomputed without the audit key (plain SHA-256)"),
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
            Self::HeadMismatch { seq } => write!(
                f,
                "the chain head's hash is not the hash of its last audit event (seq {seq}): the head was rewritten"
            ),
        }
    }
}

/// Streaming verifier: feed events in `seq` order, then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    key: AuditKey,
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
    pub problems: Vec<ChainProblem>,
}

impl ChainVerifier {
    /// A verifier of a chain keyed with `key`.
    pub fn new(key: &AuditKey) -> Self {
        Self {
            key: key.clone(),
            prev_hash: GENESIS.to_string(),
            next_seq: 1,
            checked: 0,
            problems: Vec::new(),
        }
    }

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
        if event_hash(&self.key, &e.prev_hash, &e.fields()) != e.hash {
            let problem = if unkeyed_event_hash(&e.prev_hash, &e.fields()) == e.hash {
                ChainProblem::Unkeyed {
                    id: e.id,
                    seq: e.seq,
                }
            } else {
                ChainProblem::Edited {
                    id: e.id,
                    seq: e.seq,
                }
            };
            self.problems.push(problem);
        }
        self.prev_hash = e.hash.clone();
        self.next_seq = e.seq + 1;
    }

    /// `head_seq` and `head_hash` are what the chain head says was written last.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> Vec<ChainProblem> {
        let last = self.next_seq - 1;
        if head_seq != last {
            self.problems.push(ChainProblem::Truncated {
                last_seq: last,
                head_seq,
            });
        } else if head_hash != self.prev_hash {
            self.problems
                .push(ChainProblem::HeadMismatch { seq: head_seq });
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::parse("a test key of thirty-two characters!").unwrap()
    }

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
                e.hash = event_hash(&key(), &prev, &e.fields());
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[StoredEvent], head: i64) -> Vec<ChainProblem> {
        let head_hash = events
            .iter()
            .find(|e| e.seq == head)
            .map(|e| e.hash.clone())
            .unwrap_or_else(|| GENESIS.into());
        verify_with(&key(), events, head, &head_hash)
    }

    fn verify_with(
        key: &AuditKey,
        events: &[StoredEvent],
        head: i64,
        head_hash: &str,
    ) -> Vec<ChainProblem> {
        let mut v = ChainVerifier::new(key);
        events.iter().for_each(|e| v.push(e));
        v.finish(head, head_hash)
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
        c[1].hash = event_hash(&key(), &c[1].prev_hash, &c[1].fields());
        assert_eq!(verify(&c, 4), vec![ChainProblem::Broken { id: 30, seq: 3 }]);
    }

    /// Rewrites event `at` and recomputes it and every later link with `hash`, as someone
    /// who can write the database would; gives the new head hash.
    fn rewrite_and_rechain(
        c: &mut [StoredEvent],
        at: usize,
        hash: impl Fn(&str, &AuditFields<'_>) -> String,
    ) -> String {
        c[at].summary = "{\"forged\":true}".into();
        for i in at..c.len() {
            if i > 0 {
                c[i].prev_hash = c[i - 1].hash.clone();
            }
            c[i].hash = hash(&c[i].prev_hash, &c[i].fields());
        }
        c[c.len() - 1].hash.clone()
    }

    #[test]
    fn a_chain_recomputed_without_the_key_is_named() {
        let mut c = chain(4);
        let head = rewrite_and_rechain(&mut c, 1, unkeyed_event_hash);
        let problems = verify_with(&key(), &c, 4, &head);
        assert_eq!(problems[0], ChainProblem::Unkeyed { id: 20, seq: 2 });
        assert_eq!(problems.len(), 3, "every recomputed event is named");
        assert!(problems[0].to_string().contains("without the audit key"));
    }

    #[test]
    fn a_chain_recomputed_with_another_key_is_named() {
        let other = AuditKey::parse("somebody else's key, 32+ characters").unwrap();
        let mut c = chain(4);
        let head = rewrite_and_rechain(&mut c, 2, |p, f| event_hash(&other, p, f));
        assert_eq!(
            verify_with(&key(), &c, 4, &head),
            vec![
                ChainProblem::Edited { id: 30, seq: 3 },
                ChainProblem::Edited { id: 40, seq: 4 }
            ]
        );
        // An intact chain does not verify under another key.
        let intact = chain(2);
        assert_eq!(verify_with(&other, &intact, 2, &intact[1].hash).len(), 2);
    }

    #[test]
    fn a_rewritten_head_is_named() {
        let c = chain(3);
        assert_eq!(
            verify_with(&key(), &c, 3, GENESIS),
            vec![ChainProblem::HeadMismatch { seq: 3 }]
        );
    }

    #[test]
    fn keys_are_long_and_never_printed() {
        assert!(AuditKey::parse("short").is_err());
        let k = AuditKey::from_random_bytes([7; 32]);
        assert_eq!(k.text().len(), 64);
        assert_eq!(AuditKey::parse(&format!("{}\n", k.text())).unwrap(), k);
        assert!(!format!("{k:?}").contains(&k.text()));
        assert_ne!(k.fingerprint(), key().fingerprint());
    }

    #[test]
    fn the_keyed_hash_is_hmac_sha256() {
        // The same encoding as before, under HMAC: changing the key changes every hash.
        let c = chain(1);
        let f = c[0].fields();
        assert_ne!(
            event_hash(&key(), GENESIS, &f),
            unkeyed_event_hash(GENESIS, &f)
        );
        assert_eq!(event_hash(&key(), GENESIS, &f).len(), 64);
    }
}
