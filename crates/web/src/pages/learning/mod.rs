//! Training pages: the trainee's plan, courses and lessons.

pub mod authoring;
pub mod certificates;
pub mod training;

use crate::Route;

pub fn routes() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(training::routes());
    r.extend(authoring::routes());
    r.extend(certificates::routes());
    r
}
