//! Quiz pages: taking a quiz (the trainee), the question bank and its imports, building
//! quizzes, and the Lead's review (flags, essays, item analysis).

pub mod authoring;
pub mod bank;
pub mod review;
pub mod taking;

use crate::Route;

pub fn routes() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(taking::routes());
    r.extend(bank::routes());
    r.extend(authoring::routes());
    r.extend(review::routes());
    r
}

/// "85%" for a grade.
pub fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.0}%"))
        .unwrap_or_else(|| "Waiting for grading".into())
}

pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
