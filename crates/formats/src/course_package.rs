//! Course packages: one course with its lessons and their files, as a zip archive or as a
//! directory with the same layout. Packages carry a course from one implementation to
//! another, and hold the starter curriculum.
//!
//! ```text
//! course.toml              the manifest: the course's fields and its lessons, in order
//! lessons/*.md             reading lessons and video transcripts (Markdown, UTF-8)
//! files/*.pdf              reading lessons given as a PDF
//! media/*.webm | *.mp4     videos
//! media/*.vtt              their captions (WebVTT)
//! ```
//!
//! `course.toml`:
//!
//! ```toml
//! key = "intro-hmis"                  # 1-64 of a-z 0-9 - _
//! title = "Introduction to HMIS"
//! summary = "One paragraph."
//! data_standards = "FY2026"           # optional: FY2024 | FY2026
//! price = "25.00"                     # optional, US dollars; absent = free
//! restrict_seeking = true             # optional: the player refuses seeking ahead
//! tags = ["introductory"]             # optional
//! objectives = ["Explain what an HMIS is and who uses it"]
//!
//! [prerequisites]                     # optional; course keys
//! all_of = ["hmis-privacy"]           # or one_of = [two or more]
//!
//! [[lessons]]
//! key = "what-is-hmis"                # unique in the course
//! title = "What an HMIS is"
//! kind = "reading"                    # reading | video | external_link | quiz
//! markdown = "lessons/what-is-hmis.md"   # or pdf = "files/what-is-hmis.pdf"
//!
//! [[lessons]]
//! key = "welcome"
//! title = "Welcome"
//! kind = "video"
//! video = "media/welcome.webm"
//! captions = "media/welcome.vtt"
//! transcript = "lessons/welcome-transcript.md"
//!
//! [[lessons]]
//! key = "data-standards"
//! title = "Read HUD's HMIS Data Standards Manual"
//! kind = "external_link"
//! url = "https://www.hudexchange.info/"
//! instructions = "What to read there and what to confirm."
//!
//! [[lessons]]
//! key = "check"
//! title = "Check your understanding"
//! kind = "quiz"
//! quiz = "intro-hmis-check"           # optional
//! ```
//!
//! Reading is forgiving where it can be: a lesson whose file is missing, whose fields do not
//! fit its kind, or whose text is not UTF-8 is left out and named in [`Package::problems`],
//! and the rest of the course is kept. Only a missing or unreadable `course.toml`, a course
//! field that is wrong (a bad key above all), or an archive that is unsafe or too large fails
//! the whole package. Files in other places are left out and named too, except the litter
//! some systems add when zipping (`__MACOSX/`, `.DS_Store`, `Thumbs.db`), which is skipped.
//!
//! [`write_package_zip`] writes the same layout with fixed timestamps and sorted entries, so
//! the same course always gives the same bytes, and reading what it wrote gives back the same
//! [`Package`]. It names files after their lesson's key.

use crate::process_template::line_of;
use onramp_domain::learning::course::{
    DataStandards, LessonKind, Prerequisites, BODY_MAX, LESSONS_MAX, SUMMARY_MAX, TITLE_MAX,
};
use onramp_domain::Slug;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

/// The manifest's name, at the top of a package.
pub const MANIFEST: &str = "course.toml";
/// The longest learning objective or tag.
pub const OBJECTIVE_MAX: usize = 500;
/// The longest tag.
pub const TAG_MAX: usize = 64;
/// The longest address of an external link.
pub const URL_MAX: usize = 2000;
/// Entries smaller than this are never counted as compression bombs (text compresses well).
const RATIO_FLOOR: u64 = 1 << 20;

/// The folders of a package, and the file endings each may hold.
const FOLDERS: [(&str, &[&str]); 3] = [
    ("lessons", &["md"]),
    ("files", &["pdf"]),
    ("media", &["webm", "mp4", "vtt"]),
];

/// How much a package may hold. Every limit fails the whole package when passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The archive itself, in bytes.
    pub max_archive_bytes: u64,
    /// Entries in the archive, folders included.
    pub max_entries: usize,
    /// One file, uncompressed.
    pub max_entry_bytes: u64,
    /// Every file together, uncompressed.
    pub max_total_bytes: u64,
    /// How many times larger than its compressed size a file (over 1 MiB) may grow.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_archive_bytes: 512 << 20,
            max_entries: 2000,
            max_entry_bytes: 256 << 20,
            max_total_bytes: 512 << 20,
            max_ratio: 100,
        }
    }
}

/// The course's own fields, from `course.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseManifest {
    pub key: Slug,
    pub title: String,
    pub summary: String,
    pub data_standards: Option<DataStandards>,
    /// Whole US cents; `None` when the course is free.
    pub price_cents: Option<i64>,
    /// The player refuses seeking past the furthest point watched.
    pub restrict_seeking: bool,
    /// Lower case, without commas.
    pub tags: Vec<String>,
    /// One line each.
    pub objectives: Vec<String>,
    pub prerequisites: Prerequisites,
}

/// A video's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoFormat {
    WebM,
    Mp4,
}

impl VideoFormat {
    /// The file ending, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::WebM => "webm",
            Self::Mp4 => "mp4",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::WebM => "video/webm",
            Self::Mp4 => "video/mp4",
        }
    }
    fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "webm" => Some(Self::WebM),
            "mp4" => Some(Self::Mp4),
            _ => None,
        }
    }
    /// Whether the bytes begin the way files of this format do.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            // The EBML header.
            Self::WebM => bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]),
            // The `ftyp` box comes first.
            Self::Mp4 => bytes.len() >= 8 && &bytes[4..8] == b"ftyp",
        }
    }
}

/// What a lesson holds, by kind, with its files' contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageContent {
    /// A reading lesson written in Markdown.
    Markdown(String),
    /// A reading lesson given as a PDF.
    Pdf(Vec<u8>),
    Video {
        format: VideoFormat,
        video: Vec<u8>,
        /// WebVTT text.
        captions: String,
        /// Markdown.
        transcript: String,
    },
    ExternalLink {
        url: String,
        instructions: String,
    },
    Quiz {
        quiz: Option<Slug>,
    },
}

impl PackageContent {
    pub fn kind(&self) -> LessonKind {
        match self {
            Self::Markdown(_) | Self::Pdf(_) => LessonKind::Reading,
            Self::Video { .. } => LessonKind::Video,
            Self::ExternalLink { .. } => LessonKind::ExternalLink,
            Self::Quiz { .. } => LessonKind::Quiz,
        }
    }
}

/// One lesson, in the course's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLesson {
    pub key: Slug,
    pub title: String,
    pub content: PackageContent,
}

/// Something in a package that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageProblem {
    /// `lesson <key>` (or `lesson <n>` when it has no usable key), `file <path>`, `course`,
    /// or `course.toml line <n>`.
    pub place: String,
    pub message: String,
}

impl PackageProblem {
    fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PackageProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// A course read from a package: what could be kept, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub manifest: CourseManifest,
    pub lessons: Vec<PackageLesson>,
    pub problems: Vec<PackageProblem>,
}

/// Why a whole package was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("This is not a zip archive Onramp can read: {0}")]
    NotAZip(String),
    #[error("The package is too large: {0}")]
    TooLarge(String),
    #[error(
        "{0} grows far more than any course file would when unpacked, so the package was refused"
    )]
    Bomb(String),
    #[error("The archive holds the path {0:?}, which points outside the package, so the package was refused")]
    UnsafePath(String),
    #[error("The archive holds {0} more than once, so the package was refused")]
    Duplicate(String),
    #[error("There is no course.toml at the top of the package")]
    NoManifest,
    #[error("The course key is not usable: {0}")]
    BadKey(String),
    #[error("course.toml cannot be used: {}", join(.0))]
    Manifest(Vec<PackageProblem>),
    #[error("The package could not be read: {0}")]
    Io(String),
    #[error("The package could not be written: {0}")]
    Write(String),
}

fn join(problems: &[PackageProblem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A file of the package as read: its bytes, or why they could not be read.
pub type PackageEntry = Result<Vec<u8>, String>;

// ---------------------------------------------------------------------------------------
// Reading

/// Reads a package from the bytes of a zip archive. A package zipped with its folder (every
/// entry under one top folder holding `course.toml`) is read as if that folder were the top.
pub fn read_package_zip(bytes: &[u8], limits: &Limits) -> Result<Package, PackageError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(PackageError::TooLarge(format!(
            "the archive is {}, and a package may be at most {}",
            size(bytes.len() as u64),
            size(limits.max_archive_bytes)
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| PackageError::NotAZip(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(PackageError::TooLarge(format!(
            "the archive holds {} entries, and a package may hold at most {}",
            archive.len(),
            limits.max_entries
        )));
    }
    if archive.has_duplicate_names() {
        return Err(PackageError::Duplicate("a file name".to_string()));
    }
    let mut names = Vec::with_capacity(archive.len());
    let mut declared_total: u64 = 0;
    for i in 0..archive.len() {
        let name = match archive.name_for_index(i) {
            Some(Ok(name)) => name.into_owned(),
            Some(Err(e)) => return Err(PackageError::NotAZip(e.to_string())),
            None => return Err(PackageError::NotAZip("an entry is missing".into())),
        };
        check_path(&name)?;
        let raw = archive
            .by_index_raw(i)
            .map_err(|e| PackageError::NotAZip(e.to_string()))?;
        declared_total = declared_total.saturating_add(raw.size());
        names.push(name);
    }
    if declared_total > limits.max_total_bytes {
        return Err(PackageError::TooLarge(format!(
            "its files come to more than {} when unpacked",
            size(limits.max_total_bytes)
        )));
    }
    let mut entries = Vec::with_capacity(archive.len());
    let mut total: u64 = 0;
    for (i, name) in names.into_iter().enumerate() {
        let mut file = match archive.by_index(i) {
            Ok(file) => file,
            Err(e) => {
                // An entry this reader cannot unpack (say, an unsupported compression method)
                // leaves out the lessons that use it, not the whole package.
                entries.push((name, Err(format!("it cannot be unpacked ({e})"))));
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        if file.encrypted() {
            entries.push((name, Err("it is encrypted".to_string())));
            continue;
        }
        if file.is_symlink() {
            entries.push((name, Err("it is a link, not a file".to_string())));
            continue;
        }
        let declared = file.size();
        let compressed = file.compressed_size().max(1);
        let by_ratio = compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR);
        let limit = limits.max_entry_bytes.min(by_ratio);
        if declared > limits.max_entry_bytes {
            return Err(too_large_entry(&name, limits));
        }
        if declared > limit {
            return Err(PackageError::Bomb(name));
        }
        let mut buf = Vec::with_capacity(declared.min(limit).min(16 << 20) as usize);
        let read = (&mut file).take(limit + 1).read_to_end(&mut buf);
        if buf.len() as u64 > limit {
            return Err(if limit == limits.max_entry_bytes {
                too_large_entry(&name, limits)
            } else {
                PackageError::Bomb(name)
            });
        }
        total += buf.len() as u64;
        if total > limits.max_total_bytes {
            return Err(PackageError::TooLarge(format!(
                "its files come to more than {} when unpacked",
                size(limits.max_total_bytes)
            )));
        }
        match read {
            Ok(_) => entries.push((name, Ok(buf))),
            Err(e) => entries.push((name, Err(format!("it cannot be unpacked ({e})")))),
        }
    }
    read_package_entries(entries, Vec::new())
}

fn too_large_entry(name: &str, limits: &Limits) -> PackageError {
    PackageError::TooLarge(format!(
        "{name} is larger than {}, the most one file may be",
        size(limits.max_entry_bytes)
    ))
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Refuses names that are absolute or climb out of the package.
fn check_path(name: &str) -> Result<(), PackageError> {
    let unsafe_path = || Err(PackageError::UnsafePath(name.to_string()));
    if name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.chars().any(char::is_control)
    {
        return unsafe_path();
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    for segment in trimmed.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains(':') {
            return unsafe_path();
        }
    }
    Ok(())
}

/// Reads a package from a directory with the package's layout. Links and sub-folders are
/// left out and named.
pub fn read_package_dir(path: &Path) -> Result<Package, PackageError> {
    let mut walk = DirWalk {
        limits: Limits::default(),
        entries: Vec::new(),
        problems: Vec::new(),
        total: 0,
    };
    for (dir, prefix) in walk.visit(path, "", true)? {
        walk.visit(&dir, &prefix, false)?;
    }
    read_package_entries(walk.entries, walk.problems)
}

struct DirWalk {
    limits: Limits,
    entries: Vec<(String, PackageEntry)>,
    problems: Vec<PackageProblem>,
    total: u64,
}

impl DirWalk {
    /// Reads the files of one folder; at the top, gives the package folders to visit next.
    fn visit(
        &mut self,
        dir: &Path,
        prefix: &str,
        top: bool,
    ) -> Result<Vec<(PathBuf, String)>, PackageError> {
        let io = |p: &Path, e: std::io::Error| PackageError::Io(format!("{}: {e}", p.display()));
        let mut names = Vec::new();
        for item in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            names.push(item.map_err(|e| io(dir, e))?.file_name());
        }
        names.sort();
        let mut folders = Vec::new();
        for os in names {
            let Some(file) = os.to_str() else {
                self.problems.push(PackageProblem::new(
                    format!("file {prefix}{}", os.to_string_lossy()),
                    "its name is not UTF-8; left out",
                ));
                continue;
            };
            let name = format!("{prefix}{file}");
            let p = dir.join(file);
            let meta = std::fs::symlink_metadata(&p).map_err(|e| io(&p, e))?;
            if meta.file_type().is_symlink() {
                self.entries
                    .push((name, Err("it is a link, not a file".into())));
            } else if meta.is_dir() {
                if top && FOLDERS.iter().any(|(f, _)| *f == file) {
                    folders.push((p, format!("{name}/")));
                } else if !is_litter(&name) {
                    self.problems.push(PackageProblem::new(
                        format!("folder {name}/"),
                        format!("{}; left out", where_files_go()),
                    ));
                }
            } else {
                if meta.len() > self.limits.max_entry_bytes {
                    return Err(too_large_entry(&name, &self.limits));
                }
                self.total += meta.len();
                if self.total > self.limits.max_total_bytes {
                    return Err(PackageError::TooLarge(format!(
                        "its files come to more than {}",
                        size(self.limits.max_total_bytes)
                    )));
                }
                let bytes = std::fs::read(&p).map_err(|e| io(&p, e))?;
                self.entries.push((name, Ok(bytes)));
            }
        }
        Ok(folders)
    }
}

fn where_files_go() -> String {
    "a package holds course.toml and files in lessons/ (.md), files/ (.pdf) and media/ (.webm, .mp4, .vtt)".to_string()
}

/// Files some systems add when zipping a folder, which are never course content.
fn is_litter(name: &str) -> bool {
    let last = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name);
    name.starts_with("__MACOSX/")
        || last == ".DS_Store"
        || last == "Thumbs.db"
        || last == "desktop.ini"
        || last.starts_with("._")
}

/// Reads a package from its files as (path in the package, bytes or why they could not be
/// read) pairs, e.g. files compiled into a program. `problems` are carried into the result.
pub fn read_package_entries(
    entries: Vec<(String, PackageEntry)>,
    mut problems: Vec<PackageProblem>,
) -> Result<Package, PackageError> {
    for (name, _) in &entries {
        check_path(name)?;
    }
    // A package zipped together with its folder: read from inside that folder.
    let strip = if entries.iter().any(|(n, _)| n == MANIFEST) {
        None
    } else {
        let firsts: BTreeSet<&str> = entries
            .iter()
            .filter(|(n, _)| !is_litter(n))
            .filter_map(|(n, _)| n.split_once('/').map(|(f, _)| f))
            .collect();
        match firsts.into_iter().collect::<Vec<_>>().as_slice() {
            [one]
                if entries
                    .iter()
                    .any(|(n, _)| n.strip_prefix(one) == Some("/course.toml")) =>
            {
                Some(format!("{one}/"))
            }
            _ => None,
        }
    };
    let mut files: BTreeMap<String, PackageEntry> = BTreeMap::new();
    let mut lower = BTreeSet::new();
    let mut manifest = None;
    for (name, entry) in entries {
        if is_litter(&name) {
            continue;
        }
        let name = match &strip {
            Some(prefix) => match name.strip_prefix(prefix.as_str()) {
                Some(rest) => rest.to_string(),
                None => name,
            },
            None => name,
        };
        if !lower.insert(name.to_lowercase()) {
            return Err(PackageError::Duplicate(format!("{name:?}")));
        }
        if name == MANIFEST {
            manifest = Some(entry);
        } else if in_layout(&name) {
            files.insert(name, entry);
        } else {
            problems.push(PackageProblem::new(
                format!("file {name}"),
                format!("{}; left out", where_files_go()),
            ));
        }
    }
    let manifest = match manifest {
        None => return Err(PackageError::NoManifest),
        Some(Err(why)) => {
            return Err(PackageError::Manifest(vec![PackageProblem::new(
                MANIFEST,
                format!("it could not be read: {why}"),
            )]))
        }
        Some(Ok(bytes)) => bytes,
    };
    let text = utf8(&manifest).ok_or_else(|| {
        PackageError::Manifest(vec![PackageProblem::new(MANIFEST, "it is not UTF-8 text")])
    })?;
    assemble(text, &files, problems)
}

fn in_layout(name: &str) -> bool {
    let Some((folder, file)) = name.split_once('/') else {
        return false;
    };
    let Some((_, ext)) = file.rsplit_once('.') else {
        return false;
    };
    !file.contains('/')
        && !file.starts_with('.')
        && FOLDERS
            .iter()
            .any(|(f, exts)| *f == folder && exts.contains(&ext))
}

/// Text without a byte-order mark, if the bytes are UTF-8.
fn utf8(bytes: &[u8]) -> Option<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    key: String,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    data_standards: Option<DataStandards>,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    restrict_seeking: bool,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    objectives: Vec<String>,
    #[serde(default)]
    prerequisites: Prerequisites,
    #[serde(default)]
    lessons: Vec<toml::Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    key: String,
    title: String,
    kind: String,
    markdown: Option<String>,
    pdf: Option<String>,
    video: Option<String>,
    captions: Option<String>,
    transcript: Option<String>,
    url: Option<String>,
    instructions: Option<String>,
    quiz: Option<String>,
}

fn manifest_problem(text: &str, e: &toml::de::Error) -> PackageProblem {
    let place = match e.span() {
        Some(s) if !(s.start == 0 && s.end >= text.len()) => {
            format!("{MANIFEST} line {}", line_of(text, s.start))
        }
        _ => MANIFEST.to_string(),
    };
    PackageProblem::new(place, tidy(e.message()))
}

/// The parser's message in the words of someone writing the file.
fn tidy(message: &str) -> String {
    let message = message.trim();
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is missing");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        if let Some((field, expected)) = rest.split_once(", expected ") {
            return format!("{field} is not a field Onramp knows here (it knows {expected})");
        }
        return format!("{rest} is not a field Onramp knows here");
    }
    message.to_string()
}

/// A one-line text: trimmed, without control characters.
fn line_text(value: &str, what: &str, max: usize, required: bool) -> Result<String, String> {
    let s = value.trim();
    if s.is_empty() && required {
        return Err(format!("{what} is empty"));
    }
    if s.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!(
            "{what} must be one line, without control characters"
        ));
    }
    Ok(s.to_string())
}

/// Reads "25", "25.5" or "25.00" (US dollars) as cents; zero is free.
fn parse_price(input: &str) -> Result<Option<i64>, String> {
    let bad = || format!("price {input:?} is not an amount in US dollars, such as \"25.00\"");
    let s = input.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 7
        || frac.len() > 2
        || (s.contains('.') && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let cents = whole * 100 + frac;
    Ok((cents > 0).then_some(cents))
}

fn format_price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn assemble(
    text: &str,
    files: &BTreeMap<String, PackageEntry>,
    mut problems: Vec<PackageProblem>,
) -> Result<Package, PackageError> {
    let raw: RawManifest = toml::from_str(text)
        .map_err(|e| PackageError::Manifest(vec![manifest_problem(text, &e)]))?;
    let key =
        Slug::parse(&raw.key).map_err(|e| PackageError::BadKey(format!("{:?}: {e}", raw.key)))?;
    let mut course = Vec::new();
    let mut check = |r: Result<String, String>| match r {
        Ok(s) => s,
        Err(m) => {
            course.push(PackageProblem::new("course", m));
            String::new()
        }
    };
    let title = check(line_text(&raw.title, "title", TITLE_MAX, true));
    let summary = raw.summary.trim().to_string();
    if summary.chars().count() > SUMMARY_MAX {
        check(Err(format!(
            "summary is longer than {SUMMARY_MAX} characters"
        )));
    }
    let mut tags: Vec<String> = Vec::new();
    for t in &raw.tags {
        let t = check(line_text(t, "a tag", TAG_MAX, true)).to_lowercase();
        if t.contains(',') {
            check(Err(format!(
                "tag {t:?} has a comma; give each tag separately"
            )));
        } else if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut objectives = Vec::new();
    for o in &raw.objectives {
        let o = check(line_text(o, "a learning objective", OBJECTIVE_MAX, true));
        if !o.is_empty() {
            objectives.push(o);
        }
    }
    let price_cents = match raw.price.as_deref() {
        None => None,
        Some(p) => match parse_price(p) {
            Ok(c) => c,
            Err(m) => {
                check(Err(m));
                None
            }
        },
    };
    let mut prerequisites = Prerequisites::default();
    for (from, into) in [
        (&raw.prerequisites.all_of, &mut prerequisites.all_of),
        (&raw.prerequisites.one_of, &mut prerequisites.one_of),
    ] {
        for k in from {
            if !into.contains(k) {
                into.push(k.clone());
            }
        }
    }
    if prerequisites.one_of.len() == 1 {
        check(Err(
            "prerequisites.one_of needs two or more courses; put a single course under all_of"
                .into(),
        ));
    }
    if prerequisites.courses().contains(&&key) {
        check(Err("a course cannot be its own prerequisite".into()));
    }
    if !course.is_empty() {
        return Err(PackageError::Manifest(course));
    }
    let manifest = CourseManifest {
        key,
        title,
        summary,
        data_standards: raw.data_standards,
        price_cents,
        restrict_seeking: raw.restrict_seeking,
        tags,
        objectives,
        prerequisites,
    };

    let mut lessons: Vec<PackageLesson> = Vec::new();
    let mut used = BTreeSet::new();
    for (i, spanned) in raw.lessons.iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let table = spanned.get_ref();
        // A file named by a lesson counts as used even when the lesson is left out.
        for field in ["markdown", "pdf", "video", "captions", "transcript"] {
            if let Some(path) = table.get(field).and_then(|v| v.as_str()) {
                used.insert(path.to_string());
            }
        }
        let key = table
            .get("key")
            .and_then(|k| k.as_str())
            .and_then(|k| Slug::parse(k).ok());
        let place = match &key {
            Some(k) => format!("lesson {k}"),
            None => format!("lesson {} ({MANIFEST} line {line})", i + 1),
        };
        if let Some(k) = &key {
            if lessons.iter().any(|l| &l.key == k) {
                problems.push(PackageProblem::new(
                    place,
                    "another lesson before it has the same key; left out",
                ));
                continue;
            }
        }
        if lessons.len() >= LESSONS_MAX {
            problems.push(PackageProblem::new(
                place,
                format!("a course holds at most {LESSONS_MAX} lessons; left out"),
            ));
            continue;
        }
        match lesson(table, files) {
            Ok(l) => lessons.push(l),
            Err(messages) => {
                let mut message = messages.join("; ");
                message.push_str("; left out");
                problems.push(PackageProblem::new(place, message));
            }
        }
    }
    for name in files.keys().filter(|n| !used.contains(*n)) {
        problems.push(PackageProblem::new(
            format!("file {name}"),
            "no lesson in course.toml names it; left out",
        ));
    }
    Ok(Package {
        manifest,
        lessons,
        problems,
    })
}

/// Reads one lesson.
fn lesson(
    table: &toml::Table,
    files: &BTreeMap<String, PackageEntry>,
) -> Result<PackageLesson, Vec<String>> {
    let raw: RawLesson = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| vec![tidy(e.message())])?;
    let mut errors = Vec::new();
    let key = Slug::parse(&raw.key)
        .map_err(|e| errors.push(format!("key {:?}: {e}", raw.key)))
        .ok();
    let title = line_text(&raw.title, "title", TITLE_MAX, true)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let Some(kind) = LessonKind::parse(raw.kind.trim()) else {
        errors.push(format!(
            "kind {:?} is not one of reading, video, external_link or quiz",
            raw.kind
        ));
        return Err(errors);
    };
    let given = [
        ("markdown", raw.markdown.is_some()),
        ("pdf", raw.pdf.is_some()),
        ("video", raw.video.is_some()),
        ("captions", raw.captions.is_some()),
        ("transcript", raw.transcript.is_some()),
        ("url", raw.url.is_some()),
        ("instructions", raw.instructions.is_some()),
        ("quiz", raw.quiz.is_some()),
    ];
    let allowed: &[&str] = match kind {
        LessonKind::Reading => &["markdown", "pdf"],
        LessonKind::Video => &["video", "captions", "transcript"],
        LessonKind::ExternalLink => &["url", "instructions"],
        LessonKind::Quiz => &["quiz"],
    };
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            errors.push(format!(
                "{field} does not belong in a lesson of kind {}",
                kind.as_str()
            ));
        }
    }
    let mut file = |field: &str, path: &Option<String>, folder: &str, exts: &[&str]| {
        let Some(path) = path else {
            errors.push(format!("{field} is missing"));
            return None;
        };
        let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let ends = exts
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(" or ");
        if path.split_once('/').map(|(f, _)| f) != Some(folder) || !exts.contains(&ext) {
            errors.push(format!(
                "{field} = {path:?} must name a {ends} file in {folder}/"
            ));
            return None;
        }
        match files.get(path) {
            None => {
                errors.push(format!(
                    "{field} = {path:?}: there is no such file in the package"
                ));
                None
            }
            Some(Err(why)) => {
                errors.push(format!("{path} could not be read: {why}"));
                None
            }
            Some(Ok(bytes)) => Some((path.clone(), bytes)),
        }
    };
    let content = match kind {
        LessonKind::Reading => {
            match (&raw.markdown, &raw.pdf) {
                (Some(_), Some(_)) => {
                    errors.push("give markdown or pdf, not both".into());
                    None
                }
                (None, None) => {
                    errors.push("a reading lesson needs markdown = \"lessons/….md\" or pdf = \"files/….pdf\"".into());
                    None
                }
                (Some(_), None) => file("markdown", &raw.markdown, "lessons", &["md"])
                    .and_then(|(path, bytes)| {
                        markdown_text(&path, bytes).map_err(|e| errors.push(e)).ok()
                    })
                    .map(PackageContent::Markdown),
                (None, Some(_)) => {
                    file("pdf", &raw.pdf, "files", &["pdf"]).and_then(|(path, bytes)| {
                        if bytes.starts_with(b"%PDF-") {
                            Some(PackageContent::Pdf(bytes.clone()))
                        } else {
                            errors.push(format!("{path} is not a PDF"));
                            None
                        }
                    })
                }
            }
        }
        LessonKind::Video => {
            let video = file("video", &raw.video, "media", &["webm", "mp4"]);
            let captions = file("captions", &raw.captions, "media", &["vtt"]);
            let transcript = file("transcript", &raw.transcript, "lessons", &["md"]);
            let video = video.and_then(|(path, bytes)| {
                let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
                let format = VideoFormat::from_extension(ext)?;
                if format.matches(bytes) {
                    Some((format, bytes.clone()))
                } else {
                    errors.push(format!(
                        "{path} is not a {} video",
                        if format == VideoFormat::WebM {
                            "WebM"
                        } else {
                            "MP4"
                        }
                    ));
                    None
                }
            });
            let captions = captions.and_then(|(path, bytes)| match utf8(bytes) {
                Some(t) if is_webvtt(t) => Some(t.to_string()),
                _ => {
                    errors.push(format!(
                        "{path} is not a WebVTT captions file (UTF-8 text beginning with WEBVTT)"
                    ));
                    None
                }
            });
            let transcript = transcript.and_then(|(path, bytes)| {
                markdown_text(&path, bytes).map_err(|e| errors.push(e)).ok()
            });
            match (video, captions, transcript) {
                (Some((format, video)), Some(captions), Some(transcript)) => {
                    Some(PackageContent::Video {
                        format,
                        video,
                        captions,
                        transcript,
                    })
                }
                _ => None,
            }
        }
        LessonKind::ExternalLink => {
            let url = raw.url.as_deref().map(str::trim).unwrap_or("");
            let instructions = raw.instructions.as_deref().map(str::trim).unwrap_or("");
            if url.is_empty() {
                errors.push("url is missing".into());
                None
            } else if !web_address(url) {
                errors.push(format!(
                    "url {url:?} is not the address of a web page (https://…, at most {URL_MAX} characters)"
                ));
                None
            } else if instructions.len() > BODY_MAX {
                errors.push("instructions are too long".into());
                None
            } else {
                Some(PackageContent::ExternalLink {
                    url: url.to_string(),
                    instructions: instructions.to_string(),
                })
            }
        }
        LessonKind::Quiz => match raw.quiz.as_deref().map(str::trim) {
            None | Some("") => Some(PackageContent::Quiz { quiz: None }),
            Some(q) => match Slug::parse(q) {
                Ok(q) => Some(PackageContent::Quiz { quiz: Some(q) }),
                Err(e) => {
                    errors.push(format!("quiz {q:?}: {e}"));
                    None
                }
            },
        },
    };
    match (key, content) {
        (Some(key), Some(content)) if errors.is_empty() => Ok(PackageLesson {
            key,
            title,
            content,
        }),
        _ => Err(errors),
    }
}

fn markdown_text(path: &str, bytes: &[u8]) -> Result<String, String> {
    let text = utf8(bytes).ok_or_else(|| format!("{path} is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(format!("{path} is empty"));
    }
    if text.len() > BODY_MAX {
        return Err(format!("{path} is longer than {} characters", BODY_MAX));
    }
    Ok(text.to_string())
}

/// Whether text begins as WebVTT does: `WEBVTT`, then the end of the line, a space or a tab.
pub fn is_webvtt(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.strip_prefix("WEBVTT") {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']),
        None => false,
    }
}

fn web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host = rest
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    url.len() <= URL_MAX
        && !host.is_empty()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------------------------------
// Writing

#[derive(Serialize)]
struct OutManifest<'a> {
    key: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_standards: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    restrict_seeking: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    objectives: &'a [String],
    #[serde(skip_serializing_if = "Prerequisites::is_empty")]
    prerequisites: &'a Prerequisites,
    lessons: Vec<OutLesson<'a>>,
}

#[derive(Serialize, Default)]
struct OutLesson<'a> {
    key: &'a str,
    title: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    captions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quiz: Option<&'a str>,
}

/// The files of a package for a course, sorted by path: `course.toml`, then each lesson's
/// files named after its key (`lessons/<key>.md`, `files/<key>.pdf`, `media/<key>.webm`,
/// `media/<key>.vtt`, `lessons/<key>.transcript.md`).
pub fn package_files(
    manifest: &CourseManifest,
    lessons: &[PackageLesson],
) -> Result<BTreeMap<String, Vec<u8>>, PackageError> {
    let mut files = BTreeMap::new();
    let mut out = Vec::with_capacity(lessons.len());
    for l in lessons {
        let key = l.key.as_str();
        let mut o = OutLesson {
            key,
            title: &l.title,
            kind: l.content.kind().as_str(),
            ..Default::default()
        };
        match &l.content {
            PackageContent::Markdown(text) => {
                let path = format!("lessons/{key}.md");
                files.insert(path.clone(), text.as_bytes().to_vec());
                o.markdown = Some(path);
            }
            PackageContent::Pdf(bytes) => {
                let path = format!("files/{key}.pdf");
                files.insert(path.clone(), bytes.clone());
                o.pdf = Some(path);
            }
            PackageContent::Video {
                format,
                video,
                captions,
                transcript,
            } => {
                let v = format!("media/{key}.{}", format.extension());
                let c = format!("media/{key}.vtt");
                let t = format!("lessons/{key}.transcript.md");
                files.insert(v.clone(), video.clone());
                files.insert(c.clone(), captions.as_bytes().to_vec());
                files.insert(t.clone(), transcript.as_bytes().to_vec());
                o.video = Some(v);
                o.captions = Some(c);
                o.transcript = Some(t);
            }
            PackageContent::ExternalLink { url, instructions } => {
                o.url = Some(url);
                o.instructions = (!instructions.is_empty()).then_some(instructions.as_str());
            }
            PackageContent::Quiz { quiz } => o.quiz = quiz.as_ref().map(Slug::as_str),
        }
        out.push(o);
    }
    let m = OutManifest {
        key: manifest.key.as_str(),
        title: &manifest.title,
        summary: &manifest.summary,
        data_standards: manifest.data_standards.map(DataStandards::as_str),
        price: manifest.price_cents.map(format_price),
        restrict_seeking: manifest.restrict_seeking,
        tags: &manifest.tags,
        objectives: &manifest.objectives,
        prerequisites: &manifest.prerequisites,
        lessons: out,
    };
    let text = toml::to_string(&m).map_err(|e| PackageError::Write(e.to_string()))?;
    files.insert(MANIFEST.to_string(), text.into_bytes());
    Ok(files)
}

/// Writes a course as a zip archive: the layout of [`package_files`], entries sorted, every
/// timestamp 1980-01-01 00:00 and every mode 0644, text deflated and media stored as is.
pub fn write_package_zip(
    manifest: &CourseManifest,
    lessons: &[PackageLesson],
) -> Result<Vec<u8>, PackageError> {
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, DateTime};
    let files = package_files(manifest, lessons)?;
    let err = |e: zip::result::ZipError| PackageError::Write(e.to_string());
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in &files {
        let text = name.ends_with(".md") || name.ends_with(".vtt") || name.ends_with(".toml");
        let options = SimpleFileOptions::default()
            .compression_method(if text {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .last_modified_time(DateTime::default())
            .system(zip::System::Unix)
            .unix_permissions(0o644)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        w.start_file(name.as_str(), options).map_err(err)?;
        w.write_all(bytes)
            .map_err(|e| PackageError::Write(e.to_string()))?;
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

// ---------------------------------------------------------------------------------------
// Learning paths

/// An ordered list of courses, from a `paths.toml` file:
///
/// ```toml
/// [[paths]]
/// key = "training-guide"
/// title = "HMIS Training Guide"
/// summary = "Optional."
/// courses = ["guide-security-privacy", "guide-getting-started"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningPath {
    pub key: Slug,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub courses: Vec<Slug>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    #[serde(default)]
    paths: Vec<LearningPath>,
}

/// Reads a `paths.toml` file: each path needs a unique key, a title and at least one course,
/// each named once.
pub fn read_paths(text: &str) -> Result<Vec<LearningPath>, Vec<PackageProblem>> {
    let file: PathsFile = toml::from_str(text).map_err(|e| {
        let place = e
            .span()
            .map(|s| format!("paths.toml line {}", line_of(text, s.start)))
            .unwrap_or_else(|| "paths.toml".to_string());
        vec![PackageProblem::new(place, tidy(e.message()))]
    })?;
    let mut problems = Vec::new();
    let mut keys = BTreeSet::new();
    let mut paths = Vec::new();
    for mut p in file.paths {
        let place = format!("path {}", p.key);
        if !keys.insert(p.key.clone()) {
            problems.push(PackageProblem::new(&place, "another path has the same key"));
        }
        match line_text(&p.title, "title", TITLE_MAX, true) {
            Ok(t) => p.title = t,
            Err(m) => problems.push(PackageProblem::new(&place, m)),
        }
        p.summary = p.summary.trim().to_string();
        if p.courses.is_empty() {
            problems.push(PackageProblem::new(
                &place,
                "a path needs at least one course",
            ));
        }
        let mut seen = BTreeSet::new();
        for c in &p.courses {
            if !seen.insert(c) {
                problems.push(PackageProblem::new(&place, format!("{c} is listed twice")));
            }
        }
        paths.push(p);
    }
    if problems.is_empty() {
        Ok(paths)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    const WEBM: &[u8] = b"\x1A\x45\xDF\xA3 a tiny stand-in for a WebM file";
    const VTT: &str = "WEBVTT\n\n00:00.000 --> 00:02.000\nWelcome.\n";

    fn s(k: &str) -> Slug {
        Slug::parse(k).unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn read(entries: &[(&str, &[u8])]) -> Result<Package, PackageError> {
        read_package_zip(&zip_of(entries), &Limits::default())
    }

    fn manifest() -> CourseManifest {
        CourseManifest {
            key: s("intro-hmis"),
            title: "Introduction to HMIS".into(),
            summary: "What an HMIS is,\nand who uses it.".into(),
            data_standards: Some(DataStandards::Fy2026),
            price_cents: Some(2500),
            restrict_seeking: true,
            tags: vec!["introductory".into()],
            objectives: vec!["Explain what an HMIS is".into(), "Find a client".into()],
            prerequisites: Prerequisites {
                all_of: vec![s("hmis-privacy")],
                one_of: vec![],
            },
        }
    }

    fn lessons() -> Vec<PackageLesson> {
        let l = |key: &str, content| PackageLesson {
            key: s(key),
            title: format!("Lesson {key}"),
            content,
        };
        vec![
            l(
                "welcome",
                PackageContent::Video {
                    format: VideoFormat::WebM,
                    video: WEBM.to_vec(),
                    captions: VTT.into(),
                    transcript: "Welcome.\n".into(),
                },
            ),
            l(
                "what-is-hmis",
                PackageContent::Markdown("# HMIS\n\nText “quoted”.\n".into()),
            ),
            l("policy", PackageContent::Pdf(b"%PDF-1.7 stand-in".to_vec())),
            l(
                "standards",
                PackageContent::ExternalLink {
                    url: "https://www.hudexchange.info/programs/hmis/".into(),
                    instructions: "Read the introduction.".into(),
                },
            ),
            l(
                "check",
                PackageContent::Quiz {
                    quiz: Some(s("intro-check")),
                },
            ),
            l("later", PackageContent::Quiz { quiz: None }),
        ]
    }

    #[test]
    fn a_written_package_reads_back_the_same_and_writes_the_same_bytes() {
        let (m, ls) = (manifest(), lessons());
        let bytes = write_package_zip(&m, &ls).unwrap();
        let p = read_package_zip(&bytes, &Limits::default()).unwrap();
        assert_eq!(p.problems, []);
        assert_eq!(p.manifest, m);
        assert_eq!(p.lessons, ls);
        let again = write_package_zip(&p.manifest, &p.lessons).unwrap();
        assert_eq!(again, bytes, "the same course gives the same bytes");
        let names: Vec<String> = {
            let mut a = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
            (0..a.len())
                .map(|i| a.by_index(i).unwrap().name().unwrap().into_owned())
                .collect()
        };
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "course.toml");
        let text =
            String::from_utf8(package_files(&m, &ls).unwrap()["course.toml"].clone()).unwrap();
        assert!(text.starts_with("key = \"intro-hmis\"\ntitle = "), "{text}");
        assert!(text.contains("price = \"25.00\""), "{text}");
        assert!(names.contains(&"media/welcome.webm".to_string()));
    }

    #[test]
    fn a_directory_reads_like_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let (m, ls) = (manifest(), lessons());
        for (name, bytes) in package_files(&m, &ls).unwrap() {
            let path = dir.path().join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("notes")).unwrap();
        std::fs::write(dir.path().join("README.txt"), "x").unwrap();
        let p = read_package_dir(dir.path()).unwrap();
        assert_eq!((p.manifest, p.lessons), (m, ls));
        let places: Vec<&str> = p.problems.iter().map(|p| p.place.as_str()).collect();
        assert_eq!(places, ["folder notes/", "file README.txt"]);
    }

    #[test]
    fn a_package_zipped_with_its_folder_reads_from_inside_it() {
        let toml = "key = \"k\"\ntitle = \"T\"\n[[lessons]]\nkey = \"a\"\ntitle = \"A\"\nkind = \"reading\"\nmarkdown = \"lessons/a.md\"\n";
        let p = read(&[
            ("k/course.toml", toml.as_bytes()),
            ("k/lessons/a.md", b"Hello"),
            ("__MACOSX/k/._course.toml", b"junk"),
            ("k/.DS_Store", b"junk"),
        ])
        .unwrap();
        assert_eq!(p.lessons.len(), 1);
        assert_eq!(p.problems, []);
    }

    const HEAD: &str = "key = \"intro\"\ntitle = \"Intro\"\n";

    #[test]
    fn each_broken_lesson_is_left_out_and_named_and_the_rest_is_kept() {
        let toml = format!(
            "{HEAD}
[[lessons]]
key = \"good\"
title = \"Good\"
kind = \"reading\"
markdown = \"lessons/good.md\"

[[lessons]]
key = \"missing-file\"
title = \"Missing\"
kind = \"reading\"
markdown = \"lessons/nowhere.md\"

[[lessons]]
key = \"latin1\"
title = \"Not UTF-8\"
kind = \"reading\"
markdown = \"lessons/latin1.md\"

[[lessons]]
key = \"bad-kind\"
title = \"Kind\"
kind = \"podcast\"

[[lessons]]
key = \"wrong-fields\"
title = \"Fields\"
kind = \"reading\"
markdown = \"lessons/good.md\"
url = \"https://example.org/\"

[[lessons]]
key = \"no-captions\"
title = \"Video\"
kind = \"video\"
video = \"media/v.webm\"
transcript = \"lessons/t.md\"

[[lessons]]
key = \"not-webm\"
title = \"Video\"
kind = \"video\"
video = \"media/fake.webm\"
captions = \"media/v.vtt\"
transcript = \"lessons/t.md\"

[[lessons]]
key = \"bad-captions\"
title = \"Video\"
kind = \"video\"
video = \"media/v.webm\"
captions = \"media/bad.vtt\"
transcript = \"lessons/t.md\"

[[lessons]]
key = \"typo\"
title = \"Typo\"
kind = \"video\"
vidoe = \"media/v.webm\"

[[lessons]]
key = \"good\"
title = \"Same key\"
kind = \"quiz\"

[[lessons]]
key = \"Not A Key!\"
title = \"Key\"
kind = \"quiz\"

[[lessons]]
key = \"link\"
title = \"Link\"
kind = \"external_link\"
url = \"javascript:alert(1)\"

[[lessons]]
key = \"wrong-folder\"
title = \"PDF\"
kind = \"reading\"
pdf = \"media/v.webm\"

[[lessons]]
key = \"fake-pdf\"
title = \"PDF\"
kind = \"reading\"
pdf = \"files/fake.pdf\"

[[lessons]]
key = \"video\"
title = \"Video\"
kind = \"video\"
video = \"media/v.webm\"
captions = \"media/v.vtt\"
transcript = \"lessons/t.md\"
"
        );
        let p = read(&[
            ("course.toml", toml.as_bytes()),
            ("lessons/good.md", b"Good."),
            ("lessons/latin1.md", b"caf\xe9"),
            ("lessons/t.md", b"Transcript."),
            ("lessons/unused.md", b"Nobody reads me."),
            ("media/v.webm", WEBM),
            ("media/fake.webm", b"not a video at all"),
            ("media/v.vtt", VTT.as_bytes()),
            ("media/bad.vtt", b"1\n00:00 --> 00:01\nno header"),
            ("files/fake.pdf", b"<html>"),
            ("scripts/run.sh", b"rm -rf /"),
        ])
        .unwrap();
        let kept: Vec<&str> = p.lessons.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(kept, ["good", "video"]);
        let got: Vec<(&str, &str)> = p
            .problems
            .iter()
            .map(|p| (p.place.as_str(), p.message.as_str()))
            .collect();
        let expect = [
            (
                "lesson missing-file",
                "lessons/nowhere.md\": there is no such file",
            ),
            ("lesson latin1", "lessons/latin1.md is not UTF-8"),
            ("lesson bad-kind", "kind \"podcast\" is not one of"),
            (
                "lesson wrong-fields",
                "url does not belong in a lesson of kind reading",
            ),
            ("lesson no-captions", "captions is missing"),
            ("lesson not-webm", "media/fake.webm is not a WebM video"),
            (
                "lesson bad-captions",
                "media/bad.vtt is not a WebVTT captions file",
            ),
            ("lesson typo", "`vidoe` is not a field Onramp knows here"),
            ("lesson good", "another lesson before it has the same key"),
            ("lesson 11 (course.toml line 68)", "key \"Not A Key!\""),
            ("lesson link", "is not the address of a web page"),
            ("lesson wrong-folder", "must name a .pdf file in files/"),
            ("lesson fake-pdf", "files/fake.pdf is not a PDF"),
            (
                "file lessons/unused.md",
                "no lesson in course.toml names it",
            ),
        ];
        // The stray script is named first, as the archive is read.
        assert_eq!(got[0].0, "file scripts/run.sh");
        assert!(got[0].1.contains("left out"));
        assert_eq!(got.len(), expect.len() + 1, "{got:#?}");
        for ((place, message), (want_place, want)) in got[1..].iter().zip(expect) {
            assert_eq!(*place, want_place);
            assert!(
                message.contains(want),
                "{place}: {message:?} lacks {want:?}"
            );
            assert!(message.ends_with("left out"), "{message}");
        }
    }

    #[test]
    fn paths_that_leave_the_package_refuse_it() {
        for name in [
            "../evil.md",
            "lessons/../../evil.md",
            "/etc/passwd",
            "C:/x.md",
            "lessons\\..\\x.md",
            "lessons//x.md",
        ] {
            let bytes = zip_of(&[("course.toml", HEAD.as_bytes()), (name, b"x")]);
            assert_eq!(
                read_package_zip(&bytes, &Limits::default()),
                Err(PackageError::UnsafePath(name.to_string())),
                "{name}"
            );
        }
    }

    #[test]
    fn a_compression_bomb_is_refused() {
        let zeros = vec![0u8; 20 << 20];
        let bytes = zip_of(&[("course.toml", HEAD.as_bytes()), ("media/v.webm", &zeros)]);
        assert!(bytes.len() < 1 << 20);
        assert_eq!(
            read_package_zip(&bytes, &Limits::default()),
            Err(PackageError::Bomb("media/v.webm".into()))
        );
        // Within a generous ratio it is only too large for a tight per-file cap.
        let limits = Limits {
            max_ratio: 1_000_000,
            max_entry_bytes: 1 << 20,
            ..Limits::default()
        };
        assert!(matches!(
            read_package_zip(&bytes, &limits),
            Err(PackageError::TooLarge(m)) if m.contains("media/v.webm")
        ));
        let limits = Limits {
            max_ratio: 1_000_000,
            max_total_bytes: 1 << 20,
            ..Limits::default()
        };
        assert!(matches!(
            read_package_zip(&bytes, &limits),
            Err(PackageError::TooLarge(_))
        ));
        let limits = Limits {
            max_archive_bytes: 100,
            ..Limits::default()
        };
        assert!(matches!(
            read_package_zip(&bytes, &limits),
            Err(PackageError::TooLarge(_))
        ));
        let limits = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(matches!(
            read_package_zip(&bytes, &limits),
            Err(PackageError::TooLarge(_))
        ));
    }

    #[test]
    fn an_entry_that_cannot_be_unpacked_leaves_out_only_its_lesson() {
        let toml = format!(
            "{HEAD}[[lessons]]\nkey = \"a\"\ntitle = \"A\"\nkind = \"reading\"\nmarkdown = \"lessons/a.md\"\n\
             [[lessons]]\nkey = \"b\"\ntitle = \"B\"\nkind = \"reading\"\nmarkdown = \"lessons/b.md\"\n"
        );
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in [
            ("course.toml", toml.as_bytes()),
            ("lessons/a.md", b"A"),
            ("lessons/b.md", b"B"),
        ] {
            w.start_file(name, stored).unwrap();
            w.write_all(bytes).unwrap();
        }
        let mut bytes = w.finish().unwrap().into_inner();
        // Mark lessons/b.md as compressed with a method this reader does not have (bzip2).
        let target = b"lessons/b.md";
        for i in 0..bytes.len().saturating_sub(46) {
            let (method_at, name_at) = match &bytes[i..i + 4] {
                b"PK\x03\x04" => (i + 8, i + 30),
                b"PK\x01\x02" => (i + 10, i + 46),
                _ => continue,
            };
            if bytes.get(name_at..name_at + target.len()) == Some(&target[..]) {
                bytes[method_at..method_at + 2].copy_from_slice(&12u16.to_le_bytes());
            }
        }
        let p = read_package_zip(&bytes, &Limits::default()).unwrap();
        assert_eq!(p.lessons.len(), 1);
        assert_eq!(p.lessons[0].key.as_str(), "a");
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].place, "lesson b");
        assert!(
            p.problems[0]
                .message
                .contains("lessons/b.md could not be read: it cannot be unpacked"),
            "{}",
            p.problems[0].message
        );
    }

    #[test]
    fn duplicate_names_refuse_the_package() {
        // Written with two names of the same length, then one renamed to the other.
        let mut bytes = zip_of(&[
            ("course.toml", HEAD.as_bytes()),
            ("lessons/a.md", b"first"),
            ("lessons/b.md", b"second"),
        ]);
        let (from, to) = (b"lessons/b.md", b"lessons/a.md");
        let mut i = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
            }
            i += 1;
        }
        assert!(matches!(
            read_package_zip(&bytes, &Limits::default()),
            Err(PackageError::Duplicate(_))
        ));
        assert_eq!(
            read(&[
                ("course.toml", HEAD.as_bytes()),
                ("lessons/a.md", b"first"),
                ("lessons/A.md", b"second"),
            ]),
            Err(PackageError::Duplicate("\"lessons/A.md\"".into()))
        );
    }

    #[test]
    fn unknown_course_fields_are_named_with_their_line() {
        let e = read(&[("course.toml", format!("{HEAD}titel = \"x\"\n").as_bytes())]).unwrap_err();
        let PackageError::Manifest(p) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(p[0].place, "course.toml line 3");
        assert!(
            p[0].message
                .starts_with("`titel` is not a field Onramp knows here"),
            "{}",
            p[0].message
        );
        assert!(e.to_string().contains("titel"));
        let e = read(&[(
            "course.toml",
            format!("{HEAD}[prerequisites]\nall_off = [\"a\"]\n").as_bytes(),
        )])
        .unwrap_err();
        assert!(e.to_string().contains("`all_off`"), "{e}");
    }

    #[test]
    fn only_the_manifest_or_the_course_key_fails_the_whole_package() {
        assert_eq!(
            read(&[("lessons/a.md", b"x")]),
            Err(PackageError::NoManifest)
        );
        assert!(matches!(
            read(&[("course.toml", b"key = \"Intro HMIS!\"\ntitle = \"T\"\n")]),
            Err(PackageError::BadKey(m)) if m.contains("Intro HMIS!")
        ));
        assert!(matches!(
            read(&[("course.toml", b"key = \"k\"\ntitle = [\n")]),
            Err(PackageError::Manifest(_))
        ));
        assert!(matches!(
            read(&[("course.toml", b"key = \"k\"\n")]),
            Err(PackageError::Manifest(p)) if p[0].message == "`title` is missing"
        ));
        assert!(matches!(
            read(&[("course.toml", b"\xff\xfe")]),
            Err(PackageError::Manifest(_))
        ));
        assert!(matches!(
            read_package_zip(b"PK not really", &Limits::default()),
            Err(PackageError::NotAZip(_))
        ));
    }

    #[test]
    fn course_fields_are_checked() {
        let bad = |extra: &str| match read(&[("course.toml", format!("{HEAD}{extra}").as_bytes())])
        {
            Err(PackageError::Manifest(p)) => p[0].message.clone(),
            other => panic!("{extra}: {other:?}"),
        };
        assert!(bad("price = \"25,00\"\n").contains("not an amount in US dollars"));
        assert!(bad("price = \"1.\"\n").contains("not an amount"));
        assert!(bad("data_standards = \"FY2020\"\n").contains("FY2020"));
        assert!(bad("[prerequisites]\none_of = [\"a\"]\n").contains("two or more"));
        assert!(bad("[prerequisites]\nall_of = [\"intro\"]\n").contains("its own prerequisite"));
        assert!(bad("tags = [\"a,b\"]\n").contains("comma"));
        assert!(bad("objectives = [\"one\\ntwo\"]\n").contains("one line"));
        let ok = |extra: &str| {
            read(&[("course.toml", format!("{HEAD}{extra}").as_bytes())])
                .unwrap()
                .manifest
        };
        assert_eq!(ok("price = \"25\"\n").price_cents, Some(2500));
        assert_eq!(ok("price = \"0.5\"\n").price_cents, Some(50));
        assert_eq!(ok("price = \"0.00\"\n").price_cents, None);
        assert_eq!(ok("tags = [\"Intro\", \"intro\"]\n").tags, ["intro"]);
    }

    #[test]
    fn webvtt_is_recognised_by_its_first_line() {
        assert!(is_webvtt("WEBVTT\n"));
        assert!(is_webvtt("\u{feff}WEBVTT - captions\n"));
        assert!(is_webvtt("WEBVTT"));
        assert!(!is_webvtt("WEBVTTX\n"));
        assert!(!is_webvtt("1\n00:00:00,000 --> 00:00:01,000\nSRT\n"));
    }

    #[test]
    fn paths_files_are_read_and_checked() {
        let p = read_paths(
            "[[paths]]\nkey = \"guide\"\ntitle = \" Guide \"\ncourses = [\"a\", \"b\"]\n",
        )
        .unwrap();
        assert_eq!(p[0].title, "Guide");
        assert_eq!(p[0].courses, [s("a"), s("b")]);
        let e = read_paths(
            "[[paths]]\nkey = \"g\"\ntitle = \"\"\ncourses = [\"a\", \"a\"]\n[[paths]]\nkey = \"g\"\ntitle = \"G\"\ncourses = []\n",
        )
        .unwrap_err();
        let m: Vec<&str> = e.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            m,
            [
                "title is empty",
                "a is listed twice",
                "another path has the same key",
                "a path needs at least one course"
            ]
        );
        let e = read_paths("[[paths]]\nkey = \"g\"\ntitle = \"G\"\ncourse = []\n").unwrap_err();
        assert!(e[0].message.contains("`course`"), "{e:?}");
    }
}
