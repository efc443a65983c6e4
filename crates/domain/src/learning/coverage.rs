//! Videos watched in full, judged by the server.
//!
//! The player reports the ranges it played (`video.played`, in milliseconds) with an
//! increasing sequence number per viewing. The server merges them into the person's
//! coverage of the video, whose duration it read from the file itself, and refuses a report
//! that is malformed, replayed, out of order, or claims more new coverage than the wall-clock
//! time allows at the top playback speed. A video is
//! complete when its coverage reaches a share of its duration (95% by default). Coverage only
//! grows, so the share a trainee sees never goes backwards.
//!
//! The speed rule runs on one clock per person and video, started when they first opened it
//! and never reset by reopening the lesson. A report is refused when its new coverage is more
//! than the time since the previous accepted report at the top speed plus an allowance for
//! timer jitter (`slack_ms`), or when the coverage in all would be more than the time since
//! the clock started at the top speed plus that allowance, counted once. However many reports
//! are sent and however often the lesson is reopened, a video cannot be completed sooner than
//! its share to watch at the top speed, less the allowance.

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
    /// The allowance for timer jitter, in milliseconds of video: one bucket for the whole
    /// watching, not a gift per report.
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

/// What the server keeps of a person's watching of one video. Times are milliseconds since
/// an epoch of the caller's choosing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoState {
    pub coverage: Coverage,
    /// When the person first opened the video: the speed rule's clock, never reset.
    pub clock_started_ms: u64,
    /// The current viewing's token (a new one each time the lesson is opened).
    pub view: Option<String>,
    /// The last accepted sequence number of the current viewing.
    pub last_seq: u32,
    /// When the last report was accepted, in any viewing.
    pub last_report_ms: Option<u64>,
    pub complete: bool,
}

impl VideoState {
    /// A first opening of the video at `now_ms`.
    pub fn started(view: String, now_ms: u64) -> Self {
        Self {
            clock_started_ms: now_ms,
            view: Some(view),
            ..Default::default()
        }
    }

    /// The lesson opened again: a new viewing, whose reports are numbered from 1, and the
    /// older viewing's reports refused from now on. The speed rule's clock runs on.
    pub fn reopened(&self, view: String) -> Self {
        Self {
            view: Some(view),
            last_seq: 0,
            ..self.clone()
        }
    }

    /// The coverage the speed rule allows at `now_ms` in all: the time since the clock
    /// started at the top speed, plus the allowance.
    pub fn allowed_in_all(&self, now_ms: u64, policy: &VideoPolicy) -> u64 {
        at_speed(now_ms.saturating_sub(self.clock_started_ms), policy) + policy.slack_ms
    }
}

fn at_speed(elapsed_ms: u64, policy: &VideoPolicy) -> u64 {
    (elapsed_ms as f64 * policy.top_speed.max(0.0)) as u64
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

/// Judges a report against the state; `now_ms` in the same epoch as the state's times.
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
    // Since the previous report, at the top speed, plus the allowance…
    let since = state.last_report_ms.unwrap_or(state.clock_started_ms);
    let per_report = at_speed(now_ms.saturating_sub(since), policy) + policy.slack_ms;
    // …and never more in all than the clock allows: the allowance is spent once.
    let in_all = state.allowed_in_all(now_ms, policy);
    if newly > per_report || coverage.covered() > in_all {
        return Err(Refused::TooFast);
    }
    let complete = state.complete || coverage.share(duration_ms) >= policy.complete_share;
    Ok(Applied {
        completed_now: complete && !state.complete,
        newly_covered_ms: newly,
        state: VideoState {
            coverage,
            clock_started_ms: state.clock_started_ms,
            view: state.view.clone(),
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
        VideoState::started("v".into(), 0)
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
    fn many_small_reports_and_reopenings_do_not_add_up_the_allowance() {
        let p = VideoPolicy::default();
        let mut s = fresh();
        // A report every millisecond, each claiming the jitter allowance again.
        let mut accepted_to = 0;
        for seq in 1..=50u32 {
            let to = u64::from(seq) * p.slack_ms;
            if let Ok(a) = apply(&s, &report(seq, &[(0, to)]), u64::from(seq), D, &p) {
                s = a.state;
                accepted_to = to;
            }
        }
        assert_eq!(accepted_to, p.slack_ms);
        // Opening the lesson again does not start a new allowance either.
        for view in 0..20 {
            s = s.reopened(format!("again{view}"));
            let mut r = report(1, &[(0, accepted_to + p.slack_ms)]);
            r.view = format!("again{view}");
            assert_eq!(apply(&s, &r, 100, D, &p), Err(Refused::TooFast));
        }
        // Time passing lets honest watching on.
        let mut r = report(1, &[(0, 12_000)]);
        r.view = "again19".into();
        assert!(apply(&s, &r, 5_000, D, &p).is_ok());
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
        fn no_stream_of_reports_or_reopenings_completes_sooner_than_the_speed_allows(
            steps in proptest::collection::vec((0u64..20_000, 0u64..70_000, 0u64..70_000, 0u8..6), 1..80)
        ) {
            let p = VideoPolicy::default();
            let mut s = fresh();
            let mut now = 0;
            let mut seq = 0;
            let mut views = 0;
            for (dt, a, b, what) in steps {
                now += dt;
                if what == 0 {
                    // The lesson is opened again.
                    views += 1;
                    s = s.reopened(format!("v{views}"));
                    seq = 0;
                    continue;
                }
                seq += 1;
                let mut r = report(seq, &[(a.min(b), a.max(b))]);
                r.view = s.view.clone().unwrap_or_default();
                let before = s.coverage.covered();
                if let Ok(applied) = apply(&s, &r, now, D, &p) {
                    prop_assert!(applied.state.coverage.covered() >= before);
                    s = applied.state;
                }
                // Coverage never exceeds what the clock allows, the allowance counted once.
                let allowed = (now as f64 * p.top_speed) as u64 + p.slack_ms;
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
