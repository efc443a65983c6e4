//! The form editor of a process: the template's own fields, then one group of fields per
//! step, every choice from a list. Adding, removing and moving steps, and the preview, are
//! buttons of the one form: each posts everything typed so far, and the page comes back with
//! it (nothing is saved until "Save"). Saving adds a version, as saving the TOML text does.
//!
//! Prerequisites are ticked by row (`s<i>-row`, a name that stays with the step while it
//! moves or its key is edited), and turned into step keys when the template is built.

use super::picture::{self, Names, Preview, TimelineStep};
use super::{render, saved_message};
use crate::chrome::{flash, Chrome};
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::AppState;
use crate::Route;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::processes::{self, step_field_name, Choice, Editing};
use onramp_app::AppError;
use onramp_domain::agreement::SignerRole;
use onramp_domain::process::editor::step_field;
use onramp_domain::process::{
    Audience, Condition, Deadline, DeadlineFrom, OnExpiry, ProcessTemplate, RequestFacts,
    StepActor, StepDef, StepKind,
};
use onramp_domain::{FieldError, HudProjectType};
use std::collections::{BTreeMap, BTreeSet};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/processes/{key}/editor", get(editor_form)),
        Route::post("/admin/processes/{key}/editor", post(editor_post)),
    ]
}

/// How many signers an agreement step may name (one of each signer role at most).
pub const SIGNER_SLOTS: usize = SignerRole::ALL.len();
/// Most steps a form may hold.
const MAX_STEPS: usize = 100;

const ACTORS: [StepActor; 7] = [
    StepActor::Lead,
    StepActor::AgencyContact,
    StepActor::Supervisor,
    StepActor::Trainee,
    StepActor::ExecutiveDirector,
    StepActor::Proctor,
    StepActor::Signers,
];

// ---------------------------------------------------------------- the form as typed

/// The template's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateForm {
    pub name: String,
    pub description: String,
    pub carry_over_days: String,
    pub username_pattern: String,
    pub steps: Vec<StepForm>,
}

/// One step's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepForm {
    /// Stays with the step while it moves; prerequisites name rows.
    pub row: String,
    pub key: String,
    pub title: String,
    pub kind: String,
    pub actor: String,
    /// Rows of the steps this one comes after.
    pub after: Vec<String>,
    pub access_levels: Vec<String>,
    pub except_access_levels: Vec<String>,
    pub responsibilities: Vec<String>,
    pub project_types: Vec<String>,
    pub audience: String,
    pub deadline_days: String,
    pub deadline_from: String,
    pub on_expiry: String,
    pub warn_days_before: String,
    pub sla_hours: String,
    pub remind_every_days: String,
    pub agreement: String,
    /// By position, [`SIGNER_SLOTS`] long; empty for no signer there.
    pub signers: Vec<String>,
    /// Parts of the training plan the step waits for, separated by commas.
    pub plan_parts: String,
    pub instructions: String,
}

/// The facts of the request to preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewForm {
    pub access_level: String,
    pub responsibilities: Vec<String>,
    pub project_types: Vec<String>,
    pub returning: bool,
}

impl PreviewForm {
    fn facts(&self) -> RequestFacts {
        RequestFacts {
            access_level: self.access_level.clone(),
            responsibilities: self.responsibilities.clone(),
            project_types: self
                .project_types
                .iter()
                .filter_map(|t| t.trim().parse().ok())
                .collect(),
            returning: self.returning,
        }
    }
}

/// What a button of the form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Save,
    Preview,
    Add,
    Remove(usize),
    Up(usize),
    Down(usize),
}

impl Op {
    fn parse(s: &str) -> Op {
        let (verb, n) = s.split_once('-').unwrap_or((s, ""));
        let n = n.parse::<usize>().ok();
        match (verb, n) {
            ("preview", _) => Op::Preview,
            ("add", _) => Op::Add,
            ("remove", Some(i)) => Op::Remove(i),
            ("up", Some(i)) => Op::Up(i),
            ("down", Some(i)) => Op::Down(i),
            _ => Op::Save,
        }
    }
}

fn text(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// Reads the posted form: the template's fields, the steps (in the order of their index),
/// the preview's facts and the button pressed.
pub fn read(pairs: &[(String, String)]) -> (TemplateForm, PreviewForm, Op) {
    let mut f = TemplateForm::default();
    let mut p = PreviewForm::default();
    let mut op = Op::Save;
    let mut steps: BTreeMap<usize, StepForm> = BTreeMap::new();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => f.name = v.clone(),
            "description" => f.description = text(v),
            "carry_over_days" => f.carry_over_days = v.clone(),
            "username_pattern" => f.username_pattern = v.clone(),
            "op" => op = Op::parse(v),
            "p-access_level" => p.access_level = v.clone(),
            "p-responsibilities" => p.responsibilities.push(v.clone()),
            "p-project_types" => p.project_types.push(v.clone()),
            "p-returning" => p.returning = v == "returning",
            _ => {
                let Some((i, field)) = k
                    .strip_prefix('s')
                    .and_then(|r| r.split_once('-'))
                    .and_then(|(i, field)| Some((i.parse::<usize>().ok()?, field)))
                else {
                    continue;
                };
                if i >= MAX_STEPS {
                    continue;
                }
                let s = steps.entry(i).or_insert_with(|| StepForm {
                    signers: vec![String::new(); SIGNER_SLOTS],
                    ..Default::default()
                });
                match field {
                    "row" => s.row = v.clone(),
                    "key" => s.key = v.clone(),
                    "title" => s.title = v.clone(),
                    "kind" => s.kind = v.clone(),
                    "actor" => s.actor = v.clone(),
                    "after" => s.after.push(v.clone()),
                    "access_levels" => s.access_levels.push(v.clone()),
                    "except_access_levels" => s.except_access_levels.push(v.clone()),
                    "responsibilities" => s.responsibilities.push(v.clone()),
                    "project_types" => s.project_types.push(v.clone()),
                    "audience" => s.audience = v.clone(),
                    "deadline_days" => s.deadline_days = v.clone(),
                    "deadline_from" => s.deadline_from = v.clone(),
                    "on_expiry" => s.on_expiry = v.clone(),
                    "warn_days_before" => s.warn_days_before = v.clone(),
                    "sla_hours" => s.sla_hours = v.clone(),
                    "remind_every_days" => s.remind_every_days = v.clone(),
                    "agreement" => s.agreement = v.clone(),
                    "instructions" => s.instructions = text(v),
                    "plan_parts" => s.plan_parts = v.clone(),
                    other => {
                        if let Some(n) = other
                            .strip_prefix("signer-")
                            .and_then(|n| n.parse::<usize>().ok())
                            .filter(|n| (1..=SIGNER_SLOTS).contains(n))
                        {
                            s.signers[n - 1] = v.clone();
                        }
                    }
                }
            }
        }
    }
    f.steps = steps.into_values().collect();
    // Every row has a distinct name.
    let mut seen = BTreeSet::new();
    for (i, s) in f.steps.iter_mut().enumerate() {
        if s.row.is_empty() || !seen.insert(s.row.clone()) {
            s.row = format!("n{i}");
            while !seen.insert(s.row.clone()) {
                s.row.push('x');
            }
        }
    }
    (f, p, op)
}

/// The form of a stored template.
pub fn form_of(t: &ProcessTemplate) -> TemplateForm {
    let row_of: BTreeMap<&str, String> = t
        .steps
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.key.as_str(), format!("r{i}")))
        .collect();
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    TemplateForm {
        name: t.name.clone(),
        description: t.description.clone(),
        carry_over_days: t.carry_over_days.to_string(),
        username_pattern: t.username_pattern.clone(),
        steps: t
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut signers: Vec<String> =
                    s.signers.iter().map(|r| r.as_str().to_string()).collect();
                signers.resize(SIGNER_SLOTS.max(signers.len()), String::new());
                StepForm {
                    row: format!("r{i}"),
                    key: s.key.clone(),
                    title: s.title.clone(),
                    kind: s.kind.as_str().into(),
                    actor: s.actor.as_str().into(),
                    after: s
                        .after
                        .iter()
                        .map(|a| row_of.get(a.as_str()).cloned().unwrap_or_else(|| a.clone()))
                        .collect(),
                    access_levels: s.applies.access_levels.clone(),
                    except_access_levels: s.applies.except_access_levels.clone(),
                    responsibilities: s.applies.responsibilities.clone(),
                    project_types: s
                        .applies
                        .project_types
                        .iter()
                        .map(|t| t.to_string())
                        .collect(),
                    audience: audience_code(s.applies.audience).into(),
                    deadline_days: number(s.deadline.as_ref().map(|d| d.days)),
                    deadline_from: from_code(
                        s.deadline.as_ref().map(|d| d.from).unwrap_or_default(),
                    )
                    .into(),
                    on_expiry: expiry_code(
                        s.deadline.as_ref().map(|d| d.on_expiry).unwrap_or_default(),
                    )
                    .into(),
                    warn_days_before: number(
                        s.deadline
                            .as_ref()
                            .map(|d| d.warn_days_before)
                            .filter(|w| *w > 0),
                    ),
                    sla_hours: number(s.sla_hours),
                    remind_every_days: number(s.remind_every_days),
                    agreement: s.agreement.clone().unwrap_or_default(),
                    signers,
                    plan_parts: s.plan_parts.join(", "),
                    instructions: s.instructions.clone(),
                }
            })
            .collect(),
    }
}

fn audience_code(a: Audience) -> &'static str {
    match a {
        Audience::Any => "any",
        Audience::New => "new",
        Audience::Returning => "returning",
    }
}

fn from_code(f: DeadlineFrom) -> &'static str {
    match f {
        DeadlineFrom::RequestStart => "request_start",
        DeadlineFrom::StepOpen => "step_open",
    }
}

fn expiry_code(e: OnExpiry) -> &'static str {
    match e {
        OnExpiry::ExpireRequest => "expire_request",
        OnExpiry::Notify => "notify",
    }
}

/// A key made from a title: `Review the request` → `review-the-request`.
pub fn key_from_title(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(48).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

impl TemplateForm {
    /// Gives a step with a title and no key a key made from its title.
    fn fill_keys(&mut self) {
        let mut used: BTreeSet<String> = self
            .steps
            .iter()
            .map(|s| s.key.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect();
        for s in &mut self.steps {
            if s.key.trim().is_empty() && !s.title.trim().is_empty() {
                let base = key_from_title(&s.title);
                if base.is_empty() {
                    continue;
                }
                let mut k = base.clone();
                let mut n = 2;
                while used.contains(&k) {
                    k = format!("{base}-{n}");
                    n += 1;
                }
                used.insert(k.clone());
                s.key = k;
            }
        }
    }

    /// Applies a button other than save or preview.
    fn apply(&mut self, op: Op) {
        match op {
            Op::Add => {
                let mut n = self.steps.len();
                let rows: BTreeSet<&str> = self.steps.iter().map(|s| s.row.as_str()).collect();
                while rows.contains(format!("n{n}").as_str()) {
                    n += 1;
                }
                let row = format!("n{n}");
                if self.steps.len() < MAX_STEPS {
                    self.steps.push(StepForm {
                        row,
                        kind: StepKind::Checklist.as_str().into(),
                        actor: StepActor::Lead.as_str().into(),
                        // The new step comes after the one above it, as most steps do.
                        after: self
                            .steps
                            .last()
                            .map(|s| s.row.clone())
                            .into_iter()
                            .collect(),
                        audience: "any".into(),
                        deadline_from: "request_start".into(),
                        on_expiry: "expire_request".into(),
                        signers: vec![String::new(); SIGNER_SLOTS],
                        ..Default::default()
                    });
                }
            }
            Op::Remove(i) if i < self.steps.len() => {
                let gone = self.steps.remove(i).row;
                for s in &mut self.steps {
                    s.after.retain(|r| *r != gone);
                }
            }
            Op::Up(i) if i > 0 && i < self.steps.len() => self.steps.swap(i - 1, i),
            Op::Down(i) if i + 1 < self.steps.len() => self.steps.swap(i, i + 1),
            _ => {}
        }
    }

    /// The template the form describes, and the fields that could not be read. Fields that
    /// cannot be read are left at their defaults, so that the rest can still be checked.
    pub fn template(&self, key: &str) -> (ProcessTemplate, Vec<FieldError>) {
        let mut errors = Vec::new();
        let carry_over_days = match self.carry_over_days.trim() {
            "" => {
                errors.push(FieldError::new(
                    "carry_over_days",
                    "Enter a number of days (0: returning users repeat every step)",
                ));
                0
            }
            v => v.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "carry_over_days",
                    "Enter a whole number of days, 0 or more",
                ));
                0
            }),
        };
        let key_of: BTreeMap<&str, String> = self
            .steps
            .iter()
            .map(|s| (s.row.as_str(), s.key.trim().to_string()))
            .collect();
        let mut steps = Vec::with_capacity(self.steps.len());
        for (i, s) in self.steps.iter().enumerate() {
            let mut err = |field: &str, message: &str| {
                errors.push(FieldError::new(step_field_name(i, field), message))
            };
            let kind = StepKind::parse(&s.kind).unwrap_or_else(|| {
                err(step_field::KIND, "Choose what kind of step this is");
                StepKind::Checklist
            });
            let actor = ACTORS
                .into_iter()
                .find(|a| a.as_str() == s.actor)
                .unwrap_or_else(|| {
                    err(step_field::ACTOR, "Choose who acts on this step");
                    StepActor::Lead
                });
            let mut number = |field: &str, v: &str, what: &str| -> Option<u32> {
                let v = v.trim();
                if v.is_empty() {
                    return None;
                }
                match v.parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        errors.push(FieldError::new(
                            step_field_name(i, field),
                            format!("Enter a whole number of {what}, or leave it empty"),
                        ));
                        None
                    }
                }
            };
            let days = number(step_field::DEADLINE_DAYS, &s.deadline_days, "days");
            let warn = number(step_field::WARN_DAYS_BEFORE, &s.warn_days_before, "days");
            let sla_hours = number(step_field::SLA_HOURS, &s.sla_hours, "hours");
            let remind_every_days =
                number(step_field::REMIND_EVERY_DAYS, &s.remind_every_days, "days");
            let mut err = |field: &str, message: &str| {
                errors.push(FieldError::new(step_field_name(i, field), message))
            };
            let deadline = match days {
                Some(days) => Some(Deadline {
                    days,
                    from: match s.deadline_from.as_str() {
                        "step_open" => DeadlineFrom::StepOpen,
                        _ => DeadlineFrom::RequestStart,
                    },
                    on_expiry: match s.on_expiry.as_str() {
                        "notify" => OnExpiry::Notify,
                        _ => OnExpiry::ExpireRequest,
                    },
                    warn_days_before: warn.unwrap_or(0),
                }),
                None => {
                    if warn.is_some_and(|w| w > 0) {
                        err(
                            step_field::WARN_DAYS_BEFORE,
                            "A warning needs a deadline: set the deadline's days, or clear the warning",
                        );
                    }
                    None
                }
            };
            let mut project_types = Vec::new();
            for t in &s.project_types {
                match t.trim().parse::<i32>() {
                    Ok(n) => project_types.push(n),
                    Err(_) => err(
                        step_field::PROJECT_TYPES,
                        "Choose HUD project types from the list",
                    ),
                }
            }
            let mut signers = Vec::new();
            for r in s.signers.iter().filter(|r| !r.trim().is_empty()) {
                match SignerRole::parse(r) {
                    Some(role) => signers.push(role),
                    None => err(step_field::SIGNERS, "Choose each signer from the list"),
                }
            }
            let mut plan_parts = Vec::new();
            for part in s
                .plan_parts
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
            {
                match onramp_domain::Slug::parse(part) {
                    Ok(p) => plan_parts.push(p.as_str().to_string()),
                    Err(_) => err(
                        step_field::PLAN_PARTS,
                        "Name each part with lower-case letters, digits, hyphens or underscores, separated by commas",
                    ),
                }
            }
            let audience = match s.audience.as_str() {
                "new" => Audience::New,
                "returning" => Audience::Returning,
                _ => Audience::Any,
            };
            let after = s
                .after
                .iter()
                .filter_map(|r| key_of.get(r.as_str()).cloned())
                .collect();
            steps.push(StepDef {
                key: s.key.trim().to_string(),
                title: s.title.trim().to_string(),
                kind,
                actor,
                after,
                applies: Condition {
                    access_levels: s.access_levels.clone(),
                    except_access_levels: s.except_access_levels.clone(),
                    responsibilities: s.responsibilities.clone(),
                    project_types,
                    audience,
                },
                deadline,
                sla_hours,
                remind_every_days,
                agreement: Some(s.agreement.trim().to_string()).filter(|a| !a.is_empty()),
                signers,
                plan_parts,
                instructions: s.instructions.clone(),
            });
        }
        (
            ProcessTemplate {
                key: key.to_string(),
                name: self.name.trim().to_string(),
                description: self.description.clone(),
                carry_over_days,
                username_pattern: self.username_pattern.trim().to_string(),
                steps,
            },
            errors,
        )
    }
}

/// Lists of the form (ticked boxes) come in the order of the page; those that hold the same
/// entries as the stored version keep its order, so that a template opened and saved
/// without a change is saved as it was. New entries follow, in the page's order.
pub fn keep_stored_order(t: &mut ProcessTemplate, stored: &ProcessTemplate) {
    fn keep<T: PartialEq + Clone>(list: &mut [T], old: &[T]) {
        let rank = |x: &T| old.iter().position(|o| o == x).unwrap_or(old.len());
        list.sort_by_key(|x| rank(x));
    }
    for s in &mut t.steps {
        let Some(old) = stored.step(&s.key) else {
            continue;
        };
        keep(&mut s.after, &old.after);
        keep(&mut s.applies.access_levels, &old.applies.access_levels);
        keep(
            &mut s.applies.except_access_levels,
            &old.applies.except_access_levels,
        );
        keep(
            &mut s.applies.responsibilities,
            &old.applies.responsibilities,
        );
        keep(&mut s.applies.project_types, &old.applies.project_types);
    }
}

// ---------------------------------------------------------------- the page

/// An `<option>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A checkbox or radio button.
pub struct Check {
    /// Unique within its group; part of the input's id.
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
    /// Said after the label (e.g. "not in the catalogue").
    pub note: String,
}

/// One signer position.
pub struct SignerSlot {
    pub position: usize,
    pub label: String,
    pub options: Vec<Opt>,
}

/// One step's fields as the page shows them.
pub struct StepEditor {
    pub index: usize,
    pub number: usize,
    pub last: bool,
    pub row: String,
    pub legend: String,
    pub key: String,
    pub title: String,
    pub kinds: Vec<Opt>,
    pub actors: Vec<Opt>,
    pub after: Vec<Check>,
    pub access_levels: Vec<Check>,
    pub except_access_levels: Vec<Check>,
    pub responsibilities: Vec<Check>,
    pub project_types: Vec<Check>,
    pub audiences: Vec<Check>,
    pub deadline_days: String,
    pub deadline_froms: Vec<Opt>,
    pub expiries: Vec<Opt>,
    pub warn_days_before: String,
    pub sla_hours: String,
    pub remind_every_days: String,
    pub agreements: Vec<Opt>,
    pub signers: Vec<SignerSlot>,
    pub plan_parts: String,
    pub instructions: String,
    pub open_conditions: bool,
    pub open_timing: bool,
    pub open_agreement: bool,
    errors: BTreeMap<String, String>,
}

impl StepEditor {
    /// The message next to a field (`step_field::…`), if any.
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
    pub fn has(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
    /// The field's `id`: `f-s<index>-<field>`, as the error summary links to it.
    pub fn id(&self, field: &str) -> String {
        format!("f-{}", step_field_name(self.index, field))
    }
    /// The field's `name`.
    pub fn name(&self, field: &str) -> String {
        step_field_name(self.index, field)
    }
}

fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// Checkboxes for a catalogue: its active entries, and any code ticked that is inactive or
/// unknown (so that nothing already chosen disappears).
fn catalogue_checks(choices: &[Choice], ticked: &[String]) -> Vec<Check> {
    let mut out: Vec<Check> = choices
        .iter()
        .filter(|c| c.active || ticked.contains(&c.code))
        .map(|c| Check {
            id: c.code.clone(),
            value: c.code.clone(),
            label: c.name.clone(),
            checked: ticked.contains(&c.code),
            note: if c.active {
                String::new()
            } else {
                "inactive".into()
            },
        })
        .collect();
    for t in ticked {
        if !choices.iter().any(|c| &c.code == t) {
            out.push(Check {
                id: format!("unknown-{}", out.len()),
                value: t.clone(),
                label: t.clone(),
                checked: true,
                note: "not in the catalogue".into(),
            });
        }
    }
    out
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        n => format!("{n}th"),
    }
}

fn step_editors(f: &TemplateForm, e: &Editing, errors: &FormErrors) -> Vec<StepEditor> {
    let count = f.steps.len();
    f.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let prefix = format!("s{i}-");
            let mut errs: BTreeMap<String, String> = BTreeMap::new();
            for fe in errors.all() {
                if let Some(field) = fe.field.strip_prefix(&prefix) {
                    errs.entry(field.to_string())
                        .and_modify(|m| {
                            m.push(' ');
                            m.push_str(&fe.message);
                        })
                        .or_insert_with(|| fe.message.clone());
                }
            }
            let label_of = |j: usize| {
                let o = &f.steps[j];
                if o.title.trim().is_empty() {
                    format!("Step {}", j + 1)
                } else {
                    format!("{}. {}", j + 1, o.title.trim())
                }
            };
            let mut after: Vec<Check> = (0..i)
                .map(|j| Check {
                    id: f.steps[j].row.clone(),
                    value: f.steps[j].row.clone(),
                    label: label_of(j),
                    checked: s.after.contains(&f.steps[j].row),
                    note: String::new(),
                })
                .collect();
            // A prerequisite now listed below this step stays ticked, with a note.
            for (j, o) in f.steps.iter().enumerate().skip(i + 1) {
                if s.after.contains(&o.row) {
                    after.push(Check {
                        id: o.row.clone(),
                        value: o.row.clone(),
                        label: label_of(j),
                        checked: true,
                        note: "listed below this step: move it above, or untick it".into(),
                    });
                }
            }
            let types: Vec<Check> = HudProjectType::ALL
                .iter()
                .map(|t| Check {
                    id: t.code().to_string(),
                    value: t.code().to_string(),
                    label: format!("{} ({})", t.label(), t.code()),
                    checked: s.project_types.contains(&t.code().to_string()),
                    note: String::new(),
                })
                .chain(
                    s.project_types
                        .iter()
                        .filter(|v| {
                            !HudProjectType::ALL
                                .iter()
                                .any(|t| t.code().to_string() == **v)
                        })
                        .enumerate()
                        .map(|(n, v)| Check {
                            id: format!("unknown-{n}"),
                            value: v.clone(),
                            label: v.clone(),
                            checked: true,
                            note: "not a HUD project type".into(),
                        }),
                )
                .collect();
            let audiences = [
                ("any", "New and returning users"),
                ("new", "New users only"),
                ("returning", "Returning users only"),
            ]
            .into_iter()
            .map(|(v, l)| Check {
                id: v.into(),
                value: v.into(),
                label: l.into(),
                checked: s.audience == v
                    || (v == "any" && !["new", "returning"].contains(&s.audience.as_str())),
                note: String::new(),
            })
            .collect();
            let mut agreement_items = vec![(String::new(), "None".to_string())];
            for a in &e.agreements {
                if a.active || a.code == s.agreement {
                    let label = if a.active {
                        a.name.clone()
                    } else {
                        format!("{} (inactive)", a.name)
                    };
                    agreement_items.push((a.code.clone(), label));
                }
            }
            if !s.agreement.is_empty() && !e.agreements.iter().any(|a| a.code == s.agreement) {
                agreement_items.push((
                    s.agreement.clone(),
                    format!("{} (does not exist)", s.agreement),
                ));
            }
            let signers = (1..=SIGNER_SLOTS.max(s.signers.len()))
                .map(|n| {
                    let chosen = s.signers.get(n - 1).cloned().unwrap_or_default();
                    let mut items = vec![(String::new(), "No one".to_string())];
                    items.extend(
                        SignerRole::ALL
                            .iter()
                            .map(|r| (r.as_str().to_string(), r.label().to_string())),
                    );
                    if !chosen.is_empty() && SignerRole::parse(&chosen).is_none() {
                        items.push((chosen.clone(), chosen.clone()));
                    }
                    SignerSlot {
                        position: n,
                        label: format!("{} signer", ordinal(n)),
                        options: opts(items, &chosen),
                    }
                })
                .collect();
            let has_any = |fields: &[&str]| fields.iter().any(|f| errs.contains_key(*f));
            let is_agreement = s.kind == StepKind::AgreementSigning.as_str();
            StepEditor {
                index: i,
                number: i + 1,
                last: i + 1 == count,
                row: s.row.clone(),
                legend: if s.title.trim().is_empty() {
                    format!("Step {}", i + 1)
                } else {
                    format!("Step {}: {}", i + 1, s.title.trim())
                },
                key: s.key.clone(),
                title: s.title.clone(),
                kinds: opts(
                    StepKind::ALL
                        .iter()
                        .map(|k| (k.as_str().to_string(), k.label().to_string())),
                    &s.kind,
                ),
                actors: opts(
                    ACTORS
                        .iter()
                        .map(|a| (a.as_str().to_string(), a.label().to_string())),
                    &s.actor,
                ),
                after,
                access_levels: catalogue_checks(&e.access_levels, &s.access_levels),
                except_access_levels: catalogue_checks(&e.access_levels, &s.except_access_levels),
                responsibilities: catalogue_checks(&e.responsibilities, &s.responsibilities),
                project_types: types,
                audiences,
                deadline_days: s.deadline_days.clone(),
                deadline_froms: opts(
                    [
                        (
                            "request_start".to_string(),
                            "the day the request was submitted".to_string(),
                        ),
                        (
                            "step_open".to_string(),
                            "the day this step opens".to_string(),
                        ),
                    ],
                    &s.deadline_from,
                ),
                expiries: opts(
                    [
                        (
                            "expire_request".to_string(),
                            "The request expires and the agency is told".to_string(),
                        ),
                        (
                            "notify".to_string(),
                            "The Lead and the agency are told; the request stays open".to_string(),
                        ),
                    ],
                    &s.on_expiry,
                ),
                warn_days_before: s.warn_days_before.clone(),
                sla_hours: s.sla_hours.clone(),
                remind_every_days: s.remind_every_days.clone(),
                agreements: opts(agreement_items, &s.agreement),
                signers,
                plan_parts: s.plan_parts.clone(),
                instructions: s.instructions.clone(),
                open_conditions: !s.access_levels.is_empty()
                    || !s.except_access_levels.is_empty()
                    || !s.responsibilities.is_empty()
                    || !s.project_types.is_empty()
                    || ["new", "returning"].contains(&s.audience.as_str())
                    || has_any(&[
                        step_field::ACCESS_LEVELS,
                        step_field::EXCEPT_ACCESS_LEVELS,
                        step_field::RESPONSIBILITIES,
                        step_field::PROJECT_TYPES,
                    ]),
                open_timing: !s.deadline_days.trim().is_empty()
                    || !s.sla_hours.trim().is_empty()
                    || !s.remind_every_days.trim().is_empty()
                    || !s.warn_days_before.trim().is_empty()
                    || has_any(&[
                        step_field::DEADLINE_DAYS,
                        step_field::WARN_DAYS_BEFORE,
                        step_field::SLA_HOURS,
                        step_field::REMIND_EVERY_DAYS,
                    ]),
                open_agreement: is_agreement
                    || !s.agreement.is_empty()
                    || s.signers.iter().any(|r| !r.is_empty())
                    || has_any(&[step_field::AGREEMENT, step_field::SIGNERS]),
                errors: errs,
            }
        })
        .collect()
}

/// The preview's fields.
pub struct PreviewFields {
    pub access_levels: Vec<Opt>,
    pub responsibilities: Vec<Check>,
    pub project_types: Vec<Check>,
    pub returning: bool,
}

#[derive(Template)]
#[template(path = "processes/process_editor.html")]
struct EditorPage {
    chrome: Chrome,
    key: String,
    version: i32,
    form: TemplateForm,
    errors: FormErrors,
    steps: Vec<StepEditor>,
    timeline: Vec<TimelineStep>,
    preview_fields: PreviewFields,
    preview: Preview,
    /// Whether the page answers the preview button (the preview is then announced).
    previewed: bool,
    /// What the last button did, for a status message.
    done: String,
    /// The error summary: (link to the field, message naming its step).
    summary: Vec<(String, String)>,
}

impl EditorPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
    /// For fields that have no message of their own (the preview's).
    fn no_error(&self) -> Option<&str> {
        None
    }
}

fn names(e: &Editing) -> Names {
    let map = |c: &[Choice]| {
        c.iter()
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    Names {
        access_levels: map(&e.access_levels),
        responsibilities: map(&e.responsibilities),
        agreements: map(&e.agreements),
    }
}

fn default_preview(e: &Editing) -> PreviewForm {
    PreviewForm {
        access_level: e
            .access_levels
            .iter()
            .find(|c| c.active)
            .map(|c| c.code.clone())
            .unwrap_or_default(),
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn page(
    v: &Viewer,
    key: &str,
    e: &Editing,
    form: TemplateForm,
    p: &PreviewForm,
    errors: FormErrors,
    previewed: bool,
    done: String,
) -> EditorPage {
    let (t, _) = form.template(key);
    let names = names(e);
    let steps = step_editors(&form, e, &errors);
    let summary = errors
        .all()
        .iter()
        .map(|fe| {
            let step = fe
                .field
                .strip_prefix('s')
                .and_then(|r| r.split_once('-'))
                .and_then(|(i, _)| i.parse::<usize>().ok());
            let message = match step.and_then(|i| form.steps.get(i).map(|s| (i, s))) {
                Some((i, s)) if !s.title.trim().is_empty() => {
                    format!("Step {} ({}): {}", i + 1, s.title.trim(), fe.message)
                }
                Some((i, _)) => format!("Step {}: {}", i + 1, fe.message),
                None => fe.message.clone(),
            };
            (format!("#f-{}", fe.field), message)
        })
        .collect();
    let preview_fields = PreviewFields {
        access_levels: opts(
            e.access_levels
                .iter()
                .filter(|c| c.active || c.code == p.access_level)
                .map(|c| (c.code.clone(), c.name.clone())),
            &p.access_level,
        ),
        responsibilities: catalogue_checks(&e.responsibilities, &p.responsibilities),
        project_types: HudProjectType::ALL
            .iter()
            .map(|t| Check {
                id: t.code().to_string(),
                value: t.code().to_string(),
                label: format!("{} ({})", t.label(), t.code()),
                checked: p.project_types.contains(&t.code().to_string()),
                note: String::new(),
            })
            .collect(),
        returning: p.returning,
    };
    EditorPage {
        chrome: Chrome::for_viewer(v, &format!("Edit {}", e.template.name), "/admin/settings"),
        key: key.to_string(),
        version: e.row.version,
        timeline: picture::timeline(&t, &names),
        preview: picture::preview(&t, &p.facts(), &names),
        preview_fields,
        form,
        errors,
        steps,
        previewed,
        done,
        summary,
    }
}

async fn editor_form(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let e = processes::editing(&state.app, &v.ctx, &key).await?;
    let form = form_of(&e.template);
    let p = default_preview(&e);
    let page = page(
        &v,
        &key,
        &e,
        form,
        &p,
        FormErrors::default(),
        false,
        String::new(),
    );
    Ok(render(&page)?.into_response())
}

/// Puts the problems found by the service after those of fields that could not be read,
/// leaving out any on a field that already has one.
fn merge(mut first: Vec<FieldError>, more: Vec<FieldError>) -> Vec<FieldError> {
    let taken: BTreeSet<String> = first.iter().map(|e| e.field.clone()).collect();
    first.extend(more.into_iter().filter(|e| !taken.contains(&e.field)));
    first
}

async fn editor_post(
    State(state): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let e = processes::editing(&state.app, &v.ctx, &key).await?;
    let (mut form, p, op) = read(&pairs);
    form.fill_keys();
    let done = match op {
        Op::Save => {
            let (mut t, unreadable) = form.template(&key);
            keep_stored_order(&mut t, &e.template);
            let result = if unreadable.is_empty() {
                processes::save_template(&state.app, &v.ctx, &key, &t).await
            } else {
                let more = processes::problems_of(&state.app, &v.ctx, &key, &t).await?;
                Err(AppError::Invalid(merge(unreadable, more)))
            };
            return match result {
                Ok((_, version)) => Ok((
                    jar.add(flash(&saved_message(version))),
                    Redirect::to(&format!("/admin/processes/{key}")),
                )
                    .into_response()),
                Err(err) => {
                    let errors = FormErrors::from_app(err)?;
                    let page = page(&v, &key, &e, form, &p, errors, false, String::new());
                    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
                }
            };
        }
        Op::Preview => String::new(),
        Op::Add => {
            form.apply(op);
            format!(
                "Step {} added at the end. Nothing is saved until you save.",
                form.steps.len()
            )
        }
        Op::Remove(i) => {
            let title = form
                .steps
                .get(i)
                .map(|s| s.title.trim().to_string())
                .unwrap_or_default();
            form.apply(op);
            format!(
                "Step {} ({title}) removed. Nothing is saved until you save.",
                i + 1
            )
        }
        Op::Up(i) | Op::Down(i) => {
            form.apply(op);
            let to = match op {
                Op::Up(_) => i.saturating_sub(1),
                _ => (i + 1).min(form.steps.len().saturating_sub(1)),
            };
            let title = form
                .steps
                .get(to)
                .map(|s| s.title.trim().to_string())
                .unwrap_or_default();
            format!(
                "{title} is now step {}. Nothing is saved until you save.",
                to + 1
            )
        }
    };
    let page = page(
        &v,
        &key,
        &e,
        form,
        &p,
        FormErrors::default(),
        op == Op::Preview,
        done,
    );
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_seed_survives_the_form_unchanged() {
        for text in onramp_app::processes::SEED_TEMPLATES {
            let t = onramp_formats::process_template::parse(text).unwrap();
            let mut f = form_of(&t);
            // Boxes come back in the order of the page, not of the file.
            for s in &mut f.steps {
                s.after.reverse();
                s.responsibilities.reverse();
                s.except_access_levels.reverse();
            }
            let (mut back, errors) = f.template(&t.key);
            keep_stored_order(&mut back, &t);
            assert!(errors.is_empty(), "{}: {errors:?}", t.key);
            assert_eq!(back, t, "{}", t.key);
        }
    }

    #[test]
    fn the_form_is_read_step_by_step_with_its_button() {
        let (f, p, op) = read(&pairs(&[
            ("name", "P"),
            ("s1-row", "r1"),
            ("s1-key", "b"),
            ("s1-after", "r0"),
            ("s0-row", "r0"),
            ("s0-key", "a"),
            ("s0-signer-2", "user"),
            ("p-project_types", "3"),
            ("p-returning", "returning"),
            ("op", "down-0"),
        ]));
        assert_eq!(op, Op::Down(0));
        assert_eq!(f.steps.len(), 2);
        assert_eq!(f.steps[0].key, "a");
        assert_eq!(f.steps[0].signers[1], "user");
        assert_eq!(f.steps[1].after, ["r0"]);
        assert!(p.returning);
        assert_eq!(p.facts().project_types, [3]);
        assert_eq!(Op::parse("save"), Op::Save);
        assert_eq!(Op::parse("remove-x"), Op::Save);
    }

    #[test]
    fn moving_and_removing_keep_prerequisites_by_step() {
        let t = onramp_formats::process_template::parse(onramp_app::processes::SEED_TEMPLATES[1])
            .unwrap();
        let mut f = form_of(&t);
        // Rename the first step's key: the second still comes after it.
        f.steps[0].key = "checklist".into();
        f.apply(Op::Down(2));
        let (t2, _) = f.template(&t.key);
        assert_eq!(t2.steps[1].after, ["checklist"]);
        assert_eq!(t2.steps[2].key, t.steps[3].key);
        f.apply(Op::Remove(0));
        let (t3, _) = f.template(&t.key);
        assert!(t3.steps[0].after.is_empty());
        f.apply(Op::Add);
        assert_eq!(f.steps.len(), t.steps.len());
        assert_eq!(
            f.steps.last().unwrap().after,
            [f.steps[f.steps.len() - 2].row.clone()]
        );
    }

    #[test]
    fn unreadable_numbers_are_named_and_keys_come_from_titles() {
        let mut f = TemplateForm {
            name: "P".into(),
            carry_over_days: "a year".into(),
            username_pattern: "{first}.{last}".into(),
            steps: vec![StepForm {
                row: "r0".into(),
                title: "Review the request!".into(),
                kind: "lead_review".into(),
                actor: "lead".into(),
                deadline_days: "ten".into(),
                signers: vec![String::new(); SIGNER_SLOTS],
                ..Default::default()
            }],
            ..Default::default()
        };
        f.fill_keys();
        assert_eq!(f.steps[0].key, "review-the-request");
        let (_, errors) = f.template("p");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["carry_over_days", "s0-deadline_days"]);
        assert_eq!(
            key_from_title("  Sign: the HMIS agreement "),
            "sign-the-hmis-agreement"
        );
    }
}
