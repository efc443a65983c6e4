//! A person's training plan: the requirements of a [`PlanSpec`] with each item's status,
//! and what completes a part of the plan.

use super::rules::{GroupMode, ItemRef, PlanSpec};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Where one item of a plan stands for its person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ItemStatus {
    /// Not open yet: a prerequisite is missing. `reason` says what to do first.
    Restricted {
        reason: String,
    },
    Available,
    /// Started; `share` (0..1) done.
    InProgress {
        share: f64,
    },
    Complete {
        at: DateTime<Utc>,
        evidence: String,
        /// Completed before this plan began, and counted again (a returning person).
        carried_over: bool,
    },
    Waived {
        reason: String,
    },
}

impl ItemStatus {
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Complete { .. } | Self::Waived { .. })
    }
    pub fn share(&self) -> f64 {
        match self {
            Self::Restricted { .. } | Self::Available => 0.0,
            Self::InProgress { share } => share.clamp(0.0, 1.0),
            Self::Complete { .. } | Self::Waived { .. } => 1.0,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Restricted { .. } => "restricted",
            Self::Available => "available",
            Self::InProgress { .. } => "in_progress",
            Self::Complete { .. } => "complete",
            Self::Waived { .. } => "waived",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Self::Restricted { .. } => "Restricted",
            Self::Available => "Not started",
            Self::InProgress { .. } => "In progress",
            Self::Complete { .. } => "Complete",
            Self::Waived { .. } => "Waived",
        }
    }
}

/// A completion of one item, as the records keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub item: ItemRef,
    pub completed_at: DateTime<Utc>,
    /// What completed it, in words ("Course version 2 complete", "Recorded as met: …").
    pub evidence: String,
}

/// Whether a completion counts for a plan that began at `plan_began`: made since, or within
/// the carry-over window before (a returning person's earlier training, decided per item).
pub fn counts_for_plan(
    completed_at: DateTime<Utc>,
    plan_began: DateTime<Utc>,
    carry_over_days: u32,
) -> bool {
    completed_at >= plan_began - Duration::days(i64::from(carry_over_days))
}

/// One item with its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItemView {
    pub item: ItemRef,
    pub status: ItemStatus,
}

/// One group with its items' statuses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanGroupView {
    pub part: String,
    pub mode: GroupMode,
    pub because: String,
    pub items: Vec<PlanItemView>,
    pub done: bool,
    pub share: f64,
}

/// A plan with every item's status: what the trainee's home and a request's step show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanView {
    pub groups: Vec<PlanGroupView>,
}

impl PlanView {
    /// Builds the view; `status` gives an item's status.
    pub fn new(spec: &PlanSpec, mut status: impl FnMut(&ItemRef) -> ItemStatus) -> Self {
        let groups = spec
            .groups
            .iter()
            .map(|g| {
                let items: Vec<PlanItemView> = g
                    .items
                    .iter()
                    .map(|i| PlanItemView {
                        item: i.clone(),
                        status: status(i),
                    })
                    .collect();
                let (done, share) = match g.mode {
                    GroupMode::AllOf => (
                        items.iter().all(|i| i.status.is_done()),
                        if items.is_empty() {
                            1.0
                        } else {
                            items.iter().map(|i| i.status.share()).sum::<f64>() / items.len() as f64
                        },
                    ),
                    GroupMode::OneOf => (
                        items.iter().any(|i| i.status.is_done()),
                        items.iter().map(|i| i.status.share()).fold(0.0, f64::max),
                    ),
                };
                PlanGroupView {
                    part: g.part.clone(),
                    mode: g.mode,
                    because: g.because.title.clone(),
                    items,
                    done,
                    share,
                }
            })
            .collect();
        Self { groups }
    }

    fn groups_of<'a>(&'a self, parts: &'a [String]) -> impl Iterator<Item = &'a PlanGroupView> {
        self.groups
            .iter()
            .filter(move |g| parts.is_empty() || parts.contains(&g.part))
    }

    /// Whether the named parts (every part when `parts` is empty) require anything.
    pub fn has_groups(&self, parts: &[String]) -> bool {
        self.groups_of(parts).next().is_some()
    }

    /// Whether the named parts (every part when `parts` is empty) are complete. A part the
    /// plan does not have is complete: nothing in it is required.
    pub fn is_complete(&self, parts: &[String]) -> bool {
        self.groups_of(parts).all(|g| g.done)
    }

    /// The share done (0..1) of the named parts, each group weighing one: the progress bar.
    pub fn share(&self, parts: &[String]) -> f64 {
        let (n, sum) = self.groups_of(parts).fold((0usize, 0.0), |(n, s), g| {
            (n + 1, s + if g.done { 1.0 } else { g.share })
        });
        if n == 0 {
            1.0
        } else {
            sum / n as f64
        }
    }

    /// The first item to do next: in progress first, then available, in plan order.
    pub fn next(&self) -> Option<&PlanItemView> {
        let open = || {
            self.groups
                .iter()
                .filter(|g| !g.done)
                .flat_map(|g| g.items.iter())
        };
        open()
            .find(|i| matches!(i.status, ItemStatus::InProgress { .. }))
            .or_else(|| open().find(|i| matches!(i.status, ItemStatus::Available)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::rules::{Because, PlanGroup};
    use chrono::TimeZone;

    fn item(s: &str) -> ItemRef {
        ItemRef::parse(s).unwrap()
    }

    fn spec() -> PlanSpec {
        let because = Because {
            rule: "r".into(),
            title: "R".into(),
        };
        PlanSpec {
            groups: vec![
                PlanGroup {
                    part: "introduction".into(),
                    mode: GroupMode::AllOf,
                    items: vec![item("course:intro")],
                    because: because.clone(),
                },
                PlanGroup {
                    part: "project".into(),
                    mode: GroupMode::OneOf,
                    items: vec![item("course:families"), item("course:singles")],
                    because,
                },
            ],
            replaced: vec![],
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    fn done() -> ItemStatus {
        ItemStatus::Complete {
            at: at(),
            evidence: "x".into(),
            carried_over: false,
        }
    }

    #[test]
    fn parts_complete_on_their_own_and_one_of_needs_one() {
        let v = PlanView::new(&spec(), |i| {
            if i.key.as_str() == "intro" {
                done()
            } else if i.key.as_str() == "singles" {
                ItemStatus::InProgress { share: 0.5 }
            } else {
                ItemStatus::Available
            }
        });
        assert!(v.is_complete(&["introduction".into()]));
        assert!(!v.is_complete(&["project".into()]));
        assert!(!v.is_complete(&[]));
        assert!((v.share(&[]) - 0.75).abs() < 1e-9);
        assert_eq!(v.next().unwrap().item, item("course:singles"));
        let v = PlanView::new(&spec(), |i| {
            if i.key.as_str() == "families" {
                ItemStatus::Waived { reason: "r".into() }
            } else if i.key.as_str() == "intro" {
                done()
            } else {
                ItemStatus::Available
            }
        });
        assert!(v.is_complete(&[]));
        assert_eq!(v.share(&[]), 1.0);
        assert!(v.next().is_none());
        assert!(v.is_complete(&["nothing-here".into()]));
    }

    #[test]
    fn carry_over_counts_only_inside_the_window() {
        let began = at();
        assert!(counts_for_plan(began + Duration::hours(1), began, 0));
        assert!(!counts_for_plan(began - Duration::hours(1), began, 0));
        assert!(counts_for_plan(began - Duration::days(364), began, 365));
        assert!(!counts_for_plan(began - Duration::days(366), began, 365));
    }
}
