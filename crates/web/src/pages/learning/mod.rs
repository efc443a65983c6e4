//! Training pages: the trainee's plan, courses and lessons, certificates, agencies'
//! training credits, and for the Lead and agencies the requirement rules, reports and each
//! person's plan.

pub mod authoring;
pub mod certificates;
pub mod credits;
pub mod plans;
pub mod quizzes;
pub mod reports;
pub mod rules;
pub mod training;

use crate::Route;

pub fn routes() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(training::routes());
    r.extend(authoring::routes());
    r.extend(certificates::routes());
    r.extend(credits::routes());
    r.extend(rules::routes());
    r.extend(reports::routes());
    r.extend(plans::routes());
    r.extend(quizzes::routes());
    r
}
