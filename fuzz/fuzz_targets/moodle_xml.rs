//! Any bytes read as a Moodle XML file: no panic, no hang, and every question that imports
//! writes out and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp_domain::learning::question::Question;
use onramp_formats::quiz::moodle_xml::{read_moodle_xml, write_moodle_xml};
use onramp_formats::quiz::QuestionOutcome;

fn imported(text: &str) -> Option<Vec<Question>> {
    Some(
        read_moodle_xml(text)
            .ok()?
            .into_iter()
            .filter_map(|e| match e.outcome {
                QuestionOutcome::Imported(q) => Some(q),
                _ => None,
            })
            .collect(),
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(questions) = imported(text) {
        assert_eq!(Some(questions.clone()), imported(&write_moodle_xml(&questions)));
    }
});
