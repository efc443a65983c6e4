//! The Lead's side of training over HTTP, on both backends: the rule preview gives the
//! plans people were actually given; the rule editor refuses bad rules and keeps the saved
//! ones; the completion report counts what people did; Lead staff waive an item, recompute
//! a plan and record an accommodation on the person's page; an agency administrator sees
//! their staff's plans and nothing of the Lead's.

mod support;

use onramp_domain::learning::rules::PlanFacts;
use onramp_store::reads::*;
use support::{html_unescape, strip_tags, Backend, TestApp};

const LEAD: &str = "lead@demo.example.org";
const SAM: &str = "trainee@harbor.example.org";
const ADA: &str = "trainee@northside.example.org";
const ROSA: &str = "rosa.diaz@harbor.example.org";
const HARBOR_ADMIN: &str = "ata@harbor.example.org";

on_both_backends!(
    the_preview_gives_the_plans_people_were_given,
    lead_staff_change_a_persons_plan_and_read_the_report,
);

/// The `data-item` references in a piece of a page, in order.
fn items_in(html: &str) -> Vec<String> {
    html.split("data-item=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(html_unescape)
        .collect()
}

/// The part of a page from the element with this id on.
fn from_id<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    &html[at..]
}

/// The preview's query for what a person's request asked for.
async fn preview_query(app: &TestApp, person_id: i64) -> String {
    let mut tx = app.app.store.read().await.unwrap();
    let plan = tx.plan_current(person_id).await.unwrap().expect("a plan");
    let facts: PlanFacts = serde_json::from_str(&plan.facts).unwrap();
    let projects = tx
        .request_projects(plan.request_id.expect("from a request"))
        .await
        .unwrap();
    let mut q = vec![
        ("preview".to_string(), "1".to_string()),
        ("process".into(), facts.process.clone()),
        ("access_level".into(), facts.access_level.clone()),
    ];
    for r in &facts.responsibilities {
        q.push(("responsibilities".into(), r.clone()));
    }
    for p in projects {
        q.push(("projects".into(), p.to_string()));
    }
    if facts.returning {
        q.push(("returning".into(), "on".into()));
    }
    format!(
        "/training-rules?{}",
        serde_urlencoded::to_string(&q).unwrap()
    )
}

async fn the_preview_gives_the_plans_people_were_given(backend: Backend) {
    let app = app_or_skip!(backend);
    onramp_app::demo::load_training_stages(&app.app)
        .await
        .expect("training stages");
    let lead = app.signed_in(LEAD).await;
    // Three processes, three access levels: seed 000's online courses, seed 004's
    // introduction with its restricted project course, seed 001's read-only alternate.
    for email in [SAM, ADA, ROSA] {
        let person = app.person_id(email).await;
        let preview = lead.get(&preview_query(&app, person).await).await;
        preview.expect(200);
        let previewed = items_in(from_id(&preview.body, "preview-result"));
        let page = lead.get(&format!("/admin/people/{person}/training")).await;
        page.expect(200);
        let given = items_in(from_id(&page.body, "plan-title"));
        assert!(!given.is_empty(), "{email} has a plan: {}", page.body);
        assert_eq!(previewed, given, "{email}: the preview and the plan differ");
    }
    // The read-only introduction replaces the full one, and the preview says so.
    let rosa = lead
        .get(&preview_query(&app, app.person_id(ROSA).await).await)
        .await;
    let text = html_unescape(&strip_tags(&rosa.body));
    assert!(text.contains("Replaced:"), "{text}");

    // Names that do not exist are refused next to their fields.
    let bad = lead
        .get(
            "/training-rules?preview=1&process=no-such-process&access_level=nobody&projects=999999",
        )
        .await;
    bad.expect(422);
    assert_eq!(
        bad.field_error("process").as_deref(),
        Some("Choose a process")
    );
    assert_eq!(
        bad.field_error("access_level").as_deref(),
        Some("Choose an access level")
    );
    assert!(
        bad.body.contains("Choose projects from the list"),
        "{}",
        bad.body
    );
    assert!(!bad.body.contains("id=\"preview-result\""));
}

/// The report's row for a course: (people, completed, in progress, not started).
fn report_row(html: &str, title: &str) -> (i64, i64, i64, i64) {
    let table = from_id(html, "completion-table");
    let row = table
        .split("<tr>")
        .find(|r| strip_tags(r).contains(title) && r.contains("<th scope=\"row\">"))
        .unwrap_or_else(|| panic!("no row for {title:?} in {table}"));
    let cells: Vec<i64> = row
        .split("<td>")
        .skip(1)
        .filter_map(|c| c.split("</td>").next())
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    (cells[0], cells[1], cells[2], cells[3])
}

async fn course_title(app: &TestApp, key: &str) -> String {
    let mut tx = app.app.store.read().await.unwrap();
    tx.course_by_key(app.implementation_id, key)
        .await
        .unwrap()
        .expect(key)
        .title
}

async fn lead_staff_change_a_persons_plan_and_read_the_report(backend: Backend) {
    let app = app_or_skip!(backend);
    onramp_app::demo::load_training_stages(&app.app)
        .await
        .expect("training stages");
    let lead = app.signed_in(LEAD).await;

    // ---- the completion report: Rosa completed the read-only introduction; Ada, at
    // Northside, is part-way through the full one.
    let ro = course_title(&app, "intro-hmis-read-only").await;
    let intro = course_title(&app, "intro-hmis").await;
    let report = lead.get("/reports/training").await;
    report.expect(200);
    assert!(report.body.contains("<svg class=\"chart\" role=\"img\""));
    let (people, completed, _, _) = report_row(&report.body, &ro);
    assert!(people >= 1 && completed >= 1, "{ro}: {people} {completed}");
    let northside = app.agency_id("Northside Outreach Collective").await;
    let report = lead
        .get(&format!("/reports/training?agency={northside}"))
        .await;
    report.expect(200);
    assert_eq!(
        report_row(&report.body, &intro),
        (1, 0, 1, 0),
        "Ada, half-way"
    );
    assert_eq!(
        report_row(&report.body, &ro),
        (0, 0, 0, 0),
        "nobody at Northside"
    );
    lead.get("/reports/training?agency=abc").await.expect(422);

    // ---- Sam's plan: a waiver needs its reason, then counts the item as done.
    let sam = app.person_id(SAM).await;
    let page_path = format!("/admin/people/{sam}/training");
    let page = lead.get(&page_path).await;
    page.expect(200);
    let items = items_in(from_id(&page.body, "plan-title"));
    let first = items.first().expect("Sam's plan has items").clone();
    let before = app.audit_head().await;
    let refused = lead
        .post_form(
            &format!("{page_path}/waive"),
            &[("item", first.as_str()), ("reason", "  ")],
        )
        .await;
    refused.expect(422);
    assert_eq!(
        refused.field_error("reason").as_deref(),
        Some("Say why this item is waived")
    );
    assert_eq!(app.audit_head().await, before, "nothing changed");
    lead.post_form(
        &format!("{page_path}/waive"),
        &[
            ("item", first.as_str()),
            ("reason", "Completed at the neighbouring CoC in October"),
        ],
    )
    .await
    .expect_redirect(&page_path);
    let page = lead.get(&page_path).await;
    assert!(
        page.body
            .contains("Waived: Completed at the neighbouring CoC in October"),
        "{}",
        page.body
    );
    assert!(app
        .audit_actions()
        .await
        .contains(&"training_plan.waive".to_string()));

    // ---- recomputed: a second version, the first kept in the history.
    lead.post_form(
        &format!("{page_path}/recompute"),
        &[("recompute_reason", "The rules changed")],
    )
    .await
    .expect_redirect(&page_path);
    let page = lead.get(&page_path).await;
    let history = from_id(&page.body, "plan-history");
    assert!(history.contains("The rules changed"), "{history}");
    assert!(
        history.contains("<td>2 <span class=\"badge ok\">Current</span>"),
        "{history}"
    );

    // ---- an accommodation is recorded with its reason; an unknown course is refused.
    lead.post_form(
        &format!("{page_path}/accommodation"),
        &[
            ("course", "999999"),
            ("accommodation_reason", "Screen reader"),
        ],
    )
    .await
    .expect(422);
    lead.post_form(
        &format!("{page_path}/accommodation"),
        &[
            ("course", ""),
            (
                "accommodation_reason",
                "Screen-reader user, asked on 2 December",
            ),
        ],
    )
    .await
    .expect_redirect(&page_path);
    let page = lead.get(&page_path).await;
    assert!(page
        .body
        .contains("Screen-reader user, asked on 2 December"));

    // ---- the rule editor: bad rules are refused with their problems, and the saved
    // version stays; good rules are saved as the next version, comments and all.
    let editor = lead.get("/training-rules").await;
    editor.expect(200);
    assert!(editor.body.contains("Version 1,"), "{}", editor.body);
    let current = editor
        .text_of("<textarea id=\"f-rules\"")
        .and_then(|t| t.split_once('>').map(|(_, text)| text.trim().to_string()))
        .expect("the rules' text");
    assert!(current.contains("[[rules]]"), "{current}");
    let bad = format!("{current}\n[[rules]]\nkey = \"extra\"\ntitle = \"Extra\"\nall_of = [\"course:no-such-course\"]\n");
    let r = lead
        .post_form("/training-rules", &[("rules", bad.as_str())])
        .await;
    r.expect(422);
    assert!(r.body.contains("There is no course"), "{}", r.body);
    let r = lead
        .post_form("/training-rules", &[("rules", "[[rules")])
        .await;
    r.expect(422);
    assert!(r.body.contains("The rules could not be read"), "{}", r.body);
    assert!(lead
        .get("/training-rules")
        .await
        .body
        .contains("Version 1,"));
    let good = format!("{current}\n# Added from the editor.\n[[rules]]\nkey = \"extra\"\ntitle = \"Extra\"\nwhen = {{ processes = [\"no-process-uses-this\"] }}\nall_of = [\"course:intro-hmis\"]\n");
    let r = lead
        .post_form("/training-rules", &[("rules", good.as_str())])
        .await;
    r.expect(422);
    assert!(r.body.contains("There is no process"), "{}", r.body);
    let good = good.replace("no-process-uses-this", "online-courses-then-login");
    lead.post_form("/training-rules", &[("rules", good.as_str())])
        .await
        .expect_redirect("/training-rules");
    let editor = lead.get("/training-rules").await;
    assert!(editor.body.contains("Version 2,"));
    assert!(editor.body.contains("# Added from the editor."));

    // ---- Harbor House's administrator: their staff's plans, each person's plan, and
    // nothing to change; not the Lead's report or rules.
    let admin = app.signed_in(HARBOR_ADMIN).await;
    let harbor = app.agency_id("Harbor House").await;
    let staff = admin
        .get(&format!("/admin/agencies/{harbor}/training"))
        .await;
    staff.expect(200);
    let text = html_unescape(&strip_tags(&staff.body));
    assert!(text.contains("Sam Ortiz"), "{text}");
    assert!(text.contains("Rosa Diaz"), "{text}");
    assert!(staff.body.contains(&format!("href=\"{page_path}\"")));
    let own = admin.get(&page_path).await;
    own.expect(200);
    assert!(!own.body.contains("Change the plan"));
    admin.get("/reports/training").await.expect(403);
    admin.get("/training-rules").await.expect(403);
    admin
        .post_form_from(&page_path, &format!("{page_path}/recompute"), &[])
        .await
        .expect(403);
    admin
        .get(&format!("/admin/agencies/{northside}/training"))
        .await
        .expect(403);
    app.assert_audit_chain_valid().await;
}
