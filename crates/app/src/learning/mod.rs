//! Training: courses and their lessons (authoring and publishing), a person's work through
//! them, requirement rules and the training plans they build.

pub mod authoring;
pub mod catalogue;
pub mod certificates;
pub mod courses;
pub mod credits;
pub mod lessons;
pub mod packages;
pub mod plans;
pub mod quizzes;
pub mod reports;
