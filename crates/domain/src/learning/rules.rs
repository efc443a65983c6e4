//! Requirement rules: an implementation's rules turn a request's facts into the requirements
//! of a person's training plan.
//!
//! A rule applies when its condition matches the facts (every list that is not empty must
//! match one of its entries). It adds an "all of" group, a "one of" group, or both, to a
//! named **part** of the plan (a process step waits for a part), and it may take items out
//! of the plan *instead of* which its own items are required (the read-only introduction
//! instead of the full one).

use super::course::Prerequisites;
use crate::process::Audience;
use crate::values::Slug;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The kinds of item a plan can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Course,
    Quiz,
    LiveSession,
    PracticeExercise,
    Agreement,
}

impl ItemKind {
    pub const ALL: [ItemKind; 5] = [
        Self::Course,
        Self::Quiz,
        Self::LiveSession,
        Self::PracticeExercise,
        Self::Agreement,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Course => "course",
            Self::Quiz => "quiz",
            Self::LiveSession => "live_session",
            Self::PracticeExercise => "practice_exercise",
            Self::Agreement => "agreement",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Course => "Course",
            Self::Quiz => "Quiz",
            Self::LiveSession => "Live session",
            Self::PracticeExercise => "Practice exercise",
            Self::Agreement => "Agreement",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One thing a plan requires: `course:intro-hmis`, `quiz:hmis-basics`, `agreement:end_user`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemRef {
    pub kind: ItemKind,
    pub key: Slug,
}

impl ItemRef {
    pub fn course(key: Slug) -> Self {
        Self {
            kind: ItemKind::Course,
            key,
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, key) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{s:?} should read kind:key, for example course:intro-hmis"))?;
        let kind = ItemKind::parse(kind.trim()).ok_or_else(|| {
            format!(
                "{kind:?} is not a kind of item (course, quiz, live_session, practice_exercise, agreement)"
            )
        })?;
        let key = Slug::parse(key).map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Self { kind, key })
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.key.as_str())
    }
}
impl TryFrom<String> for ItemRef {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<ItemRef> for String {
    fn from(r: ItemRef) -> Self {
        r.to_string()
    }
}

/// What a request looks like to the rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanFacts {
    /// The key of the request's process template.
    pub process: String,
    pub access_level: String,
    pub responsibilities: Vec<String>,
    /// HUD project types (2.02.6) of the requested projects.
    pub project_types: Vec<i32>,
    /// HUD funding sources (2.06.1) of the requested projects.
    pub funders: Vec<i32>,
    pub returning: bool,
}

/// When a rule applies. Every list that is not empty must match one of its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RuleCondition {
    /// Process template keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_levels: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except_access_levels: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responsibilities: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub project_types: Vec<i32>,
    /// HUD 2.06.1 funding source codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub funders: Vec<i32>,
    #[serde(skip_serializing_if = "is_any")]
    pub audience: Audience,
}

fn is_any(a: &Audience) -> bool {
    *a == Audience::Any
}

fn any_of<T: PartialEq>(wanted: &[T], have: &[T]) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
}

impl RuleCondition {
    pub fn matches(&self, f: &PlanFacts) -> bool {
        (self.processes.is_empty() || self.processes.contains(&f.process))
            && (self.access_levels.is_empty() || self.access_levels.contains(&f.access_level))
            && !self.except_access_levels.contains(&f.access_level)
            && any_of(&self.responsibilities, &f.responsibilities)
            && any_of(&self.project_types, &f.project_types)
            && any_of(&self.funders, &f.funders)
            && match self.audience {
                Audience::Any => true,
                Audience::New => !f.returning,
                Audience::Returning => f.returning,
            }
    }
}

/// The default part a rule adds to.
pub const DEFAULT_PART: &str = "training";

fn default_part() -> String {
    DEFAULT_PART.to_string()
}

/// One requirement rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRule {
    /// Unique among the implementation's rules.
    pub key: String,
    /// What the rule is for, in words.
    pub title: String,
    /// The part of the plan it adds to (a process step waits for a part).
    #[serde(default = "default_part")]
    pub part: String,
    #[serde(default)]
    pub when: RuleCondition,
    /// Every one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<ItemRef>,
    /// At least one of these, the person's choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<ItemRef>,
    /// Items other rules require that this rule's items replace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instead_of: Vec<ItemRef>,
}

/// An implementation's rules, as the rule editor and the TOML file hold them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default)]
    pub rules: Vec<RequirementRule>,
}

/// A problem with a rule, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProblem {
    /// `rule <key>` or `rules`.
    pub place: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What exists, for checking that rules name real things.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Items that exist (courses by key, agreements by key, …). Kinds left out are not checked.
    pub items: BTreeSet<ItemRef>,
    /// Kinds whose items are checked against `items`.
    pub checked_kinds: BTreeSet<ItemKind>,
    pub processes: BTreeSet<String>,
    pub access_levels: BTreeSet<String>,
    pub responsibilities: BTreeSet<String>,
}

impl RuleSet {
    /// Checks keys, titles, that each rule requires something, and that every name exists.
    pub fn validate(&self, cat: &Catalogue) -> Result<(), Vec<RuleProblem>> {
        let mut p = Vec::new();
        let mut keys = BTreeSet::new();
        for r in &self.rules {
            let place = format!("rule {}", r.key);
            let mut push = |field: &str, message: String| {
                p.push(RuleProblem {
                    place: place.clone(),
                    field: field.to_string(),
                    message,
                })
            };
            if Slug::parse(&r.key).is_err() {
                push(
                    "key",
                    "Use 1 to 64 lower-case letters, digits, hyphens or underscores".into(),
                );
            } else if !keys.insert(r.key.as_str()) {
                push("key", "Another rule has the same key".into());
            }
            if r.title.trim().is_empty() {
                push("title", "Say what the rule is for".into());
            }
            if Slug::parse(&r.part).is_err() {
                push(
                    "part",
                    "Name the part with 1 to 64 lower-case letters, digits, hyphens or underscores"
                        .into(),
                );
            }
            if r.all_of.is_empty() && r.one_of.is_empty() {
                push(
                    "all_of",
                    "A rule requires at least one item (all of, or one of)".into(),
                );
            }
            if r.one_of.len() == 1 {
                push(
                    "one_of",
                    "A choice needs two or more items; put a single item under \"all of\"".into(),
                );
            }
            for (field, list) in [
                ("all_of", &r.all_of),
                ("one_of", &r.one_of),
                ("instead_of", &r.instead_of),
            ] {
                for item in list {
                    if cat.checked_kinds.contains(&item.kind) && !cat.items.contains(item) {
                        push(
                            field,
                            format!(
                                "There is no {} {:?}",
                                item.kind.label().to_lowercase(),
                                item.key.as_str()
                            ),
                        );
                    }
                }
            }
            let w = &r.when;
            for x in &w.processes {
                if !cat.processes.is_empty() && !cat.processes.contains(x) {
                    push("processes", format!("There is no process {x:?}"));
                }
            }
            for x in w.access_levels.iter().chain(&w.except_access_levels) {
                if !cat.access_levels.is_empty() && !cat.access_levels.contains(x) {
                    push("access_levels", format!("There is no access level {x:?}"));
                }
            }
            for x in &w.responsibilities {
                if !cat.responsibilities.is_empty() && !cat.responsibilities.contains(x) {
                    push(
                        "responsibilities",
                        format!("There is no responsibility {x:?}"),
                    );
                }
            }
            for t in &w.project_types {
                if crate::HudProjectType::from_code(*t).is_none() {
                    push("project_types", format!("{t} is not a HUD project type"));
                }
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(p)
        }
    }
}

/// Whether a group needs all of its items or one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMode {
    AllOf,
    OneOf,
}

/// Why an item is in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Because {
    /// The rule's key, or `prerequisite`.
    pub rule: String,
    pub title: String,
}

/// A group of a plan: all of its items, or one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanGroup {
    pub part: String,
    pub mode: GroupMode,
    pub items: Vec<ItemRef>,
    pub because: Because,
}

/// A plan's requirements, before anything is done: what a rule preview shows and what a
/// person's plan stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PlanSpec {
    pub groups: Vec<PlanGroup>,
    /// Items taken out because a rule's items replace them, with that rule.
    #[serde(default)]
    pub replaced: Vec<(ItemRef, Because)>,
}

impl PlanSpec {
    /// Every item, in order, without repeats.
    pub fn items(&self) -> Vec<&ItemRef> {
        let mut seen = BTreeSet::new();
        self.groups
            .iter()
            .flat_map(|g| g.items.iter())
            .filter(|i| seen.insert(*i))
            .collect()
    }
    /// The parts, in the order they first appear.
    pub fn parts(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.groups
            .iter()
            .map(|g| g.part.as_str())
            .filter(|p| seen.insert(*p))
            .collect()
    }
}

/// Computes the plan that `facts` yield under `rules`. `prerequisites` gives a course's
/// prerequisites: a required course's missing prerequisites join the plan, in the same part
/// and before it, so that the way forward is always inside the plan.
///
/// The same function serves the rule preview and real plans.
pub fn compute_plan(
    rules: &RuleSet,
    facts: &PlanFacts,
    prerequisites: impl Fn(&Slug) -> Option<Prerequisites>,
) -> PlanSpec {
    let matching: Vec<&RequirementRule> = rules
        .rules
        .iter()
        .filter(|r| r.when.matches(facts))
        .collect();
    let mut replaced: Vec<(ItemRef, Because)> = Vec::new();
    for r in &matching {
        for i in &r.instead_of {
            if !replaced.iter().any(|(x, _)| x == i) {
                replaced.push((
                    i.clone(),
                    Because {
                        rule: r.key.clone(),
                        title: r.title.clone(),
                    },
                ));
            }
        }
    }
    let is_replaced = |i: &ItemRef| replaced.iter().any(|(x, _)| x == i);
    let mut groups: Vec<PlanGroup> = Vec::new();
    let mut required: BTreeSet<ItemRef> = BTreeSet::new();
    for r in &matching {
        let because = Because {
            rule: r.key.clone(),
            title: r.title.clone(),
        };
        let all: Vec<ItemRef> = r
            .all_of
            .iter()
            .filter(|i| !is_replaced(i) && !required.contains(*i))
            .cloned()
            .collect();
        if !all.is_empty() {
            required.extend(all.iter().cloned());
            groups.push(PlanGroup {
                part: r.part.clone(),
                mode: GroupMode::AllOf,
                items: all,
                because: because.clone(),
            });
        }
        let one: Vec<ItemRef> = r
            .one_of
            .iter()
            .filter(|i| !is_replaced(i))
            .cloned()
            .collect();
        match one.len() {
            0 => {}
            // A choice left with one option is that option.
            1 if required.contains(&one[0]) => {}
            1 => {
                required.insert(one[0].clone());
                groups.push(PlanGroup {
                    part: r.part.clone(),
                    mode: GroupMode::AllOf,
                    items: one,
                    because,
                });
            }
            _ => groups.push(PlanGroup {
                part: r.part.clone(),
                mode: GroupMode::OneOf,
                items: one,
                because,
            }),
        }
    }
    // Missing prerequisites join before the group that needs them (to any depth; a cycle
    // stops at a course already seen).
    let mut out: Vec<PlanGroup> = Vec::new();
    let mut in_plan: BTreeSet<ItemRef> = groups.iter().flat_map(|g| g.items.clone()).collect();
    for g in groups {
        let mut before: Vec<PlanGroup> = Vec::new();
        let mut queue: Vec<ItemRef> = g
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Course)
            .cloned()
            .collect();
        let mut visited = BTreeSet::new();
        while let Some(course) = queue.pop() {
            if !visited.insert(course.clone()) {
                continue;
            }
            let Some(p) = prerequisites(&course.key) else {
                continue;
            };
            let because = Because {
                rule: "prerequisite".into(),
                title: format!("Required before {}", course.key.as_str()),
            };
            let all: Vec<ItemRef> = p
                .all_of
                .iter()
                .map(|k| ItemRef::course(k.clone()))
                .filter(|i| !in_plan.contains(i))
                .collect();
            for i in &all {
                queue.push(i.clone());
            }
            if !all.is_empty() {
                in_plan.extend(all.iter().cloned());
                before.push(PlanGroup {
                    part: g.part.clone(),
                    mode: GroupMode::AllOf,
                    items: all,
                    because: because.clone(),
                });
            }
            let one: Vec<ItemRef> = p
                .one_of
                .iter()
                .map(|k| ItemRef::course(k.clone()))
                .collect();
            if !one.is_empty() && !one.iter().any(|i| in_plan.contains(i)) {
                for i in &one {
                    queue.push(i.clone());
                }
                in_plan.extend(one.iter().cloned());
                before.push(PlanGroup {
                    part: g.part.clone(),
                    mode: if one.len() == 1 {
                        GroupMode::AllOf
                    } else {
                        GroupMode::OneOf
                    },
                    items: one,
                    because,
                });
            }
        }
        before.reverse();
        out.extend(before);
        out.push(g);
    }
    PlanSpec {
        groups: out,
        replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(s: &str) -> ItemRef {
        ItemRef::parse(s).unwrap()
    }

    fn seed_004_rules() -> RuleSet {
        toml::from_str(
            r#"
[[rules]]
key = "introduction"
title = "Everyone starts with the Introduction to HMIS"
part = "introduction"
when = { processes = ["p4"] }
all_of = ["course:intro-hmis"]

[[rules]]
key = "read-only-introduction"
title = "Read-only users take the read-only introduction instead"
part = "introduction"
when = { processes = ["p4"], access_levels = ["read_only"] }
all_of = ["course:intro-read-only"]
instead_of = ["course:intro-hmis"]

[[rules]]
key = "psh-rrh"
title = "PSH and RRH staff take the Families or the Singles course"
part = "project"
when = { processes = ["p4"], project_types = [3, 13], except_access_levels = ["read_only"] }
one_of = ["course:psh-rrh-families", "course:psh-rrh-singles"]

[[rules]]
key = "ssvf"
title = "SSVF-funded projects"
part = "project"
when = { funders = [33] }
all_of = ["course:ssvf"]
"#,
        )
        .unwrap()
    }

    fn prereq(k: &Slug) -> Option<Prerequisites> {
        match k.as_str() {
            "psh-rrh-families" | "psh-rrh-singles" | "ssvf" => Some(Prerequisites {
                all_of: vec![Slug::parse("intro-hmis").unwrap()],
                one_of: vec![],
            }),
            _ => None,
        }
    }

    fn facts(level: &str, types: &[i32], funders: &[i32]) -> PlanFacts {
        PlanFacts {
            process: "p4".into(),
            access_level: level.into(),
            project_types: types.to_vec(),
            funders: funders.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn seed_004_end_user_in_psh_gets_the_introduction_then_a_choice() {
        let plan = compute_plan(&seed_004_rules(), &facts("end_user", &[3], &[]), prereq);
        assert_eq!(plan.parts(), ["introduction", "project"]);
        assert_eq!(plan.groups[0].items, [item("course:intro-hmis")]);
        assert_eq!(plan.groups[1].mode, GroupMode::OneOf);
        assert_eq!(plan.groups[1].items.len(), 2);
        assert!(plan.replaced.is_empty());
    }

    #[test]
    fn read_only_users_take_the_alternate_instead() {
        let plan = compute_plan(&seed_004_rules(), &facts("read_only", &[3], &[]), prereq);
        assert_eq!(plan.items(), [&item("course:intro-read-only")]);
        assert_eq!(plan.replaced[0].0, item("course:intro-hmis"));
        assert_eq!(plan.replaced[0].1.rule, "read-only-introduction");
    }

    #[test]
    fn missing_prerequisites_join_the_plan_before_the_course() {
        let rules = RuleSet {
            rules: vec![seed_004_rules().rules[3].clone()],
        };
        let plan = compute_plan(&rules, &facts("end_user", &[], &[33]), prereq);
        assert_eq!(
            plan.items(),
            [&item("course:intro-hmis"), &item("course:ssvf")]
        );
        assert_eq!(plan.groups[0].because.rule, "prerequisite");
        assert_eq!(plan.groups[0].part, "project");
    }

    #[test]
    fn rules_that_do_not_match_add_nothing() {
        let mut f = facts("end_user", &[1], &[]);
        f.process = "other".into();
        assert!(compute_plan(&seed_004_rules(), &f, prereq)
            .groups
            .is_empty());
    }

    #[test]
    fn an_item_required_twice_appears_once() {
        let mut rules = seed_004_rules();
        rules.rules.push(RequirementRule {
            key: "again".into(),
            title: "Again".into(),
            part: "introduction".into(),
            when: RuleCondition::default(),
            all_of: vec![item("course:intro-hmis"), item("agreement:end-user")],
            one_of: vec![],
            instead_of: vec![],
        });
        let plan = compute_plan(&rules, &facts("end_user", &[], &[]), prereq);
        assert_eq!(
            plan.items(),
            [&item("course:intro-hmis"), &item("agreement:end-user")]
        );
    }

    #[test]
    fn validation_names_each_problem() {
        let mut cat = Catalogue::default();
        cat.checked_kinds.insert(ItemKind::Course);
        cat.items.insert(item("course:intro-hmis"));
        let rules = RuleSet {
            rules: vec![RequirementRule {
                key: "Bad Key".into(),
                title: " ".into(),
                part: "training".into(),
                when: RuleCondition {
                    project_types: vec![99],
                    ..Default::default()
                },
                all_of: vec![item("course:nope")],
                one_of: vec![item("course:intro-hmis")],
                instead_of: vec![],
            }],
        };
        let p = rules.validate(&cat).unwrap_err();
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["key", "title", "one_of", "all_of", "project_types"]
        );
        assert!(seed_004_rules().validate(&Catalogue::default()).is_ok());
    }

    #[test]
    fn item_refs_read_and_write_as_kind_colon_key() {
        assert_eq!(item("course:intro-hmis").to_string(), "course:intro-hmis");
        assert!(ItemRef::parse("intro").is_err());
        assert!(ItemRef::parse("lesson:x")
            .unwrap_err()
            .contains("not a kind"));
    }
}
