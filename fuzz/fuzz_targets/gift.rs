//! Any bytes read as a GIFT file: no panic, no hang, and every question that imports
//! writes out and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp_domain::learning::question::Question;
use onramp_formats::quiz::gift::{read_gift, write_gift};
use onramp_formats::quiz::QuestionOutcome;

fn imported(text: &str) -> Vec<Question> {
    read_gift(text)
        .into_iter()
        .filter_map(|e| match e.outcome {
            QuestionOutcome::Imported(q) => Some(q),
            _ => None,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let questions = imported(text);
    assert_eq!(questions, imported(&write_gift(&questions)));
});
