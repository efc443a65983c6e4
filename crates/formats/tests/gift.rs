//! GIFT as Moodle reads it: every question kind, weights and penalties, feedback,
//! tolerances, formats, escapes, categories, id numbers and tags; malformed questions
//! reported by line while the rest import; and what is written reads back the same.

use onramp_domain::learning::question::{
    Choice, MatchPair, NumericAnswer, Question, QuestionKind, RichText, TextFormat,
};
use onramp_formats::quiz::gift::{read_gift, write_gift};
use onramp_formats::quiz::{QuestionEntry, QuestionOutcome};
use proptest::prelude::*;

fn imported(entries: &[QuestionEntry]) -> Vec<&Question> {
    entries
        .iter()
        .filter_map(|e| match &e.outcome {
            QuestionOutcome::Imported(q) => Some(q),
            _ => None,
        })
        .collect()
}

fn c(text: &str, weight: f64, feedback: &str) -> Choice {
    Choice {
        text: text.into(),
        weight,
        feedback: feedback.into(),
    }
}

const BANK: &str = r#"// A bank in the shapes of Moodle's GIFT documentation.
$CATEGORY: $course$/top/HMIS/Security

// [id:SEC-01] [tag:security] [tag:passwords]
::Passwords::Who may know your HMIS password? {
	=Nobody but you#Right: never share it.
	~Your supervisor#No: not even your supervisor.
	~The HMIS Lead#No: the Lead resets it, and never asks for it.
	####Your password is yours alone.
}

::Shared screens::[html]<p>Which of these keep client data safe?</p> {
	~%50%Locking the screen when you step away
	~%50%Closing the HMIS before sharing a screen
	~%-100%Writing the password on a note
}

$CATEGORY: top/HMIS/Data quality

::Refused::A client may refuse to give their SSN. {T#The data standards allow "client refused".#Yes: record it as refused.}

::UDE::The universal data elements are collected for {=all clients =every client#Yes.}

::Match::[markdown]Match each **element** with its kind. {
	=Race and Ethnicity -> universal data element
	=Income and Sources -> program-specific data element
	=Destination -> program-specific data element
}

::Days::How many days may pass before a record is late? {#=14:0#Exactly two weeks. =%50%14:2#Close.}

::Range::Pick a number between 1 and 5. {#1..5}

::Essay::Describe how you would explain HMIS consent to a client. {}

::Missing::Exit data is entered {~before =within ~long after} a week of the exit.

::Escapes::A colon\: a tilde \~, an equals \= sign, a hash \#, braces \{ \} and a backslash \\.\nNew line. {=yes\=no#it's \#1 ~no}

This line is a description: it has no answers.

::Broken::An answer block that never closes {=a ~b

::Bad weight::What is 1+1? {~%abc%2 =3}

::No right answer::Pick one. {~a ~b}

::After the bad ones::Still imported. {TRUE}
"#;

#[test]
fn every_kind_imports_as_moodle_reads_it() {
    let entries = read_gift(BANK);
    let qs = imported(&entries);
    let names: Vec<&str> = qs.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Passwords",
            "Shared screens",
            "Refused",
            "UDE",
            "Match",
            "Days",
            "Range",
            "Essay",
            "Missing",
            "Escapes",
            "After the bad ones"
        ]
    );
    let pw = qs[0];
    assert_eq!(pw.category, ["HMIS", "Security"]);
    assert_eq!(pw.id_number.as_deref(), Some("SEC-01"));
    assert_eq!(pw.tags, ["security", "passwords"]);
    assert_eq!(pw.text.text, "Who may know your HMIS password?");
    assert_eq!(pw.text.format, TextFormat::Moodle);
    assert_eq!(pw.general_feedback, "Your password is yours alone.");
    assert_eq!(
        pw.kind,
        QuestionKind::SingleChoice {
            choices: vec![
                c("Nobody but you", 100.0, "Right: never share it."),
                c("Your supervisor", 0.0, "No: not even your supervisor."),
                c(
                    "The HMIS Lead",
                    0.0,
                    "No: the Lead resets it, and never asks for it."
                ),
            ]
        }
    );
    let screens = qs[1];
    assert_eq!(screens.text.format, TextFormat::Html);
    assert_eq!(
        screens.text.text,
        "<p>Which of these keep client data safe?</p>"
    );
    assert_eq!(screens.id_number, None, "meta belongs to one question");
    assert_eq!(
        screens.kind,
        QuestionKind::MultipleResponse {
            choices: vec![
                c("Locking the screen when you step away", 50.0, ""),
                c("Closing the HMIS before sharing a screen", 50.0, ""),
                c("Writing the password on a note", -100.0, ""),
            ]
        }
    );
    // The first feedback of a true/false question is for the wrong answer.
    assert_eq!(qs[2].category, ["HMIS", "Data quality"]);
    assert_eq!(
        qs[2].kind,
        QuestionKind::TrueFalse {
            answer: true,
            feedback_true: "Yes: record it as refused.".into(),
            feedback_false: "The data standards allow \"client refused\".".into(),
        }
    );
    assert_eq!(
        qs[3].kind,
        QuestionKind::ShortAnswer {
            answers: vec![
                c("all clients", 100.0, ""),
                c("every client", 100.0, "Yes.")
            ]
        }
    );
    assert_eq!(qs[4].text.format, TextFormat::Markdown);
    assert_eq!(
        qs[4].kind,
        QuestionKind::Matching {
            pairs: vec![
                MatchPair {
                    prompt: "Race and Ethnicity".into(),
                    answer: "universal data element".into()
                },
                MatchPair {
                    prompt: "Income and Sources".into(),
                    answer: "program-specific data element".into()
                },
                MatchPair {
                    prompt: "Destination".into(),
                    answer: "program-specific data element".into()
                },
            ]
        }
    );
    assert_eq!(
        qs[5].kind,
        QuestionKind::Numeric {
            answers: vec![
                NumericAnswer {
                    value: 14.0,
                    tolerance: 0.0,
                    weight: 100.0,
                    feedback: "Exactly two weeks.".into()
                },
                NumericAnswer {
                    value: 14.0,
                    tolerance: 2.0,
                    weight: 50.0,
                    feedback: "Close.".into()
                },
            ]
        }
    );
    assert_eq!(
        qs[6].kind,
        QuestionKind::Numeric {
            answers: vec![NumericAnswer {
                value: 3.0,
                tolerance: 2.0,
                weight: 100.0,
                feedback: String::new()
            }]
        }
    );
    assert_eq!(qs[7].kind, QuestionKind::Essay);
    // Text after the answers makes a missing-word question.
    assert_eq!(
        qs[8].text.text,
        "Exit data is entered _____ a week of the exit."
    );
    assert!(
        matches!(&qs[8].kind, QuestionKind::SingleChoice { choices } if choices[1].text == "within" && choices[1].weight == 100.0)
    );
    assert_eq!(
        qs[9].text.text,
        "A colon: a tilde ~, an equals = sign, a hash #, braces { } and a backslash \\.\nNew line."
    );
    assert!(
        matches!(&qs[9].kind, QuestionKind::SingleChoice { choices } if choices[0] == c("yes=no", 100.0, "it's #1"))
    );
}

#[test]
fn bad_questions_are_reported_by_line_and_the_rest_still_import() {
    let entries = read_gift(BANK);
    let problems: Vec<(usize, &str, &QuestionOutcome)> = entries
        .iter()
        .filter(|e| !matches!(e.outcome, QuestionOutcome::Imported(_)))
        .map(|e| (e.line, e.label.as_str(), &e.outcome))
        .collect();
    let line_of = |needle: &str| {
        BANK.lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(problems[0].0, line_of("This line is a description"));
    assert!(matches!(problems[0].2, QuestionOutcome::Skipped(why) if why.contains("description")));
    assert_eq!(
        (problems[1].0, problems[1].1),
        (line_of("::Broken::"), "Broken")
    );
    assert!(
        matches!(problems[1].2, QuestionOutcome::Rejected(why) if why.contains("never closed with }"))
    );
    assert_eq!(problems[2].0, line_of("::Bad weight::"));
    assert!(
        matches!(problems[2].2, QuestionOutcome::Rejected(why) if why.contains("\u{201c}abc\u{201d} is not a weight"))
    );
    assert_eq!(problems[3].0, line_of("::No right answer::"));
    assert!(
        matches!(problems[3].2, QuestionOutcome::Rejected(why) if why.contains("No answer is right"))
    );
}

#[test]
fn weights_that_cannot_give_full_marks_are_refused() {
    for (gift, why) in [
        ("Q {~%40%a ~%40%b ~c}", "add up to 80%"),
        ("Q {=%50%a ~b}", "worth 100%"),
        ("Q {~%150%a ~b}", "outside -100% to 100%"),
        ("Q {#abc}", "not a number"),
        ("Q {#5..1}", "runs backwards"),
        ("Q {#5:-1}", "cannot be negative"),
        ("Q {=a -> }", "needs at least two pairs"),
        ("Q {a b}", "does not start with = or ~"),
        ("::Q no end {T}", "never closed with ::"),
    ] {
        let e = read_gift(gift);
        assert_eq!(e.len(), 1, "{gift}");
        match &e[0].outcome {
            QuestionOutcome::Rejected(w) => assert!(w.contains(why), "{gift}: {w}"),
            other => panic!("{gift}: {other:?}"),
        }
    }
    // Thirds, as Moodle writes them, add up.
    let e = read_gift("Q {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}");
    assert!(
        matches!(e[0].outcome, QuestionOutcome::Imported(_)),
        "{e:?}"
    );
}

#[test]
fn categories_nest_and_a_slash_is_written_twice() {
    let e = read_gift(
        "$CATEGORY: Intake/Consent//ROI\n\nQ1 {T}\n\n$CATEGORY: $system$/top\n\nQ2 {F}\n",
    );
    let qs = imported(&e);
    assert_eq!(qs[0].category, ["Intake", "Consent/ROI"]);
    assert!(qs[1].category.is_empty());
    assert_eq!(
        qs[0].name, "Q1",
        "a question without a name is named by its text"
    );
}

#[test]
fn what_is_written_reads_back_the_same() {
    let first: Vec<Question> = imported(&read_gift(BANK)).into_iter().cloned().collect();
    let written = write_gift(&first);
    let again: Vec<Question> = imported(&read_gift(&written))
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(first, again, "{written}");
    assert_eq!(
        read_gift(&written).len(),
        first.len(),
        "nothing else in the file"
    );
}

fn text() -> impl Strategy<Value = String> {
    // Letters with every character GIFT gives a meaning to, and line breaks.
    proptest::string::string_regex("[a-zA-Z0-9 ~=#{}:\\\\%\n\\[\\]/-]{1,30}")
        .unwrap()
        .prop_filter("has a letter", |s| {
            s.chars().any(|c| c.is_ascii_alphanumeric())
        })
}

fn clean(s: &str) -> String {
    // The reader trims what it reads, and a line break stays one.
    s.trim().to_string()
}

proptest! {
    #[test]
    fn any_text_survives_writing_and_reading(
        name in text(),
        body in text(),
        right in text(),
        wrong in text(),
        feedback in text(),
        general in text(),
    ) {
        let q = Question {
            category: vec!["Bank".into()],
            name: clean(&name),
            id_number: None,
            tags: Vec::new(),
            text: RichText { text: clean(&body), format: TextFormat::Plain },
            kind: QuestionKind::SingleChoice {
                choices: vec![c(&clean(&right), 100.0, &clean(&feedback)), c(&clean(&wrong), 0.0, "")],
            },
            general_feedback: clean(&general),
        };
        let written = write_gift(std::slice::from_ref(&q));
        let back = read_gift(&written);
        prop_assert_eq!(back.len(), 1, "{}", written);
        match &back[0].outcome {
            QuestionOutcome::Imported(read) => prop_assert_eq!(read, &q, "{}", written),
            other => prop_assert!(false, "{:?} from {}", other, written),
        }
    }
}

proptest! {
    #[test]
    fn any_file_reads_without_a_panic(
        lines in proptest::collection::vec(
            proptest::string::string_regex("(//|\\$CATEGORY:|::|\\[html\\])?[ a-zé~=#{}:\\\\%\\[\\]/.>-]{0,20}").unwrap(),
            0..12,
        )
    ) {
        for e in read_gift(&lines.join("\n")) {
            prop_assert!(e.line >= 1);
        }
    }
}
