//! Training: courses and their lessons, prerequisites, requirement rules and the training
//! plans they build. Each capability owns its completion rules here as pure functions and
//! reports completion through one model: a plan's items, each complete or not.

pub mod certificate;
pub mod course;
pub mod coverage;
pub mod credits;
pub mod plan;
pub mod question;
pub mod quiz;
pub mod quiz_statistics;
pub mod rules;
