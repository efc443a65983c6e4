//! Videos watched in full, judged by the server.
//!
//! The player reports the ranges it played (`video.played`, in milliseconds) with an
//! increasing sequence number per viewing. The server merges them into the person's
//! coverage of the video, whose duration it read from the file itself, and refuses a report
//! that is malformed, replayed, out of order, or claims more new coverage than the wall-clock
//! time since the previous accepted report allows at the top playback speed. A video is
//! complete when its coverage reaches a share of its duration (95% by default). Coverage only
//! grows, so the share a trainee sees never goes backwards.

use serde::{Deserialize, Serialize};

/// The most ranges one report may carry.
pub const MAX_RANGES: usize = 500;

/// Merged, sorted, disjoint played ranges `[start, end)` in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coverage(pub Vec<(u64, u64)>);

impl Coverage {
    /// Adds ranges (each clamped to `duration`), merging touching and overlapping ones.
    pub fn add(&mut self, ranges: &[(u64, u64)], duration: u64) {
        let mut all: Vec<(u64, u64)> = self
            .0
            .iter()
            .copied()
            .chain(
                ranges
                    .iter()
                    .map(|&(s, e)| (s.min(duration), e.min(duration))),
            )
            .filter(|(s, e)| s < e)
            .collect();
        all.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.0 = merged;
    }

    /// Milliseconds covered.
    pub fn covered(&self) -> u64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }

    /// The end of what was watched from the start without a gap: where to resume, and how
    /// far a restricted player may seek.
    pub fn furthest_from_start(&self) -> u64 {
        match self.0.first() {
            Some(&(0, e)) => e,
            _ => 0,
        }
    }

    /// The share of `duration` covered, 0..=1.
    pub fn share(&self, duration: u64) -> f64 {
        if duration == 0 {
            return 0.0;
        }
        (self.covered() as f64 / duration as f64).clamp(0.0, 1.0)
    }
}

/// How strictly watching is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoPolicy {
    /// The fastest playback accepted (2.0: double speed).
    pub top_speed: f64,
    /// The share of the duration that completes a video.
    pub complete_share: f64,
    /// Allowance for timer jitter and the player's reporting interval, in milliseconds.
    pub slack_ms: u64,
}

impl Default for VideoPolicy {
    fn default() -> Self {
        Self {
            top_speed: 2.0,
            complete_share: 0.95,
            slack_ms: 2_000,
        }
    }
}

/// One report from the player.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ProgressReport {
    /// The viewing's token (a new one each time the lesson page is opened).
    pub view: String,
    /// 1, 2, 3… within the viewing.
    pub seq: u32,
    /// Played ranges in milliseconds.
    pub ranges: Vec<(u64, u64)>,
    /// Where the playhead is.
    pub position_ms: u64,
}

/// What the server keeps of a person's watching of one video.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoState {
    pub coverage: Coverage,
    /// The current viewing's token, when it began, and the last accepted report.
    pub view: Option<String>,
    /// Milliseconds since an epoch of the caller's choosing.
    pub view_started_ms: u64,
    pub last_seq: u32,
    pub last_report_ms: Option<u64>,
    pub complete: bool,
}

/// Why a report was refused. A refused report changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refused {
    /// A range is inverted, outside the video, or there are too many of them.
    Malformed,
    /// Not for the current viewing of the lesson.
    StaleView,
    /// This sequence number was already accepted.
    Replayed,
    /// A lower sequence number than one already accepted.
    OutOfOrder,
    /// More new coverage than the time since the last report allows at the top speed.
    TooFast,
}

impl Refused {
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "The progress report is not well formed.",
            Self::StaleView => "This report belongs to an earlier viewing; reload the lesson.",
            Self::Replayed => "This progress report was already counted.",
            Self::OutOfOrder => "This progress report arrived out of order.",
            Self::TooFast => "More of the video was reported watched than time allows.",
        }
    }
}

/// What an accepted report did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub state: VideoState,
    pub newly_covered_ms: u64,
    /// The report completed the video.
    pub completed_now: bool,
}

/// Judges a report against the state; `now_ms` in the same epoch as `view_started_ms`.
pub fn apply(
    state: &VideoState,
    report: &ProgressReport,
    now_ms: u64,
    duration_ms: u64,
    policy: &VideoPolicy,
) -> Result<Applied, Refused> {
    if report.ranges.len() > MAX_RANGES
        || report.seq == 0
        || report
            .ranges
            .iter()
            .any(|&(s, e)| s >= e || e > duration_ms + policy.slack_ms)
        || report.position_ms > duration_ms + policy.slack_ms
    {
        return Err(Refused::Malformed);
    }
    if state.view.as_deref() != Some(report.view.as_str()) {
        return Err(Refused::StaleView);
    }
    if report.seq == state.last_seq {
        return Err(Refused::Replayed);
    }
    if report.seq < state.last_seq {
        return Err(Refused::OutOfOrder);
    }
    let mut coverage = state.coverage.clone();
    coverage.add(&report.ranges, duration_ms);
    let newly = coverage.covered().saturating_sub(state.coverage.covered());
    let since = state.last_report_ms.unwrap_or(state.view_started_ms);
    let elapsed = now_ms.saturating_sub(since);
    let allowed = (elapsed as f64 * policy.top_speed) as u64 + policy.slack_ms;
    if newly > allowed {
        return Err(Refused::TooFast);
    }
    let complete = state.complete || coverage.share(duration_ms) >= policy.complete_share;
    Ok(Applied {
        completed_now: complete && !state.complete,
        newly_covered_ms: newly,
        state: VideoState {
            coverage,
            view: state.view.clone(),
            view_started_ms: state.view_started_ms,
            last_seq: report.seq,
            last_report_ms: Some(now_ms),
            complete,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const D: u64 = 60_000;

    fn fresh() -> VideoState {
        VideoState {
            view: Some("v".into()),
            view_started_ms: 0,
            ..Default::default()
        }
    }

    fn report(seq: u32, ranges: &[(u64, u64)]) -> ProgressReport {
        ProgressReport {
            view: "v".into(),
            seq,
            ranges: ranges.to_vec(),
            position_ms: ranges.last().map(|r| r.1).unwrap_or(0),
        }
    }

    #[test]
    fn honest_watching_completes_and_seeking_ahead_does_not() {
        let p = VideoPolicy::default();
        let mut s = fresh();
        // Watch 0-10 s, then jump to the end and watch the last 5 s.
        let a = apply(&s, &report(1, &[(0, 10_000)]), 10_000, D, &p).unwrap();
        s = a.state;
        let a = apply(
            &s,
            &report(2, &[(0, 10_000), (55_000, 60_000)]),
            15_000,
            D,
            &p,
        )
        .unwrap();
        s = a.state;
        assert!(!s.complete);
        assert_eq!(s.coverage.furthest_from_start(), 10_000);
        // Watch the rest at normal speed.
        let a = apply(
            &s,
            &report(3, &[(0, 55_000), (55_000, 60_000)]),
            60_000,
            D,
            &p,
        )
        .unwrap();
        assert!(a.completed_now && a.state.complete);
    }

    #[test]
    fn replays_old_views_and_bursts_are_refused() {
        let p = VideoPolicy::default();
        let s = apply(&fresh(), &report(1, &[(0, 5_000)]), 5_000, D, &p)
            .unwrap()
            .state;
        assert_eq!(
            apply(&s, &report(1, &[(0, 9_000)]), 9_000, D, &p),
            Err(Refused::Replayed)
        );
        let s2 = apply(&s, &report(3, &[(0, 9_000)]), 9_000, D, &p)
            .unwrap()
            .state;
        assert_eq!(
            apply(&s2, &report(2, &[(0, 9_000)]), 9_500, D, &p),
            Err(Refused::OutOfOrder)
        );
        let mut other = report(4, &[(0, 9_000)]);
        other.view = "older".into();
        assert_eq!(apply(&s2, &other, 10_000, D, &p), Err(Refused::StaleView));
        // One second later, claiming the whole video.
        assert_eq!(
            apply(&s2, &report(4, &[(0, D)]), 10_000, D, &p),
            Err(Refused::TooFast)
        );
        assert_eq!(
            apply(&s2, &report(4, &[(5, 1)]), 10_000, D, &p),
            Err(Refused::Malformed)
        );
        assert_eq!(
            apply(&s2, &report(4, &[(0, D + 10_000)]), 10_000, D, &p),
            Err(Refused::Malformed)
        );
    }

    proptest! {
        #[test]
        fn merging_is_order_free_idempotent_and_bounded(
            ranges in proptest::collection::vec((0u64..70_000, 0u64..70_000), 0..40)
        ) {
            let ranges: Vec<(u64, u64)> = ranges.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
            let mut one = Coverage::default();
            one.add(&ranges, D);
            let mut rev = Coverage::default();
            let mut r2 = ranges.clone();
            r2.reverse();
            for r in &r2 {
                rev.add(&[*r], D);
            }
            prop_assert_eq!(&one, &rev);
            let before = one.clone();
            one.add(&ranges, D);
            prop_assert_eq!(&one, &before);
            prop_assert!(one.covered() <= D);
            for w in one.0.windows(2) {
                prop_assert!(w[0].1 < w[1].0);
            }
        }

        #[test]
        fn no_stream_of_accepted_reports_completes_sooner_than_the_speed_allows(
            steps in proptest::collection::vec((1u64..20_000, 0u64..70_000, 0u64..70_000), 1..60)
        ) {
            let p = VideoPolicy::default();
            let mut s = fresh();
            let mut now = 0;
            let mut seq = 0;
            for (dt, a, b) in steps {
                now += dt;
                seq += 1;
                let r = report(seq, &[(a.min(b), a.max(b))]);
                let before = s.coverage.covered();
                if let Ok(applied) = apply(&s, &r, now, D, &p) {
                    prop_assert!(applied.state.coverage.covered() >= before);
                    s = applied.state;
                }
                // Coverage never exceeds what the clock allows.
                let allowed = (now as f64 * p.top_speed) as u64 + p.slack_ms * u64::from(seq);
                prop_assert!(s.coverage.covered() <= allowed);
                if s.complete {
                    let needed = (D as f64 * p.complete_share) as u64;
                    prop_assert!(needed <= allowed);
                }
            }
        }

        #[test]
        fn honest_one_times_speed_reports_complete(interval in 1_000u64..10_000) {
            let p = VideoPolicy::default();
            let mut s = fresh();
            let mut t = 0;
            let mut seq = 0;
            while t < D {
                t = (t + interval).min(D);
                seq += 1;
                s = apply(&s, &report(seq, &[(0, t)]), t, D, &p).unwrap().state;
            }
            prop_assert!(s.complete);
            prop_assert_eq!(s.coverage.covered(), D);
        }

        #[test]
        fn replayed_reports_never_add_coverage(end in 1u64..60_000) {
            let p = VideoPolicy::default();
            let s = apply(&fresh(), &report(1, &[(0, end.min(2_000))]), 60_000, D, &p).unwrap().state;
            let again = apply(&s, &report(1, &[(0, end)]), 120_000, D, &p);
            prop_assert_eq!(again, Err(Refused::Replayed));
        }
    }
}
