//! Certificates read back by an independent PDF library (lopdf): tags, title, language,
//! the embedded font and the visible text.

use chrono::NaiveDate;
use lopdf::{Dictionary, Document, Object};
use onramp_formats::certificate_pdf::{render, CertificateContent, HEADING, LANGUAGE};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn content<'a>(person_name: &'a str, completed: &'a str, code: &'a str) -> CertificateContent<'a> {
    CertificateContent {
        issuer: "Lakeside County HMIS",
        person_name,
        completed,
        completed_on: day(2026, 3, 1),
        valid_until: Some(day(2027, 3, 1)),
        issued_on: day(2026, 3, 1),
        code,
        verify_url: "https://onramp.example.org/verify/7KQ2-M9XD-4TRB",
    }
}

fn sample() -> CertificateContent<'static> {
    content(
        "Rosa Delgado",
        "Introduction to HMIS (version 2)",
        "7KQ2-M9XD-4TRB",
    )
}

fn load(bytes: &[u8]) -> Document {
    Document::load_mem(bytes).expect("lopdf reads the certificate")
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).expect("dereference").1
}

fn dict<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    d.get(key).ok().and_then(|o| deref(doc, o).as_dict().ok())
}

fn text_string(o: &Object) -> String {
    match o {
        Object::String(bytes, _) => {
            if bytes.starts_with(&[0xfe, 0xff]) {
                let units: Vec<u16> = bytes[2..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                String::from_utf16_lossy(&units)
            } else {
                String::from_utf8_lossy(bytes).into_owned()
            }
        }
        other => panic!("not a string: {other:?}"),
    }
}

/// The structure types of the tag tree, depth first (reading order).
fn structure(doc: &Document) -> Vec<String> {
    fn walk(doc: &Document, o: &Object, out: &mut Vec<String>) {
        match deref(doc, o) {
            Object::Array(items) => items.iter().for_each(|i| walk(doc, i, out)),
            Object::Dictionary(d) => {
                if let Ok(s) = d.get(b"S").and_then(Object::as_name) {
                    out.push(String::from_utf8_lossy(s).into_owned());
                }
                if let Ok(k) = d.get(b"K") {
                    walk(doc, k, out);
                }
            }
            _ => {}
        }
    }
    let root = dict(doc, doc.catalog().unwrap(), b"StructTreeRoot").expect("a structure tree");
    let mut out = Vec::new();
    walk(
        doc,
        root.get(b"K").expect("/K of the structure tree"),
        &mut out,
    );
    out
}

fn visible_text(doc: &Document) -> String {
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

fn xmp(doc: &Document) -> String {
    let meta = doc
        .catalog()
        .unwrap()
        .get(b"Metadata")
        .expect("XMP metadata");
    let stream = deref(doc, meta).as_stream().expect("a stream");
    let bytes = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn the_certificate_is_a_tagged_pdf_with_title_and_language() {
    let bytes = render(&sample()).expect("render");
    let doc = load(&bytes);
    let catalog = doc.catalog().unwrap();

    let mark_info = dict(&doc, catalog, b"MarkInfo").expect("/MarkInfo");
    assert!(mark_info.get(b"Marked").unwrap().as_bool().unwrap());
    assert!(dict(&doc, catalog, b"StructTreeRoot").is_some());
    assert_eq!(text_string(catalog.get(b"Lang").unwrap()), LANGUAGE);
    let prefs = dict(&doc, catalog, b"ViewerPreferences").expect("viewer preferences");
    assert!(prefs.get(b"DisplayDocTitle").unwrap().as_bool().unwrap());

    let info = dict(&doc, &doc.trailer, b"Info").expect("document information");
    let title = text_string(info.get(b"Title").unwrap());
    assert_eq!(
        title,
        "Certificate of Completion: Introduction to HMIS (version 2) for Rosa Delgado"
    );
    let meta = xmp(&doc);
    assert!(meta.contains("Rosa Delgado"), "the XMP title: {meta}");
    assert!(meta.contains("pdfuaid:part"), "claims PDF/UA-1: {meta}");

    // One page, landscape.
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1);
    let page = doc.get_dictionary(pages[&1]).unwrap();
    let media: Vec<f32> = page
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_float().unwrap())
        .collect();
    assert!(media[2] > media[3], "landscape: {media:?}");
    // The outline has the heading.
    let outlines = dict(&doc, catalog, b"Outlines").expect("an outline");
    let first = dict(&doc, outlines, b"First").expect("an outline entry");
    assert_eq!(text_string(first.get(b"Title").unwrap()), HEADING);
}

#[test]
fn the_tags_follow_the_reading_order() {
    let doc = load(&render(&sample()).unwrap());
    let s = structure(&doc);
    let content: Vec<&str> = s
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "Document")
        .collect();
    // Issuer, heading, then the nine paragraphs; the last holds the link.
    assert_eq!(
        content,
        ["P", "H1", "P", "P", "P", "P", "P", "P", "P", "P", "Link"],
        "{s:?}"
    );
}

#[test]
fn the_font_is_embedded() {
    let doc = load(&render(&sample()).unwrap());
    let mut descriptors = 0;
    let mut embedded = 0;
    for o in doc.objects.values() {
        if let Ok(d) = o.as_dict() {
            if d.get(b"Type").and_then(Object::as_name).ok() == Some(b"FontDescriptor".as_slice()) {
                descriptors += 1;
                if [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"]
                    .iter()
                    .any(|k| d.has(k))
                {
                    embedded += 1;
                }
                let name = d.get(b"FontName").and_then(Object::as_name).unwrap();
                assert!(
                    String::from_utf8_lossy(name).contains("DejaVuSerif"),
                    "{}",
                    String::from_utf8_lossy(name)
                );
            }
        }
    }
    assert_eq!(descriptors, 2, "regular and bold");
    assert_eq!(embedded, descriptors, "every font is embedded");
}

#[test]
fn the_visible_text_says_who_what_when_and_how_to_check() {
    let doc = load(&render(&sample()).unwrap());
    let text = visible_text(&doc);
    for expected in [
        "Lakeside County HMIS",
        "Certificate of Completion",
        "Rosa Delgado",
        "Introduction to HMIS (version 2)",
        "Completed on March 1, 2026",
        "Valid until March 1, 2027",
        "7KQ2-M9XD-4TRB",
        "https://onramp.example.org/verify/7KQ2-M9XD-4TRB",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text:?}");
    }
    // The verification address is a link.
    let pages = doc.get_pages();
    let page = doc.get_dictionary(pages[&1]).unwrap();
    let annots = deref(&doc, page.get(b"Annots").unwrap())
        .as_array()
        .unwrap();
    let link = deref(&doc, &annots[0]).as_dict().unwrap();
    let action = dict(&doc, link, b"A").unwrap();
    assert_eq!(
        text_string(action.get(b"URI").unwrap()),
        "https://onramp.example.org/verify/7KQ2-M9XD-4TRB"
    );
}

#[test]
fn a_certificate_that_does_not_expire_says_so() {
    let c = CertificateContent {
        valid_until: None,
        ..sample()
    };
    let text = visible_text(&load(&render(&c).unwrap()));
    assert!(text.contains("Does not expire"), "{text:?}");
    assert!(!text.contains("Valid until"), "{text:?}");
}

#[test]
fn the_same_certificate_gives_the_same_bytes() {
    let a = render(&sample()).unwrap();
    let b = render(&sample()).unwrap();
    assert!(a == b, "two renderings differ");
    let other = render(&content(
        "Rosa Delgado",
        "Introduction to HMIS (version 2)",
        "7KQ2-M9XD-4TRC",
    ))
    .unwrap();
    assert!(a != other, "another code gives another file");
}

#[test]
fn long_titles_wrap_and_keep_every_word() {
    let title = "Coordinated Entry assessment training for street outreach, emergency shelter and permanent supportive housing staff of the Lakeside Continuum of Care (version 12)";
    let doc = load(&render(&content("Rosa Delgado", title, "7KQ2-M9XD-4TRB")).unwrap());
    let text = visible_text(&doc)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains(title), "{text:?}");
    // Still one paragraph for the title, holding its three lines.
    let s = structure(&doc);
    assert_eq!(s.iter().filter(|t| *t == "P").count(), 9, "{s:?}");
    assert_eq!(content_items(&doc, 5), 3, "the title's paragraph");
    assert_eq!(content_items(&doc, 3), 1, "the name's paragraph");
}

/// How many pieces of page content the `n`-th element below the document holds.
fn content_items(doc: &Document, n: usize) -> usize {
    let root = dict(doc, doc.catalog().unwrap(), b"StructTreeRoot").unwrap();
    let mut k = deref(doc, root.get(b"K").unwrap());
    // Down through the Document element.
    loop {
        match k {
            Object::Array(a) if a.len() == 1 => k = deref(doc, &a[0]),
            Object::Dictionary(d)
                if d.get(b"S").and_then(Object::as_name).ok() == Some(b"Document".as_slice()) =>
            {
                k = deref(doc, d.get(b"K").unwrap())
            }
            _ => break,
        }
    }
    let elements = k.as_array().expect("the document's elements");
    let element = deref(doc, &elements[n]).as_dict().unwrap();
    match deref(doc, element.get(b"K").unwrap()) {
        Object::Array(items) => items.len(),
        _ => 1,
    }
}

#[test]
fn a_name_outside_the_font_still_gets_a_tagged_certificate() {
    let doc = load(
        &render(&content(
            "李小龍",
            "Introduction to HMIS (version 2)",
            "7KQ2-M9XD-4TRB",
        ))
        .unwrap(),
    );
    let catalog = doc.catalog().unwrap();
    assert!(dict(&doc, catalog, b"StructTreeRoot").is_some());
    assert_eq!(text_string(catalog.get(b"Lang").unwrap()), LANGUAGE);
    assert!(
        !xmp(&doc).contains("pdfuaid:part"),
        "no PDF/UA claim when glyphs are missing"
    );
}
