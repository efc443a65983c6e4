//! Moodle XML as Moodle writes it: every kind Onramp asks, categories, id numbers, tags,
//! fractions and feedback; kinds it does not ask skipped and bad questions rejected by line
//! while the rest import; DTDs refused; and a bank read from GIFT, written as Moodle XML
//! and read back is the same bank.

use onramp_domain::learning::question::Question;
use onramp_domain::learning::question::{
    Choice, MatchPair, NumericAnswer, QuestionKind, TextFormat,
};
use onramp_formats::quiz::gift::read_gift;
use onramp_formats::quiz::moodle_xml::{read_moodle_xml, write_moodle_xml, MoodleXmlError};
use onramp_formats::quiz::{QuestionEntry, QuestionOutcome};

const QUIZ: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<!-- question: 0  -->
  <question type="category">
    <category><text>$course$/top/HMIS/Privacy</text></category>
    <info format="html"><text></text></info>
  </question>
  <question type="multichoice">
    <name><text>Consent</text></name>
    <questiontext format="html"><text><![CDATA[<p>Who signs the <b>release of information</b>?</p>]]></text></questiontext>
    <generalfeedback format="html"><text>The client decides.</text></generalfeedback>
    <defaultgrade>1.0000000</defaultgrade>
    <penalty>0.3333333</penalty>
    <hidden>0</hidden>
    <idnumber>PRIV-7</idnumber>
    <single>true</single>
    <shuffleanswers>true</shuffleanswers>
    <answernumbering>abc</answernumbering>
    <answer fraction="100" format="html"><text>The client</text><feedback format="html"><text>Yes.</text></feedback></answer>
    <answer fraction="0" format="html"><text>The case manager</text><feedback format="html"><text>No.</text></feedback></answer>
    <tags><tag><text>privacy</text></tag><tag><text>consent</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>Safe</text></name>
    <questiontext format="moodle_auto_format"><text>Which keep data safe?</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>Lock the screen</text></answer>
    <answer fraction="50"><text>Log out</text></answer>
    <answer fraction="-100"><text>Share the password</text></answer>
  </question>
  <question type="truefalse">
    <name><text>Refused</text></name>
    <questiontext format="plain_text"><text>"Client refused" is a valid answer.</text></questiontext>
    <answer fraction="100"><text>true</text><feedback><text>Right.</text></feedback></answer>
    <answer fraction="0"><text>false</text><feedback><text>It is valid.</text></feedback></answer>
  </question>
  <question type="shortanswer">
    <name><text>Acronym</text></name>
    <questiontext format="html"><text>HMIS stands for Homeless Management Information ____.</text></questiontext>
    <answer fraction="100"><text>System</text></answer>
    <answer fraction="50"><text>Sys*</text><feedback><text>Nearly.</text></feedback></answer>
  </question>
  <question type="numerical">
    <name><text>Days</text></name>
    <questiontext format="html"><text>Days to enter an exit?</text></questiontext>
    <answer fraction="100"><text>14</text><tolerance>0</tolerance></answer>
    <answer fraction="50"><text>14</text><tolerance>2</tolerance></answer>
  </question>
  <question type="matching">
    <name><text>Elements</text></name>
    <questiontext format="html"><text>Match the elements.</text></questiontext>
    <subquestion format="html"><text>Race</text><answer><text>universal</text></answer></subquestion>
    <subquestion format="html"><text>Income</text><answer><text>program-specific</text></answer></subquestion>
    <subquestion format="html"><text></text><answer><text>neither</text></answer></subquestion>
  </question>
  <question type="essay">
    <name><text>Explain</text></name>
    <questiontext format="html"><text>Explain consent to a client.</text></questiontext>
  </question>
  <question type="description">
    <name><text>Intro</text></name>
    <questiontext format="html"><text>Read the policy first.</text></questiontext>
  </question>
  <question type="calculated">
    <name><text>Formula</text></name>
    <questiontext format="html"><text>{a} + {b}?</text></questiontext>
  </question>
  <question type="multichoice">
    <name><text>No full marks</text></name>
    <questiontext format="html"><text>Pick.</text></questiontext>
    <single>true</single>
    <answer fraction="50"><text>a</text></answer>
    <answer fraction="0"><text>b</text></answer>
  </question>
  <question type="numerical">
    <name><text>Not a number</text></name>
    <questiontext format="html"><text>How many?</text></questiontext>
    <answer fraction="100"><text>fourteen</text></answer>
  </question>
  <question type="essay">
    <name><text>Last</text></name>
    <questiontext format="html"><text>Still imported.</text></questiontext>
  </question>
</quiz>
"#;

fn imported(entries: &[QuestionEntry]) -> Vec<Question> {
    entries
        .iter()
        .filter_map(|e| match &e.outcome {
            QuestionOutcome::Imported(q) => Some(q.clone()),
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

#[test]
fn every_kind_onramp_asks_imports() {
    let entries = read_moodle_xml(QUIZ).unwrap();
    let qs = imported(&entries);
    let names: Vec<&str> = qs.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        names,
        ["Consent", "Safe", "Refused", "Acronym", "Days", "Elements", "Explain", "Last"]
    );
    let consent = &qs[0];
    assert_eq!(consent.category, ["HMIS", "Privacy"]);
    assert_eq!(consent.id_number.as_deref(), Some("PRIV-7"));
    assert_eq!(consent.tags, ["privacy", "consent"]);
    assert_eq!(consent.text.format, TextFormat::Html);
    assert_eq!(
        consent.text.text,
        "<p>Who signs the <b>release of information</b>?</p>"
    );
    assert_eq!(consent.general_feedback, "The client decides.");
    assert_eq!(
        consent.kind,
        QuestionKind::SingleChoice {
            choices: vec![
                c("The client", 100.0, "Yes."),
                c("The case manager", 0.0, "No.")
            ]
        }
    );
    assert_eq!(qs[1].text.format, TextFormat::Moodle);
    assert_eq!(
        qs[1].kind,
        QuestionKind::MultipleResponse {
            choices: vec![
                c("Lock the screen", 50.0, ""),
                c("Log out", 50.0, ""),
                c("Share the password", -100.0, "")
            ]
        }
    );
    assert_eq!(qs[2].text.format, TextFormat::Plain);
    assert_eq!(
        qs[2].kind,
        QuestionKind::TrueFalse {
            answer: true,
            feedback_true: "Right.".into(),
            feedback_false: "It is valid.".into()
        }
    );
    assert_eq!(
        qs[3].kind,
        QuestionKind::ShortAnswer {
            answers: vec![c("System", 100.0, ""), c("Sys*", 50.0, "Nearly.")]
        }
    );
    assert_eq!(
        qs[4].kind,
        QuestionKind::Numeric {
            answers: vec![
                NumericAnswer {
                    value: 14.0,
                    tolerance: 0.0,
                    weight: 100.0,
                    feedback: String::new()
                },
                NumericAnswer {
                    value: 14.0,
                    tolerance: 2.0,
                    weight: 50.0,
                    feedback: String::new()
                },
            ]
        }
    );
    // A subquestion without a prompt is a distractor, not a pair.
    assert_eq!(
        qs[5].kind,
        QuestionKind::Matching {
            pairs: vec![
                MatchPair {
                    prompt: "Race".into(),
                    answer: "universal".into()
                },
                MatchPair {
                    prompt: "Income".into(),
                    answer: "program-specific".into()
                },
            ]
        }
    );
    assert_eq!(qs[6].kind, QuestionKind::Essay);
}

#[test]
fn other_kinds_are_skipped_and_bad_ones_rejected_by_line() {
    let entries = read_moodle_xml(QUIZ).unwrap();
    let line_of = |name: &str| {
        let at = QUIZ.find(&format!("<name><text>{name}</text>")).unwrap();
        // The <question> element starts on the line before its name.
        QUIZ[..at].lines().count() - 1
    };
    let others: Vec<(usize, &str, &QuestionOutcome)> = entries
        .iter()
        .filter(|e| !matches!(e.outcome, QuestionOutcome::Imported(_)))
        .map(|e| (e.line, e.label.as_str(), &e.outcome))
        .collect();
    assert_eq!(others.len(), 4, "{others:#?}");
    assert_eq!((others[0].0, others[0].1), (line_of("Intro"), "Intro"));
    assert!(matches!(others[0].2, QuestionOutcome::Skipped(w) if w.contains("description")));
    assert!(
        matches!(others[1].2, QuestionOutcome::Skipped(w) if w.contains("\u{201c}calculated\u{201d}"))
    );
    assert_eq!(others[2].0, line_of("No full marks"));
    assert!(matches!(others[2].2, QuestionOutcome::Rejected(w) if w.contains("worth 100%")));
    assert!(
        matches!(others[3].2, QuestionOutcome::Rejected(w) if w.contains("\u{201c}fourteen\u{201d} is not a number"))
    );
}

#[test]
fn dtds_entities_and_other_files_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<quiz><question type="essay"><name><text>&b;</text></name></question></quiz>"#;
    assert!(matches!(
        read_moodle_xml(bomb),
        Err(MoodleXmlError::Malformed(_))
    ));
    let external = r#"<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>"#;
    assert!(matches!(
        read_moodle_xml(external),
        Err(MoodleXmlError::Malformed(_))
    ));
    assert_eq!(
        read_moodle_xml("<questions/>"),
        Err(MoodleXmlError::NotAQuiz("questions".into()))
    );
    assert!(matches!(
        read_moodle_xml("<quiz><question>"),
        Err(MoodleXmlError::Malformed(_))
    ));
    let big = format!("<quiz>{}</quiz>", " ".repeat(21 * 1024 * 1024));
    assert_eq!(read_moodle_xml(&big), Err(MoodleXmlError::TooLarge));
}

#[test]
fn a_bank_reads_back_the_same_in_either_format() {
    let from_xml = imported(&read_moodle_xml(QUIZ).unwrap());
    let written = write_moodle_xml(&from_xml);
    assert_eq!(
        imported(&read_moodle_xml(&written).unwrap()),
        from_xml,
        "{written}"
    );
    // GIFT's own test bank, through Moodle XML: the same questions.
    let gift = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/gift/bank.gift"
    ))
    .unwrap();
    let from_gift = imported(&read_gift(&gift));
    assert!(from_gift.len() >= 10);
    let through_xml = imported(&read_moodle_xml(&write_moodle_xml(&from_gift)).unwrap());
    assert_eq!(through_xml, from_gift);
}
