//! The HMIS Lead writes courses through their pages: a course's fields, lessons of each kind
//! with uploaded videos, captions and PDFs, publishing (refused with the problems named
//! lesson by lesson), retiring, and course packages out and in.

mod support;

use support::{Backend, Reply, TestClient};

const LEAD: &str = "lead@demo.example.org";

fn curriculum(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../app/curriculum")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn video() -> Vec<u8> {
    curriculum("intro-hmis/media/welcome.webm")
}

fn captions() -> Vec<u8> {
    curriculum("intro-hmis/media/welcome.vtt")
}

/// The number after `prefix` in the reply's Location.
fn id_in_location(r: &Reply, prefix: &str) -> i64 {
    let l = r.location().expect("a redirect");
    let rest = l.strip_prefix(prefix).unwrap_or_else(|| panic!("{l}"));
    rest.split(['/', '#', '?'])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no id in {l}"))
}

/// The id of the lesson titled `title` on a course page (its edit link).
fn lesson_id(page: &Reply, course: i64, title: &str) -> i64 {
    let marker = format!("/courses/{course}/lessons/");
    page.body
        .match_indices(&marker)
        .find_map(|(at, _)| {
            let rest = &page.body[at + marker.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let after = &rest[digits.len()..];
            after
                .starts_with(&format!("\">{title}</a>"))
                .then(|| digits.parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no lesson {title:?} on the page:\n{}", page.body))
}

/// Creates a course through the new-course form; gives its id.
async fn new_course(c: &TestClient, key: &str, title: &str) -> i64 {
    c.get("/courses/new").await.expect(200);
    let r = c
        .post_form(
            "/courses/new",
            &[
                ("key", key),
                ("title", title),
                ("summary", "How to take in a new client."),
                ("data_standards", "FY2026"),
                ("price", "25"),
                ("prerequisites_all", "intro-hmis"),
            ],
        )
        .await;
    r.expect(303);
    id_in_location(&r, "/courses/")
}

/// The href of the "current video" (or PDF or captions) link on a lesson form.
fn current_file(page: &Reply, field: &str) -> Option<String> {
    let marker = format!("id=\"f-{field}-current\"><a href=\"");
    let start = page.body.find(&marker)? + marker.len();
    let end = page.body[start..].find('"')? + start;
    Some(page.body[start..end].to_string())
}

on_both_backends!(a_lead_writes_and_publishes_a_video_course);
async fn a_lead_writes_and_publishes_a_video_course(backend: Backend) {
    let app = app_or_skip!(backend);
    let lead = app.signed_in(LEAD).await;
    let home = lead.get("/").await;
    assert!(
        home.body.contains("href=\"/courses\""),
        "the navigation links Courses"
    );
    let list = lead.get("/courses").await;
    list.expect(200);
    assert!(list
        .text()
        .contains("Introduction to Homeless Management Information System"));

    // Bad fields are named next to them, and nothing is created.
    lead.get("/courses/new").await.expect(200);
    let r = lead
        .post_form(
            "/courses/new",
            &[
                ("key", "Not A Key"),
                ("title", ""),
                ("price", "ten dollars"),
                ("data_standards", "FY1999"),
                ("prerequisites_one", "intro-hmis"),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.field_error("title").is_some_and(|m| m.contains("title")),
        "{}",
        r.body
    );
    assert!(r.field_error("key").is_some(), "{}", r.body);
    assert!(r
        .field_error("price")
        .is_some_and(|m| m.contains("dollars")));
    assert!(r
        .field_error("data_standards")
        .is_some_and(|m| m.contains("FY2026")));
    assert!(r
        .field_error("prerequisites")
        .is_some_and(|m| m.contains("two or more")));

    let course = new_course(&lead, "intake-basics", "Intake basics").await;
    let page = lead.get(&format!("/courses/{course}")).await;
    page.expect(200);
    assert!(page.text().contains("$25.00"));
    assert!(page
        .text()
        .contains("Add at least one lesson before publishing"));

    // A reading, then a video without captions.
    let base = format!("/courses/{course}");
    lead.get(&format!("{base}/lessons/new?kind=reading"))
        .await
        .expect(200);
    lead.post_multipart(
        &format!("{base}/lessons/new"),
        &[
            ("kind", "reading"),
            ("key", "before-you-start"),
            ("title", "Before you start"),
            ("body", "Read the **intake** checklist."),
        ],
        &[],
    )
    .await
    .expect_redirect(&base);
    lead.get(&format!("{base}/lessons/new?kind=video"))
        .await
        .expect(200);
    lead.post_multipart(
        &format!("{base}/lessons/new"),
        &[
            ("kind", "video"),
            ("key", "intake-video"),
            ("title", "Intake video"),
            ("transcript", "Welcome to intake."),
        ],
        &[("file", "welcome.webm", &video())],
    )
    .await
    .expect_redirect(&base);

    // Publishing is refused and says why, lesson by lesson.
    let page = lead.get(&base).await;
    let r = lead.post_form(&format!("{base}/publish"), &[]).await;
    r.expect(422);
    let text = r.text();
    assert!(text.contains("The course was not published"), "{text}");
    assert!(
        text.contains("Lesson 2 \u{2018}Intake video\u{2019}: A video needs captions"),
        "{text}"
    );

    // Captions uploaded: it publishes.
    let video_lesson = lesson_id(&page, course, "Intake video");
    let form = lead.get(&format!("{base}/lessons/{video_lesson}")).await;
    form.expect(200);
    assert!(current_file(&form, "file").is_some(), "the video is linked");
    assert!(current_file(&form, "captions").is_none());
    lead.post_multipart(
        &format!("{base}/lessons/{video_lesson}"),
        &[
            ("kind", "video"),
            ("key", "intake-video"),
            ("title", "Intake video"),
            ("transcript", "Welcome to intake."),
        ],
        &[("file", "", b""), ("captions", "welcome.vtt", &captions())],
    )
    .await
    .expect_redirect(&base);
    let page = lead.get(&base).await;
    assert!(
        page.text().contains("The draft is ready"),
        "{}",
        page.text()
    );
    assert!(
        page.text().contains("video 0:"),
        "the video kept its file and length"
    );

    // Up and down, without JavaScript.
    lead.post_form(
        &format!("{base}/lessons/{video_lesson}/arrange"),
        &[("to", "up")],
    )
    .await
    .expect(303);
    let page = lead.get(&base).await;
    let (v, r) = (
        page.body.find(">Intake video<").expect("video"),
        page.body.find(">Before you start<").expect("reading"),
    );
    assert!(v < r, "the video comes first now");

    let r = lead.post_form(&format!("{base}/publish"), &[]).await;
    r.expect_redirect(&base);
    let page = lead.get(&base).await;
    assert!(
        page.text().contains("Version 1 is published"),
        "{}",
        page.text()
    );
    let list = lead.get("/courses").await;
    assert!(list.text().contains("Intake basics"));

    // The video is served to its writer, with ranges.
    let form = lead.get(&format!("{base}/lessons/{video_lesson}")).await;
    let href = current_file(&form, "file").expect("video link");
    let bytes = lead.get(&href).await;
    bytes.expect(200);

    // Editing the published course makes version 2, a draft.
    lead.post_multipart(
        &format!("{base}/lessons/{video_lesson}"),
        &[
            ("kind", "video"),
            ("key", "intake-video"),
            ("title", "The intake video"),
            ("transcript", "Welcome to intake."),
        ],
        &[],
    )
    .await
    .expect_redirect(&base);
    let page = lead.get(&base).await;
    assert!(
        page.text().contains("Lessons of version 2 (draft)"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("People enrol in version 1"));
    let list = lead.get("/courses").await;
    assert!(list.text().contains("1 (draft 2)"), "{}", list.text());

    // Retire and bring back.
    lead.post_form(&format!("{base}/retire"), &[])
        .await
        .expect_redirect(&base);
    assert!(lead.get("/courses").await.text().contains("Retired"));
    lead.post_form(&format!("{base}/unretire"), &[])
        .await
        .expect_redirect(&base);
    assert!(!lead.get(&base).await.text().contains("Retired."));

    // Nobody else writes courses.
    let trainee = app.signed_in("trainee@harbor.example.org").await;
    trainee.get("/courses").await.expect(403);
    assert!(!trainee.get("/").await.body.contains("href=\"/courses\""));
    app.assert_audit_chain_valid().await;
}

on_both_backends!(refused_uploads_change_nothing);
async fn refused_uploads_change_nothing(backend: Backend) {
    let app = app_or_skip!(backend, |c: &mut onramp_app::AppConfig| {
        c.upload_limits.video = 128 << 10;
    });
    let lead = app.signed_in(LEAD).await;
    let course = new_course(&lead, "intake-uploads", "Intake uploads").await;
    let base = format!("/courses/{course}");
    lead.get(&format!("{base}/lessons/new?kind=video"))
        .await
        .expect(200);
    let fields = [
        ("kind", "video"),
        ("key", "intake-video"),
        ("title", "Intake video"),
        ("transcript", "Welcome to intake."),
    ];
    lead.post_multipart(
        &format!("{base}/lessons/new"),
        &fields,
        &[
            ("file", "welcome.webm", &video()),
            ("captions", "welcome.vtt", &captions()),
        ],
    )
    .await
    .expect_redirect(&base);
    let page = lead.get(&base).await;
    let lesson = lesson_id(&page, course, "Intake video");
    let path = format!("{base}/lessons/{lesson}");
    let form = lead.get(&path).await;
    let (old_video, old_captions) = (
        current_file(&form, "file").expect("video"),
        current_file(&form, "captions").expect("captions"),
    );
    let renamed = [
        ("kind", "video"),
        ("key", "intake-video"),
        ("title", "Renamed while refused"),
        ("transcript", "Welcome to intake."),
    ];

    // Too large (the limit is 128 KB here).
    let mut big = video();
    big.resize(200 << 10, 0);
    let before = app.audit_head().await;
    let r = lead
        .post_multipart(&path, &renamed, &[("file", "big.webm", &big)])
        .await;
    r.expect(422);
    let m = r
        .field_error("file")
        .expect("a message next to the video field");
    assert!(m.contains("at most"), "{m}");
    assert!(
        r.body.contains("id=\"files-dropped\""),
        "says the files must be chosen again"
    );
    assert_eq!(
        current_file(&r, "file").as_deref(),
        Some(old_video.as_str())
    );

    // Corrupt: a WebM header and nothing readable after it.
    let mut corrupt = video()[..64].to_vec();
    corrupt.extend_from_slice(&[0xFF; 512]);
    let r = lead
        .post_multipart(&path, &renamed, &[("file", "broken.webm", &corrupt)])
        .await;
    r.expect(422);
    let m = r
        .field_error("file")
        .expect("a message next to the video field");
    assert!(m.contains("could not be read"), "{m}");

    // Not a video at all.
    let r = lead
        .post_multipart(
            &path,
            &renamed,
            &[("file", "notes.webm", b"%PDF-1.4 not a video")],
        )
        .await;
    r.expect(422);
    assert!(r
        .field_error("file")
        .is_some_and(|m| m.contains("not a WebM video")));

    // Captions that are not valid WebVTT.
    let r = lead
        .post_multipart(
            &path,
            &renamed,
            &[(
                "captions",
                "backwards.vtt",
                b"WEBVTT\n\n00:09.000 --> 00:01.000\nBackwards\n",
            )],
        )
        .await;
    r.expect(422);
    let m = r
        .field_error("captions")
        .expect("a message next to the captions");
    assert!(m.contains("not valid WebVTT"), "{m}");

    // Nothing changed: the old files, the old title, no audit event.
    assert_eq!(app.audit_head().await, before);
    let form = lead.get(&path).await;
    assert_eq!(current_file(&form, "file"), Some(old_video));
    assert_eq!(current_file(&form, "captions"), Some(old_captions));
    assert!(form.body.contains("value=\"Intake video\""));
    assert!(!form.body.contains("Renamed while refused"));

    // A reading's PDF is checked the same way.
    lead.get(&format!("{base}/lessons/new?kind=reading"))
        .await
        .expect(200);
    let r = lead
        .post_multipart(
            &format!("{base}/lessons/new"),
            &[
                ("kind", "reading"),
                ("key", "handout"),
                ("title", "Handout"),
            ],
            &[("file", "handout.pdf", b"<html>not a pdf</html>")],
        )
        .await;
    r.expect(422);
    assert!(r
        .field_error("file")
        .is_some_and(|m| m.contains("not a PDF")));
    assert_eq!(app.audit_head().await, before);
}

/// The starter Introduction to HMIS as a package under another key, with its video's
/// captions broken.
fn package_with_a_broken_lesson() -> Vec<u8> {
    use onramp_formats::course_package::{self as package, PackageContent};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/curriculum/intro-hmis");
    let mut pkg = package::read_package_dir(&dir).expect("the starter package reads");
    pkg.manifest.key = onramp_domain::Slug::parse("intake-imported").expect("key");
    pkg.manifest.title = "Intake, imported".into();
    for l in &mut pkg.lessons {
        if let PackageContent::Video { captions, .. } = &mut l.content {
            *captions = "WEBVTT\n\n00:09.000 --> 00:01.000\nBackwards\n".into();
        }
    }
    package::write_package_zip(&pkg.manifest, &pkg.lessons).expect("zip")
}

on_both_backends!(importing_a_package_twice_does_not_duplicate);
async fn importing_a_package_twice_does_not_duplicate(backend: Backend) {
    let app = app_or_skip!(backend);
    let lead = app.signed_in(LEAD).await;
    let zip = package_with_a_broken_lesson();

    lead.get("/courses/import").await.expect(200);
    let r = lead
        .post_multipart("/courses/import", &[], &[("package", "intake.zip", &zip)])
        .await;
    r.expect(200);
    let text = r.text();
    assert!(
        text.contains("A new course, published as version 1"),
        "{text}"
    );
    assert!(
        text.contains("lesson welcome"),
        "the broken lesson is named: {text}"
    );
    assert!(text.contains("captions"), "{text}");
    assert!(
        text.contains("how-systems-fit"),
        "the rest is imported: {text}"
    );

    let r = lead
        .post_multipart("/courses/import", &[], &[("package", "intake.zip", &zip)])
        .await;
    r.expect(200);
    assert!(r.text().contains("Nothing changed"), "{}", r.text());
    assert!(r.text().contains("lesson welcome"));
    let list = lead.get("/courses").await;
    assert_eq!(
        list.body.matches("<code>intake-imported</code>").count(),
        1,
        "one course"
    );

    // Its export imports back as the same version.
    let course: i64 = {
        let at = list.body.find("Intake, imported").expect("listed");
        let head = &list.body[..at];
        let start = head.rfind("/courses/").expect("link") + "/courses/".len();
        head[start..]
            .split('"')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("id")
    };
    let export = lead
        .http
        .get(lead.url(&format!("/courses/{course}/package.zip")))
        .send()
        .await
        .expect("export");
    assert_eq!(export.status(), 200);
    assert_eq!(
        export
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    let exported = export.bytes().await.expect("zip").to_vec();
    lead.get("/courses/import").await.expect(200);
    let r = lead
        .post_multipart(
            "/courses/import",
            &[],
            &[("package", "again.zip", &exported)],
        )
        .await;
    r.expect(200);
    assert!(r.text().contains("Nothing changed"), "{}", r.text());

    // Not a package: refused next to the field.
    let r = lead
        .post_multipart(
            "/courses/import",
            &[],
            &[("package", "notes.zip", b"just text")],
        )
        .await;
    r.expect(422);
    assert!(r.field_error("package").is_some(), "{}", r.body);
    let r = lead.post_multipart("/courses/import", &[], &[]).await;
    r.expect(422);
    assert!(r
        .field_error("package")
        .is_some_and(|m| m.contains("Choose")));
}

/// Upload routes read bodies larger than the 2 MiB every other route allows, up to the
/// largest upload limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_routes_take_large_files_and_other_routes_do_not() {
    let app = app_or_skip!(Backend::Sqlite);
    let lead = app.signed_in(LEAD).await;
    let course = new_course(&lead, "intake-large", "Intake, large").await;
    let base = format!("/courses/{course}");
    let mut large = video();
    large.resize(3 << 20, 0);
    lead.get(&format!("{base}/lessons/new?kind=video"))
        .await
        .expect(200);
    lead.post_multipart(
        &format!("{base}/lessons/new"),
        &[
            ("kind", "video"),
            ("key", "large-video"),
            ("title", "Large video"),
        ],
        &[("file", "large.webm", &large)],
    )
    .await
    .expect_redirect(&base);
    let page = lead.get(&base).await;
    assert!(page.text().contains("Large video"));
    let filler = "x".repeat(8 << 20);
    let r = lead
        .post_form("/courses/new", &[("key", "too-big"), ("summary", &filler)])
        .await;
    r.expect(413);
}
