//! What the process editor needs beyond the rules themselves: each problem of
//! [`ProcessTemplate::validate`] placed on the field it is about, and the order in which a
//! given request's steps would open.

use super::{step_statuses, ProcessTemplate, RequestFacts, StepStatus};
use std::collections::BTreeMap;

/// A field of the template as a whole.
pub mod template_field {
    pub const KEY: &str = "key";
    pub const NAME: &str = "name";
    pub const USERNAME_PATTERN: &str = "username_pattern";
    pub const STEPS: &str = "steps";
    /// Anything about the template that names no field.
    pub const TEMPLATE: &str = "template";
}

/// A field of one step.
pub mod step_field {
    pub const KEY: &str = "key";
    pub const TITLE: &str = "title";
    pub const KIND: &str = "kind";
    pub const ACTOR: &str = "actor";
    pub const AFTER: &str = "after";
    pub const ACCESS_LEVELS: &str = "access_levels";
    pub const EXCEPT_ACCESS_LEVELS: &str = "except_access_levels";
    pub const RESPONSIBILITIES: &str = "responsibilities";
    pub const PROJECT_TYPES: &str = "project_types";
    pub const DEADLINE_DAYS: &str = "deadline_days";
    pub const WARN_DAYS_BEFORE: &str = "warn_days_before";
    pub const SLA_HOURS: &str = "sla_hours";
    pub const REMIND_EVERY_DAYS: &str = "remind_every_days";
    pub const AGREEMENT: &str = "agreement";
    pub const SIGNERS: &str = "signers";
    pub const PLAN_PARTS: &str = "plan_parts";
    /// Anything about the step that names no field.
    pub const STEP: &str = "step";
}

/// A problem of a template, on the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedProblem {
    /// The step's position (0-based); None for the template as a whole.
    pub step: Option<usize>,
    /// One of [`template_field`] (no step) or [`step_field`] (a step).
    pub field: &'static str,
    /// In the words of someone filling in the editor's form.
    pub message: String,
}

/// The field a template-level problem of `validate` is about.
fn template_field_of(message: &str) -> &'static str {
    use template_field::*;
    if message.starts_with("key ") {
        KEY
    } else if message.starts_with("name ") {
        NAME
    } else if message.starts_with("username_pattern") {
        USERNAME_PATTERN
    } else if message.contains("no steps") {
        STEPS
    } else {
        TEMPLATE
    }
}

/// The field a step-level problem of `validate` is about, and the message as the form says it.
fn step_field_of(message: &str) -> (&'static str, String) {
    use step_field::*;
    let m = message.to_string();
    if message.starts_with("key") {
        if message.contains("earlier step") {
            return (KEY, "Another step above already uses this key".into());
        }
        return (
            KEY,
            "Use 1 to 64 lower-case letters, digits, _ or - (for example review-request)".into(),
        );
    }
    if message.starts_with("title") {
        return (TITLE, "Give the step a title".into());
    }
    if message.starts_with("comes after") {
        return (AFTER, m);
    }
    if message.contains("agreement step's actor") {
        return (
            ACTOR,
            "An agreement step is done by its signers: choose \u{201c}Signers, in order\u{201d}"
                .into(),
        );
    }
    if message.contains("signer") {
        return (SIGNERS, m);
    }
    if message.contains("(actor \"lead\")") {
        return (
            ACTOR,
            format!(
                "{}: choose \u{201c}HMIS Lead\u{201d}",
                message.split(" (actor").next().unwrap_or(message)
            ),
        );
    }
    if message.contains("actor") {
        return (ACTOR, m);
    }
    if message.contains("agreement") {
        if message.starts_with("only agreement steps") {
            return (
                AGREEMENT,
                "Only agreement-signing steps name an agreement: choose \u{201c}None\u{201d} or change the kind".into(),
            );
        }
        if message.contains("must name its agreement") {
            return (AGREEMENT, "Choose the agreement to sign".into());
        }
        return (AGREEMENT, m);
    }
    if message.contains("deadline needs") {
        return (DEADLINE_DAYS, m);
    }
    if message.contains("warning") {
        return (WARN_DAYS_BEFORE, m);
    }
    if message.contains("SLA") {
        return (SLA_HOURS, m);
    }
    if message.contains("reminder") {
        return (REMIND_EVERY_DAYS, m);
    }
    (STEP, m)
}

/// How `validate` names a step: its key, or `step N` when it has none.
fn place_of(t: &ProcessTemplate, i: usize) -> String {
    match t.steps.get(i) {
        Some(s) if !s.key.is_empty() => s.key.clone(),
        _ => format!("step {}", i + 1),
    }
}

impl ProcessTemplate {
    /// Every problem of [`ProcessTemplate::validate`], on the field it is about. Problems
    /// come in the order of the template; a step key used twice puts "used by an earlier
    /// step" on the later step.
    pub fn problems_by_field(&self, agreements: &[String]) -> Vec<PlacedProblem> {
        let Err(problems) = self.validate(agreements) else {
            return Vec::new();
        };
        let places: Vec<String> = (0..self.steps.len()).map(|i| place_of(self, i)).collect();
        let mut cursor = 0;
        let mut out = Vec::with_capacity(problems.len());
        for p in problems {
            if p.place == "template" {
                out.push(PlacedProblem {
                    step: None,
                    field: template_field_of(&p.message),
                    message: template_message(&p.message),
                });
                continue;
            }
            let earlier = p.message.contains("earlier step");
            // Problems come step by step; with a key used twice, the next match is the one.
            let from = if earlier { cursor + 1 } else { cursor };
            let index = (from..places.len())
                .find(|&j| places[j] == p.place)
                .or_else(|| places.iter().position(|x| *x == p.place));
            if let Some(j) = index {
                cursor = j;
            }
            let (field, message) = step_field_of(&p.message);
            let message = sentence(&message);
            out.push(PlacedProblem {
                step: index,
                field: if index.is_some() {
                    field
                } else {
                    template_field::TEMPLATE
                },
                message,
            });
        }
        out
    }
}

/// The message with a capital first letter.
fn sentence(m: &str) -> String {
    let mut c = m.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn template_message(message: &str) -> String {
    match template_field_of(message) {
        template_field::KEY => {
            "Use 1 to 64 lower-case letters, digits, _ or - for the process's key".into()
        }
        template_field::NAME => "Give the process a name".into(),
        template_field::STEPS => "Add at least one step".into(),
        template_field::USERNAME_PATTERN => {
            "Use {first}, {last}, {f}, {l} and letters, for example {first}.{last}".into()
        }
        _ => message.to_string(),
    }
}

/// When a step comes for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The step opens at this stage (1 first; steps of one stage open together).
    Stage(usize),
    /// The step does not apply to this request.
    NotApplicable,
    /// The step applies but never opens: a step it comes after is missing or listed later.
    Never,
}

/// The order in which a request with these facts meets the template's steps, one entry per
/// step in template order: each stage's steps open once every earlier stage is done.
pub fn walk(t: &ProcessTemplate, facts: &RequestFacts) -> Vec<Reach> {
    let mut reach: Vec<Option<Reach>> = vec![None; t.steps.len()];
    let mut settled: BTreeMap<String, StepStatus> = BTreeMap::new();
    for stage in 1..=t.steps.len() + 1 {
        let statuses = step_statuses(t, facts, &settled);
        let mut opened = Vec::new();
        for (i, (key, status)) in statuses.iter().enumerate() {
            match status {
                StepStatus::NotApplicable => reach[i] = Some(Reach::NotApplicable),
                StepStatus::Open if reach[i].is_none() => {
                    reach[i] = Some(Reach::Stage(stage));
                    opened.push(key.clone());
                }
                _ => {}
            }
        }
        if opened.is_empty() {
            break;
        }
        for k in opened {
            settled.insert(k, StepStatus::Done);
        }
    }
    reach
        .into_iter()
        .map(|r| r.unwrap_or(Reach::Never))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Condition, StepActor, StepDef, StepKind};

    fn step(key: &str, kind: StepKind, actor: StepActor, after: &[&str]) -> StepDef {
        StepDef {
            plan_parts: Vec::new(),
            key: key.into(),
            title: key.into(),
            kind,
            actor,
            after: after.iter().map(|s| s.to_string()).collect(),
            applies: Condition::default(),
            deadline: None,
            sla_hours: None,
            remind_every_days: None,
            agreement: None,
            signers: Vec::new(),
            instructions: String::new(),
        }
    }

    fn template(steps: Vec<StepDef>) -> ProcessTemplate {
        ProcessTemplate {
            key: "t".into(),
            name: "T".into(),
            description: String::new(),
            carry_over_days: 365,
            username_pattern: "{first}.{last}".into(),
            steps,
        }
    }

    #[test]
    fn each_problem_lands_on_its_field_and_step() {
        let mut sign = step("sign", StepKind::AgreementSigning, StepActor::Trainee, &[]);
        sign.deadline = Some(crate::process::Deadline {
            days: 0,
            from: Default::default(),
            on_expiry: Default::default(),
            warn_days_before: 0,
        });
        let mut review = step("a", StepKind::LeadReview, StepActor::Trainee, &["later"]);
        review.sla_hours = Some(0);
        let mut t = template(vec![
            step("a", StepKind::Checklist, StepActor::Lead, &[]),
            review,
            sign,
            step("later", StepKind::Checklist, StepActor::Lead, &[]),
            step("", StepKind::Checklist, StepActor::Lead, &[]),
        ]);
        t.name = " ".into();
        let p = t.problems_by_field(&[]);
        let at = |step: Option<usize>, field: &str| {
            p.iter()
                .filter(|x| x.step == step && x.field == field)
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(None, template_field::NAME), ["Give the process a name"]);
        // The key used twice is the second step's problem, not the first's.
        assert!(at(Some(0), step_field::KEY).is_empty(), "{p:?}");
        assert_eq!(
            at(Some(1), step_field::KEY),
            ["Another step above already uses this key"]
        );
        assert!(at(Some(1), step_field::AFTER)[0].contains("listed later"));
        assert!(at(Some(1), step_field::ACTOR)[0].contains("choose \u{201c}HMIS Lead\u{201d}"));
        assert_eq!(at(Some(1), step_field::SLA_HOURS).len(), 1);
        assert_eq!(
            at(Some(2), step_field::AGREEMENT),
            ["Choose the agreement to sign"]
        );
        assert_eq!(at(Some(2), step_field::SIGNERS).len(), 1);
        assert_eq!(at(Some(2), step_field::ACTOR).len(), 1);
        assert_eq!(at(Some(2), step_field::DEADLINE_DAYS).len(), 1);
        assert_eq!(at(Some(4), step_field::KEY).len(), 1);
        // Nothing is left without a field.
        assert!(
            p.iter()
                .all(|x| x.field != step_field::STEP && x.field != template_field::TEMPLATE),
            "{p:?}"
        );
        assert_eq!(p.len(), t.validate(&[]).unwrap_err().len());
        assert!(
            template(vec![step("x", StepKind::Checklist, StepActor::Lead, &[])])
                .problems_by_field(&[])
                .is_empty()
        );
    }

    #[test]
    fn a_walk_gives_stages_in_the_order_steps_open() {
        let mut live = step(
            "live",
            StepKind::LiveSessionAttended,
            StepActor::Trainee,
            &["review"],
        );
        live.applies.responsibilities = vec!["enroll_clients".into()];
        let t = template(vec![
            step("review", StepKind::LeadReview, StepActor::Lead, &[]),
            step("sign", StepKind::Checklist, StepActor::Trainee, &[]),
            step(
                "training",
                StepKind::TrainingPlanComplete,
                StepActor::Trainee,
                &["review"],
            ),
            live,
            step(
                "account",
                StepKind::AccountProvisioning,
                StepActor::Lead,
                &["training", "live", "sign"],
            ),
            step("stuck", StepKind::Checklist, StepActor::Lead, &["nowhere"]),
        ]);
        let facts = RequestFacts {
            access_level: "end_user".into(),
            responsibilities: vec!["reporting".into()],
            project_types: vec![0],
            returning: false,
        };
        assert_eq!(
            walk(&t, &facts),
            [
                Reach::Stage(1),
                Reach::Stage(1),
                Reach::Stage(2),
                Reach::NotApplicable,
                Reach::Stage(3),
                Reach::Never
            ]
        );
        let enrolling = RequestFacts {
            responsibilities: vec!["enroll_clients".into()],
            ..facts
        };
        assert_eq!(walk(&t, &enrolling)[3], Reach::Stage(2));
    }
}
