//! Question banks in the formats Leads already keep them in.

pub mod gift;
pub mod moodle_xml;

use onramp_domain::learning::question::Question;

/// What became of one question of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum QuestionOutcome {
    Imported(Question),
    /// Not a question a quiz can ask (a description); nothing wrong with the file.
    Skipped(String),
    Rejected(String),
}

/// One question of a file, by the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionEntry {
    pub line: usize,
    /// The question's name, or the start of its text, to name it in a report.
    pub label: String,
    pub outcome: QuestionOutcome,
}

/// A category path as both formats write it (`$course$/top/HMIS/Security`), without
/// Moodle's context prefix and `top`: a slash within a name is written twice.
pub(crate) fn category_path(path: &str) -> Vec<String> {
    let path = path.trim().replace("//", "\u{E010}");
    let mut parts: Vec<String> = path
        .split('/')
        .map(|p| p.replace('\u{E010}', "/").trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if parts
        .first()
        .is_some_and(|p| p.starts_with('$') && p.ends_with('$'))
    {
        parts.remove(0);
    }
    if parts.first().is_some_and(|p| p == "top") {
        parts.remove(0);
    }
    parts
}

/// A category path after `prefix`, as [`category_path`] reads it back: a name's own slashes
/// are doubled, and spaces around each separator keep them apart from it.
pub(crate) fn write_category_path(prefix: &str, category: &[String]) -> String {
    let mut path = prefix.to_string();
    for name in category {
        path.push_str(" / ");
        path.push_str(&name.replace('/', "//"));
    }
    path
}

/// A question's or answer's text as safe HTML for a page: Markdown rendered safely, HTML
/// reduced to its text (Onramp keeps no markup it has not checked), plain and Moodle text
/// escaped with its line breaks kept.
pub fn text_to_html(text: &onramp_domain::learning::question::RichText) -> String {
    use onramp_domain::learning::question::TextFormat;
    match text.format {
        TextFormat::Markdown => crate::markdown::render_safe(&text.text),
        TextFormat::Html => escape_lines(&html_to_text(&text.text)),
        TextFormat::Plain | TextFormat::Moodle => escape_lines(&text.text),
    }
}

/// The text of an HTML fragment: tags dropped (block ends become line breaks) and the
/// common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name.split([' ', '/']).next().unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4"
        ) && (tag.starts_with('/') || name == "br")
        {
            out.push('\n');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_string()
}

fn escape_lines(text: &str) -> String {
    let mut o = String::with_capacity(text.len() + 16);
    for ch in text.trim().chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' => o.push_str("<br>"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod text_tests {
    use super::*;
    use onramp_domain::learning::question::{RichText, TextFormat};

    #[test]
    fn texts_become_safe_html() {
        let t = |text: &str, format| {
            text_to_html(&RichText {
                text: text.into(),
                format,
            })
        };
        assert_eq!(
            t(
                "<p>Who <b>owns</b> it?</p><script>x</script>",
                TextFormat::Html
            ),
            "Who owns it?<br>x"
        );
        assert_eq!(t("a < b\nc", TextFormat::Moodle), "a &lt; b<br>c");
        assert_eq!(
            t("**bold** <i>", TextFormat::Markdown),
            "<p><strong>bold</strong> &lt;i&gt;</p>\n"
        );
        assert_eq!(html_to_text("x &amp;lt; y"), "x &lt; y");
    }
}
