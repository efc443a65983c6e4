//! Training pages: the trainee's plan, courses and lessons, certificates, and agencies'
//! training credits.

pub mod authoring;
pub mod certificates;
pub mod credits;
pub mod training;

use crate::Route;

pub fn routes() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(training::routes());
    r.extend(authoring::routes());
    r.extend(certificates::routes());
    r.extend(credits::routes());
    r
}
