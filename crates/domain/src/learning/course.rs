//! Courses, their versions and lessons, and prerequisite gating.

use crate::values::Slug;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The longest title of a course or lesson.
pub const TITLE_MAX: usize = 200;
/// The longest summary of a course.
pub const SUMMARY_MAX: usize = 4000;
/// The longest Markdown body of a reading lesson or transcript.
pub const BODY_MAX: usize = 200_000;
/// The most lessons a course version holds.
pub const LESSONS_MAX: usize = 200;

/// The HMIS Data Standards year a course teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum DataStandards {
    #[serde(rename = "FY2024")]
    Fy2024,
    #[serde(rename = "FY2026")]
    Fy2026,
}

impl DataStandards {
    pub const ALL: [DataStandards; 2] = [Self::Fy2024, Self::Fy2026];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fy2024 => "FY2024",
            Self::Fy2026 => "FY2026",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FY2024" => Ok(Self::Fy2024),
            "FY2026" => Ok(Self::Fy2026),
            _ => Err(format!(
                "{s:?} is not a Data Standards year Onramp knows (FY2024 or FY2026)"
            )),
        }
    }
}

/// What must be complete (to 100%) before a course opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Prerequisites {
    /// Every one of these courses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<Slug>,
    /// At least one of these courses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<Slug>,
}

impl Prerequisites {
    pub fn is_empty(&self) -> bool {
        self.all_of.is_empty() && self.one_of.is_empty()
    }
    /// Every course named, in order, without repeats.
    pub fn courses(&self) -> Vec<&Slug> {
        let mut seen = BTreeSet::new();
        self.all_of
            .iter()
            .chain(self.one_of.iter())
            .filter(|k| seen.insert(k.as_str()))
            .collect()
    }
}

/// Whether a course is open to a person, given which courses they completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Gate {
    Open,
    /// Shown as Restricted: `missing` are the courses to complete first; with `any` one of them
    /// is enough.
    Restricted {
        missing: Vec<Slug>,
        any: bool,
    },
}

impl Gate {
    pub fn is_open(&self) -> bool {
        matches!(self, Gate::Open)
    }
}

/// Gates a course on its prerequisites. `complete` answers whether a course is complete to 100%.
pub fn gate(prerequisites: &Prerequisites, complete: impl Fn(&Slug) -> bool) -> Gate {
    let missing_all: Vec<Slug> = prerequisites
        .all_of
        .iter()
        .filter(|k| !complete(k))
        .cloned()
        .collect();
    if !missing_all.is_empty() {
        return Gate::Restricted {
            missing: missing_all,
            any: false,
        };
    }
    if !prerequisites.one_of.is_empty() && !prerequisites.one_of.iter().any(&complete) {
        return Gate::Restricted {
            missing: prerequisites.one_of.clone(),
            any: true,
        };
    }
    Gate::Open
}

/// Finds a cycle in the prerequisites of a catalogue, as the courses that form it.
pub fn prerequisite_cycle(courses: &[(Slug, Prerequisites)]) -> Option<Vec<&Slug>> {
    fn visit<'a>(
        key: &'a Slug,
        courses: &'a [(Slug, Prerequisites)],
        path: &mut Vec<&'a Slug>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a Slug>> {
        if let Some(i) = path.iter().position(|k| *k == key) {
            return Some(path[i..].to_vec());
        }
        if done.contains(key.as_str()) {
            return None;
        }
        path.push(key);
        if let Some((_, p)) = courses.iter().find(|(k, _)| k == key) {
            for next in p.courses() {
                if let Some(c) = visit(next, courses, path, done) {
                    return Some(c);
                }
            }
        }
        path.pop();
        done.insert(key.as_str());
        None
    }
    let mut done = BTreeSet::new();
    for (k, _) in courses {
        let mut path = Vec::new();
        if let Some(c) = visit(k, courses, &mut path, &mut done) {
            return Some(c);
        }
    }
    None
}

/// The kinds of lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonKind {
    /// A video watched in full (coverage checked by the server), with captions and a transcript.
    Video,
    /// Markdown text, or an attached PDF.
    Reading,
    /// A page elsewhere; completed by the trainee's confirmation.
    ExternalLink,
    /// A quiz (filled by the quiz engine).
    Quiz,
}

impl LessonKind {
    pub const ALL: [LessonKind; 4] = [Self::Video, Self::Reading, Self::ExternalLink, Self::Quiz];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Video => "video",
            Self::Reading => "reading",
            Self::ExternalLink => "external_link",
            Self::Quiz => "quiz",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Video => "Video",
            Self::Reading => "Reading",
            Self::ExternalLink => "External link",
            Self::Quiz => "Quiz",
        }
    }
}

/// A lesson as an author gives it, before it is published.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LessonContent {
    pub key: String,
    pub title: String,
    pub kind: Option<LessonKind>,
    /// Reading: the Markdown text (or empty when a PDF is attached).
    pub body: String,
    /// Video: the video file; reading: the PDF.
    pub file: Option<String>,
    /// Video: the server-read duration of the file, in milliseconds.
    pub duration_ms: Option<u64>,
    /// Video: the WebVTT captions file (validated on upload).
    pub captions: Option<String>,
    /// Video: the transcript, in Markdown.
    pub transcript: String,
    /// External link: where to go.
    pub url: String,
    /// External link: what to read there and confirm.
    pub instructions: String,
    /// Quiz: which quiz.
    pub quiz: String,
}

/// A problem that keeps a course version from being published, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseProblem {
    /// `course`, or `lesson <key>`.
    pub place: String,
    /// The field the problem is in, for forms.
    pub field: String,
    pub message: String,
}

fn problem(place: &str, field: &str, message: impl Into<String>) -> CourseProblem {
    CourseProblem {
        place: place.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// Checks a lesson on its own (what a form can say next to its fields).
pub fn lesson_problems(l: &LessonContent) -> Vec<CourseProblem> {
    let place = format!(
        "lesson {}",
        if l.key.is_empty() { "(no key)" } else { &l.key }
    );
    let mut p = Vec::new();
    if Slug::parse(&l.key).is_err() {
        p.push(problem(
            &place,
            "key",
            "Give the lesson a key of 1 to 64 lower-case letters, digits, hyphens or underscores",
        ));
    }
    let title = l.title.trim();
    if title.is_empty() {
        p.push(problem(&place, "title", "Give the lesson a title"));
    } else if title.chars().count() > TITLE_MAX {
        p.push(problem(
            &place,
            "title",
            format!("Keep the title to {TITLE_MAX} characters"),
        ));
    }
    match l.kind {
        None => p.push(problem(
            &place,
            "kind",
            "Choose what kind of lesson this is",
        )),
        Some(LessonKind::Video) => {
            if l.file.is_none() {
                p.push(problem(&place, "file", "Upload the video"));
            } else if l.duration_ms.unwrap_or(0) == 0 {
                p.push(problem(
                    &place,
                    "file",
                    "The video's length could not be read; upload it again as WebM or MP4",
                ));
            }
            if l.captions.is_none() {
                p.push(problem(
                    &place,
                    "captions",
                    "A video needs captions (a WebVTT file) before it can be published",
                ));
            }
            if l.transcript.trim().is_empty() {
                p.push(problem(
                    &place,
                    "transcript",
                    "A video needs a transcript before it can be published",
                ));
            }
        }
        Some(LessonKind::Reading) => {
            if l.body.trim().is_empty() && l.file.is_none() {
                p.push(problem(
                    &place,
                    "body",
                    "Write the reading, or attach it as a PDF",
                ));
            }
            if l.body.len() > BODY_MAX {
                p.push(problem(&place, "body", "The text is too long"));
            }
        }
        Some(LessonKind::ExternalLink) => {
            let u = l.url.trim();
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() < 10 {
                p.push(problem(
                    &place,
                    "url",
                    "Give the address of the page, starting with https://",
                ));
            }
        }
        Some(LessonKind::Quiz) => {
            if Slug::parse(l.quiz.trim()).is_err() {
                p.push(problem(
                    &place,
                    "quiz",
                    "Give the key of the quiz this lesson asks for, as the Quizzes page shows it",
                ));
            }
        }
    }
    if l.transcript.len() > BODY_MAX {
        p.push(problem(&place, "transcript", "The transcript is too long"));
    }
    p
}

/// Checks a course version before it is published: at least one lesson, unique keys, and each
/// lesson complete for its kind (a video needs its captions and transcript).
pub fn publish_problems(title: &str, lessons: &[LessonContent]) -> Vec<CourseProblem> {
    let mut p = Vec::new();
    if title.trim().is_empty() {
        p.push(problem("course", "title", "Give the course a title"));
    }
    if lessons.is_empty() {
        p.push(problem(
            "course",
            "lessons",
            "Add at least one lesson before publishing",
        ));
    }
    if lessons.len() > LESSONS_MAX {
        p.push(problem(
            "course",
            "lessons",
            format!("A course holds at most {LESSONS_MAX} lessons"),
        ));
    }
    let mut keys = BTreeSet::new();
    for l in lessons {
        if !keys.insert(l.key.as_str()) {
            p.push(problem(
                &format!("lesson {}", l.key),
                "key",
                "Another lesson of this course has the same key",
            ));
        }
        p.extend(lesson_problems(l));
    }
    p
}

/// How far one lesson is, for a person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LessonState {
    NotStarted,
    /// Started, this share (0..1) done.
    InProgress(f64),
    Complete,
}

impl LessonState {
    pub fn share(self) -> f64 {
        match self {
            Self::NotStarted => 0.0,
            Self::InProgress(s) => s.clamp(0.0, 1.0),
            Self::Complete => 1.0,
        }
    }
}

/// A course's progress: the mean of its lessons' shares, complete only when every lesson is.
pub fn course_share(lessons: &[LessonState]) -> (f64, bool) {
    if lessons.is_empty() {
        return (0.0, false);
    }
    let complete = lessons.iter().all(|l| matches!(l, LessonState::Complete));
    let share = lessons.iter().map(|l| l.share()).sum::<f64>() / lessons.len() as f64;
    (if complete { 1.0 } else { share.min(0.999) }, complete)
}

/// A price in whole cents, shown as dollars.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(k: &str) -> Slug {
        Slug::parse(k).unwrap()
    }

    #[test]
    fn all_of_prerequisites_restrict_until_each_is_complete() {
        let p = Prerequisites {
            all_of: vec![s("intro"), s("privacy")],
            one_of: vec![],
        };
        assert_eq!(
            gate(&p, |k| k.as_str() == "intro"),
            Gate::Restricted {
                missing: vec![s("privacy")],
                any: false
            }
        );
        assert!(gate(&p, |_| true).is_open());
        assert!(gate(&Prerequisites::default(), |_| false).is_open());
    }

    #[test]
    fn one_of_prerequisites_open_with_any() {
        let p = Prerequisites {
            all_of: vec![],
            one_of: vec![s("intro"), s("intro-read-only")],
        };
        assert_eq!(
            gate(&p, |_| false),
            Gate::Restricted {
                missing: vec![s("intro"), s("intro-read-only")],
                any: true
            }
        );
        assert!(gate(&p, |k| k.as_str() == "intro-read-only").is_open());
    }

    #[test]
    fn cycles_are_found() {
        let c = vec![
            (
                s("a"),
                Prerequisites {
                    all_of: vec![s("b")],
                    one_of: vec![],
                },
            ),
            (
                s("b"),
                Prerequisites {
                    all_of: vec![],
                    one_of: vec![s("c"), s("a")],
                },
            ),
            (s("c"), Prerequisites::default()),
        ];
        let cycle = prerequisite_cycle(&c).unwrap();
        assert_eq!(cycle.len(), 2);
        assert!(prerequisite_cycle(&c[1..]).is_none());
    }

    #[test]
    fn a_video_needs_captions_and_a_transcript_to_publish() {
        let v = LessonContent {
            key: "welcome".into(),
            title: "Welcome".into(),
            kind: Some(LessonKind::Video),
            file: Some("ab".into()),
            duration_ms: Some(12_000),
            ..Default::default()
        };
        let p = publish_problems("Intro", std::slice::from_ref(&v));
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["captions", "transcript"]);
        assert!(p[0].message.contains("captions"));
        let ok = LessonContent {
            captions: Some("cd".into()),
            transcript: "Hello.".into(),
            ..v
        };
        assert!(publish_problems("Intro", &[ok]).is_empty());
    }

    #[test]
    fn lessons_need_keys_titles_and_their_kinds_content() {
        let p = publish_problems(
            "",
            &[
                LessonContent {
                    key: "x".into(),
                    title: "Read".into(),
                    kind: Some(LessonKind::Reading),
                    ..Default::default()
                },
                LessonContent {
                    key: "x".into(),
                    title: "".into(),
                    kind: Some(LessonKind::ExternalLink),
                    url: "ftp://x".into(),
                    ..Default::default()
                },
            ],
        );
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|p| (p.place.as_str(), p.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("course", "title"),
                ("lesson x", "body"),
                ("lesson x", "key"),
                ("lesson x", "title"),
                ("lesson x", "url")
            ]
        );
        assert!(!publish_problems("T", &[]).is_empty());
    }

    #[test]
    fn course_share_is_complete_only_when_every_lesson_is() {
        assert_eq!(
            course_share(&[LessonState::Complete, LessonState::Complete]),
            (1.0, true)
        );
        let (s, c) = course_share(&[LessonState::Complete, LessonState::InProgress(0.5)]);
        assert!(!c);
        assert!((s - 0.75).abs() < 1e-9);
        let (s, c) = course_share(&[LessonState::Complete, LessonState::InProgress(1.0)]);
        assert!(!c && s < 1.0);
    }

    #[test]
    fn cents_show_as_dollars() {
        assert_eq!(format_cents(2500), "$25.00");
        assert_eq!(format_cents(5), "$0.05");
        assert_eq!(format_cents(-150), "-$1.50");
    }

    #[test]
    fn data_standards_years_parse() {
        assert_eq!(DataStandards::parse("fy2026"), Ok(DataStandards::Fy2026));
        assert!(DataStandards::parse("FY2020").is_err());
    }
}
