//! Process templates: an implementation's onboarding as ordered steps, each with who acts,
//! what must be done before it, when it applies, a deadline and an SLA. The five seed
//! processes are five templates; nothing about any one Lead is written in code.

use crate::agreement::SignerRole;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub mod editor;

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The Lead reviews and validates the request (approve or reject).
    LeadReview,
    /// A supervisor attests that the background check passed; only the attestation and its date are kept.
    StaffVerification,
    /// An agreement is signed by its signers, in order.
    AgreementSigning,
    /// Every item of the person's training plan is complete.
    TrainingPlanComplete,
    /// The person attended a live session.
    LiveSessionAttended,
    /// A proctor approved the person's practice exercise.
    PracticeExerciseApproved,
    /// The Lead creates the HMIS account and records it.
    AccountProvisioning,
    /// The person confirms their first sign-in to the HMIS.
    FirstSignInConfirmed,
    /// Anything else, ticked off by whoever acts.
    Checklist,
}

impl StepKind {
    pub const ALL: [StepKind; 9] = [
        Self::LeadReview,
        Self::StaffVerification,
        Self::AgreementSigning,
        Self::TrainingPlanComplete,
        Self::LiveSessionAttended,
        Self::PracticeExerciseApproved,
        Self::AccountProvisioning,
        Self::FirstSignInConfirmed,
        Self::Checklist,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadReview => "lead_review",
            Self::StaffVerification => "staff_verification",
            Self::AgreementSigning => "agreement_signing",
            Self::TrainingPlanComplete => "training_plan_complete",
            Self::LiveSessionAttended => "live_session_attended",
            Self::PracticeExerciseApproved => "practice_exercise_approved",
            Self::AccountProvisioning => "account_provisioning",
            Self::FirstSignInConfirmed => "first_sign_in_confirmed",
            Self::Checklist => "checklist",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::LeadReview => "Lead review",
            Self::StaffVerification => "Staff verification",
            Self::AgreementSigning => "Agreement signing",
            Self::TrainingPlanComplete => "Training plan complete",
            Self::LiveSessionAttended => "Live session attended",
            Self::PracticeExerciseApproved => "Practice exercise approved",
            Self::AccountProvisioning => "Account provisioning",
            Self::FirstSignInConfirmed => "First sign-in confirmed",
            Self::Checklist => "Checklist item",
        }
    }
    /// Steps that record training done; a returning person's earlier completion carries over.
    pub fn is_training(self) -> bool {
        matches!(
            self,
            Self::TrainingPlanComplete | Self::LiveSessionAttended | Self::PracticeExerciseApproved
        )
    }
    /// Steps that a coordinator may record as met with a reason (training done elsewhere).
    pub fn may_be_recorded_as_met(self) -> bool {
        self.is_training() || matches!(self, Self::Checklist)
    }
}

/// Who acts on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepActor {
    /// Lead admins and training coordinators.
    Lead,
    /// The request's agency administrators and supervisors (the authorized contacts).
    AgencyContact,
    /// The request's agency supervisors (and agency administrators).
    Supervisor,
    /// The person being onboarded.
    Trainee,
    /// The request's agency executive director.
    ExecutiveDirector,
    /// Proctors (and Lead staff).
    Proctor,
    /// The agreement's signers, in order.
    Signers,
}

impl StepActor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::AgencyContact => "agency_contact",
            Self::Supervisor => "supervisor",
            Self::Trainee => "trainee",
            Self::ExecutiveDirector => "executive_director",
            Self::Proctor => "proctor",
            Self::Signers => "signers",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Lead => "HMIS Lead",
            Self::AgencyContact => "Agency contact",
            Self::Supervisor => "Supervisor",
            Self::Trainee => "The new user",
            Self::ExecutiveDirector => "Executive director",
            Self::Proctor => "Proctor",
            Self::Signers => "Signers, in order",
        }
    }
}

/// Whether a request is for someone new to the HMIS or returning to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    #[default]
    Any,
    New,
    Returning,
}

/// When a step applies. Every list that is not empty must match (one of its entries);
/// an empty list matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Condition {
    /// Access level codes of which the request must have one.
    pub access_levels: Vec<String>,
    /// Access level codes for which the step does NOT apply.
    pub except_access_levels: Vec<String>,
    /// Responsibility codes of which the request must include at least one.
    pub responsibilities: Vec<String>,
    /// HUD project type codes of which one of the request's projects must be.
    pub project_types: Vec<i32>,
    pub audience: Audience,
}

/// What a request looks like to the conditions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestFacts {
    pub access_level: String,
    pub responsibilities: Vec<String>,
    pub project_types: Vec<i32>,
    pub returning: bool,
}

impl Condition {
    pub fn matches(&self, f: &RequestFacts) -> bool {
        let level_ok =
            self.access_levels.is_empty() || self.access_levels.contains(&f.access_level);
        let not_excepted = !self.except_access_levels.contains(&f.access_level);
        let resp_ok = self.responsibilities.is_empty()
            || self
                .responsibilities
                .iter()
                .any(|r| f.responsibilities.contains(r));
        let type_ok = self.project_types.is_empty()
            || self
                .project_types
                .iter()
                .any(|t| f.project_types.contains(t));
        let audience_ok = match self.audience {
            Audience::Any => true,
            Audience::New => !f.returning,
            Audience::Returning => f.returning,
        };
        level_ok && not_excepted && resp_ok && type_ok && audience_ok
    }
    pub fn is_always(&self) -> bool {
        self == &Condition::default()
    }
}

/// From when a deadline counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineFrom {
    /// From the day the request was submitted.
    #[default]
    RequestStart,
    /// From the day the step opened (its prerequisites were done).
    StepOpen,
}

/// What happens when a deadline passes with the step not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnExpiry {
    /// The request expires and the agency is told.
    #[default]
    ExpireRequest,
    /// The Lead and the agency are told; the request stays open.
    Notify,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub days: u32,
    #[serde(default)]
    pub from: DeadlineFrom,
    #[serde(default)]
    pub on_expiry: OnExpiry,
    /// Warn this many days before the deadline (0: no warning).
    #[serde(default)]
    pub warn_days_before: u32,
}

/// One step of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Unique within the template: lower-case letters, digits, `_` and `-`.
    pub key: String,
    pub title: String,
    pub kind: StepKind,
    pub actor: StepActor,
    /// Keys of steps that must be done (or not apply) before this one opens.
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default, skip_serializing_if = "Condition::is_always")]
    pub applies: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// Hours within which the actor should act once the step opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<u32>,
    /// Remind the actor every this many days while the step is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_every_days: Option<u32>,
    /// For agreement steps: the agreement's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// For agreement steps: who signs, in order (e.g. user, then agency administrator, then
    /// executive director). Every agreement step names its signers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<SignerRole>,
    /// For training-plan steps: the parts of the person's plan the step waits for (every
    /// part when empty). The step completes by itself when they are complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_parts: Vec<String>,
    /// What the actor is asked to do, shown with the step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instructions: String,
}

/// An implementation's onboarding process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessTemplate {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A returning person's training completed within this many days carries over.
    #[serde(default = "default_carry_over")]
    pub carry_over_days: u32,
    /// Pattern of proposed HMIS usernames, e.g. `{first}.{last}` (see [`crate::username`]).
    #[serde(default = "default_username_pattern")]
    pub username_pattern: String,
    pub steps: Vec<StepDef>,
}

fn default_carry_over() -> u32 {
    365
}

fn default_username_pattern() -> String {
    "{first}.{last}".into()
}

/// A problem found in a template, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// Step key, or "template".
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl ProcessTemplate {
    /// Checks the template: keys, references, order, and what each kind needs.
    /// `agreements` are the agreement keys that exist.
    pub fn validate(&self, agreements: &[String]) -> Result<(), Vec<TemplateProblem>> {
        let mut p = Vec::new();
        let mut push = |place: &str, message: String| {
            p.push(TemplateProblem {
                place: place.to_string(),
                message,
            })
        };
        if !valid_key(&self.key) {
            push(
                "template",
                format!(
                    "key {:?} must be 1-64 lower-case letters, digits, _ or -",
                    self.key
                ),
            );
        }
        if self.name.trim().is_empty() {
            push("template", "name is empty".into());
        }
        if self.steps.is_empty() {
            push("template", "has no steps".into());
        }
        if crate::username::UsernamePattern::parse(&self.username_pattern).is_err() {
            push("template", format!("username_pattern {:?} is not valid: use {{first}}, {{last}}, {{f}}, {{l}} and letters", self.username_pattern));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            let place = if s.key.is_empty() {
                format!("step {}", i + 1)
            } else {
                s.key.clone()
            };
            if !valid_key(&s.key) {
                push(
                    &place,
                    format!(
                        "key {:?} must be 1-64 lower-case letters, digits, _ or -",
                        s.key
                    ),
                );
            }
            if !seen.insert(s.key.clone()) {
                push(&place, "key is used by an earlier step".into());
            }
            if s.title.trim().is_empty() {
                push(&place, "title is empty".into());
            }
            for a in &s.after {
                match self.steps.iter().position(|o| &o.key == a) {
                    None => push(&place, format!("comes after {a:?}, which is not a step of this template")),
                    Some(j) if j >= i => push(&place, format!("comes after {a:?}, which is listed later: list steps in the order they happen")),
                    _ => {}
                }
            }
            match (s.kind, &s.agreement) {
                (StepKind::AgreementSigning, None) => {
                    push(&place, "an agreement step must name its agreement".into())
                }
                (StepKind::AgreementSigning, Some(a)) if !agreements.contains(a) => push(
                    &place,
                    format!("agreement {a:?} does not exist in this implementation"),
                ),
                (StepKind::AgreementSigning, Some(_)) => {}
                (_, Some(_)) => push(&place, "only agreement steps name an agreement".into()),
                _ => {}
            }
            if s.kind == StepKind::AgreementSigning {
                if s.signers.is_empty() {
                    push(
                        &place,
                        "an agreement step names its signers, in order (e.g. user, agency_administrator, executive_director)".into(),
                    );
                }
                let mut seen_signers = BTreeSet::new();
                for r in &s.signers {
                    if !seen_signers.insert(r.as_str()) {
                        push(&place, format!("{} is named twice as a signer", r.as_str()));
                    }
                }
            } else if !s.signers.is_empty() {
                push(&place, "only agreement steps name signers".into());
            }
            if s.kind == StepKind::AgreementSigning && s.actor != StepActor::Signers {
                push(
                    &place,
                    "an agreement step's actor is \"signers\" (the agreement sets their order)"
                        .into(),
                );
            }
            if s.kind == StepKind::LeadReview && s.actor != StepActor::Lead {
                push(
                    &place,
                    "a Lead review is done by the Lead (actor \"lead\")".into(),
                );
            }
            if s.kind == StepKind::StaffVerification
                && !matches!(s.actor, StepActor::Supervisor | StepActor::AgencyContact)
            {
                push(
                    &place,
                    "a staff verification is attested by the agency (actor \"supervisor\" or \"agency_contact\"), never by the Lead".into(),
                );
            }
            if s.kind == StepKind::PracticeExerciseApproved && s.actor != StepActor::Proctor {
                push(
                    &place,
                    "a practice exercise is approved by a proctor (actor \"proctor\"); the person is told to do it".into(),
                );
            }
            if s.kind == StepKind::AccountProvisioning && s.actor != StepActor::Lead {
                push(
                    &place,
                    "account provisioning is done by the Lead (actor \"lead\")".into(),
                );
            }
            if let Some(d) = &s.deadline {
                if d.days == 0 {
                    push(&place, "a deadline needs at least 1 day".into());
                }
                if d.warn_days_before >= d.days && d.warn_days_before > 0 {
                    push(&place, "the warning must come before the deadline".into());
                }
            }
            if s.sla_hours == Some(0) {
                push(&place, "an SLA needs at least 1 hour".into());
            }
            if s.remind_every_days == Some(0) {
                push(&place, "reminders need at least 1 day between them".into());
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(p)
        }
    }

    pub fn step(&self, key: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.key == key)
    }
}

/// Where one step of one request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for earlier steps.
    Waiting,
    /// Ready for its actor.
    Open,
    Done,
    /// Recorded as met (training done elsewhere, or carried over from earlier training).
    Met,
    /// Does not apply to this request.
    NotApplicable,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Open => "open",
            Self::Done => "done",
            Self::Met => "met",
            Self::NotApplicable => "not_applicable",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Open,
            Self::Done,
            Self::Met,
            Self::NotApplicable,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting",
            Self::Open => "To do",
            Self::Done => "Done",
            Self::Met => "Met",
            Self::NotApplicable => "Does not apply",
        }
    }
    /// Done, met or not applicable: nothing more to do.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Done | Self::Met | Self::NotApplicable)
    }
}

/// The statuses of a request's steps given which are settled: applicable steps whose
/// prerequisites are all settled open; the rest wait. `settled` maps step keys to
/// Done or Met.
pub fn step_statuses(
    t: &ProcessTemplate,
    facts: &RequestFacts,
    settled: &BTreeMap<String, StepStatus>,
) -> Vec<(String, StepStatus)> {
    let mut out: BTreeMap<&str, StepStatus> = BTreeMap::new();
    let mut ordered = Vec::with_capacity(t.steps.len());
    for s in &t.steps {
        let status = if !s.applies.matches(facts) {
            StepStatus::NotApplicable
        } else if let Some(st) = settled
            .get(&s.key)
            .filter(|st| matches!(st, StepStatus::Done | StepStatus::Met))
        {
            *st
        } else if s
            .after
            .iter()
            .all(|a| out.get(a.as_str()).is_some_and(|x| x.is_settled()))
        {
            StepStatus::Open
        } else {
            StepStatus::Waiting
        };
        out.insert(&s.key, status);
        ordered.push((s.key.clone(), status));
    }
    ordered
}

/// True when every step is settled: the request is complete.
pub fn all_settled(statuses: &[(String, StepStatus)]) -> bool {
    statuses.iter().all(|(_, s)| s.is_settled())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn template() -> ProcessTemplate {
        let mut live = step(
            "live",
            StepKind::LiveSessionAttended,
            StepActor::Trainee,
            &["review"],
        );
        live.applies.responsibilities = vec!["enroll_clients".into(), "exit_clients".into()];
        ProcessTemplate {
            key: "t".into(),
            name: "T".into(),
            description: String::new(),
            carry_over_days: 365,
            username_pattern: "{first}.{last}".into(),
            steps: vec![
                step("review", StepKind::LeadReview, StepActor::Lead, &[]),
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
                    &["training", "live"],
                ),
            ],
        }
    }

    fn facts(resp: &[&str]) -> RequestFacts {
        RequestFacts {
            access_level: "end_user".into(),
            responsibilities: resp.iter().map(|s| s.to_string()).collect(),
            project_types: vec![0],
            returning: false,
        }
    }

    #[test]
    fn steps_open_as_their_prerequisites_settle() {
        let t = template();
        let mut settled = BTreeMap::new();
        let s = step_statuses(&t, &facts(&["reporting"]), &settled);
        assert_eq!(
            s.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![
                StepStatus::Open,
                StepStatus::Waiting,
                StepStatus::NotApplicable,
                StepStatus::Waiting
            ]
        );
        settled.insert("review".to_string(), StepStatus::Done);
        settled.insert("training".to_string(), StepStatus::Met);
        let s = step_statuses(&t, &facts(&["reporting"]), &settled);
        // The live session does not apply, so it does not hold back the account.
        assert_eq!(s[3].1, StepStatus::Open);
        let s = step_statuses(&t, &facts(&["enroll_clients"]), &settled);
        assert_eq!(s[2].1, StepStatus::Open);
        assert_eq!(s[3].1, StepStatus::Waiting);
        settled.insert("live".to_string(), StepStatus::Done);
        settled.insert("account".to_string(), StepStatus::Done);
        assert!(all_settled(&step_statuses(
            &t,
            &facts(&["enroll_clients"]),
            &settled
        )));
    }

    #[test]
    fn validation_names_each_problem_and_its_step() {
        let mut t = template();
        t.steps[1].after = vec!["account".into()];
        t.steps[2].key = "review".into();
        t.steps.push(step(
            "sign",
            StepKind::AgreementSigning,
            StepActor::Trainee,
            &["nope"],
        ));
        let p = t.validate(&[]).unwrap_err();
        let text: Vec<String> = p.iter().map(|x| x.to_string()).collect();
        assert!(
            text.iter()
                .any(|m| m.starts_with("training: comes after \"account\", which is listed later")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m == "review: key is used by an earlier step"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m.starts_with("sign: comes after \"nope\"")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m == "sign: an agreement step must name its agreement"),
            "{text:?}"
        );
        assert!(template().validate(&[]).is_ok());
    }

    #[test]
    fn the_agency_verifies_staff_and_a_proctor_approves_practice() {
        let mut t = template();
        t.steps.push(step(
            "verify",
            StepKind::StaffVerification,
            StepActor::Lead,
            &[],
        ));
        t.steps.push(step(
            "practice",
            StepKind::PracticeExerciseApproved,
            StepActor::Trainee,
            &["training"],
        ));
        let text: Vec<String> = t
            .validate(&[])
            .unwrap_err()
            .iter()
            .map(|x| x.to_string())
            .collect();
        assert!(
            text.iter()
                .any(|m| m.starts_with("verify: a staff verification is attested by the agency")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m.starts_with("practice: a practice exercise is approved by a proctor")),
            "{text:?}"
        );
        t.steps[4].actor = StepActor::Supervisor;
        t.steps[5].actor = StepActor::Proctor;
        assert!(t.validate(&[]).is_ok());
        t.steps[4].actor = StepActor::AgencyContact;
        assert!(t.validate(&[]).is_ok());
    }

    #[test]
    fn conditions() {
        let mut c = Condition {
            access_levels: vec!["assessor".into()],
            ..Default::default()
        };
        let mut f = facts(&[]);
        assert!(!c.matches(&f));
        f.access_level = "assessor".into();
        assert!(c.matches(&f));
        c.audience = Audience::Returning;
        assert!(!c.matches(&f));
        f.returning = true;
        assert!(c.matches(&f));
        let c = Condition {
            except_access_levels: vec!["ce_specialist".into()],
            project_types: vec![3, 13],
            ..Default::default()
        };
        f.project_types = vec![13];
        assert!(c.matches(&f));
        f.access_level = "ce_specialist".into();
        assert!(!c.matches(&f));
    }
}
