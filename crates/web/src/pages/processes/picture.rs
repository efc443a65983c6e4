//! A process as a picture (its steps in order, who acts and when each applies, as a
//! timeline), and a preview of the steps one request would get, in the order they open.

use super::{describe_applies, describe_deadline, name_of};
use onramp_domain::agreement::SignerRole;
use onramp_domain::process::editor::{walk, Reach};
use onramp_domain::process::{ProcessTemplate, RequestFacts, StepActor, StepDef, StepKind};
use onramp_domain::HudProjectType;
use std::collections::BTreeMap;

/// The names a picture uses for codes: access levels, responsibilities, agreements.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub access_levels: BTreeMap<String, String>,
    pub responsibilities: BTreeMap<String, String>,
    pub agreements: BTreeMap<String, String>,
}

/// One step of the timeline.
#[derive(Debug, Clone)]
pub struct TimelineStep {
    pub number: usize,
    pub title: String,
    pub kind: &'static str,
    pub who: String,
    /// A CSS class naming who acts, for the marker's colour.
    pub actor_class: &'static str,
    /// "Starts the process" or "After …".
    pub after: String,
    pub applies: String,
    pub deadline: String,
    pub sla: String,
}

/// `a`, `a and b`, `a, b and c`.
fn all_of(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who acts on a step, in words: for an agreement, its signers in order.
pub fn who_acts(s: &StepDef, names: &Names) -> String {
    if s.kind == StepKind::AgreementSigning || s.actor == StepActor::Signers {
        let order: Vec<&str> = s.signers.iter().map(|r| SignerRole::label(*r)).collect();
        let signers = if order.is_empty() {
            "Signers (none named yet)".to_string()
        } else {
            order.join(", then ")
        };
        return match &s.agreement {
            Some(a) => format!("{signers} sign {}", name_of(&names.agreements, a)),
            None => signers,
        };
    }
    s.actor.label().to_string()
}

fn actor_class(a: StepActor) -> &'static str {
    match a {
        StepActor::Lead => "actor-lead",
        StepActor::AgencyContact | StepActor::Supervisor => "actor-agency",
        StepActor::ExecutiveDirector => "actor-director",
        StepActor::Trainee => "actor-trainee",
        StepActor::Proctor => "actor-proctor",
        StepActor::Signers => "actor-signers",
    }
}

fn hours(h: u32) -> String {
    if h == 1 {
        "1 hour".into()
    } else {
        format!("{h} hours")
    }
}

/// The template's steps in order, as the timeline shows them.
pub fn timeline(t: &ProcessTemplate, names: &Names) -> Vec<TimelineStep> {
    let title_of = |key: &str| {
        t.steps
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.title.clone())
            .filter(|x| !x.trim().is_empty())
            .unwrap_or_else(|| key.to_string())
    };
    t.steps
        .iter()
        .enumerate()
        .map(|(i, s)| TimelineStep {
            number: i + 1,
            title: if s.title.trim().is_empty() {
                format!("Step {} (no title yet)", i + 1)
            } else {
                s.title.clone()
            },
            kind: s.kind.label(),
            who: who_acts(s, names),
            actor_class: actor_class(s.actor),
            after: if s.after.is_empty() {
                "Opens when the request is submitted".into()
            } else {
                format!(
                    "After {}",
                    all_of(&s.after.iter().map(|a| title_of(a)).collect::<Vec<_>>())
                )
            },
            applies: describe_applies(&s.applies, &names.access_levels, &names.responsibilities),
            deadline: describe_deadline(s.deadline.as_ref(), s.remind_every_days),
            sla: s.sla_hours.map(hours).unwrap_or_default(),
        })
        .collect()
}

/// A step of the preview.
#[derive(Debug, Clone)]
pub struct PreviewStep {
    pub title: String,
    pub who: String,
}

/// Steps that open together.
#[derive(Debug, Clone)]
pub struct PreviewStage {
    pub number: usize,
    pub steps: Vec<PreviewStep>,
}

/// What a request with given facts gets from a template.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// The facts, in words.
    pub facts: String,
    pub stages: Vec<PreviewStage>,
    /// Titles of the steps that do not apply.
    pub skipped: Vec<String>,
    /// Titles of the steps that apply but never open.
    pub never: Vec<String>,
    /// How many steps the request gets.
    pub count: usize,
}

impl Preview {
    /// "7 steps", "1 step".
    pub fn count_label(&self) -> String {
        if self.count == 1 {
            "1 step".into()
        } else {
            format!("{} steps", self.count)
        }
    }
}

/// The facts in words.
pub fn describe_facts(f: &RequestFacts, names: &Names) -> String {
    let mut parts = vec![format!(
        "Access level {}",
        if f.access_level.is_empty() {
            "not chosen".to_string()
        } else {
            name_of(&names.access_levels, &f.access_level)
        }
    )];
    if f.responsibilities.is_empty() {
        parts.push("no responsibilities".into());
    } else {
        let r: Vec<String> = f
            .responsibilities
            .iter()
            .map(|r| name_of(&names.responsibilities, r))
            .collect();
        parts.push(format!("responsibilities {}", all_of(&r)));
    }
    if f.project_types.is_empty() {
        parts.push("no projects".into());
    } else {
        let p: Vec<String> = f
            .project_types
            .iter()
            .map(|t| {
                HudProjectType::from_code(*t)
                    .map(|p| p.label().to_string())
                    .unwrap_or_else(|| format!("type {t}"))
            })
            .collect();
        parts.push(format!("projects of type {}", all_of(&p)));
    }
    parts.push(if f.returning {
        "returning to the HMIS".into()
    } else {
        "new to the HMIS".into()
    });
    parts.join("; ")
}

/// The steps a request with these facts gets, stage by stage.
pub fn preview(t: &ProcessTemplate, f: &RequestFacts, names: &Names) -> Preview {
    let steps = timeline(t, names);
    let mut out = Preview {
        facts: describe_facts(f, names),
        ..Default::default()
    };
    for (i, reach) in walk(t, f).into_iter().enumerate() {
        let Some(step) = steps.get(i) else { continue };
        match reach {
            Reach::Stage(n) => {
                out.count += 1;
                let entry = PreviewStep {
                    title: step.title.clone(),
                    who: step.who.clone(),
                };
                match out.stages.iter_mut().find(|s| s.number == n) {
                    Some(s) => s.steps.push(entry),
                    None => out.stages.push(PreviewStage {
                        number: n,
                        steps: vec![entry],
                    }),
                }
            }
            Reach::NotApplicable => out.skipped.push(step.title.clone()),
            Reach::Never => out.never.push(step.title.clone()),
        }
    }
    out.stages.sort_by_key(|s| s.number);
    out
}
