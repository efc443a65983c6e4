//! Moodle XML questions: read every `<question>` of a `<quiz>`, each imported, skipped or
//! rejected with its line and why, and written back so that reading what was written gives
//! the same questions.
//!
//! The reader refuses DTDs (and so every entity trick), caps the file's size and its number
//! of nodes, and takes categories from `type="category"` questions in the order they come,
//! as Moodle does.

use super::{QuestionEntry, QuestionOutcome};
use onramp_domain::learning::question::{
    Choice, MatchPair, NumericAnswer, Question, QuestionKind, RichText, TextFormat,
};
use roxmltree::{Document, Node, ParsingOptions};

/// The largest file read: questions with embedded images are large, whole banks are not.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
const MAX_NODES: u32 = 2_000_000;

/// Why a whole file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoodleXmlError {
    #[error("The file is larger than {} MB.", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("The file is not well-formed XML: {0}")]
    Malformed(String),
    #[error("The file is not a Moodle XML quiz: its root element is <{0}>, not <quiz>.")]
    NotAQuiz(String),
}

/// Reads every question of a Moodle XML file.
pub fn read_moodle_xml(text: &str) -> Result<Vec<QuestionEntry>, MoodleXmlError> {
    if text.len() > MAX_BYTES {
        return Err(MoodleXmlError::TooLarge);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options)
        .map_err(|e| MoodleXmlError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "quiz" {
        return Err(MoodleXmlError::NotAQuiz(root.tag_name().name().to_string()));
    }
    let mut out = Vec::new();
    let mut category: Vec<String> = Vec::new();
    for q in root.children().filter(|n| n.has_tag_name("question")) {
        let line = doc.text_pos_at(q.range().start).row as usize;
        let kind = q.attribute("type").unwrap_or("");
        if kind == "category" {
            category = super::category_path(&text_of(child(q, "category")));
            continue;
        }
        let name = text_of(child(q, "name"));
        let label = if name.is_empty() {
            text_of(child(q, "questiontext")).chars().take(50).collect()
        } else {
            name.clone()
        };
        let outcome = match question(q, kind, &category, &label) {
            Ok(question) => QuestionOutcome::Imported(question),
            Err(Problem::Skip(why)) => QuestionOutcome::Skipped(why),
            Err(Problem::Reject(why)) => QuestionOutcome::Rejected(why),
        };
        out.push(QuestionEntry {
            line,
            label,
            outcome,
        });
    }
    Ok(out)
}

enum Problem {
    Skip(String),
    Reject(String),
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

/// The `<text>` of an element, trimmed.
fn text_of(n: Option<Node>) -> String {
    n.and_then(|n| child(n, "text"))
        .map(|t| t.text().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}

fn rich_of(n: Option<Node>) -> RichText {
    RichText {
        text: text_of(n),
        format: n
            .and_then(|n| n.attribute("format"))
            .and_then(TextFormat::parse)
            .unwrap_or(TextFormat::Html),
    }
}

fn number(s: &str, what: &str) -> Result<f64, Problem> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| {
            Problem::Reject(format!(
                "{what} \u{201c}{}\u{201d} is not a number.",
                s.trim()
            ))
        })
}

fn answers<'a, 'i>(q: Node<'a, 'i>) -> Result<Vec<(f64, String, String, Node<'a, 'i>)>, Problem> {
    q.children()
        .filter(|n| n.has_tag_name("answer"))
        .map(|a| {
            let fraction = number(a.attribute("fraction").unwrap_or("0"), "A fraction")?;
            if !(-100.0..=100.0).contains(&fraction) {
                return Err(Problem::Reject(format!(
                    "A fraction of {fraction}% is outside -100% to 100%."
                )));
            }
            let text = a
                .children()
                .find(|c| c.has_tag_name("text"))
                .and_then(|t| t.text())
                .unwrap_or("")
                .trim()
                .to_string();
            Ok((fraction, text, text_of(child(a, "feedback")), a))
        })
        .collect()
}

/// The answers of a question as choices: text, weight and feedback.
fn choices_of(q: Node) -> Result<Vec<Choice>, Problem> {
    Ok(answers(q)?
        .into_iter()
        .map(|(weight, text, feedback, _)| Choice {
            text,
            weight,
            feedback,
        })
        .collect())
}

fn question(q: Node, kind: &str, category: &[String], label: &str) -> Result<Question, Problem> {
    let text = rich_of(child(q, "questiontext"));
    let kind = match kind {
        "multichoice" => {
            let choices = choices_of(q)?;
            if choices.len() < 2 {
                return Err(Problem::Reject(
                    "A choice question needs at least two answers.".into(),
                ));
            }
            let single = text_of_plain(child(q, "single")) != "false"
                && text_of_plain(child(q, "single")) != "0";
            if single {
                if !choices.iter().any(|c| (c.weight - 100.0).abs() < 1e-9) {
                    return Err(Problem::Reject(
                        "One answer must be worth 100% so that full marks can be had.".into(),
                    ));
                }
                QuestionKind::SingleChoice { choices }
            } else {
                let right: f64 = choices.iter().map(|c| c.weight).filter(|w| *w > 0.0).sum();
                if (right - 100.0).abs() > 0.01 {
                    return Err(Problem::Reject(format!(
                        "The right answers' weights add up to {right}%, not 100%."
                    )));
                }
                QuestionKind::MultipleResponse { choices }
            }
        }
        "truefalse" => {
            let all = answers(q)?;
            let find = |v: &str| all.iter().find(|(_, t, _, _)| t.eq_ignore_ascii_case(v));
            let (Some(t), Some(f)) = (find("true"), find("false")) else {
                return Err(Problem::Reject(
                    "A true/false question needs a \u{201c}true\u{201d} and a \u{201c}false\u{201d} answer.".into(),
                ));
            };
            QuestionKind::TrueFalse {
                answer: t.0 >= f.0,
                feedback_true: t.2.clone(),
                feedback_false: f.2.clone(),
            }
        }
        "shortanswer" => {
            let answers = choices_of(q)?;
            if !answers.iter().any(|a| a.weight > 0.0) {
                return Err(Problem::Reject("No answer earns any mark.".into()));
            }
            QuestionKind::ShortAnswer { answers }
        }
        "numerical" => {
            let mut out = Vec::new();
            for (weight, text, feedback, a) in answers(q)? {
                let tolerance = match child(a, "tolerance").and_then(|t| t.text()) {
                    Some(t) => number(t, "A tolerance")?,
                    None => 0.0,
                };
                if tolerance < 0.0 {
                    return Err(Problem::Reject("A tolerance cannot be negative.".into()));
                }
                out.push(NumericAnswer {
                    value: number(&text, "An answer")?,
                    tolerance,
                    weight,
                    feedback,
                });
            }
            if !out.iter().any(|a| a.weight > 0.0) {
                return Err(Problem::Reject("No answer earns any mark.".into()));
            }
            QuestionKind::Numeric { answers: out }
        }
        "matching" => {
            let pairs: Vec<MatchPair> = q
                .children()
                .filter(|n| n.has_tag_name("subquestion"))
                .map(|s| MatchPair {
                    prompt: s
                        .children()
                        .find(|c| c.has_tag_name("text"))
                        .and_then(|t| t.text())
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                    answer: text_of(child(s, "answer")),
                })
                // A subquestion without a prompt is an extra wrong answer in Moodle.
                .filter(|p| !p.prompt.is_empty())
                .collect();
            if pairs.len() < 2 {
                return Err(Problem::Reject(
                    "A matching question needs at least two pairs.".into(),
                ));
            }
            QuestionKind::Matching { pairs }
        }
        "essay" => QuestionKind::Essay,
        "description" => {
            return Err(Problem::Skip(
                "It has no answers: a description, which a quiz does not ask.".into(),
            ))
        }
        other => {
            return Err(Problem::Skip(format!(
                "Onramp does not ask \u{201c}{other}\u{201d} questions."
            )))
        }
    };
    if text.text.is_empty() {
        return Err(Problem::Reject("It has no question text.".into()));
    }
    let tags = child(q, "tags")
        .map(|t| {
            t.children()
                .filter(|n| n.has_tag_name("tag"))
                .map(|n| text_of(Some(n)))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(Question {
        category: category.to_vec(),
        name: label.to_string(),
        id_number: Some(text_of_plain(child(q, "idnumber"))).filter(|s| !s.is_empty()),
        tags,
        text,
        kind,
        general_feedback: text_of(child(q, "generalfeedback")),
    })
}

/// The text directly inside an element (`<single>true</single>`).
fn text_of_plain(n: Option<Node>) -> String {
    n.and_then(|n| n.text()).unwrap_or("").trim().to_string()
}

/// Writes questions as Moodle XML, a category question before each change of category.
pub fn write_moodle_xml(questions: &[Question]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    let mut category: Option<&[String]> = None;
    for q in questions {
        if category != Some(q.category.as_slice()) {
            let full = super::write_category_path("$course$/top", &q.category);
            out.push_str(&format!(
                "  <question type=\"category\">\n    <category><text>{}</text></category>\n  </question>\n",
                esc(&full)
            ));
            category = Some(q.category.as_slice());
        }
        let (kind, body) = body_of(&q.kind);
        out.push_str(&format!("  <question type=\"{kind}\">\n"));
        out.push_str(&format!("    <name><text>{}</text></name>\n", esc(&q.name)));
        out.push_str(&format!(
            "    <questiontext format=\"{}\"><text>{}</text></questiontext>\n",
            format_name(q.text.format),
            esc(&q.text.text)
        ));
        out.push_str(&format!(
            "    <generalfeedback format=\"html\"><text>{}</text></generalfeedback>\n",
            esc(&q.general_feedback)
        ));
        if let Some(id) = &q.id_number {
            out.push_str(&format!("    <idnumber>{}</idnumber>\n", esc(id)));
        }
        out.push_str(&body);
        if !q.tags.is_empty() {
            out.push_str("    <tags>\n");
            for t in &q.tags {
                out.push_str(&format!("      <tag><text>{}</text></tag>\n", esc(t)));
            }
            out.push_str("    </tags>\n");
        }
        out.push_str("  </question>\n");
    }
    out.push_str("</quiz>\n");
    out
}

fn format_name(f: TextFormat) -> &'static str {
    match f {
        TextFormat::Moodle => "moodle_auto_format",
        TextFormat::Html => "html",
        TextFormat::Markdown => "markdown",
        TextFormat::Plain => "plain_text",
    }
}

fn answer(weight: f64, text: &str, feedback: &str, extra: &str) -> String {
    format!(
        "    <answer fraction=\"{weight}\" format=\"html\">\n      <text>{}</text>\n      <feedback format=\"html\"><text>{}</text></feedback>{extra}\n    </answer>\n",
        esc(text),
        esc(feedback)
    )
}

fn body_of(kind: &QuestionKind) -> (&'static str, String) {
    match kind {
        QuestionKind::SingleChoice { choices } | QuestionKind::MultipleResponse { choices } => {
            let single = matches!(kind, QuestionKind::SingleChoice { .. });
            let mut s = format!("    <single>{single}</single>\n");
            for c in choices {
                s.push_str(&answer(c.weight, &c.text, &c.feedback, ""));
            }
            ("multichoice", s)
        }
        QuestionKind::TrueFalse {
            answer: right,
            feedback_true,
            feedback_false,
        } => {
            let (t, f) = if *right { (100.0, 0.0) } else { (0.0, 100.0) };
            (
                "truefalse",
                answer(t, "true", feedback_true, "") + &answer(f, "false", feedback_false, ""),
            )
        }
        QuestionKind::ShortAnswer { answers } => (
            "shortanswer",
            answers
                .iter()
                .map(|a| answer(a.weight, &a.text, &a.feedback, ""))
                .collect(),
        ),
        QuestionKind::Numeric { answers } => (
            "numerical",
            answers
                .iter()
                .map(|a| {
                    answer(
                        a.weight,
                        &a.value.to_string(),
                        &a.feedback,
                        &format!("\n      <tolerance>{}</tolerance>", a.tolerance),
                    )
                })
                .collect(),
        ),
        QuestionKind::Matching { pairs } => (
            "matching",
            pairs
                .iter()
                .map(|p| {
                    format!(
                        "    <subquestion format=\"html\">\n      <text>{}</text>\n      <answer><text>{}</text></answer>\n    </subquestion>\n",
                        esc(&p.prompt),
                        esc(&p.answer)
                    )
                })
                .collect(),
        ),
        QuestionKind::Essay => ("essay", String::new()),
    }
}

/// Escapes text for an element's content or an attribute.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // A carriage return would come back as a line feed.
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}
