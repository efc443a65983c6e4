//! Training: courses and lessons, enrolments and progress, completion records, requirement
//! rules and training plans.

pub mod certificates;
pub mod courses;
pub mod credits;
pub mod plans;
pub mod quizzes;
pub mod reports;
