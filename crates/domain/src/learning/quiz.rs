//! A quiz's rules, as pure functions: who may start an attempt and when, how long it runs,
//! which questions it asks, which grade counts, when the right answers are shown, and which
//! attempts were finished too fast to be believed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Which of a person's graded attempts is their grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GradingMethod {
    #[default]
    Highest,
    Latest,
}

impl GradingMethod {
    pub const ALL: [GradingMethod; 2] = [Self::Highest, Self::Latest];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Highest => "highest",
            Self::Latest => "latest",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Highest => "The highest attempt",
            Self::Latest => "The latest attempt",
        }
    }
}

/// When a person is shown the right answers of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    /// After every submission.
    #[default]
    Always,
    /// Once they have passed.
    AfterPass,
    /// Once they have no attempt left (or have passed).
    AfterLastAttempt,
    Never,
}

impl ReviewPolicy {
    pub const ALL: [ReviewPolicy; 4] = [
        Self::Always,
        Self::AfterPass,
        Self::AfterLastAttempt,
        Self::Never,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::AfterPass => "after_pass",
            Self::AfterLastAttempt => "after_last_attempt",
            Self::Never => "never",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Always => "After every submission",
            Self::AfterPass => "Only after passing",
            Self::AfterLastAttempt => "Only after the last allowed attempt",
            Self::Never => "Never",
        }
    }
}

/// A quiz's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuizSettings {
    /// The share of the marks that passes, in percent.
    pub pass_percent: u8,
    /// Attempts allowed; `None`: as many as needed.
    pub max_attempts: Option<u32>,
    /// Minutes to wait after a graded attempt before the next.
    pub delay_minutes: u32,
    /// Minutes an attempt may run; `None`: no limit.
    pub time_limit_minutes: Option<u32>,
    pub grading: GradingMethod,
    pub review: ReviewPolicy,
    pub shuffle_answers: bool,
    /// Tells the person they may use their notes and the course while answering.
    pub open_book: bool,
    /// Emails the person their result, with the right answers for what they missed when the
    /// review policy shows them.
    pub email_results: bool,
    /// Seconds per question below which a finished attempt is flagged as too fast.
    pub min_seconds_per_question: u32,
    /// Told of a failed attempt besides the person.
    pub tell_agency_administrator: bool,
    pub tell_lead: bool,
    /// Used to renew a certification.
    pub recertification: bool,
}

impl Default for QuizSettings {
    fn default() -> Self {
        QuizSettings {
            pass_percent: 80,
            max_attempts: None,
            delay_minutes: 0,
            time_limit_minutes: None,
            grading: GradingMethod::Highest,
            review: ReviewPolicy::Always,
            shuffle_answers: true,
            open_book: false,
            email_results: true,
            min_seconds_per_question: 3,
            tell_agency_administrator: false,
            tell_lead: false,
            recertification: false,
        }
    }
}

/// A person's attempt, as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptSummary {
    pub number: u32,
    pub started_at: DateTime<Utc>,
    /// When it was submitted; `None` while open.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The grade in percent once every question is graded.
    pub percent: Option<f64>,
}

/// Why an attempt cannot start now.
#[derive(Debug, Clone, PartialEq)]
pub enum StartRefused {
    NoAttemptsLeft { allowed: u32 },
    TooSoon { until: DateTime<Utc> },
}

impl std::fmt::Display for StartRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartRefused::NoAttemptsLeft { allowed } => write!(
                f,
                "You have used the {allowed} attempt{} this quiz allows; your HMIS Lead can allow another",
                if *allowed == 1 { "" } else { "s" }
            ),
            StartRefused::TooSoon { until } => write!(
                f,
                "You can take this quiz again from {} UTC",
                until.format("%Y-%m-%d %H:%M")
            ),
        }
    }
}

/// Grace after the time limit for the last answers to arrive.
pub const LATE_GRACE_SECONDS: i64 = 30;

impl QuizSettings {
    /// Whether the grade passes.
    pub fn passes(&self, percent: f64) -> bool {
        percent + 1e-9 >= f64::from(self.pass_percent)
    }

    /// Graded (submitted) attempts so far.
    fn submitted(attempts: &[AttemptSummary]) -> impl Iterator<Item = &AttemptSummary> {
        attempts.iter().filter(|a| a.submitted_at.is_some())
    }

    /// Attempts left, or `None` when unlimited.
    pub fn attempts_left(&self, attempts: &[AttemptSummary]) -> Option<u32> {
        let used = u32::try_from(Self::submitted(attempts).count()).unwrap_or(u32::MAX);
        self.max_attempts.map(|m| m.saturating_sub(used))
    }

    /// Whether a new attempt may start at `now` (an open attempt is resumed, not restarted).
    pub fn may_start(
        &self,
        attempts: &[AttemptSummary],
        now: DateTime<Utc>,
    ) -> Result<(), StartRefused> {
        if let (Some(allowed), Some(0)) = (self.max_attempts, self.attempts_left(attempts)) {
            return Err(StartRefused::NoAttemptsLeft { allowed });
        }
        if self.delay_minutes > 0 {
            if let Some(last) = Self::submitted(attempts)
                .filter_map(|a| a.submitted_at)
                .max()
            {
                let until = last + Duration::minutes(i64::from(self.delay_minutes));
                if now < until {
                    return Err(StartRefused::TooSoon { until });
                }
            }
        }
        Ok(())
    }

    /// When an attempt started at `started` must be submitted by.
    pub fn deadline(&self, started: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.time_limit_minutes
            .map(|m| started + Duration::minutes(i64::from(m)))
    }

    /// Whether answers arriving at `now` are too late for that deadline.
    pub fn is_late(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        deadline.is_some_and(|d| now > d + Duration::seconds(LATE_GRACE_SECONDS))
    }

    /// The attempt whose grade counts, by the grading method.
    pub fn kept<'a>(&self, attempts: &'a [AttemptSummary]) -> Option<&'a AttemptSummary> {
        let graded = attempts.iter().filter(|a| a.percent.is_some());
        match self.grading {
            GradingMethod::Highest => graded.max_by(|a, b| {
                a.percent
                    .partial_cmp(&b.percent)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.number.cmp(&a.number))
            }),
            GradingMethod::Latest => graded.max_by_key(|a| a.number),
        }
    }

    /// Whether the right answers of an attempt are shown, given whether it passed and the
    /// attempts left after it.
    pub fn shows_answers(&self, passed: bool, attempts_left: Option<u32>) -> bool {
        match self.review {
            ReviewPolicy::Always => true,
            ReviewPolicy::AfterPass => passed,
            ReviewPolicy::AfterLastAttempt => passed || attempts_left == Some(0),
            ReviewPolicy::Never => false,
        }
    }

    /// Whether an attempt of `questions` questions taking `seconds` is implausibly fast.
    pub fn too_fast(&self, questions: usize, seconds: i64) -> bool {
        let floor = i64::from(self.min_seconds_per_question)
            .saturating_mul(i64::try_from(questions).unwrap_or(i64::MAX));
        floor > 0 && seconds < floor
    }

    /// Checks the settings, naming the field at fault.
    pub fn problems(&self) -> Vec<crate::FieldError> {
        let mut p = Vec::new();
        if self.pass_percent == 0 || self.pass_percent > 100 {
            p.push(crate::FieldError::new(
                "pass_percent",
                "The pass mark is a percentage from 1 to 100",
            ));
        }
        if self.max_attempts == Some(0) {
            p.push(crate::FieldError::new(
                "max_attempts",
                "Allow at least one attempt, or leave empty for as many as needed",
            ));
        }
        if self.time_limit_minutes == Some(0) {
            p.push(crate::FieldError::new(
                "time_limit_minutes",
                "A time limit is at least one minute, or leave empty for none",
            ));
        }
        p
    }
}

/// A small, seeded source of randomness (SplitMix64), so that a draw is a pure function of
/// its seed and can be tested.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Seeded(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }
    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// An order of `n` answers: shuffled, or as written.
pub fn answer_order(n: usize, shuffle: bool, rng: &mut Seeded) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        rng.shuffle(&mut order);
    }
    order
}

/// Draws `count` questions of `pool` at random, preferring those not in `recently_seen`
/// (the person's last attempt); those are drawn only when the pool has too few others. The
/// draw holds no question twice, and all of the pool when it has no more than `count`.
pub fn draw<T: Copy + Eq + std::hash::Hash>(
    pool: &[T],
    count: usize,
    recently_seen: &HashSet<T>,
    rng: &mut Seeded,
) -> Vec<T> {
    let mut unique: Vec<T> = Vec::with_capacity(pool.len());
    let mut seen = HashSet::new();
    for q in pool {
        if seen.insert(*q) {
            unique.push(*q);
        }
    }
    let (mut fresh, mut again): (Vec<T>, Vec<T>) =
        unique.into_iter().partition(|q| !recently_seen.contains(q));
    rng.shuffle(&mut fresh);
    rng.shuffle(&mut again);
    fresh.truncate(count);
    let more = count.saturating_sub(fresh.len());
    fresh.extend(again.into_iter().take(more));
    fresh
}

/// One place of a quiz, as a Lead writes it, one per line: `question: HMIS-001` (the
/// question with that id number) or `draw 5 from: HMIS fundamentals / Records` (five drawn
/// at random from the category and its subcategories for each attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotSpec {
    Question(String),
    Draw { count: u32, category: Vec<String> },
}

/// Most questions one place may draw.
pub const MAX_DRAW: u32 = 200;

/// Reads a quiz's places; each problem names its line. Blank lines and `#` comments are
/// ignored.
pub fn parse_slots(text: &str) -> Result<Vec<SlotSpec>, Vec<String>> {
    let mut slots = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let Some((head, rest)) = line.split_once(':') else {
            problems.push(format!(
                "Line {n}: write \"question: <id number>\" or \"draw <how many> from: <category>\""
            ));
            continue;
        };
        let head = head.trim().to_lowercase();
        let rest = rest.trim();
        if head == "question" {
            if rest.is_empty() {
                problems.push(format!("Line {n}: name the question by its id number"));
            } else {
                slots.push(SlotSpec::Question(rest.to_string()));
            }
            continue;
        }
        let count = head
            .strip_prefix("draw")
            .and_then(|h| h.trim().strip_suffix("from"))
            .map(str::trim);
        match count.map(str::parse::<u32>) {
            Some(Ok(count)) if (1..=MAX_DRAW).contains(&count) => {
                let category: Vec<String> = rest
                    .split(" / ")
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
                if category.is_empty() {
                    problems.push(format!("Line {n}: name the category to draw from"));
                } else {
                    slots.push(SlotSpec::Draw { count, category });
                }
            }
            Some(_) => problems.push(format!(
                "Line {n}: draw from 1 to {MAX_DRAW} questions, for example \"draw 5 from: Security\""
            )),
            None => problems.push(format!(
                "Line {n}: write \"question: <id number>\" or \"draw <how many> from: <category>\""
            )),
        }
    }
    if slots.is_empty() && problems.is_empty() {
        problems.push("A quiz asks at least one question: add a line".to_string());
    }
    if problems.is_empty() {
        Ok(slots)
    } else {
        Err(problems)
    }
}

/// Writes places as [`parse_slots`] reads them.
pub fn write_slots(slots: &[SlotSpec]) -> String {
    slots
        .iter()
        .map(|s| match s {
            SlotSpec::Question(id) => format!("question: {id}\n"),
            SlotSpec::Draw { count, category } => {
                format!("draw {count} from: {}\n", category.join(" / "))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn attempt(number: u32, percent: Option<f64>, submitted: Option<i64>) -> AttemptSummary {
        AttemptSummary {
            number,
            started_at: at(0),
            submitted_at: submitted.map(at),
            percent,
        }
    }

    #[test]
    fn attempts_and_delays_gate_a_new_attempt() {
        let s = QuizSettings {
            max_attempts: Some(2),
            delay_minutes: 60,
            ..QuizSettings::default()
        };
        assert_eq!(s.may_start(&[], at(0)), Ok(()));
        let one = [attempt(1, Some(50.0), Some(10))];
        assert_eq!(
            s.may_start(&one, at(30)),
            Err(StartRefused::TooSoon { until: at(70) })
        );
        assert_eq!(s.may_start(&one, at(70)), Ok(()));
        let two = [
            attempt(1, Some(50.0), Some(10)),
            attempt(2, Some(60.0), Some(80)),
        ];
        assert_eq!(
            s.may_start(&two, at(500)),
            Err(StartRefused::NoAttemptsLeft { allowed: 2 })
        );
        // An open attempt does not use one up.
        let open = [attempt(1, None, None)];
        assert_eq!(s.attempts_left(&open), Some(2));
        assert_eq!(QuizSettings::default().attempts_left(&two), None);
        assert_eq!(QuizSettings::default().may_start(&two, at(81)), Ok(()));
    }

    #[test]
    fn the_kept_grade_follows_the_method() {
        let a = [
            attempt(1, Some(90.0), Some(1)),
            attempt(2, Some(70.0), Some(2)),
            attempt(3, None, None),
        ];
        let highest = QuizSettings::default();
        assert_eq!(highest.kept(&a).map(|a| a.number), Some(1));
        let latest = QuizSettings {
            grading: GradingMethod::Latest,
            ..QuizSettings::default()
        };
        assert_eq!(latest.kept(&a).map(|a| a.number), Some(2));
        // Ties keep the first to reach the grade.
        let tie = [
            attempt(1, Some(80.0), Some(1)),
            attempt(2, Some(80.0), Some(2)),
        ];
        assert_eq!(highest.kept(&tie).map(|a| a.number), Some(1));
        assert_eq!(highest.kept(&[]), None);
    }

    #[test]
    fn answers_show_as_the_review_policy_says() {
        let with = |review| QuizSettings {
            review,
            ..QuizSettings::default()
        };
        let cases = [
            (ReviewPolicy::Always, false, Some(2), true),
            (ReviewPolicy::AfterPass, false, None, false),
            (ReviewPolicy::AfterPass, true, None, true),
            (ReviewPolicy::AfterLastAttempt, false, Some(1), false),
            (ReviewPolicy::AfterLastAttempt, false, None, false),
            (ReviewPolicy::AfterLastAttempt, false, Some(0), true),
            (ReviewPolicy::AfterLastAttempt, true, Some(1), true),
            (ReviewPolicy::Never, true, Some(0), false),
        ];
        for (review, passed, left, shown) in cases {
            assert_eq!(
                with(review).shows_answers(passed, left),
                shown,
                "{review:?} {passed} {left:?}"
            );
        }
    }

    #[test]
    fn pass_marks_time_limits_and_speed() {
        let s = QuizSettings {
            time_limit_minutes: Some(20),
            ..QuizSettings::default()
        };
        assert!(s.passes(80.0) && !s.passes(79.99) && s.passes(100.0));
        let d = s.deadline(at(0));
        assert_eq!(d, Some(at(20)));
        assert!(!QuizSettings::is_late(
            d,
            at(20) + Duration::seconds(LATE_GRACE_SECONDS)
        ));
        assert!(QuizSettings::is_late(d, at(21)));
        assert!(!QuizSettings::is_late(None, at(100_000)));
        // 20 questions at 3 s each: under a minute is too fast.
        assert!(s.too_fast(20, 59) && !s.too_fast(20, 60));
        let off = QuizSettings {
            min_seconds_per_question: 0,
            ..QuizSettings::default()
        };
        assert!(!off.too_fast(20, 0));
    }

    #[test]
    fn settings_name_the_field_at_fault() {
        let bad = QuizSettings {
            pass_percent: 0,
            max_attempts: Some(0),
            time_limit_minutes: Some(0),
            ..QuizSettings::default()
        };
        let problems = bad.problems();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["pass_percent", "max_attempts", "time_limit_minutes"]
        );
        assert!(QuizSettings::default().problems().is_empty());
    }

    #[test]
    fn a_draw_avoids_what_was_just_seen_while_the_pool_allows() {
        let pool: Vec<u32> = (1..=10).collect();
        let seen: HashSet<u32> = (1..=5).collect();
        let mut rng = Seeded::new(7);
        let d = draw(&pool, 5, &seen, &mut rng);
        assert_eq!(d.len(), 5);
        assert!(d.iter().all(|q| !seen.contains(q)), "{d:?}");
        // Eight from ten with five just seen: the five fresh ones and three again.
        let d = draw(&pool, 8, &seen, &mut rng);
        assert_eq!(d.iter().filter(|q| !seen.contains(q)).count(), 5);
        assert_eq!(d.len(), 8);
        // The same seed draws the same questions.
        assert_eq!(
            draw(&pool, 4, &seen, &mut Seeded::new(1)),
            draw(&pool, 4, &seen, &mut Seeded::new(1))
        );
    }

    #[test]
    fn places_are_read_line_by_line() {
        let text =
            "# fixed first\nquestion: HMIS-001\n\ndraw 3 from: HMIS fundamentals / Records\n";
        let slots = parse_slots(text).unwrap();
        assert_eq!(
            slots,
            [
                SlotSpec::Question("HMIS-001".into()),
                SlotSpec::Draw {
                    count: 3,
                    category: vec!["HMIS fundamentals".into(), "Records".into()]
                }
            ]
        );
        assert_eq!(parse_slots(&write_slots(&slots)).unwrap(), slots);
        let bad =
            parse_slots("question:\ndraw lots from: X\ndraw 0 from: X\nnonsense\ndraw 2 from:")
                .unwrap_err();
        assert_eq!(bad.len(), 5, "{bad:?}");
        assert!(
            bad[0].starts_with("Line 1:") && bad[3].starts_with("Line 4:"),
            "{bad:?}"
        );
        assert!(parse_slots("  \n# nothing\n").is_err());
    }

    proptest! {
        #[test]
        fn draws_hold_no_question_twice_and_come_from_the_pool(
            pool in proptest::collection::vec(0u16..40, 0..60),
            count in 0usize..50,
            seen in proptest::collection::hash_set(0u16..40, 0..20),
            seed in any::<u64>(),
        ) {
            let d = draw(&pool, count, &seen, &mut Seeded::new(seed));
            let distinct: HashSet<u16> = pool.iter().copied().collect();
            prop_assert_eq!(d.len(), count.min(distinct.len()));
            prop_assert_eq!(d.iter().copied().collect::<HashSet<_>>().len(), d.len());
            prop_assert!(d.iter().all(|q| distinct.contains(q)));
            let fresh = distinct.iter().filter(|q| !seen.contains(q)).count();
            prop_assert_eq!(d.iter().filter(|q| !seen.contains(q)).count(), fresh.min(count));
        }

        #[test]
        fn answer_orders_are_permutations(n in 0usize..30, seed in any::<u64>(), shuffle in any::<bool>()) {
            let mut o = answer_order(n, shuffle, &mut Seeded::new(seed));
            if !shuffle {
                prop_assert_eq!(&o, &(0..n).collect::<Vec<_>>());
            }
            o.sort_unstable();
            prop_assert_eq!(o, (0..n).collect::<Vec<_>>());
        }
    }
}
