//! The payload of an `email` outbox message.

use onramp_store::OutboxMessage;
use serde::{Deserialize, Serialize};

/// The outbox `kind` of an email.
pub const KIND_EMAIL: &str = "email";

/// The JSON stored in an `email` outbox message's `payload`:
/// `{"to": "a@b.org", "subject": "...", "text": "...", "html": "..."}`.
///
/// `html` may be absent, `null` or empty, and the message is then plain text only.
/// Other fields (such as the template key) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPayload {
    /// The recipient's address; when missing, the row's `recipient` is used.
    #[serde(default)]
    pub to: String,
    /// When missing, the row's `subject` is used.
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl EmailPayload {
    /// Reads the payload of an outbox row, filling `to` and `subject` from the row when
    /// the JSON leaves them out.
    pub fn from_outbox(m: &OutboxMessage) -> Result<Self, serde_json::Error> {
        let mut p: EmailPayload = serde_json::from_str(&m.payload)?;
        if p.to.trim().is_empty() {
            p.to = m.recipient.clone();
        }
        if p.subject.trim().is_empty() {
            p.subject = m.subject.clone();
        }
        Ok(p)
    }

    /// The HTML body, if there is a non-empty one.
    pub fn html_body(&self) -> Option<&str> {
        self.html.as_deref().filter(|h| !h.trim().is_empty())
    }

    /// This payload as the JSON to store in the outbox.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_may_be_absent_null_or_empty() {
        for json in [
            r#"{"to":"a@b.org","subject":"s","text":"t"}"#,
            r#"{"to":"a@b.org","subject":"s","text":"t","html":null}"#,
            r#"{"to":"a@b.org","subject":"s","text":"t","html":"  "}"#,
        ] {
            let p: EmailPayload = serde_json::from_str(json).unwrap();
            assert_eq!(p.html_body(), None, "{json}");
        }
        let p: EmailPayload = serde_json::from_str(
            r#"{"to":"a@b.org","subject":"s","text":"t","html":"<p>x</p>","template":"k"}"#,
        )
        .unwrap();
        assert_eq!(p.html_body(), Some("<p>x</p>"));
    }
}
