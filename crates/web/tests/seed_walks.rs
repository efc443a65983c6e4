//! The five seed processes walked over HTTP as their people would walk them: each actor
//! signs in as themselves (with two-step sign-in where their role asks for it), learns of
//! their step from the link in their email, opens it, and acts through the page's forms,
//! until the request is complete. The agency administrator submits; the Lead reviews and
//! provisions; the supervisor verifies; the new person accepts their invitation, sets a
//! password, signs and confirms; the other signers sign; a proctor approves the practice
//! exercise. A step that opens without anyone who must act being told fails the walk.
//!
//! Training steps follow the person's plan: the trainee opens "My training", works through
//! every course it links to (readings read, external pages confirmed, videos watched through
//! with the player's progress reports while the clock moves) and the step completes by
//! itself. Training the plan cannot hold yet (live sessions, quizzes) is recorded as met by
//! the Lead from the request page, as for training done elsewhere.

mod support;

use onramp_domain::agreement::SignerRole;
use onramp_domain::process::{StepActor, StepDef, StepKind, StepStatus};
use onramp_domain::request::RequestStatus;
use onramp_store::reads::*;
use std::collections::{HashMap, HashSet};
use support::{email_text, link_in, Backend, Reply, TestApp, TestClient};

const LEAD: &str = "lead@demo.example.org";
const ATA: &str = "ata@harbor.example.org";
const DIRECTOR: &str = "director@harbor.example.org";
const PROCTOR: &str = "proctor@demo.example.org";
/// The password the new person chooses from their invitation.
const NEW_PASSWORD: &str = "Harbor-Lights-2026";

on_both_backends!(
    a_signature_on_a_text_changed_since_it_was_shown_is_refused,
    seed_000_online_courses_then_login,
    seed_001_agency_checklist_then_account,
    seed_002_introductory_and_advanced_training,
    seed_003_verification_and_agreement_then_quiz,
    seed_004_courses_and_proctored_session,
);

/// The person a walk onboards, and what their request asks for.
struct Newcomer {
    given: &'static str,
    family: &'static str,
    access_level: &'static str,
    responsibilities: &'static [&'static str],
}

impl Newcomer {
    fn email(&self) -> String {
        format!(
            "{}.{}@harbor.example.org",
            self.given.to_lowercase(),
            self.family.to_lowercase()
        )
    }
    fn name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

/// One walk: the app, the request, and a signed-in browser per person who has acted.
struct Walk<'a> {
    app: &'a TestApp,
    who: Newcomer,
    request_id: i64,
    browsers: HashMap<String, TestClient>,
    /// Outbox messages already read (by id): each tells of one turn.
    read: HashSet<i64>,
    /// Steps in the order they were settled.
    settled: Vec<String>,
}

/// The first `value="…"` after `marker` in a page.
fn value_after(body: &str, marker: &str) -> Option<String> {
    let at = body.find(marker)? + marker.len();
    let rest = &body[at..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')? + v;
    Some(support::html_unescape(&rest[v..end]))
}

#[track_caller]
fn expect_saved(r: &Reply, to: &str, what: &str) {
    assert!(
        r.redirects_to(to),
        "{what}: expected a 303 to {to}, got {} to {:?}:\n{}",
        r.status,
        r.location(),
        r.text()
    );
}

impl<'a> Walk<'a> {
    /// The Lead makes `process` the default; the agency administrator submits the request
    /// through the request form.
    async fn start(app: &'a TestApp, process: &str, who: Newcomer) -> Walk<'a> {
        let lead = app.signed_in(LEAD).await;
        let r = lead
            .post_form_from(
                "/admin/processes",
                &format!("/admin/processes/{process}/default"),
                &[],
            )
            .await;
        assert_eq!(r.status.as_u16(), 303, "default process: {}", r.text());
        let ata = app.signed_in(ATA).await;
        let harbor = app.agency_id("Harbor House").await.to_string();
        let shelter = app
            .project_id("Harbor House Emergency Shelter")
            .await
            .to_string();
        let email = who.email();
        let mut fields: Vec<(&str, &str)> = vec![
            ("given_name", who.given),
            ("family_name", who.family),
            ("email", &email),
            ("agency_id", &harbor),
            ("access_level", who.access_level),
            ("projects", &shelter),
            ("new_or_returning", "new"),
            ("note", "Starts on Monday"),
        ];
        for r in who.responsibilities {
            fields.push(("responsibilities", r));
        }
        let r = ata
            .post_form_from("/requests/new", "/requests/new", &fields)
            .await;
        assert_eq!(r.status.as_u16(), 303, "the request form: {}", r.text());
        let location = r.location().expect("the new request's page");
        let request_id: i64 = location
            .strip_prefix("/requests/")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a request page, not {location}"));
        let mut browsers = HashMap::new();
        browsers.insert(LEAD.to_string(), lead);
        browsers.insert(ATA.to_string(), ata);
        Walk {
            app,
            who,
            request_id,
            browsers,
            read: HashSet::new(),
            settled: Vec::new(),
        }
    }

    /// The request's status and its steps with their definitions (what the walk must do next).
    async fn state(&self) -> (RequestStatus, Vec<(StepDef, StepStatus)>) {
        let mut tx = self.app.app.store.read().await.expect("read");
        let imp = self.app.implementation_id;
        let request = tx.request_get(imp, self.request_id).await.expect("request");
        let template = onramp_app::processes::load(&mut tx, imp, request.template_id)
            .await
            .expect("template");
        let steps = tx
            .request_steps(self.request_id)
            .await
            .expect("steps")
            .into_iter()
            .filter_map(|s| {
                let def = template.step(&s.step_key)?.clone();
                Some((def, StepStatus::parse(&s.status)?))
            })
            .collect();
        (
            RequestStatus::parse(&request.status).expect("a status"),
            steps,
        )
    }

    /// Whose turn an agreement step is: the next signer's role.
    async fn next_signer(&self, key: &str) -> SignerRole {
        let lead = self.app.ctx(LEAD).await;
        onramp_app::agreements::signature_record(&self.app.app, &lead, self.request_id, key)
            .await
            .expect("signature record")
            .next
            .unwrap_or_else(|| panic!("{key} waits for no signer"))
    }

    /// Who must act on an open step, by email.
    async fn actor_of(&self, def: &StepDef) -> String {
        let person = self.who.email();
        let of_role = |r: SignerRole| match r {
            SignerRole::User => person.clone(),
            SignerRole::Supervisor | SignerRole::AgencyAdministrator => ATA.to_string(),
            SignerRole::ExecutiveDirector => DIRECTOR.to_string(),
            SignerRole::Lead => LEAD.to_string(),
        };
        match def.kind {
            StepKind::AgreementSigning => of_role(self.next_signer(&def.key).await),
            StepKind::StaffVerification => ATA.to_string(),
            StepKind::PracticeExerciseApproved => PROCTOR.to_string(),
            _ => match def.actor {
                StepActor::Lead => LEAD.to_string(),
                StepActor::AgencyContact | StepActor::Supervisor => ATA.to_string(),
                StepActor::ExecutiveDirector => DIRECTOR.to_string(),
                StepActor::Proctor => PROCTOR.to_string(),
                StepActor::Trainee | StepActor::Signers => person,
            },
        }
    }

    /// Where a step is acted on: its signing page, or the step on the request's page.
    fn step_link(&self, def: &StepDef) -> String {
        if def.kind == StepKind::AgreementSigning {
            format!("/requests/{}/sign/{}", self.request_id, def.key)
        } else {
            format!("/requests/{}#step-{}", self.request_id, def.key)
        }
    }

    /// The unread email to `to` that links to `path`, marked read; None when nobody told them.
    async fn told(&mut self, to: &str, path: &str) -> Option<String> {
        let link = format!("{}{path}", self.app.base);
        for m in self.app.emails_to(to).await {
            if self.read.contains(&m.id) {
                continue;
            }
            let text = email_text(&m);
            let linked = text
                .split_whitespace()
                .any(|w| w.trim_end_matches(['.', ',', ')']) == link);
            if linked {
                self.read.insert(m.id);
                return Some(text);
            }
        }
        None
    }

    /// Signs `email` in, once, in a browser of their own. The new person does so by
    /// accepting the invitation in `welcome` and choosing a password.
    async fn sign_in(&mut self, email: &str, welcome: &str) {
        if !self.browsers.contains_key(email) {
            let c = if email == self.who.email() {
                let invitation =
                    link_in(welcome, &self.app.base, "invitation").unwrap_or_else(|| {
                        panic!("{email}'s first email has no invitation:\n{welcome}")
                    });
                let c = self.app.client();
                let page = c.get(&invitation).await;
                page.expect(200);
                let r = c
                    .post_form(
                        &invitation,
                        &[("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)],
                    )
                    .await;
                expect_saved(&r, "/signin", "the password chosen from the invitation");
                c.sign_in_with(email, NEW_PASSWORD).await;
                c
            } else {
                self.app.signed_in(email).await
            };
            self.browsers.insert(email.to_string(), c);
        }
    }

    /// Acts on the first open step as whoever must, after checking that they were told.
    async fn act_on_next(&mut self, def: StepDef) {
        let id = self.request_id;
        let key = def.key.clone();
        let who = self.actor_of(&def).await;
        let link = self.step_link(&def);
        let Some(email) = self.told(&who, &link).await else {
            let mail: Vec<String> = self
                .app
                .emails_to(&who)
                .await
                .iter()
                .map(|m| format!("{}: {}", m.subject, email_text(m)))
                .collect();
            panic!("step {key:?} is open, but {who} was not told of it with a link to {link}; their email:\n{mail:#?}");
        };
        let request_page = format!("/requests/{id}");
        self.sign_in(&who, &email).await;
        let c = &self.browsers[&who];
        let path = link.split('#').next().unwrap_or(&link).to_string();
        let page = c.get(&path).await;
        page.expect(200);
        let form = format!("action=\"/requests/{id}/steps/{key}\"");
        let has_form = || {
            assert!(
                page.body.contains(&form),
                "{who} opened {path} but finds no form for {key}:\n{}",
                page.text()
            );
        };
        let post = format!("/requests/{id}/steps/{key}");
        match def.kind {
            StepKind::LeadReview => {
                has_form();
                let r = c.post_form(&post, &[("action", "approve")]).await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::StaffVerification => {
                has_form();
                let r = c
                    .post_form(
                        &post,
                        &[("action", "attest"), ("background_check_on", "2026-01-15")],
                    )
                    .await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::Checklist => {
                has_form();
                let r = c
                    .post_form(&post, &[("action", "done"), ("note", "Done")])
                    .await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::FirstSignInConfirmed => {
                has_form();
                let r = c
                    .post_form(
                        &post,
                        &[("action", "done"), ("note", "Signed in to the HMIS")],
                    )
                    .await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::PracticeExerciseApproved => {
                has_form();
                let r = c.post_form(&post, &[("action", "approve")]).await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::AccountProvisioning => {
                let username = value_after(&page.body, "id=\"f-username\"")
                    .expect("the provisioning task proposes a username");
                let r = c
                    .post_form(
                        &format!("/requests/{id}/provision"),
                        &[("username", &username)],
                    )
                    .await;
                expect_saved(&r, &request_page, &key);
            }
            StepKind::AgreementSigning => {
                let version = value_after(&page.body, "name=\"version\"").unwrap_or_else(|| {
                    panic!("{who} opened {path} but may not sign:\n{}", page.text())
                });
                let name = if who == self.who.email() {
                    self.who.name()
                } else {
                    self.app.ctx(&who).await.actor.display_name
                };
                let r = c
                    .post_form(
                        &path,
                        &[
                            ("typed_name", &name),
                            ("agree", "on"),
                            ("version", &version),
                        ],
                    )
                    .await;
                expect_saved(&r, &path, &key);
            }
            StepKind::TrainingPlanComplete if self.plan_has_items(&def).await => {
                // The person works through their plan on their training pages, and the
                // step completes by itself.
                assert!(
                    page.body.contains(&format!("id=\"step-{key}\"")),
                    "{who} opened {path} but the step is not there"
                );
                self.train(&def).await;
            }
            StepKind::TrainingPlanComplete | StepKind::LiveSessionAttended => {
                // The person sees the step on their request; the Lead records it as met from
                // the request, found in the queue.
                assert!(
                    page.body.contains(&format!("id=\"step-{key}\"")),
                    "{who} opened {path} but the step is not there"
                );
                let lead = &self.browsers[LEAD];
                let queue = lead.get("/requests").await;
                queue.expect(200);
                assert!(queue.body.contains(&format!("href=\"/requests/{id}\"")));
                let page = lead.get(&request_page).await;
                page.expect(200);
                assert!(page.body.contains(&form));
                let r = lead
                    .post_form(
                        &post,
                        &[
                            ("action", "met"),
                            ("reason", "Completed at the state HMIS academy"),
                        ],
                    )
                    .await;
                expect_saved(&r, &request_page, &key);
            }
        }
        let (_, steps) = self.state().await;
        if steps.iter().any(|(d, s)| d.key == key && s.is_settled()) {
            self.settled.push(key);
        }
    }

    /// Whether the person's plan holds items for a training step (else the Lead records it
    /// as met, as for training done elsewhere).
    async fn plan_has_items(&self, def: &StepDef) -> bool {
        let person = self.app.person_id(&self.who.email()).await;
        let mut tx = self.app.app.store.read().await.expect("read");
        onramp_app::learning::plans::state_in(&mut tx, person)
            .await
            .expect("plan")
            .is_some_and(|s| s.view.has_groups(&def.plan_parts))
    }

    /// The person opens "My training" and works through every course it links to, lesson
    /// by lesson, until the step is done. Restricted courses have no link until their
    /// prerequisites are complete; each pass may open new ones.
    async fn train(&mut self, def: &StepDef) {
        let me = &self.browsers[&self.who.email()];
        for _ in 0..20 {
            let (_, steps) = self.state().await;
            if steps
                .iter()
                .any(|(d, s)| d.key == def.key && s.is_settled())
            {
                return;
            }
            let plan = me.get("/training").await;
            plan.expect(200);
            let courses = hrefs(&plan.body, "/training/courses/");
            let quizzes = hrefs(&plan.body, "/training/quizzes/");
            assert!(
                !courses.is_empty() || !quizzes.is_empty(),
                "the plan links to no course or quiz it can open:\n{}",
                plan.text()
            );
            for course in courses {
                let page = me.get(&course).await;
                page.expect(200);
                for lesson in hrefs(&page.body, &format!("{course}/lessons/")) {
                    complete_lesson(self.app, me, &lesson).await;
                }
            }
            for quiz in quizzes {
                pass_quiz(self.app, me, &quiz).await;
            }
        }
        panic!("{} did not complete by training", def.key);
    }

    /// Walks the request to completion; returns the steps in the order they were settled.
    async fn walk_to_completion(&mut self) -> Vec<String> {
        for _ in 0..40 {
            let (status, steps) = self.state().await;
            if status == RequestStatus::Completed {
                return self.settled.clone();
            }
            assert_eq!(status, RequestStatus::Open, "the request stopped");
            let Some((def, _)) = steps.into_iter().find(|(_, s)| *s == StepStatus::Open) else {
                panic!("request {} is open with no open step", self.request_id);
            };
            self.act_on_next(def).await;
        }
        panic!("request {} did not complete", self.request_id);
    }

    /// What the walk ends with, for every seed: a live account, the person told, every
    /// step settled, the audit chain intact, and nothing more sent on another sweep.
    async fn finish(&self) {
        let mut tx = self.app.app.store.read().await.expect("read");
        let account = tx
            .hmis_account_of_request(self.request_id)
            .await
            .expect("account")
            .expect("an HMIS account");
        assert_eq!(account.status, "active");
        drop(tx);
        let mail = self.app.emails_to(&self.who.email()).await;
        for t in ["login_information", "training_completion"] {
            assert!(
                mail.iter()
                    .any(|m| m.payload.contains(&format!("\"template\":\"{t}\""))),
                "no {t} email to the person"
            );
        }
        let before = self.app.outbox_total().await;
        onramp_app::access::sweep(&self.app.app)
            .await
            .expect("sweep");
        assert_eq!(self.app.outbox_total().await, before);
        self.app.assert_audit_chain_valid().await;
    }

    /// The signer roles of the request's signatures, in signing order.
    async fn signer_roles(&self) -> Vec<String> {
        let mut tx = self.app.app.store.read().await.expect("read");
        tx.signatures_of_request(self.request_id)
            .await
            .expect("signatures")
            .into_iter()
            .map(|s| s.signer_role)
            .collect()
    }
}

/// Every distinct link in `body` that starts with `prefix`, in page order.
fn hrefs(body: &str, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in body.split("href=\"").skip(1) {
        let link = part.split('"').next().unwrap_or_default();
        if link.starts_with(prefix)
            && !link[prefix.len()..].contains(['/', '#'])
            && !out.iter().any(|l| l == link)
        {
            out.push(link.to_string());
        }
    }
    out
}

/// The duration the server read from a video lesson's file (what the browser's player knows
/// from the file too).
async fn video_duration(app: &TestApp, lesson: &str) -> u64 {
    let mut parts = lesson
        .trim_start_matches("/training/courses/")
        .split("/lessons/");
    let course: i64 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .expect("a course id");
    let key = parts.next().expect("a lesson key");
    let mut tx = app.app.store.read().await.expect("read");
    let versions = tx.course_versions(course).await.expect("versions");
    for v in versions.iter().rev() {
        for l in tx.lessons_of_version(v.id).await.expect("lessons") {
            if l.key == key {
                return l
                    .duration_ms
                    .and_then(|d| u64::try_from(d).ok())
                    .expect("a duration");
            }
        }
    }
    panic!("no lesson {lesson}");
}

/// The value of the first `name="…"` attribute in `body`.
fn attr(body: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let at = body.find(&marker)? + marker.len();
    let end = body[at..].find('"')? + at;
    Some(support::html_unescape(&body[at..end])).filter(|v| !v.is_empty())
}

/// Completes one lesson as its trainee would: a reading read, an external page confirmed,
/// a video watched through at normal speed (the player's reports every five seconds, with
/// the clock moving as they play).
async fn complete_lesson(app: &TestApp, me: &TestClient, lesson: &str) {
    let page = me.get(lesson).await;
    page.expect(200);
    if let Some(view) = attr(&page.body, "data-view") {
        let url = attr(&page.body, "data-progress-url").expect("the player reports somewhere");
        let csrf = attr(&page.body, "data-csrf").expect("the player carries the CSRF token");
        let duration = video_duration(app, lesson).await;
        let mut watched = 0u64;
        for seq in 1..400u32 {
            app.advance(chrono::Duration::seconds(5));
            // The player's played ranges end at the video's end.
            watched = (watched + 5_000).min(duration);
            let body = format!(
                "{{\"view\":\"{view}\",\"seq\":{seq},\"ranges\":[[0,{watched}]],\"position_ms\":{watched}}}"
            );
            let r = me.post_json(&url, &body, &[("x-csrf-token", &csrf)]).await;
            assert_eq!(r.status.as_u16(), 200, "{lesson}: {}", r.body);
            if r.body.contains("\"complete\":true") {
                return;
            }
        }
        panic!("{lesson}: the video never completed");
    }
    let done = format!("{lesson}/done");
    if !page.body.contains(&format!("action=\"{done}\"")) {
        return;
    }
    let what = if page.body.contains("value=\"read\"") {
        "read"
    } else if page.body.contains("value=\"visited\"") {
        "visited"
    } else {
        return;
    };
    let r = me.post_form(&done, &[("what", what)]).await;
    assert_eq!(r.status.as_u16(), 303, "{lesson}: {}", r.text());
}

/// What a trainee who studied the starter courses answers: a piece of each question's text,
/// and the answer (the label of a choice, several labels, "true"/"false", the text typed,
/// or for matching, each prompt's answer).
const STARTER_ANSWERS: &[(&str, &[&str])] = &[
    ("Who administers", &["The HMIS Lead chosen by the CoC"]),
    ("records the people a community serves", &["true"]),
    (
        "uses of HMIS data",
        &[
            "Reports to HUD and other funders",
            "Understanding the community",
        ],
    ),
    (
        "Before creating a new client record",
        &["search for the client thoroughly"],
    ),
    ("duplicate client record is harmless", &["false"]),
    ("approximate date of birth", &["approximate"]),
    (
        "whether they are a veteran",
        &["Client prefers not to answer"],
    ),
    ("How many heads of household", &["1"]),
    (
        "Match each household member",
        &[
            "Head of household's child",
            "Head of household's spouse or partner",
            "Head of household's other relation member",
        ],
    ),
    (
        "Which report does a HUD CoC Program grantee",
        &["The Annual Performance Report (APR)"],
    ),
    ("Data quality problems should be fixed", &["true"]),
    ("how many months long", &["12"]),
];

/// The `(value, label)` of each radio button or checkbox in a question's block.
fn choices_in(block: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in block.split("<input type=\"").skip(1) {
        if !(part.starts_with("radio") || part.starts_with("checkbox")) {
            continue;
        }
        let value = attr(part, "value").unwrap_or_default();
        let label = part
            .split("<label")
            .nth(1)
            .and_then(|l| l.split_once('>'))
            .map(|(_, rest)| rest.split("</label>").next().unwrap_or_default())
            .unwrap_or_default();
        out.push((value, support::html_unescape(label)));
    }
    out
}

/// Takes a quiz from its page as the trainee would, answering what they learned, and
/// checks that the result page says it passed.
async fn pass_quiz(app: &TestApp, me: &TestClient, quiz: &str) {
    let page = me.get(quiz).await;
    page.expect(200);
    if page.body.contains("id=\"quiz-passed\"") {
        return;
    }
    let started = me.post_form(&format!("{quiz}/start"), &[]).await;
    started.expect(303);
    let attempt = started.location().expect("the attempt's page");
    let form = me.get(&attempt).await;
    form.expect(200);
    let mut fields: Vec<(String, String)> = Vec::new();
    for block in form
        .body
        .split("<fieldset class=\"question\" id=\"question-")
        .skip(1)
    {
        let position: String = block.chars().take_while(char::is_ascii_digit).collect();
        let name = format!("q{position}");
        let text = support::html_unescape(block);
        let (_, answer) = STARTER_ANSWERS
            .iter()
            .find(|(fragment, _)| text.contains(fragment))
            .unwrap_or_else(|| panic!("a question the trainee never learned: {text}"));
        let choices = choices_in(block);
        if block.contains("<select") {
            for (i, a) in answer.iter().enumerate() {
                fields.push((format!("{name}_{i}"), (*a).to_string()));
            }
            // The page keeps the prompts in their written order; the key follows it.
        } else if choices.is_empty() || choices.iter().any(|(v, _)| v == "true") {
            // Typed, or true or false.
            fields.push((name, answer[0].to_string()));
        } else {
            for a in answer.iter() {
                let (value, _) = choices
                    .iter()
                    .find(|(_, label)| label.contains(a))
                    .unwrap_or_else(|| panic!("no choice {a} in {text}"));
                fields.push((name.clone(), value.clone()));
            }
        }
    }
    assert!(
        !fields.is_empty(),
        "the attempt asks nothing:\n{}",
        form.text()
    );
    // Reading and answering takes a while.
    app.advance(chrono::Duration::seconds(90));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let submitted = me.post_form(&format!("{attempt}/submit"), &pairs).await;
    submitted.expect(303);
    let result = me.get(&format!("{attempt}/result")).await;
    result.expect(200);
    assert!(
        result.text().contains("You passed"),
        "the trainee did not pass {quiz}:\n{}",
        result.text()
    );
}

async fn seed_000_online_courses_then_login(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Rosa",
        family: "Delgado",
        access_level: "end_user",
        responsibilities: &["enroll_clients"],
    };
    let mut walk = Walk::start(&app, "online-courses-then-login", who).await;
    let steps = walk.walk_to_completion().await;
    assert_eq!(
        steps,
        [
            "request-review",
            "online-training",
            "principles-of-hmis",
            "create-account",
            "first-login",
            "security-agreement",
            "access-granted"
        ]
    );
    assert_eq!(walk.signer_roles().await, ["user"]);
    walk.finish().await;
}

async fn seed_001_agency_checklist_then_account(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Jordan",
        family: "Avery",
        access_level: "end_user",
        responsibilities: &[],
    };
    let mut walk = Walk::start(&app, "agency-checklist-then-account", who).await;
    let steps = walk.walk_to_completion().await;
    assert_eq!(
        steps,
        [
            "training-checklist",
            "learning-account",
            "required-courses",
            "agency-confirms-training",
            "user-agreement",
            "submit-request",
            "create-account"
        ]
    );
    assert_eq!(
        walk.signer_roles().await,
        ["user", "agency_administrator", "executive_director"]
    );
    walk.finish().await;
}

async fn seed_002_introductory_and_advanced_training(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Omar",
        family: "Haddad",
        access_level: "reporting",
        responsibilities: &["reporting"],
    };
    let mut walk = Walk::start(&app, "introductory-and-advanced-training", who).await;
    let steps = walk.walk_to_completion().await;
    assert_eq!(
        steps,
        [
            "request-review",
            "introductory-training",
            "user-agreement",
            "test-client",
            "advanced-training",
            "create-account",
            "first-login"
        ]
    );
    assert_eq!(walk.signer_roles().await, ["user"]);
    walk.finish().await;
}

async fn seed_003_verification_and_agreement_then_quiz(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Lee",
        family: "Park",
        access_level: "assessor",
        responsibilities: &["assessments"],
    };
    let mut walk = Walk::start(&app, "verification-and-agreement-then-quiz", who).await;
    let steps = walk.walk_to_completion().await;
    assert_eq!(
        steps,
        [
            "staff-verification",
            "end-user-agreement",
            "documents-review",
            "assessment-training",
            "training-and-quiz",
            "login-credentials"
        ]
    );
    // The person signed before the Lead's review, alone.
    assert_eq!(walk.signer_roles().await, ["user"]);
    walk.finish().await;
}

async fn seed_004_courses_and_proctored_session(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Mia",
        family: "Stone",
        access_level: "end_user",
        responsibilities: &["enroll_clients"],
    };
    let mut walk = Walk::start(&app, "courses-and-proctored-session", who).await;
    let steps = walk.walk_to_completion().await;
    assert_eq!(
        steps,
        [
            "validate-new-hire",
            "learning-account",
            "course-enrollment",
            "courses",
            "proctored-session",
            "live-credentials",
            "end-user-agreement"
        ]
    );
    assert_eq!(walk.signer_roles().await, ["user", "supervisor"]);
    walk.finish().await;
}

/// The person opens the signing page; the Lead publishes a new text; the person's form,
/// which names the version shown, is refused next to the form and nothing is signed; the
/// page now shows the new text, which they sign.
async fn a_signature_on_a_text_changed_since_it_was_shown_is_refused(backend: Backend) {
    let app = app_or_skip!(backend);
    let who = Newcomer {
        given: "Lee",
        family: "Park",
        access_level: "end_user",
        responsibilities: &[],
    };
    let mut walk = Walk::start(&app, "verification-and-agreement-then-quiz", who).await;
    let id = walk.request_id;
    let sign_path = format!("/requests/{id}/sign/end-user-agreement");
    let email = walk
        .told(&walk.who.email(), &sign_path)
        .await
        .expect("the welcome links to the agreement");
    let person = walk.who.email();
    walk.sign_in(&person, &email).await;
    let me = &walk.browsers[&person];
    let page = me.get(&sign_path).await;
    page.expect(200);
    let shown = value_after(&page.body, "name=\"version\"").expect("the form names its version");

    let lead = &walk.browsers[LEAD];
    let agreement = {
        let mut tx = app.app.store.read().await.expect("read");
        tx.agreement_by_key(app.implementation_id, "end_user")
            .await
            .expect("agreement")
            .expect("the end-user agreement")
    };
    let admin = format!("/admin/agreements/{}", agreement.id);
    let r = lead
        .post_form_from(
            &admin,
            &format!("{admin}/versions"),
            &[(
                "body",
                "# HMIS end-user agreement\n\nI will also lock my phone.\n",
            )],
        )
        .await;
    expect_saved(&r, &admin, "the new version");

    let before = app.audit_head().await;
    let r = me
        .post_form(
            &sign_path,
            &[
                ("typed_name", "Lee Park"),
                ("agree", "on"),
                ("version", &shown),
            ],
        )
        .await;
    r.expect(422);
    let message = r
        .body
        .split_once("id=\"f-version\"")
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map(|(m, _)| support::html_unescape(&support::strip_tags(m)))
        .unwrap_or_else(|| panic!("no message next to the form:\n{}", r.text()));
    assert!(
        message.contains("This agreement changed since you opened it")
            && message.contains("read the new text"),
        "{message}"
    );
    assert!(
        r.body.contains("href=\"#f-version\""),
        "the error summary links to it"
    );
    assert!(
        r.text().contains("I will also lock my phone."),
        "the new text is shown"
    );
    assert_eq!(app.audit_head().await, before, "nothing was signed");
    assert!(walk.signer_roles().await.is_empty());
    // The page now carries the new version: signing it works.
    let now_shown = value_after(&r.body, "name=\"version\"").expect("the form names its version");
    assert_ne!(now_shown, shown);
    let r = me
        .post_form(
            &sign_path,
            &[
                ("typed_name", "Lee Park"),
                ("agree", "on"),
                ("version", &now_shown),
            ],
        )
        .await;
    expect_saved(&r, &sign_path, "the signature on the new text");
    assert_eq!(walk.signer_roles().await, ["user"]);
}
