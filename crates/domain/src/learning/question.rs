//! Quiz questions as a question bank holds them, whatever format they came in: the kinds a
//! quiz asks (single choice, multiple response, true/false, matching, short answer, numeric,
//! essay), each answer's weight and feedback, and the question's place in the bank.

use serde::{Deserialize, Serialize};

/// How a text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// Moodle's own "auto-format": plain text whose line breaks are kept.
    #[default]
    Moodle,
    Html,
    Markdown,
    Plain,
}

impl TextFormat {
    /// The format's name as GIFT writes it between brackets (`[html]`).
    pub fn gift_name(self) -> &'static str {
        match self {
            TextFormat::Moodle => "moodle",
            TextFormat::Html => "html",
            TextFormat::Markdown => "markdown",
            TextFormat::Plain => "plain",
        }
    }

    /// The format of a GIFT or Moodle XML name, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "moodle" | "moodle_auto_format" => Some(TextFormat::Moodle),
            "html" => Some(TextFormat::Html),
            "markdown" => Some(TextFormat::Markdown),
            "plain" | "plain_text" => Some(TextFormat::Plain),
            _ => None,
        }
    }
}

/// A text and how it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RichText {
    pub text: String,
    pub format: TextFormat,
}

/// One answer a person may give, with the share of the mark it earns (percent: 100 for a
/// right answer, 0 for a wrong one, negative for a penalty) and what they are told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub text: String,
    pub weight: f64,
    pub feedback: String,
}

/// A numeric answer: right within `tolerance` either side of `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericAnswer {
    pub value: f64,
    pub tolerance: f64,
    pub weight: f64,
    pub feedback: String,
}

/// One pair of a matching question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchPair {
    pub prompt: String,
    pub answer: String,
}

/// What kind of question it is, with its answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    /// One answer is chosen; the right one earns the whole mark.
    SingleChoice {
        choices: Vec<Choice>,
    },
    /// Several answers may be chosen; their weights add up, penalties subtract.
    MultipleResponse {
        choices: Vec<Choice>,
    },
    TrueFalse {
        answer: bool,
        /// Told to whoever answers "true", and "false".
        feedback_true: String,
        feedback_false: String,
    },
    Matching {
        pairs: Vec<MatchPair>,
    },
    /// A typed answer compared with each of `answers` (case-insensitive; `*` matches any text).
    ShortAnswer {
        answers: Vec<Choice>,
    },
    Numeric {
        answers: Vec<NumericAnswer>,
    },
    /// Graded by a person.
    Essay,
}

impl QuestionKind {
    /// The kind's name, as the bank and its exports write it.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleResponse { .. } => "multiple_response",
            QuestionKind::TrueFalse { .. } => "true_false",
            QuestionKind::Matching { .. } => "matching",
            QuestionKind::ShortAnswer { .. } => "short_answer",
            QuestionKind::Numeric { .. } => "numeric",
            QuestionKind::Essay => "essay",
        }
    }
}

/// A question as imported into, or exported from, the bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Where it sits in the bank: category names from the top, `["Security", "Passwords"]`.
    pub category: Vec<String>,
    pub name: String,
    /// The bank's own reference for the question, unique within the bank when given.
    pub id_number: Option<String>,
    pub tags: Vec<String>,
    pub text: RichText,
    pub kind: QuestionKind,
    /// Shown to everyone after answering, right or wrong.
    pub general_feedback: String,
}

/// What a person answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Response {
    /// The index of the one choice picked.
    Choice(usize),
    /// The indexes of every choice picked.
    Choices(Vec<usize>),
    Bool(bool),
    /// For each pair's prompt, in order, the answer picked (if any).
    Matches(Vec<Option<String>>),
    Text(String),
    Number(f64),
}

/// The share of the mark a response earns, from 0 to 1, or `None` when a person grades it
/// (an essay) or the response is not of the question's kind. Weights add up; penalties
/// subtract; the result never leaves 0 to 1.
pub fn grade(kind: &QuestionKind, response: &Response) -> Option<f64> {
    let share = match (kind, response) {
        (QuestionKind::SingleChoice { choices }, Response::Choice(i)) => {
            choices.get(*i).map_or(0.0, |c| c.weight / 100.0)
        }
        (QuestionKind::MultipleResponse { choices }, Response::Choices(picked)) => {
            let mut seen = picked.clone();
            seen.sort_unstable();
            seen.dedup();
            seen.iter()
                .filter_map(|i| choices.get(*i))
                .map(|c| c.weight / 100.0)
                .sum()
        }
        (QuestionKind::TrueFalse { answer, .. }, Response::Bool(given)) => {
            f64::from(u8::from(answer == given))
        }
        (QuestionKind::Matching { pairs }, Response::Matches(given)) => {
            if pairs.is_empty() {
                return Some(0.0);
            }
            let right = pairs
                .iter()
                .zip(given.iter().chain(std::iter::repeat(&None)))
                .filter(|(p, g)| g.as_deref() == Some(p.answer.as_str()))
                .count();
            right as f64 / pairs.len() as f64
        }
        (QuestionKind::ShortAnswer { answers }, Response::Text(given)) => answers
            .iter()
            .filter(|a| matches_answer(&a.text, given))
            .map(|a| a.weight / 100.0)
            .fold(0.0, f64::max),
        (QuestionKind::Numeric { answers }, Response::Number(given)) if given.is_finite() => {
            answers
                .iter()
                .filter(|a| (given - a.value).abs() <= a.tolerance + f64::EPSILON * a.value.abs())
                .map(|a| a.weight / 100.0)
                .fold(0.0, f64::max)
        }
        (QuestionKind::Numeric { .. }, Response::Number(_)) => 0.0,
        _ => return None,
    };
    Some(share.clamp(0.0, 1.0))
}

/// Whether a typed answer matches an expected one: case-insensitive, spaces at either end
/// ignored, `*` in the expected answer standing for any text.
pub fn matches_answer(expected: &str, given: &str) -> bool {
    let pattern: Vec<char> = expected.trim().to_lowercase().chars().collect();
    let text: Vec<char> = given.trim().to_lowercase().chars().collect();
    // Greedy matching with one point to come back to: linear in practice.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The right answer in words, to show a person who missed it; `None` for an essay.
pub fn right_answer_text(kind: &QuestionKind) -> Option<String> {
    let full = |ws: &[Choice]| -> Vec<String> {
        let best = ws.iter().map(|c| c.weight).fold(f64::MIN, f64::max);
        ws.iter()
            .filter(|c| c.weight > 0.0 && (c.weight - best).abs() < 1e-9)
            .map(|c| c.text.clone())
            .collect()
    };
    Some(match kind {
        QuestionKind::SingleChoice { choices } | QuestionKind::ShortAnswer { answers: choices } => {
            full(choices).join(" or ")
        }
        QuestionKind::MultipleResponse { choices } => choices
            .iter()
            .filter(|c| c.weight > 0.0)
            .map(|c| c.text.clone())
            .collect::<Vec<_>>()
            .join("; "),
        QuestionKind::TrueFalse { answer, .. } => {
            if *answer { "True" } else { "False" }.to_string()
        }
        QuestionKind::Matching { pairs } => pairs
            .iter()
            .map(|p| format!("{} \u{2192} {}", p.prompt, p.answer))
            .collect::<Vec<_>>()
            .join("; "),
        QuestionKind::Numeric { answers } => {
            let best = answers.iter().map(|a| a.weight).fold(f64::MIN, f64::max);
            answers
                .iter()
                .filter(|a| (a.weight - best).abs() < 1e-9)
                .map(|a| {
                    if a.tolerance > 0.0 {
                        format!("{} (\u{b1} {})", a.value, a.tolerance)
                    } else {
                        a.value.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
        }
        QuestionKind::Essay => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn choice(weight: f64) -> Choice {
        Choice {
            text: format!("{weight}"),
            weight,
            feedback: String::new(),
        }
    }

    #[test]
    fn typed_answers_match_without_case_and_with_wildcards() {
        assert!(matches_answer(
            "Universal data element",
            " universal DATA element "
        ));
        assert!(matches_answer("HUD*", "HUD-CoC"));
        assert!(matches_answer("*standard*", "the data standards"));
        assert!(matches_answer("a*b*c", "aXbYbc"));
        assert!(!matches_answer("HUD*", "CoC HUD"));
        assert!(!matches_answer("cat", "cats"));
    }

    #[test]
    fn partial_credit_and_penalties_add_up() {
        let kind = QuestionKind::MultipleResponse {
            choices: vec![choice(50.0), choice(50.0), choice(-100.0), choice(0.0)],
        };
        let g = |picked: Vec<usize>| grade(&kind, &Response::Choices(picked));
        assert_eq!(g(vec![0, 1]), Some(1.0));
        assert_eq!(g(vec![0]), Some(0.5));
        assert_eq!(g(vec![0, 0, 0]), Some(0.5), "one pick counts once");
        assert_eq!(g(vec![0, 1, 2]), Some(0.0));
        assert_eq!(g(vec![0, 3]), Some(0.5));
        let numeric = QuestionKind::Numeric {
            answers: vec![
                NumericAnswer {
                    value: 14.0,
                    tolerance: 0.0,
                    weight: 100.0,
                    feedback: String::new(),
                },
                NumericAnswer {
                    value: 14.0,
                    tolerance: 2.0,
                    weight: 50.0,
                    feedback: String::new(),
                },
            ],
        };
        assert_eq!(grade(&numeric, &Response::Number(14.0)), Some(1.0));
        assert_eq!(grade(&numeric, &Response::Number(15.5)), Some(0.5));
        assert_eq!(grade(&numeric, &Response::Number(17.0)), Some(0.0));
        assert_eq!(grade(&numeric, &Response::Number(f64::NAN)), Some(0.0));
        assert_eq!(
            grade(&QuestionKind::Essay, &Response::Text("x".into())),
            None
        );
        assert_eq!(grade(&numeric, &Response::Bool(true)), None);
    }

    proptest! {
        #[test]
        fn a_share_never_leaves_zero_to_one(
            weights in proptest::collection::vec(-100.0f64..=100.0, 1..8),
            picked in proptest::collection::vec(0usize..10, 0..10),
        ) {
            let choices: Vec<Choice> = weights.iter().map(|w| choice(*w)).collect();
            let multi = QuestionKind::MultipleResponse { choices: choices.clone() };
            let s = grade(&multi, &Response::Choices(picked.clone())).unwrap();
            prop_assert!((0.0..=1.0).contains(&s));
            let single = QuestionKind::SingleChoice { choices };
            let s = grade(&single, &Response::Choice(picked.first().copied().unwrap_or(0))).unwrap();
            prop_assert!((0.0..=1.0).contains(&s));
        }

        #[test]
        fn picking_a_penalty_never_raises_a_share(
            weights in proptest::collection::vec(-100.0f64..=100.0, 2..8),
            picked in proptest::collection::vec(0usize..8, 0..8),
        ) {
            let choices: Vec<Choice> = weights.iter().map(|w| choice(*w)).collect();
            let kind = QuestionKind::MultipleResponse { choices };
            let before = grade(&kind, &Response::Choices(picked.clone())).unwrap();
            for (i, w) in weights.iter().enumerate() {
                if *w < 0.0 {
                    let mut more = picked.clone();
                    more.push(i);
                    prop_assert!(grade(&kind, &Response::Choices(more)).unwrap() <= before);
                }
            }
        }

        #[test]
        fn every_right_answer_picked_earns_the_whole_mark(
            right in 1usize..5,
            wrong in 0usize..4,
        ) {
            let share = 100.0 / right as f64;
            let mut choices: Vec<Choice> = (0..right).map(|_| choice(share)).collect();
            choices.extend((0..wrong).map(|_| choice(-100.0 / (wrong.max(1)) as f64)));
            let kind = QuestionKind::MultipleResponse { choices };
            let s = grade(&kind, &Response::Choices((0..right).collect())).unwrap();
            prop_assert!((s - 1.0).abs() < 1e-9, "{}", s);
        }

        #[test]
        fn a_wildcard_alone_matches_anything(text in ".{0,20}") {
            prop_assert!(matches_answer("*", &text));
            prop_assert!(matches_answer(&text.replace('*', ""), &text.replace('*', "")));
        }
    }
}
