//! Certificates as accessible PDF files: one landscape page, tagged (headings, paragraphs,
//! a link, in reading order), with its title and language, typeset in the bundled DejaVu
//! Serif (see `fonts/LICENSE-DejaVu.txt`). Nothing is fetched.
//!
//! When every character is in the font, the file is exported under krilla's PDF/UA-1
//! validator, which refuses a file without a title, language, outline or tags. A name with
//! characters the font lacks still gets its certificate, tagged the same way, without the
//! PDF/UA-1 claim (those characters would print as empty boxes, which PDF/UA forbids).
//!
//! The same input gives the same bytes: the file's identifiers are hashes of its content and
//! its creation date is the day of issue.

use chrono::{Datelike, NaiveDate};
use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagTree};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;
use std::num::NonZeroU16;

/// The regular face (DejaVu Serif 2.37).
pub const FONT_REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSerif.ttf");
/// The bold face (DejaVu Serif Bold 2.37).
pub const FONT_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSerif-Bold.ttf");
/// The language of the text, as the file declares it.
pub const LANGUAGE: &str = "en-US";
/// The heading printed at the top, also the outline's one entry.
pub const HEADING: &str = "Certificate of Completion";

/// US Letter, landscape, in points.
const PAGE_W: f32 = 792.0;
const PAGE_H: f32 = 612.0;
/// Text is kept this far from the page's sides.
const TEXT_MARGIN: f32 = 84.0;
/// Long titles and names wrap onto this many lines each, in a smaller size if need be.
const MAX_LINES: usize = 3;
/// Line height, as a multiple of the font size.
const LEADING: f32 = 1.25;

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateContent<'a> {
    /// Who issues it: the implementation's name ("Lakeside County HMIS").
    pub issuer: &'a str,
    /// The person's name, as certified.
    pub person_name: &'a str,
    /// What was completed ("Introduction to HMIS (version 2)").
    pub completed: &'a str,
    pub completed_on: NaiveDate,
    /// None: the certificate does not expire.
    pub valid_until: Option<NaiveDate>,
    /// The day it was issued (the file's creation date).
    pub issued_on: NaiveDate,
    /// The verification code, as printed (`7KQ2-M9XD-4TRB`).
    pub code: &'a str,
    /// Where the code can be checked (`https://…/verify/7KQ2-M9XD-4TRB`).
    pub verify_url: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum CertificatePdfError {
    #[error("the bundled font cannot be read")]
    Font,
    #[error("the certificate could not be written: {0}")]
    Write(String),
}

/// "March 1, 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

/// The text of the certificate, in reading order: (text, style) per block.
fn blocks(c: &CertificateContent<'_>) -> Vec<(String, Style)> {
    vec![
        (c.issuer.to_string(), Style::Issuer),
        (HEADING.to_string(), Style::Heading),
        ("This certifies that".to_string(), Style::Plain),
        (c.person_name.to_string(), Style::Name),
        ("has completed".to_string(), Style::Plain),
        (c.completed.to_string(), Style::Completed),
        (
            format!("Completed on {}", long_date(c.completed_on)),
            Style::Plain,
        ),
        (
            match c.valid_until {
                Some(d) => format!("Valid until {}", long_date(d)),
                None => "Does not expire".to_string(),
            },
            Style::Plain,
        ),
        (format!("Verification code: {}", c.code), Style::Code),
        (format!("Check it at {}", c.verify_url), Style::Link),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Issuer,
    Heading,
    Plain,
    Name,
    Completed,
    Code,
    Link,
}

impl Style {
    fn bold(self) -> bool {
        matches!(
            self,
            Style::Heading | Style::Name | Style::Completed | Style::Code
        )
    }
    fn size(self) -> f32 {
        match self {
            Style::Issuer => 18.0,
            Style::Heading => 34.0,
            Style::Plain => 15.0,
            Style::Name => 28.0,
            Style::Completed => 21.0,
            Style::Code => 15.0,
            Style::Link => 12.0,
        }
    }
    /// Space above the first line's baseline.
    fn space_before(self) -> f32 {
        match self {
            Style::Issuer => 0.0,
            Style::Heading => 58.0,
            Style::Plain => 38.0,
            Style::Name => 48.0,
            Style::Completed => 40.0,
            Style::Code => 52.0,
            Style::Link => 24.0,
        }
    }
}

/// A face, with what is needed to measure text in it.
struct Face {
    font: Font,
    data: &'static [u8],
}

impl Face {
    fn new(data: &'static [u8]) -> Result<Self, CertificatePdfError> {
        let font = Font::new(data.into(), 0).ok_or(CertificatePdfError::Font)?;
        skrifa::FontRef::new(data).map_err(|_| CertificatePdfError::Font)?;
        Ok(Self { font, data })
    }

    fn font_ref(&self) -> Option<skrifa::FontRef<'static>> {
        skrifa::FontRef::new(self.data).ok()
    }

    /// Whether every character (but spaces and line breaks) has a glyph.
    fn covers(&self, text: &str) -> bool {
        let Some(f) = self.font_ref() else {
            return false;
        };
        let cmap = f.charmap();
        text.chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| cmap.map(c).is_some_and(|g| g.to_u32() != 0))
    }

    /// The width of a line of text at `size`, from the glyphs' advances.
    fn width(&self, text: &str, size: f32) -> f32 {
        let Some(f) = self.font_ref() else {
            return 0.0;
        };
        let cmap = f.charmap();
        let metrics = f.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em;
        let units: f32 = text
            .chars()
            .map(|c| {
                let g = cmap.map(c).unwrap_or_default();
                metrics.advance_width(g).unwrap_or(0.0)
            })
            .sum();
        units * size / f32::from(upem.max(1))
    }

    /// Breaks text into lines no wider than `max` (a word longer than a line stays whole).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if current.is_empty() || self.width(&candidate, size) <= max {
                current = candidate;
            } else {
                lines.push(std::mem::replace(&mut current, word.to_string()));
            }
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        lines
    }

    /// The largest size, from `size` down to half of it, at which the text fits in
    /// [`MAX_LINES`] lines of `max`, and those lines (at half size, however many it takes).
    fn fit(&self, text: &str, size: f32, max: f32) -> (f32, Vec<String>) {
        let mut s = size;
        while s > size / 2.0 {
            let lines = self.wrap(text, s, max);
            if lines.len() <= MAX_LINES && lines.iter().all(|l| self.width(l, s) <= max) {
                return (s, lines);
            }
            s -= 1.0;
        }
        (size / 2.0, self.wrap(text, size / 2.0, max))
    }
}

/// Draws one line centred on the page with its baseline at `y`, tagged as a span of
/// the document's language; returns its identifier and its box.
fn centred_line(
    surface: &mut Surface<'_>,
    face: &Face,
    size: f32,
    text: &str,
    y: f32,
) -> (Identifier, Option<Rect>) {
    let width = face.width(text, size);
    let x = ((PAGE_W - width) / 2.0).max(TEXT_MARGIN / 2.0);
    let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
    surface.draw_text(
        Point::from_xy(x, y),
        face.font.clone(),
        size,
        text,
        false,
        TextDirection::Auto,
    );
    surface.end_tagged();
    (id, Rect::from_xywh(x, y - size, width, size * 1.3))
}

const INK: (u8, u8, u8) = (0x1f, 0x2a, 0x33);
const ACCENT: (u8, u8, u8) = (0x0b, 0x5e, 0x6b);

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The two frames around the page: decoration, marked as an artifact.
fn frames(surface: &mut Surface<'_>) {
    surface.start_tagged(ContentTag::Artifact(krilla::tagging::Artifact::with_kind(
        ArtifactType::Layout,
    )));
    surface.set_fill(None);
    for (inset, width) in [(22.0, 3.0), (32.0, 0.8)] {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_ltrb(inset, inset, PAGE_W - inset, PAGE_H - inset) {
            pb.push_rect(r);
        }
        if let Some(path) = pb.finish() {
            surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(ACCENT.0, ACCENT.1, ACCENT.2).into(),
                width,
                ..Default::default()
            }));
            surface.draw_path(&path);
        }
    }
    surface.set_stroke(None);
    surface.end_tagged();
}

fn krilla_date(d: NaiveDate) -> DateTime {
    DateTime::new(u16::try_from(d.year()).unwrap_or(2000))
        .month(u8::try_from(d.month()).unwrap_or(1))
        .day(u8::try_from(d.day()).unwrap_or(1))
}

/// The certificate as a PDF file.
pub fn render(c: &CertificateContent<'_>) -> Result<Vec<u8>, CertificatePdfError> {
    let regular = Face::new(FONT_REGULAR)?;
    let bold = Face::new(FONT_BOLD)?;
    let blocks = blocks(c);
    let universal = blocks.iter().all(|(text, style)| {
        if style.bold() {
            bold.covers(text)
        } else {
            regular.covers(text)
        }
    });

    let mut settings = SerializeSettings {
        enable_tagging: true,
        ..Default::default()
    };
    if universal {
        settings.configuration = ConfigurationBuilder::new()
            .with_accessibility_validator(Accessibility::UA1)
            .finish()
            .map_err(|e| CertificatePdfError::Write(format!("{e:?}")))?;
    }
    let mut document = Document::new_with(settings);
    let page_settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| CertificatePdfError::Write("page size".into()))?;
    let mut page = document.start_page_with(page_settings);
    let mut tree = TagTree::new().with_lang(Some(LANGUAGE.to_string()));
    let mut link_box = None;
    let mut link_ids = Vec::new();
    {
        let mut surface = page.surface();
        frames(&mut surface);
        let laid: Vec<(Style, &Face, f32, Vec<String>)> = blocks
            .iter()
            .map(|(text, style)| {
                let face = if style.bold() { &bold } else { &regular };
                let (size, lines) = face.fit(text, style.size(), PAGE_W - 2.0 * TEXT_MARGIN);
                (*style, face, size, lines)
            })
            .collect();
        // Centred on the page: from the first line's cap height to the last baseline.
        let height: f32 = laid
            .iter()
            .map(|(style, _, size, lines)| {
                style.space_before() + (lines.len() as f32 - 1.0) * size * LEADING
            })
            .sum::<f32>()
            + Style::Issuer.size() * 0.7;
        let mut y = (PAGE_H - height) / 2.0 + Style::Issuer.size() * 0.7;
        for (style, face, size, lines) in &laid {
            let size = *size;
            let mut group = match style {
                Style::Heading => {
                    TagGroup::new(Tag::Hn(NonZeroU16::MIN, Some(HEADING.to_string())))
                }
                _ => TagGroup::new(Tag::P),
            };
            surface.set_fill(Some(fill(match style {
                Style::Heading | Style::Link => ACCENT,
                _ => INK,
            })));
            y += style.space_before();
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    y += size * LEADING;
                }
                let (id, rect) = centred_line(&mut surface, face, size, line, y);
                if *style == Style::Link {
                    link_ids.push(id);
                    link_box = rect;
                } else {
                    group.push(id);
                }
            }
            // The link's paragraph is added below, once its annotation exists.
            if *style != Style::Link {
                tree.push(group);
            }
        }
        surface.finish();
    }
    // The verification address is a link: a Link element holding the annotation and the
    // text it covers, as the last paragraph's content.
    if let Some(rect) = link_box {
        let annotation = Annotation::new_link(
            LinkAnnotation::new(
                rect,
                Target::Action(Action::Link(LinkAction::new(c.verify_url.to_string()))),
            ),
            Some(format!("Check this certificate at {}", c.verify_url)),
        );
        let annot_id = page.add_tagged_annotation(annotation);
        let mut link = TagGroup::new(Tag::Link);
        link.push(annot_id);
        for id in link_ids {
            link.push(id);
        }
        let mut last = TagGroup::new(Tag::P);
        last.push(link);
        tree.push(last);
    }
    page.finish();

    let mut outline = Outline::new();
    outline.push_child(OutlineNode::new(
        HEADING.to_string(),
        XyzDestination::new(0, Point::from_xy(0.0, 0.0)),
    ));
    document.set_outline(outline);
    document.set_metadata(
        Metadata::new()
            .title(format!("{HEADING}: {} for {}", c.completed, c.person_name))
            .description(format!(
                "{} certifies that {} completed {} on {}. Verification code {}.",
                c.issuer,
                c.person_name,
                c.completed,
                long_date(c.completed_on),
                c.code
            ))
            .authors(vec![c.issuer.to_string()])
            .creator("Onramp".to_string())
            .language(LANGUAGE.to_string())
            .document_id(c.code.to_string())
            .creation_date(krilla_date(c.issued_on)),
    );
    document.set_tag_tree(tree);
    document
        .finish()
        .map_err(|e| CertificatePdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_fits_between_the_margins() {
        let bold = Face::new(FONT_BOLD).unwrap();
        let max = PAGE_W - 2.0 * TEXT_MARGIN;
        let long = "Coordinated Entry assessment training for street outreach, emergency shelter and permanent supportive housing staff of the Lakeside Continuum of Care (version 12)";
        let (size, lines) = bold.fit(long, 21.0, max);
        assert!(lines.len() <= MAX_LINES, "{lines:?}");
        assert!(
            lines.iter().all(|l| bold.width(l, size) <= max),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), long);
        // Short text keeps its size, on one line.
        let (size, lines) = bold.fit("Introduction to HMIS", 21.0, max);
        assert_eq!((size, lines.len()), (21.0, 1));
        // Wider text measures wider.
        assert!(bold.width("WWW", 10.0) > bold.width("iii", 10.0));
        assert!(bold.width("Rosa", 20.0) > bold.width("Rosa", 10.0));
    }

    #[test]
    fn coverage_is_judged_per_character() {
        let regular = Face::new(FONT_REGULAR).unwrap();
        assert!(regular.covers("Zoë Ångström-Núñez, Łukasz, Ψ"));
        assert!(!regular.covers("李小龍"));
    }
}
