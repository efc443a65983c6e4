//! Each role's home page lists what waits for that person (with deadlines and a link to
//! each), what they follow, and how to start a request; never another agency's requests.
//!
//! Requests are submitted as the Lead admin would (who may choose the process); every
//! assertion is made on the home page of someone signed in for real.

mod support;

use onramp_app::access::{RequestInput, Submitted};
use support::{Backend, Reply, TestApp};

const LEAD: &str = "lead@demo.example.org";
const HARBOR_ADMIN: &str = "ata@harbor.example.org";
const HARBOR_DIRECTOR: &str = "director@harbor.example.org";
const HARBOR_TRAINEE: &str = "trainee@harbor.example.org";
const NORTHSIDE_ADMIN: &str = "ata@northside.example.org";

/// Seed 003: a supervisor's staff verification and the user's agreement open at once.
const VERIFICATION_FIRST: &str = "verification-and-agreement-then-quiz";
/// Seed 000: the Lead reviews first.
const REVIEW_FIRST: &str = "online-courses-then-login";
/// Made here: the executive director approves first.
const DIRECTOR_FIRST: &str = "director-approves-first";

async fn submit(
    app: &TestApp,
    (given, family, email): (&str, &str, &str),
    agency: &str,
    project: &str,
    process: &str,
) -> i64 {
    let lead = app.ctx(LEAD).await;
    let input = RequestInput {
        given_name: given.into(),
        family_name: family.into(),
        email: email.into(),
        agency_id: app.agency_id(agency).await.to_string(),
        access_level: "end_user".into(),
        projects: vec![app.project_id(project).await.to_string()],
        new_or_returning: "new".into(),
        process: process.into(),
        ..Default::default()
    };
    match onramp_app::access::submit(&app.app, &lead, &input)
        .await
        .expect("submit")
    {
        Submitted::Created(id) => id,
        other => panic!("not created: {other:?}"),
    }
}

/// The text of the home page's section whose heading is `heading`.
fn section(home: &Reply, heading: &str) -> Option<String> {
    let text = home.text();
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let start = text.find(heading)?;
    let rest = &text[start..];
    let end = [
        "What you need to do next",
        "Your HMIS access",
        "Your agency's requests",
        "Access requests by state",
        "Go to",
    ]
    .iter()
    .filter(|h| **h != heading)
    .filter_map(|h| rest[1..].find(h).map(|i| i + 1))
    .min()
    .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// Three live requests: Rosa at Harbor House and Nora at Northside on seed 003, Sam (the
/// demo trainee) at Harbor House on seed 000, and Dale at Harbor House on a process whose
/// first step is the executive director's.
struct World {
    rosa: i64,
    nora: i64,
    sam: i64,
    dale: i64,
}

async fn world(app: &TestApp) -> World {
    let lead = app.ctx(LEAD).await;
    let text = "key = \"director-approves-first\"\nname = \"Director approves first\"\n\n[[steps]]\nkey = \"director-approval\"\ntitle = \"Approve the request as executive director\"\nkind = \"checklist\"\nactor = \"executive_director\"\ndeadline = { days = 5, from = \"step_open\" }\n\n[[steps]]\nkey = \"review\"\ntitle = \"Review the request\"\nkind = \"lead_review\"\nactor = \"lead\"\nafter = [\"director-approval\"]\n";
    onramp_app::processes::save(&app.app, &lead, text)
        .await
        .expect("a process");
    World {
        rosa: submit(
            app,
            ("Rosa", "Delgado", "rosa.delgado@harbor.example.org"),
            "Harbor House",
            "Harbor House Emergency Shelter",
            VERIFICATION_FIRST,
        )
        .await,
        nora: submit(
            app,
            ("Nora", "Quist", "nora.quist@northside.example.org"),
            "Northside Outreach Collective",
            "Northside Street Outreach",
            VERIFICATION_FIRST,
        )
        .await,
        sam: submit(
            app,
            ("Sam", "Ortiz", HARBOR_TRAINEE),
            "Harbor House",
            "Harbor House Rapid Re-Housing",
            REVIEW_FIRST,
        )
        .await,
        dale: submit(
            app,
            ("Dale", "Ferris", "dale.ferris@harbor.example.org"),
            "Harbor House",
            "Harbor House Emergency Shelter",
            DIRECTOR_FIRST,
        )
        .await,
    }
}

async fn the_lead_admin_sees_the_reviews_waiting_and_the_queue_by_state(backend: Backend) {
    let app = app_or_skip!(backend);
    let w = world(&app).await;
    let home = app.signed_in(LEAD).await.get("/").await;
    home.expect(200);
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    // Seed 000's review is the Lead's; the verification and the director's approval are not.
    assert!(todo.contains("for Sam Ortiz (Harbor House)"), "{todo}");
    assert!(home.body.contains(&format!("href=\"/requests/{}\"", w.sam)));
    assert!(!todo.contains("Rosa"), "{todo}");
    assert!(!todo.contains("Staff verification"), "{todo}");
    assert!(
        !todo.contains("Approve the request as executive director"),
        "{todo}"
    );
    let queue = section(&home, "Access requests by state").expect("the queue's counts");
    assert!(queue.contains("4 requests In progress"), "{queue}");
    assert!(queue.contains("0 requests On hold"), "{queue}");
    // One of a kind is said in the singular.
    onramp_app::access::change_status(
        &app.app,
        &app.ctx(LEAD).await,
        w.nora,
        onramp_domain::request::RequestMove::Hold,
        "waiting for the agency's answer",
    )
    .await
    .expect("hold");
    let home = app.signed_in(LEAD).await.get("/").await;
    let queue = section(&home, "Access requests by state").expect("the queue's counts");
    assert!(queue.contains("1 request On hold"), "{queue}");
    assert!(queue.contains("3 requests In progress"), "{queue}");
    assert!(!home.text().contains("1 requests"), "{}", home.text());
    assert!(!home.text().contains("1 access requests"));
    assert!(
        home.body.contains("href=\"/requests/new\""),
        "the Lead may start a request"
    );
    assert!(home.body.contains("href=\"/requests?status=on_hold\""));
}

async fn an_agency_administrator_sees_their_agency_only(backend: Backend) {
    let app = app_or_skip!(backend);
    let w = world(&app).await;
    let home = app.signed_in(HARBOR_ADMIN).await.get("/").await;
    home.expect(200);
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    // The staff verification of Rosa's request waits for Harbor's supervisor.
    assert!(
        todo.contains("Staff verification for HMIS access for Rosa Delgado (Harbor House)"),
        "{todo}"
    );
    assert!(home
        .body
        .contains(&format!("href=\"/requests/{}\"", w.rosa)));
    // Not the Lead's review, not the director's approval, nothing of Northside's.
    assert!(!todo.contains("Review the request"), "{todo}");
    assert!(
        !todo.contains("Approve the request as executive director"),
        "{todo}"
    );
    assert!(!home.text().contains("Nora"), "{}", home.text());
    assert!(!home.body.contains(&format!("/requests/{}\"", w.nora)));
    let following = section(&home, "Your agency's requests").expect("their agency's requests");
    assert!(
        following.contains("3 open requests at your agency"),
        "{following}"
    );
    for name in ["Rosa Delgado", "Sam Ortiz", "Dale Ferris"] {
        assert!(following.contains(name), "{name} in {following}");
    }
    assert!(following.contains("Waiting for:"), "{following}");
    assert!(
        home.body.contains("href=\"/requests/new\""),
        "they may start a request"
    );
    assert!(section(&home, "Access requests by state").is_none());

    // Northside's administrator sees Nora and none of Harbor's.
    let home = app.signed_in(NORTHSIDE_ADMIN).await.get("/").await;
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    assert!(
        todo.contains("for Nora Quist (Northside Outreach Collective)"),
        "{todo}"
    );
    let following = section(&home, "Your agency's requests").expect("their agency's requests");
    assert!(
        following.contains("1 open request at your agency"),
        "{following}"
    );
    for name in ["Rosa", "Sam Ortiz", "Dale"] {
        assert!(!home.text().contains(name), "{name} is Harbor's");
    }
}

async fn an_executive_director_sees_the_approval_waiting_with_its_deadline(backend: Backend) {
    let app = app_or_skip!(backend);
    let w = world(&app).await;
    let home = app.signed_in(HARBOR_DIRECTOR).await.get("/").await;
    home.expect(200);
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    let due = (app.now() + chrono::Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        todo.contains(&format!(
            "Approve the request as executive director for Dale Ferris (Harbor House) — due {due}"
        )),
        "{todo}"
    );
    assert!(home
        .body
        .contains(&format!("href=\"/requests/{}\"", w.dale)));
    // The director is no supervisor: the verification is not theirs.
    assert!(!todo.contains("Staff verification"), "{todo}");
    let following = section(&home, "Your agency's requests").expect("their agency's requests");
    assert!(
        following.contains("3 open requests at your agency"),
        "{following}"
    );
    assert!(!home.text().contains("Nora"));
    // Executive directors do not submit requests.
    assert!(!home.body.contains("href=\"/requests/new\""));
    // Past the deadline, the step says so.
    app.advance(chrono::Duration::days(6));
    let home = app.signed_in(HARBOR_DIRECTOR).await.get("/").await;
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    assert!(todo.contains(&format!("overdue since {due}")), "{todo}");
}

async fn a_trainee_sees_their_own_request_step_by_step(backend: Backend) {
    let app = app_or_skip!(backend);
    let w = world(&app).await;
    // Sam's request starts with the Lead's review; once approved, the training is Sam's.
    let lead = app.ctx(LEAD).await;
    onramp_app::access::act(
        &app.app,
        &lead,
        w.sam,
        "request-review",
        onramp_app::access::StepAction::Approve,
    )
    .await
    .expect("approve");
    let home = app.signed_in(HARBOR_TRAINEE).await.get("/").await;
    home.expect(200);
    let own = section(&home, "Your HMIS access").expect("their request's steps");
    assert!(own.contains("In progress"), "{own}");
    assert!(own.contains("1 of"), "{own}");
    // The tracker lists the steps in order with who acts; the open one is theirs.
    assert!(own.contains("Done"), "{own}");
    assert!(own.contains("Your turn"), "{own}");
    assert!(own.contains("Who acts: HMIS Lead"), "{own}");
    assert!(home.body.contains(&format!("href=\"/requests/{}\"", w.sam)));
    let todo = section(&home, "What you need to do next").expect("a to-do list");
    assert!(
        todo.contains("Complete the online training and quizzes"),
        "{todo}"
    );
    // Their own steps name no one else, and nobody else's request shows.
    assert!(!todo.contains(" for "), "{todo}");
    for name in ["Rosa", "Nora", "Dale"] {
        assert!(!home.text().contains(name), "{name} is not theirs");
    }
    assert!(section(&home, "Your agency's requests").is_none());
    assert!(section(&home, "Access requests by state").is_none());
    assert!(!home.body.contains("href=\"/requests/new\""));
}

on_both_backends!(
    the_lead_admin_sees_the_reviews_waiting_and_the_queue_by_state,
    an_agency_administrator_sees_their_agency_only,
    an_executive_director_sees_the_approval_waiting_with_its_deadline,
    a_trainee_sees_their_own_request_step_by_step,
);
