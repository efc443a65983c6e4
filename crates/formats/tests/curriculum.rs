//! The starter curriculum in `crates/app/curriculum/` reads as course packages with no problems,
//! its prerequisites and learning paths name courses that are there, and each course survives a
//! trip through a zip archive unchanged.

use onramp_domain::learning::course::{prerequisite_cycle, LessonKind, Prerequisites};
use onramp_domain::Slug;
use onramp_formats::course_package::{
    read_package_dir, read_package_zip, read_paths, write_package_zip, Limits, Package,
    PackageContent,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn curriculum_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/curriculum")
}

/// Every package folder of the curriculum, read, by course key.
fn curriculum() -> BTreeMap<String, Package> {
    let mut courses = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(curriculum_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let package =
            read_package_dir(&dir).unwrap_or_else(|e| panic!("{name} is not a package: {e}"));
        assert_eq!(
            package.problems,
            [],
            "{name} has problems: every file must be used and every lesson kept"
        );
        assert_eq!(
            package.manifest.key.as_str(),
            name,
            "a package folder is named after its course key"
        );
        courses.insert(name, package);
    }
    courses
}

#[test]
fn every_package_reads_without_problems_and_every_prerequisite_exists() {
    let courses = curriculum();
    assert!(courses.len() >= 20, "{} courses", courses.len());
    for (key, p) in &courses {
        let m = &p.manifest;
        assert!(!m.summary.is_empty(), "{key} has a summary");
        assert!(
            m.objectives.len() >= 2,
            "{key} states its learning objectives"
        );
        assert!(p.lessons.len() >= 2, "{key} has at least two lessons");
        for prerequisite in m.prerequisites.courses() {
            assert!(
                courses.contains_key(prerequisite.as_str()),
                "{key} requires {prerequisite}, which is not in the curriculum"
            );
        }
        for l in &p.lessons {
            match &l.content {
                PackageContent::Markdown(text) => assert_plain_markdown(key, text),
                PackageContent::Video {
                    video,
                    captions,
                    transcript,
                    ..
                } => {
                    assert_plain_markdown(key, transcript);
                    assert!(
                        video.len() <= 150 * 1024,
                        "{key}/{}: video too large",
                        l.key
                    );
                    assert_cues_in_order(&format!("{key}/{}", l.key), captions);
                }
                PackageContent::ExternalLink { url, instructions } => {
                    assert!(url.starts_with("https://"), "{key}/{}", l.key);
                    assert!(!instructions.is_empty(), "{key}/{}", l.key);
                }
                other => panic!("{key}/{}: unexpected lesson {other:?}", l.key),
            }
        }
    }
    let catalogue: Vec<(Slug, Prerequisites)> = courses
        .values()
        .map(|p| (p.manifest.key.clone(), p.manifest.prerequisites.clone()))
        .collect();
    assert_eq!(prerequisite_cycle(&catalogue), None);
}

#[test]
fn the_curriculum_has_what_the_seeds_ask_for() {
    let courses = curriculum();
    let get = |k: &str| courses.get(k).unwrap_or_else(|| panic!("{k} is missing"));
    // Seed 000: two online courses whose videos are watched in full.
    for k in ["security-awareness", "hmis-fundamentals"] {
        let p = get(k);
        assert!(p.manifest.restrict_seeking, "{k} refuses seeking ahead");
        assert!(
            p.lessons
                .iter()
                .any(|l| l.content.kind() == LessonKind::Video),
            "{k} has a video lesson"
        );
    }
    // Seed 003: the assessment training.
    assert!(get("assessment-vi-spdat")
        .manifest
        .title
        .contains("VI-SPDAT"));
    // Seed 004: the introduction, its read-only alternate, and paid project-specific courses
    // restricted until the introduction is complete.
    get("intro-hmis");
    get("intro-hmis-read-only");
    let project_specific: Vec<&Package> = courses
        .values()
        .filter(|p| p.manifest.tags.iter().any(|t| t == "project-specific"))
        .collect();
    assert_eq!(project_specific.len(), 10);
    for p in project_specific {
        let m = &p.manifest;
        assert_eq!(m.price_cents, Some(2500), "{}", m.key);
        assert_eq!(m.prerequisites.all_of, [Slug::parse("intro-hmis").unwrap()]);
        assert!(m.prerequisites.one_of.is_empty());
    }
    // Seed 002: the introductory and advanced content areas.
    let tagged = |t: &str| {
        courses
            .values()
            .filter(|p| p.manifest.key.as_str().starts_with("guide-"))
            .filter(|p| p.manifest.tags.iter().any(|x| x == t))
            .count()
    };
    assert!(tagged("introductory") >= 4);
    assert!(tagged("advanced") >= 3);
}

#[test]
fn every_learning_path_names_courses_that_exist() {
    let courses = curriculum();
    let text = std::fs::read_to_string(curriculum_dir().join("paths.toml")).unwrap();
    let paths = read_paths(&text).unwrap_or_else(|e| panic!("paths.toml: {e:?}"));
    assert!(!paths.is_empty());
    for path in &paths {
        for course in &path.courses {
            assert!(
                courses.contains_key(course.as_str()),
                "path {} names {course}, which is not in the curriculum",
                path.key
            );
        }
    }
    let guide = paths
        .iter()
        .find(|p| p.key.as_str() == "training-guide")
        .unwrap();
    let first_advanced = guide
        .courses
        .iter()
        .position(|c| {
            courses[c.as_str()]
                .manifest
                .tags
                .iter()
                .any(|t| t == "advanced")
        })
        .unwrap();
    assert!(
        guide.courses[..first_advanced]
            .iter()
            .all(|c| courses[c.as_str()]
                .manifest
                .tags
                .iter()
                .any(|t| t == "introductory")),
        "the guide's path takes the introductory courses first"
    );
}

#[test]
fn each_course_round_trips_through_a_zip_archive() {
    let mut total = 0;
    for (key, p) in curriculum() {
        let bytes = write_package_zip(&p.manifest, &p.lessons).unwrap();
        total += bytes.len();
        let again = read_package_zip(&bytes, &Limits::default()).unwrap();
        assert_eq!(again.problems, [], "{key}");
        assert_eq!(again.manifest, p.manifest, "{key}");
        assert_eq!(again.lessons, p.lessons, "{key}");
        assert_eq!(
            write_package_zip(&again.manifest, &again.lessons).unwrap(),
            bytes,
            "{key}: the same course gives the same archive"
        );
    }
    assert!(
        total < 1_500_000,
        "the whole curriculum zips to {total} bytes"
    );
}

/// Lessons are plain Markdown: no raw HTML, which the renderer would show as text.
fn assert_plain_markdown(key: &str, text: &str) {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'<' {
            let next = bytes.get(i + 1).copied().unwrap_or(b' ');
            assert!(
                !(next.is_ascii_alphabetic() || next == b'/' || next == b'!'),
                "{key}: raw HTML near {:?}",
                &text[i..(i + 20).min(text.len())]
            );
        }
    }
}

/// Caption cues start in order and each ends after it starts, without overlapping the next.
fn assert_cues_in_order(place: &str, vtt: &str) {
    fn seconds(stamp: &str) -> f64 {
        let parts: Vec<f64> = stamp
            .trim()
            .split(':')
            .map(|p| p.parse().unwrap())
            .collect();
        parts.iter().fold(0.0, |acc, p| acc * 60.0 + p)
    }
    let mut last_end = 0.0;
    let mut cues = 0;
    for line in vtt.lines().filter(|l| l.contains("-->")) {
        let (start, end) = line.split_once("-->").unwrap();
        let (start, end) = (seconds(start), seconds(end));
        assert!(start >= last_end - 1e-9, "{place}: cue at {start} overlaps");
        assert!(end > start, "{place}: cue at {start} ends before it starts");
        assert!(end <= 20.5, "{place}: cues run past 20 seconds");
        last_end = end;
        cues += 1;
    }
    assert!(cues >= 2, "{place}: {cues} caption cues");
}
