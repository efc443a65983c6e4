//! GIFT, Moodle's plain-text question format: read every question of a file, each one
//! imported, skipped or rejected with its line and why (one bad question never stops the
//! rest), and written back so that reading what was written gives the same questions.
//!
//! As Moodle reads it: questions are separated by blank lines; whole lines starting with
//! `//` are comments (`// [id:…] [tag:…]` before a question gives its id number and tags);
//! `$CATEGORY: a/b` sets the category of the questions after it; `::name::`, then an
//! optional `[html]`/`[markdown]`/`[plain]`/`[moodle]` format, then the text with an answer
//! block `{…}` (text after the block makes a missing-word question); `\~ \= \# \{ \} \:
//! \\` and `\n` escape.

use super::{QuestionEntry, QuestionOutcome};
use onramp_domain::learning::question::{
    Choice, MatchPair, NumericAnswer, Question, QuestionKind, RichText, TextFormat,
};

/// Reads every question of a GIFT file.
pub fn read_gift(text: &str) -> Vec<QuestionEntry> {
    let mut out = Vec::new();
    let mut category: Vec<String> = Vec::new();
    let mut meta = Meta::default();
    let mut block: Vec<&str> = Vec::new();
    let mut start = 0;
    // A trailing empty line closes the last block.
    for (i, line) in text.lines().chain(std::iter::once("")).enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("//") {
            if block.is_empty() {
                meta.read_comment(trimmed);
            }
            continue;
        }
        if trimmed.is_empty() {
            if !block.is_empty() {
                // A category is one line; what follows it in the block is a question.
                let mut first = start;
                if let Some(path) = category_of(block[0]) {
                    category = path;
                    block.remove(0);
                    first += 1;
                }
                if !block.is_empty() {
                    let joined = block.join("\n");
                    out.push(entry(first, &joined, &category, std::mem::take(&mut meta)));
                }
                block.clear();
            }
            continue;
        }
        if block.is_empty() {
            start = i + 1;
        }
        block.push(line);
    }
    out
}

/// Id number and tags from the comments before a question.
#[derive(Debug, Default)]
struct Meta {
    id_number: Option<String>,
    tags: Vec<String>,
}

impl Meta {
    fn read_comment(&mut self, comment: &str) {
        let mut rest = comment;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            if let Some(id) = inner.strip_prefix("id:") {
                self.id_number = Some(id.trim().to_string()).filter(|s| !s.is_empty());
            } else if let Some(tag) = inner.strip_prefix("tag:") {
                let tag = tag.trim();
                if !tag.is_empty() && !self.tags.iter().any(|t| t == tag) {
                    self.tags.push(tag.to_string());
                }
            }
            rest = &rest[open + close + 1..];
        }
    }
}

/// The category a `$CATEGORY:` line names.
fn category_of(line: &str) -> Option<Vec<String>> {
    let path = line.trim().strip_prefix("$CATEGORY:")?;
    Some(super::category_path(path))
}

fn entry(line: usize, block: &str, category: &[String], meta: Meta) -> QuestionEntry {
    let coded = encode_escapes(block);
    let (name, outcome) = match question(&coded, category, meta) {
        Ok((name, q)) => (name, QuestionOutcome::Imported(q)),
        Err(Problem::Skip(name, why)) => (name, QuestionOutcome::Skipped(why)),
        Err(Problem::Reject(name, why)) => (name, QuestionOutcome::Rejected(why)),
    };
    QuestionEntry {
        line,
        label: name,
        outcome,
    }
}

enum Problem {
    Skip(String, String),
    Reject(String, String),
}

// Escaped characters stand as private-use characters while the structure is read.
const ESCAPES: [(char, char); 7] = [
    ('\\', '\u{E000}'),
    (':', '\u{E001}'),
    ('#', '\u{E002}'),
    ('=', '\u{E003}'),
    ('{', '\u{E004}'),
    ('}', '\u{E005}'),
    ('~', '\u{E006}'),
];

fn encode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Line endings are line breaks only, as the writer writes them.
    let mut chars = s.chars().filter(|c| *c != '\r');
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(next) => match ESCAPES.iter().find(|(e, _)| *e == next) {
                Some((_, code)) => out.push(*code),
                None => {
                    out.push('\\');
                    out.push(next);
                }
            },
            None => out.push('\\'),
        }
    }
    out
}

/// Back to the characters the file meant, trimmed.
fn decode(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            ESCAPES
                .iter()
                .find(|(_, code)| *code == c)
                .map_or(c, |(e, _)| *e)
        })
        .collect()
}

fn question(coded: &str, category: &[String], meta: Meta) -> Result<(String, Question), Problem> {
    let mut rest = coded.trim();
    let mut name = None;
    if let Some(after) = rest.strip_prefix("::") {
        match after.find("::") {
            Some(end) => {
                name = Some(decode(&after[..end]));
                rest = after[end + 2..].trim_start();
            }
            None => {
                return Err(Problem::Reject(
                    decode(&after.chars().take(40).collect::<String>()),
                    "The name is opened with :: and never closed with ::.".into(),
                ))
            }
        }
    }
    let mut format = TextFormat::Moodle;
    if let Some(after) = rest.strip_prefix('[') {
        if let Some(end) = after.find(']') {
            if let Some(f) = TextFormat::parse(&after[..end]) {
                format = f;
                rest = after[end + 1..].trim_start();
            }
        }
    }
    let label = |text: &str| {
        name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| {
            let start: String = decode(text).chars().take(50).collect();
            start.trim_end().to_string()
        })
    };
    let Some(open) = rest.find('{') else {
        return Err(Problem::Skip(
            label(rest),
            "It has no answers: a description, which a quiz does not ask.".into(),
        ));
    };
    let Some(close_at) = rest[open..].find('}') else {
        return Err(Problem::Reject(
            label(rest),
            "The answers are opened with { and never closed with }.".into(),
        ));
    };
    let close = open + close_at;
    let before = rest[..open].trim_end();
    let after = rest[close + 1..].trim_start();
    let text = if after.is_empty() {
        decode(before)
    } else {
        format!("{} _____ {}", decode(before), decode(after))
            .trim()
            .to_string()
    };
    let label = label(&text);
    if text.is_empty() {
        return Err(Problem::Reject(label, "It has no question text.".into()));
    }
    let inside = &rest[open + 1..close];
    let (answers, general) = match inside.split_once("####") {
        Some((a, g)) => (a.trim(), decode(g)),
        None => (inside.trim(), String::new()),
    };
    let kind = kind_of(answers).map_err(|why| Problem::Reject(label.clone(), why))?;
    Ok((
        label.clone(),
        Question {
            category: category.to_vec(),
            name: label,
            id_number: meta.id_number,
            tags: meta.tags,
            text: RichText { text, format },
            kind,
            general_feedback: general,
        },
    ))
}

fn kind_of(answers: &str) -> Result<QuestionKind, String> {
    if answers.is_empty() {
        return Ok(QuestionKind::Essay);
    }
    if let Some(numeric) = answers.strip_prefix('#') {
        return numeric_of(numeric);
    }
    let (head, feedback) = match answers.split_once('#') {
        Some((h, f)) => (h.trim(), Some(f)),
        None => (answers, None),
    };
    if let Some(answer) = match head.to_ascii_uppercase().as_str() {
        "T" | "TRUE" => Some(true),
        "F" | "FALSE" => Some(false),
        _ => None,
    } {
        // The first feedback is for the wrong answer, the second for the right one.
        let (wrong, right) = match feedback {
            Some(f) => match f.split_once('#') {
                Some((w, r)) => (decode(w), decode(r)),
                None => (decode(f), String::new()),
            },
            None => (String::new(), String::new()),
        };
        let (feedback_true, feedback_false) = if answer {
            (right, wrong)
        } else {
            (wrong, right)
        };
        return Ok(QuestionKind::TrueFalse {
            answer,
            feedback_true,
            feedback_false,
        });
    }
    let parts = split_answers(answers)?;
    if parts.iter().any(|(m, _)| *m == '~') {
        let choices: Vec<Choice> = parts
            .iter()
            .map(|(m, a)| choice_of(a, if *m == '=' { 100.0 } else { 0.0 }))
            .collect::<Result<_, _>>()?;
        if choices.len() < 2 {
            return Err("A choice question needs at least two answers.".into());
        }
        if parts.iter().any(|(m, _)| *m == '=') {
            if !choices.iter().any(|c| (c.weight - 100.0).abs() < 1e-9) {
                return Err("One answer must be worth 100% so that full marks can be had.".into());
            }
            return Ok(QuestionKind::SingleChoice { choices });
        }
        let right: f64 = choices.iter().map(|c| c.weight).filter(|w| *w > 0.0).sum();
        if right <= 0.0 {
            return Err("No answer is right: mark one with = or give weights with ~%50%.".into());
        }
        // Moodle writes thirds as 33.33333.
        if (right - 100.0).abs() > 0.01 {
            return Err(format!(
                "The right answers' weights add up to {right}%, not 100%."
            ));
        }
        return Ok(QuestionKind::MultipleResponse { choices });
    }
    if parts.iter().any(|(_, a)| a.contains("->")) {
        let pairs = parts
            .iter()
            .map(|(_, a)| {
                let (prompt, answer) = a.split_once("->").ok_or_else(|| {
                    format!("\u{201c}{}\u{201d} has no -> and its match.", decode(a))
                })?;
                Ok(MatchPair {
                    prompt: decode(prompt),
                    answer: decode(answer),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if pairs.len() < 2 {
            return Err("A matching question needs at least two pairs.".into());
        }
        if pairs.iter().any(|p| p.answer.is_empty()) {
            return Err("Every pair of a matching question needs an answer after ->.".into());
        }
        return Ok(QuestionKind::Matching { pairs });
    }
    if parts.iter().all(|(m, _)| *m == '=') && !parts.is_empty() {
        let answers: Vec<Choice> = parts
            .iter()
            .map(|(_, a)| choice_of(a, 100.0))
            .collect::<Result<_, _>>()?;
        if !answers.iter().any(|c| c.weight > 0.0) {
            return Err("No answer earns any mark.".into());
        }
        return Ok(QuestionKind::ShortAnswer { answers });
    }
    Err("Its answers are of no kind GIFT knows: start each with = or ~.".into())
}

/// The answers of a block, each with the mark (`=` or `~`) it starts with.
fn split_answers(answers: &str) -> Result<Vec<(char, &str)>, String> {
    let mut out: Vec<(char, &str)> = Vec::new();
    let mut start: Option<(char, usize)> = None;
    let leading = answers.trim_start();
    if !leading.starts_with(['=', '~']) {
        return Err(format!(
            "\u{201c}{}\u{201d} does not start with = or ~.",
            decode(&leading.chars().take(40).collect::<String>())
        ));
    }
    for (i, c) in answers.char_indices() {
        if c == '=' || c == '~' {
            if let Some((m, s)) = start {
                out.push((m, &answers[s..i]));
            }
            start = Some((c, i + c.len_utf8()));
        }
    }
    if let Some((m, s)) = start {
        out.push((m, &answers[s..]));
    }
    Ok(out)
}

/// An answer's text, its weight (`%50%` before it, or `default`) and feedback (`#…`).
fn choice_of(answer: &str, default: f64) -> Result<Choice, String> {
    let (weight, rest) = weight_of(answer.trim(), default)?;
    let (text, feedback) = match rest.split_once('#') {
        Some((t, f)) => (decode(t), decode(f)),
        None => (decode(rest), String::new()),
    };
    if text.is_empty() {
        return Err("An answer is empty.".into());
    }
    Ok(Choice {
        text,
        weight,
        feedback,
    })
}

fn weight_of(answer: &str, default: f64) -> Result<(f64, &str), String> {
    let Some(after) = answer.strip_prefix('%') else {
        return Ok((default, answer));
    };
    let Some(end) = after.find('%') else {
        return Err("A weight is opened with % and never closed with %.".into());
    };
    let w: f64 = after[..end].trim().parse().map_err(|_| {
        format!(
            "\u{201c}{}\u{201d} is not a weight in percent.",
            &after[..end]
        )
    })?;
    if !(-100.0..=100.0).contains(&w) {
        return Err(format!("A weight of {w}% is outside -100% to 100%."));
    }
    Ok((w, after[end + 1..].trim_start()))
}

fn numeric_of(answers: &str) -> Result<QuestionKind, String> {
    let answers = answers.trim();
    let parts: Vec<(f64, &str)> = if answers.starts_with('=') {
        split_answers(answers)?
            .into_iter()
            .map(|(_, a)| weight_of(a.trim(), 100.0))
            .collect::<Result<_, _>>()?
    } else {
        vec![(100.0, answers)]
    };
    let mut out = Vec::new();
    for (weight, part) in parts {
        let (value, feedback) = match part.split_once('#') {
            Some((v, f)) => (v.trim(), decode(f)),
            None => (part.trim(), String::new()),
        };
        let number = |s: &str| -> Result<f64, String> {
            let s = decode(s);
            s.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("\u{201c}{s}\u{201d} is not a number."))
        };
        let (value, tolerance) = if let Some((min, max)) = value.split_once("..") {
            let (min, max) = (number(min)?, number(max)?);
            if min > max {
                return Err(format!("The range {min}..{max} runs backwards."));
            }
            ((min + max) / 2.0, (max - min) / 2.0)
        } else if let Some((v, t)) = value.split_once(':') {
            let t = number(t)?;
            if t < 0.0 {
                return Err("A tolerance cannot be negative.".into());
            }
            (number(v)?, t)
        } else {
            (number(value)?, 0.0)
        };
        out.push(NumericAnswer {
            value,
            tolerance,
            weight,
            feedback,
        });
    }
    if !out.iter().any(|a| a.weight > 0.0) {
        return Err("No answer earns any mark.".into());
    }
    Ok(QuestionKind::Numeric { answers: out })
}

/// Writes questions as GIFT, a `$CATEGORY:` line before each change of category.
pub fn write_gift(questions: &[Question]) -> String {
    let mut out = String::new();
    let mut category: Option<&[String]> = None;
    for q in questions {
        if category != Some(q.category.as_slice()) {
            let path = super::write_category_path("top", &q.category);
            out.push_str(&format!("$CATEGORY: {path}\n\n"));
            category = Some(q.category.as_slice());
        }
        let mut meta = String::new();
        if let Some(id) = &q.id_number {
            meta.push_str(&format!(" [id:{id}]"));
        }
        for t in &q.tags {
            meta.push_str(&format!(" [tag:{t}]"));
        }
        if !meta.is_empty() {
            out.push_str(&format!("//{meta}\n"));
        }
        out.push_str(&format!(
            "::{}::[{}]{} {{",
            escape(&q.name),
            q.text.format.gift_name(),
            escape(&q.text.text)
        ));
        out.push_str(&answers_of(&q.kind));
        if !q.general_feedback.is_empty() {
            out.push_str(&format!("\n\t####{}", escape(&q.general_feedback)));
        }
        out.push_str("\n}\n\n");
    }
    out
}

fn answers_of(kind: &QuestionKind) -> String {
    // `default`: the weight the mark stands for, which need not be written; `None` writes
    // every weight.
    let choice = |mark: char, c: &Choice, default: Option<f64>| {
        let mut s = format!("\n\t{mark}");
        // A text that starts with % would read as a weight: its weight is written first.
        if c.text.starts_with('%') || default.is_none_or(|d| (c.weight - d).abs() > 1e-9) {
            s.push_str(&format!("%{}%", c.weight));
        }
        s.push_str(&escape(&c.text));
        if !c.feedback.is_empty() {
            s.push_str(&format!("#{}", escape(&c.feedback)));
        }
        s
    };
    match kind {
        QuestionKind::Essay => String::new(),
        QuestionKind::TrueFalse {
            answer,
            feedback_true,
            feedback_false,
        } => {
            let (right, wrong) = if *answer {
                (feedback_true, feedback_false)
            } else {
                (feedback_false, feedback_true)
            };
            let mut s = if *answer { "TRUE" } else { "FALSE" }.to_string();
            if !wrong.is_empty() || !right.is_empty() {
                s.push_str(&format!("#{}", escape(wrong)));
            }
            if !right.is_empty() {
                s.push_str(&format!("#{}", escape(right)));
            }
            s
        }
        QuestionKind::SingleChoice { choices } => choices
            .iter()
            .map(|c| {
                if (c.weight - 100.0).abs() < 1e-9 {
                    choice('=', c, Some(100.0))
                } else {
                    choice('~', c, Some(0.0))
                }
            })
            .collect(),
        QuestionKind::MultipleResponse { choices } => {
            // Every answer with its weight: without an `=`, weights are what make it so.
            choices.iter().map(|c| choice('~', c, None)).collect()
        }
        QuestionKind::ShortAnswer { answers } => answers
            .iter()
            .map(|c| choice('=', c, Some(100.0)))
            .collect(),
        QuestionKind::Matching { pairs } => pairs
            .iter()
            .map(|p| format!("\n\t={} -> {}", escape(&p.prompt), escape(&p.answer)))
            .collect(),
        QuestionKind::Numeric { answers } => {
            let mut s = "#".to_string();
            for a in answers {
                s.push_str("\n\t=");
                if (a.weight - 100.0).abs() > 1e-9 {
                    s.push_str(&format!("%{}%", a.weight));
                }
                s.push_str(&format!("{}:{}", a.value, a.tolerance));
                if !a.feedback.is_empty() {
                    s.push_str(&format!("#{}", escape(&a.feedback)));
                }
            }
            s
        }
    }
}

/// Escapes what GIFT gives a meaning to; a line break is written `\n`, so that a text
/// never holds a blank line (which would end the question).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | ':' | '#' | '=' | '{' | '}' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}
