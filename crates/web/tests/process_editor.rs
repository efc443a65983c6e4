//! The form editor of a process, driven as a Lead would in a browser without JavaScript:
//! open the editor, change fields, press the form's buttons (each posts the whole form as
//! rendered), and save. The stored versions are read back from the store.

mod support;

use onramp_app::processes::SEED_TEMPLATES;
use onramp_domain::process::ProcessTemplate;
use support::{Backend, Reply, TestApp, TestClient};

/// Decodes the character references askama writes (`&amp;`, `&#38;`, `&#x27;`…), as a
/// browser does before it sends a field back.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const LEAD: &str = "lead@demo.example.org";

// ---------------------------------------------------------------- the form as a browser sends it

/// The value of ` name="…"` in a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(html_unescape(&tag[start..end]))
}

/// Whether a tag has a boolean attribute (` checked`, ` selected`).
fn flag(tag: &str, name: &str) -> bool {
    let marker = format!(" {name}");
    tag.match_indices(&marker).any(|(i, _)| {
        matches!(
            tag[i + marker.len()..].chars().next(),
            Some('>' | ' ' | '/')
        )
    })
}

/// The fields of the form posting to `action`, as a browser would send them when a button
/// without a name is pressed: text and hidden inputs, ticked boxes, each select's chosen
/// option (or its first), textareas (without the newline that follows the opening tag).
fn form_fields(body: &str, action: &str) -> Vec<(String, String)> {
    let open = format!("action=\"{action}\"");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no form posting to {action}:\n{body}"));
    let end = body[start..].find("</form>").expect("the form ends") + start;
    let form = &body[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let tag_end = rest.find('>').map(|e| e + 1).unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attr(tag, "name") {
                let value = attr(tag, "value").unwrap_or_default();
                match kind.as_str() {
                    "checkbox" | "radio" => {
                        if flag(tag, "checked") {
                            out.push((name, value));
                        }
                    }
                    "submit" | "button" | "file" => {}
                    _ => out.push((name, value)),
                }
            }
        } else if tag.starts_with("<select") {
            let name = attr(tag, "name").expect("a select has a name");
            let close = rest.find("</select>").expect("the select ends");
            let options = &rest[tag_end..close];
            let mut first = None;
            let mut chosen = None;
            for o in options.split("<option").skip(1) {
                let otag = &o[..o.find('>').unwrap_or(o.len())];
                let v = attr(&format!(" {otag}"), "value").unwrap_or_default();
                first.get_or_insert(v.clone());
                if flag(&format!("{otag}>"), "selected") {
                    chosen = Some(v);
                }
            }
            out.push((name, chosen.or(first).unwrap_or_default()));
            rest = &rest[close..];
            continue;
        } else if tag.starts_with("<textarea") {
            let name = attr(tag, "name").expect("a textarea has a name");
            let close = rest.find("</textarea>").expect("the textarea ends");
            let text = &rest[tag_end..close];
            let text = text.strip_prefix('\n').unwrap_or(text);
            out.push((name, html_unescape(text)));
            rest = &rest[close..];
            continue;
        }
        rest = &rest[tag_end.max(1)..];
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(f) => f.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

fn editor(key: &str) -> String {
    format!("/admin/processes/{key}/editor")
}

/// Posts the fields with the button `op` pressed.
async fn press(c: &TestClient, key: &str, fields: &[(String, String)], op: &str) -> Reply {
    let mut all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("op", op));
    c.post_raw(&editor(key), &all, &[]).await
}

async fn open(c: &TestClient, key: &str) -> (Reply, Vec<(String, String)>) {
    let page = c.get(&editor(key)).await;
    page.expect(200);
    let fields = form_fields(&page.body, &editor(key));
    (page, fields)
}

/// Every stored version of a template, oldest first, parsed.
async fn versions(app: &TestApp, key: &str) -> Vec<ProcessTemplate> {
    let mut tx = app.app.store.read().await.expect("read");
    let mut rows = tx
        .template_versions(app.implementation_id, key)
        .await
        .expect("versions");
    rows.reverse();
    rows.iter()
        .map(|r| onramp_formats::process_template::parse(&r.body).expect("stored text parses"))
        .collect()
}

fn seed(i: usize) -> ProcessTemplate {
    onramp_formats::process_template::parse(SEED_TEMPLATES[i]).expect("seed parses")
}

fn step_count(body: &str) -> usize {
    body.matches("<fieldset class=\"step-editor").count()
}

// ---------------------------------------------------------------- tests

async fn every_seed_opens_in_the_editor_and_saves_back_unchanged(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    for i in 0..SEED_TEMPLATES.len() {
        let original = seed(i);
        let (page, fields) = open(&c, &original.key).await;
        assert!(
            !page.body.contains("There is a problem"),
            "{} opens without a problem",
            original.key
        );
        assert_eq!(
            step_count(&page.body),
            original.steps.len(),
            "{}",
            original.key
        );
        // The picture lists every step, in order, with who acts.
        let picture = picture_text(&page);
        let mut at = 0;
        for s in &original.steps {
            let found = picture[at..].find(&s.title);
            assert!(
                found.is_some(),
                "{}: the picture shows {:?} in order: {picture}",
                original.key,
                s.title
            );
            at += found.unwrap_or(0);
        }
        assert!(picture.contains("Who acts"), "{picture}");
        let saved = press(&c, &original.key, &fields, "save").await;
        saved.expect_redirect(&format!("/admin/processes/{}", original.key));
        let v = versions(&app, &original.key).await;
        assert_eq!(v.len(), 2, "saving added a version of {}", original.key);
        assert_eq!(v[1], original, "{} saved back unchanged", original.key);
    }
    let audit = app.audit_actions().await;
    assert_eq!(
        audit
            .iter()
            .filter(|a| *a == "process_template.save")
            .count(),
        SEED_TEMPLATES.len()
    );
    app.assert_audit_chain_valid().await;
}

async fn adding_a_step(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    let original = seed(0);
    let key = original.key.clone();
    let (_, fields) = open(&c, &key).await;
    let added = press(&c, &key, &fields, "add").await;
    added.expect(200);
    assert_eq!(step_count(&added.body), original.steps.len() + 1);
    assert!(
        added.text().contains("added at the end"),
        "{}",
        added.text()
    );
    // Nothing is saved by adding.
    assert_eq!(versions(&app, &key).await.len(), 1);
    let n = original.steps.len();
    let mut fields = form_fields(&added.body, &editor(&key));
    set(
        &mut fields,
        &format!("s{n}-title"),
        "Welcome call with the HMIS Lead",
    );
    set(&mut fields, &format!("s{n}-kind"), "checklist");
    set(&mut fields, &format!("s{n}-actor"), "lead");
    set(&mut fields, &format!("s{n}-sla_hours"), "24");
    press(&c, &key, &fields, "save")
        .await
        .expect_redirect(&format!("/admin/processes/{key}"));
    let v = versions(&app, &key).await;
    let new = v.last().expect("a new version");
    assert_eq!(new.steps.len(), n + 1);
    let step = new.steps.last().expect("the new step");
    assert_eq!(step.key, "welcome-call-with-the-hmis-lead");
    assert_eq!(step.title, "Welcome call with the HMIS Lead");
    assert_eq!(step.sla_hours, Some(24));
    // A new step comes after the one that was last.
    assert_eq!(step.after, [original.steps[n - 1].key.clone()]);
    assert_eq!(new.steps[..n], original.steps[..]);
}

async fn removing_a_step(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    // Seed 001: the learning account (step 2) comes before the required courses (step 3).
    let original = seed(1);
    let key = original.key.clone();
    let (_, fields) = open(&c, &key).await;
    let removed = press(&c, &key, &fields, "remove-1").await;
    removed.expect(200);
    assert_eq!(step_count(&removed.body), original.steps.len() - 1);
    let fields = form_fields(&removed.body, &editor(&key));
    assert!(
        !fields.iter().any(|(_, v)| *v == original.steps[1].title),
        "the removed step's fields are gone"
    );
    assert!(removed.text().contains("removed"), "{}", removed.text());
    press(&c, &key, &fields, "save")
        .await
        .expect_redirect(&format!("/admin/processes/{key}"));
    let new = versions(&app, &key).await.pop().expect("saved");
    let keys: Vec<&str> = new.steps.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        original
            .steps
            .iter()
            .map(|s| s.key.as_str())
            .filter(|k| *k != "learning-account")
            .collect::<Vec<_>>()
    );
    // The step that came after the removed one no longer waits for it.
    assert!(new.step("required-courses").expect("kept").after.is_empty());
}

async fn reordering_steps(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    // Seed 004: the coordinated-entry approval (step 6) does not depend on the proctored
    // session (step 5), so it may move above it.
    let original = seed(4);
    let key = original.key.clone();
    let (_, fields) = open(&c, &key).await;
    let moved = press(&c, &key, &fields, "up-5").await;
    moved.expect(200);
    assert!(moved.text().contains("is now step 5"), "{}", moved.text());
    let fields = form_fields(&moved.body, &editor(&key));
    assert_eq!(
        fields
            .iter()
            .find(|(k, _)| k == "s4-key")
            .map(|f| f.1.as_str()),
        Some("ce-team-approval")
    );
    press(&c, &key, &fields, "save")
        .await
        .expect_redirect(&format!("/admin/processes/{key}"));
    let new = versions(&app, &key).await.pop().expect("saved");
    let mut expected = original.steps.clone();
    expected.swap(4, 5);
    assert_eq!(new.steps, expected);
    // Moving a step above one it comes after is refused when saving, next to that field.
    let (_, fields) = open(&c, &key).await;
    let moved = press(&c, &key, &fields, "up-3").await;
    assert!(
        moved.text().contains("listed below this step"),
        "{}",
        moved.text()
    );
    let fields = form_fields(&moved.body, &editor(&key));
    let refused = press(&c, &key, &fields, "save").await;
    refused.expect(422);
    let msg = refused
        .field_error("s2-after")
        .expect("a message next to Comes after");
    assert!(msg.contains("listed later"), "{msg}");
    assert_eq!(
        versions(&app, &key).await.len(),
        2,
        "nothing more was saved"
    );
}

async fn errors_are_shown_next_to_their_fields_with_what_was_typed(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    // Seed 003: step 1 is the staff verification, step 2 the end-user agreement.
    let original = seed(3);
    let key = original.key.clone();
    let (_, mut fields) = open(&c, &key).await;
    set(&mut fields, "s0-title", "  ");
    set(
        &mut fields,
        "s0-instructions",
        "Typed while the title was empty",
    );
    set(&mut fields, "s0-deadline_days", "ten");
    set(&mut fields, "s1-signer-1", "");
    set(&mut fields, "carry_over_days", "a year");
    set(&mut fields, "name", "Renamed <while> editing");
    let r = press(&c, &key, &fields, "save").await;
    r.expect(422);
    assert!(r.body.contains("There is a problem"));
    assert_eq!(
        r.field_error("s0-title").as_deref(),
        Some("Give the step a title")
    );
    assert!(r
        .field_error("s0-deadline_days")
        .expect("days")
        .contains("whole number"));
    assert!(r
        .field_error("s1-signers")
        .expect("signers")
        .contains("names its signers"));
    assert!(r.field_error("carry_over_days").is_some());
    // The summary links to each field and names its step.
    assert!(r.body.contains("href=\"#f-s0-title\""));
    assert!(r.body.contains("href=\"#f-s1-signers\""));
    assert!(
        r.text()
            .contains("Step 2 (Sign the HMIS end-user agreement): "),
        "{}",
        r.text()
    );
    // Everything typed is back.
    let back = form_fields(&r.body, &editor(&key));
    for (k, v) in [
        ("s0-instructions", "Typed while the title was empty"),
        ("s0-deadline_days", "ten"),
        ("carry_over_days", "a year"),
        ("name", "Renamed <while> editing"),
        ("s0-title", "  "),
    ] {
        assert_eq!(
            back.iter().find(|(n, _)| n == k).map(|f| f.1.as_str()),
            Some(v),
            "{k} is kept"
        );
    }
    assert_eq!(back.len(), fields.len(), "every field is back");
    assert_eq!(versions(&app, &key).await.len(), 1, "nothing was saved");
    // An agreement that does not exist, chosen by a hand-made form, is refused on its field.
    let (_, mut fields) = open(&c, &key).await;
    set(&mut fields, "s1-agreement", "no-such-agreement");
    let r = press(&c, &key, &fields, "save").await;
    r.expect(422);
    assert!(r
        .field_error("s1-agreement")
        .expect("agreement")
        .contains("does not exist"));
}

async fn the_preview_shows_the_steps_a_request_gets(backend: Backend) {
    let app = app_or_skip!(backend);
    let c = app.signed_in(LEAD).await;
    // Seed 004: coordinated-entry roles go through the CE team; read-only users skip the
    // proctored session.
    let key = seed(4).key;
    let (_, mut fields) = open(&c, &key).await;
    set(&mut fields, "p-access_level", "ce_specialist");
    let r = press(&c, &key, &fields, "preview").await;
    r.expect(200);
    let result = preview_text(&r);
    assert!(
        result.contains("Access level Coordinated-entry specialist"),
        "{result}"
    );
    let order = [
        "Validate the new hire",
        "Coordinated entry team trains and approves the user",
        "Issue the live HMIS credentials",
        "Complete the end-user agreement",
    ];
    let gets = &result[..result.find("Does not apply").unwrap_or(result.len())];
    let mut at = 0;
    for t in order {
        let i = gets[at..]
            .find(t)
            .unwrap_or_else(|| panic!("{t} in order in: {gets}"));
        at += i;
    }
    assert!(gets.contains("4 steps, in this order"), "{gets}");
    let skipped = &result[result.find("Does not apply").expect("skipped steps")..];
    for t in [
        "Set up or update your learning account",
        "Complete the virtual proctored session",
    ] {
        assert!(skipped.contains(t), "{t} does not apply: {skipped}");
    }
    // A read-only user with a street outreach project gets the courses but not the session.
    set(&mut fields, "p-access_level", "read_only");
    fields.push(("p-project_types".into(), "4".into()));
    let r = press(&c, &key, &fields, "preview").await;
    let result = preview_text(&r);
    let gets = &result[..result.find("Does not apply").unwrap_or(result.len())];
    assert!(gets.contains("Complete the Introduction to HMIS"), "{gets}");
    assert!(!gets.contains("virtual proctored session"), "{gets}");
    assert!(
        result.contains("projects of type Street Outreach"),
        "{result}"
    );
    // The preview follows unsaved edits: a step made to apply only to returning users.
    set(&mut fields, "s1-audience", "returning");
    let r = press(&c, &key, &fields, "preview").await;
    let result = preview_text(&r);
    let skipped = &result[result.find("Does not apply").expect("skipped")..];
    assert!(
        skipped.contains("Set up or update your learning account"),
        "{skipped}"
    );
    assert_eq!(
        versions(&app, &key).await.len(),
        1,
        "a preview saves nothing"
    );
}

fn picture_text(r: &Reply) -> String {
    let start = r.body.find("class=\"timeline\"").expect("a picture");
    let end = r.body[start..].find("</ol>").expect("its end") + start;
    html_unescape(&support::strip_tags(&r.body[start..end]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn preview_text(r: &Reply) -> String {
    let start = r.body.find("id=\"preview-result\"").expect("a preview");
    let end = r.body[start..].find("</section>").expect("its end") + start;
    html_unescape(&support::strip_tags(&r.body[start..end]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn only_lead_staff_edit_with_the_form(backend: Backend) {
    let app = app_or_skip!(backend);
    let key = seed(0).key;
    let lead = app.signed_in(LEAD).await;
    let (_, fields) = open(&lead, &key).await;
    for who in ["auditor@demo.example.org", "ata@harbor.example.org"] {
        let c = app.signed_in(who).await;
        c.get(&editor(&key)).await.expect(403);
        // The form exactly as the Lead would send it, with this person's own token.
        let own_token = c.get("/").await.csrf().expect("a token of their own");
        let mut all: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| k != "_csrf")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.push(("_csrf", &own_token));
        all.push(("op", "save"));
        c.post_raw(&editor(&key), &all, &[]).await.expect(403);
    }
    assert_eq!(versions(&app, &key).await.len(), 1);
}

on_both_backends!(
    every_seed_opens_in_the_editor_and_saves_back_unchanged,
    adding_a_step,
    removing_a_step,
    reordering_steps,
    errors_are_shown_next_to_their_fields_with_what_was_typed,
    the_preview_shows_the_steps_a_request_gets,
    only_lead_staff_edit_with_the_form,
);
