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
