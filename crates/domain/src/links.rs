//! One-time links (invitations, password resets) in the text of a message, and their masking.
//!
//! A one-time link is `<base>/invitation/<token>` or `<base>/password-reset/<token>`, the
//! token being URL-safe base64. Once a message is delivered, the copy Onramp keeps has the
//! token replaced with [`MASKED`], so that nobody reading the outbox later can use it.

/// The path segment of an invitation link, with its slashes.
pub const INVITATION_PATH: &str = "/invitation/";
/// The path segment of a password-reset link, with its slashes.
pub const PASSWORD_RESET_PATH: &str = "/password-reset/";
/// Both kinds.
pub const ONE_TIME_PATHS: [&str; 2] = [INVITATION_PATH, PASSWORD_RESET_PATH];
/// What stands in a masked link instead of its token.
pub const MASKED: &str = "[removed-after-delivery]";
/// What stands in a link hidden from the reader of the outbox (the link is still live).
pub const HIDDEN: &str = "[hidden]";

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The tokens that follow `path` in `text`, in order.
pub fn tokens_after<'a>(text: &'a str, path: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(path) {
        rest = &rest[i + path.len()..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        if end > 0 {
            out.push(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out
}

/// Replaces the token after every `path` in `text` for which `replace` gives a stand-in;
/// tokens for which it gives None stay. A stand-in must not start with a token character,
/// so that replacing again changes nothing.
pub fn replace_tokens(
    text: &str,
    path: &str,
    mut replace: impl FnMut(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(path) {
        out.push_str(&rest[..i + path.len()]);
        rest = &rest[i + path.len()..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        match (end > 0).then(|| replace(token)).flatten() {
            Some(stand_in) => out.push_str(&stand_in),
            None => out.push_str(token),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` with every token after one of `paths` replaced by `stand_in`.
pub fn mask(text: &str, paths: &[&str], stand_in: &str) -> String {
    let mut out = text.to_string();
    for p in paths {
        out = replace_tokens(&out, p, |_| Some(stand_in.to_string()));
    }
    out
}

/// Whether `text` holds a token after one of `paths`.
pub fn has_token(text: &str, paths: &[&str]) -> bool {
    paths.iter().any(|p| !tokens_after(text, p).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    // As stored: JSON text, where a new line is a backslash and an n.
    const STORED: &str = r#"{"text":"Open http://x/invitation/AbC_-9\nor http://x/password-reset/Zz9","html":"<a href=\"http://x/invitation/AbC_-9\">"}"#;

    #[test]
    fn masks_every_token_and_nothing_else() {
        let m = mask(STORED, &ONE_TIME_PATHS, MASKED);
        assert_eq!(
            m,
            r#"{"text":"Open http://x/invitation/[removed-after-delivery]\nor http://x/password-reset/[removed-after-delivery]","html":"<a href=\"http://x/invitation/[removed-after-delivery]\">"}"#
        );
        assert!(!has_token(&m, &ONE_TIME_PATHS));
        assert!(has_token(STORED, &[INVITATION_PATH]));
    }

    #[test]
    fn masking_twice_changes_nothing() {
        let once = mask(STORED, &ONE_TIME_PATHS, MASKED);
        assert_eq!(mask(&once, &ONE_TIME_PATHS, MASKED), once);
        let hidden = mask(STORED, &ONE_TIME_PATHS, HIDDEN);
        assert_eq!(mask(&hidden, &ONE_TIME_PATHS, HIDDEN), hidden);
    }

    #[test]
    fn only_the_kinds_asked_for() {
        let m = mask(STORED, &[PASSWORD_RESET_PATH], MASKED);
        assert!(m.contains("/invitation/AbC_-9"));
        assert!(!m.contains("Zz9"));
        assert_eq!(
            tokens_after(STORED, INVITATION_PATH),
            vec!["AbC_-9", "AbC_-9"]
        );
    }

    #[test]
    fn a_replacement_can_keep_some_tokens() {
        let m = replace_tokens(STORED, INVITATION_PATH, |t| {
            (t != "AbC_-9").then(|| MASKED.into())
        });
        assert_eq!(m, STORED);
        assert_eq!(
            mask("no links here", &ONE_TIME_PATHS, MASKED),
            "no links here"
        );
        assert_eq!(
            mask("/invitation/", &ONE_TIME_PATHS, MASKED),
            "/invitation/"
        );
    }
}
