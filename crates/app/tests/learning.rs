//! Training through the services: the starter curriculum imports once (a second import
//! changes nothing; an exported course imports back the same), the rule preview gives the
//! plan a real request gets, and a project course stays restricted until the introduction
//! is complete, and a video counts as watched only when the server's clock allows it.

use onramp_app::access::{self, RequestInput, StepAction, Submitted};
use onramp_app::learning::packages::{self, ImportOutcome};
use onramp_app::learning::{lessons, plans};
use onramp_app::{auth, App, Ctx};
use onramp_domain::learning::plan::ItemStatus;
use onramp_domain::learning::rules::PlanFacts;
use onramp_store::reads::*;
use onramp_store::PageRequest;

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;
use common::{demo, demo_with_clock};
use onramp_domain::learning::coverage::{ProgressReport, Refused};

async fn ctx(app: &App, email: &str) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    let a = tx.account_by_email(email).await.unwrap().unwrap();
    Ctx::new(
        auth::load_actor(&mut tx, a.person_id).await.unwrap(),
        "127.0.0.1",
    )
}

both_backends!(the_starter_curriculum_imports_once, |store| async move {
    let app = demo(store).await;
    let lead = ctx(&app, "lead@demo.example.org").await;
    let mut tx = app.store.read().await.unwrap();
    let courses = tx.courses(1).await.unwrap();
    drop(tx);
    assert!(courses.len() >= 20, "{} courses", courses.len());
    assert!(
        courses.iter().all(|c| c.published_version == Some(1)),
        "every starter course is published"
    );
    // Importing again changes nothing.
    let mut tx = app.store.begin().await.unwrap();
    for pkg in packages::starter_curriculum().unwrap() {
        let r = packages::import_in(&mut tx, &app, &lead, &pkg)
            .await
            .unwrap();
        assert_eq!(
            r.outcome,
            ImportOutcome::Unchanged { version: 1 },
            "{}",
            r.key
        );
        assert!(r.problems.is_empty(), "{}: {:?}", r.key, r.problems);
    }
    tx.commit().await.unwrap();
    // A course with a video exports and imports back as the same version.
    let intro = courses.iter().find(|c| c.key == "intro-hmis").unwrap();
    let (_, zip) = packages::export_zip(&app, &lead, intro.id).await.unwrap();
    let r = packages::import_zip(&app, &lead, &zip).await.unwrap();
    assert_eq!(r.outcome, ImportOutcome::Unchanged { version: 1 });
    // A package with one broken lesson imports the rest and names the broken one.
    let mut pkg =
        onramp_formats::course_package::read_package_zip(&zip, &Default::default()).unwrap();
    pkg.manifest.key = onramp_domain::Slug::parse("intro-hmis-copy").unwrap();
    if let Some(l) = pkg.lessons.iter_mut().find(|l| {
        matches!(
            l.content,
            onramp_formats::course_package::PackageContent::Video { .. }
        )
    }) {
        if let onramp_formats::course_package::PackageContent::Video { captions, .. } =
            &mut l.content
        {
            *captions = "WEBVTT\n\n00:09.000 --> 00:01.000\nBackwards\n".into();
        }
    }
    let mut tx = app.store.begin().await.unwrap();
    let r = packages::import_in(&mut tx, &app, &lead, &pkg)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(r.outcome, ImportOutcome::Created { version: 1 });
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].place.starts_with("lesson "),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems[0].message.contains("captions"),
        "{:?}",
        r.problems
    );
    assert_eq!(r.lessons.len(), pkg.lessons.len() - 1);
});

async fn harbor_request(app: &App, who: &Ctx, process: &str, email: &str, level: &str) -> i64 {
    let mut tx = app.store.read().await.unwrap();
    let agencies = tx
        .agencies_list(1, &Default::default(), PageRequest::ALL)
        .await
        .unwrap()
        .items;
    let harbor = agencies
        .iter()
        .find(|a| a.name == "Harbor House")
        .unwrap()
        .id;
    let shelter = tx
        .projects_list(1, &Default::default(), PageRequest::ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.name == "Harbor House Emergency Shelter")
        .unwrap()
        .id;
    drop(tx);
    let input = RequestInput {
        given_name: "Mia".into(),
        family_name: "Stone".into(),
        email: email.into(),
        agency_id: harbor.to_string(),
        access_level: level.into(),
        responsibilities: vec!["enroll_clients".into()],
        projects: vec![shelter.to_string()],
        new_or_returning: "new".into(),
        process: process.into(),
        ..Default::default()
    };
    match access::submit(app, who, &input).await.unwrap() {
        Submitted::Created(id) => id,
        other => panic!("{other:?}"),
    }
}

/// A request of seed 004's process for a new end user, accepted: the person has a plan.
/// Gives the Lead, the person, the request and the person's id.
async fn accepted_trainee(app: &App) -> (Ctx, Ctx, i64, i64) {
    let lead = ctx(app, "lead@demo.example.org").await;
    let id = harbor_request(
        app,
        &lead,
        "courses-and-proctored-session",
        "mia.stone@harbor.example.org",
        "end_user",
    )
    .await;
    let ata = ctx(app, "ata@harbor.example.org").await;
    access::act(
        app,
        &ata,
        id,
        "validate-new-hire",
        StepAction::Done {
            note: String::new(),
        },
    )
    .await
    .unwrap();
    let person = {
        let mut tx = app.store.read().await.unwrap();
        tx.request_get(1, id).await.unwrap().person_id
    };
    let me = {
        let mut tx = app.store.read().await.unwrap();
        Ctx::new(
            auth::load_actor(&mut tx, person).await.unwrap(),
            "127.0.0.1",
        )
    };
    access::act(
        app,
        &me,
        id,
        "learning-account",
        StepAction::Done {
            note: String::new(),
        },
    )
    .await
    .unwrap();
    access::act(app, &lead, id, "course-enrollment", StepAction::Approve)
        .await
        .unwrap();
    (lead, me, id, person)
}

both_backends!(
    the_preview_gives_the_plan_a_request_gets,
    |store| async move {
        let app = demo(store).await;
        let (lead, me, _, person) = accepted_trainee(&app).await;
        let state = plans::person_plan(&app, &me, person)
            .await
            .unwrap()
            .expect("a plan once accepted");
        let preview = plans::preview(
            &app,
            &lead,
            &PlanFacts {
                process: "courses-and-proctored-session".into(),
                access_level: "end_user".into(),
                responsibilities: vec!["enroll_clients".into()],
                project_types: vec![0],
                funders: vec![],
                returning: false,
            },
        )
        .await
        .unwrap();
        assert_eq!(preview, state.spec);
        let items: Vec<String> = preview.items().iter().map(|i| i.to_string()).collect();
        assert_eq!(items, ["course:intro-hmis", "course:es-th-sh-workflow"]);
        // The project course is restricted until the introduction is complete.
        let status = |s: &plans::PlanState, key: &str| {
            s.view
                .groups
                .iter()
                .flat_map(|g| g.items.iter())
                .find(|i| i.item.key.as_str() == key)
                .unwrap()
                .status
                .clone()
        };
        assert!(
            matches!(status(&state, "es-th-sh-workflow"), ItemStatus::Restricted { ref reason } if reason.contains("Introduction to Homeless Management Information System"))
        );
        let es = state.courses["es-th-sh-workflow"].id;
        let refused = lessons::open(&app, &me, es, "project-types", || "v1".into()).await;
        assert!(
            refused.is_err(),
            "a restricted course's lessons do not open"
        );
        // Read-only users get the alternate introduction instead, and no project course.
        let ro = plans::preview(
            &app,
            &lead,
            &PlanFacts {
                process: "courses-and-proctored-session".into(),
                access_level: "read_only".into(),
                project_types: vec![0],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let items: Vec<String> = ro.items().iter().map(|i| i.to_string()).collect();
        assert_eq!(items, ["course:intro-hmis-read-only"]);
        assert_eq!(ro.replaced[0].0.to_string(), "course:intro-hmis");
    }
);

both_backends!(
    a_video_is_watched_by_the_servers_clock,
    |store| async move {
        let (app, clock) = demo_with_clock(store).await;
        let (_, me, _, person) = accepted_trainee(&app).await;
        let state = plans::person_plan(&app, &me, person)
            .await
            .unwrap()
            .unwrap();
        let intro = state.courses["intro-hmis"].id;
        let course = lessons::course(&app, &me, intro).await.unwrap();
        let video = course
            .lessons
            .iter()
            .find(|l| l.lesson.kind == "video")
            .unwrap()
            .lesson
            .clone();
        let d = u64::try_from(video.duration_ms.unwrap()).unwrap();
        let mut n = 0;
        let mut open = |_: ()| {
            n += 1;
            format!("view-{n}")
        };
        let view = lessons::open(&app, &me, intro, &video.key, || open(()))
            .await
            .unwrap()
            .view
            .unwrap();
        let send = |view: &str, seq: u32, ranges: Vec<(u64, u64)>| ProgressReport {
            view: view.into(),
            seq,
            position_ms: ranges.last().map(|r| r.1).unwrap_or(0),
            ranges,
        };
        let second = chrono::Duration::seconds(1);
        clock.advance(second * 4);
        let a = lessons::report_progress(
            &app,
            &me,
            intro,
            &video.key,
            &send(&view, 1, vec![(0, 4_000)]),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(!a.complete);
        // Seeking to the end and playing the last seconds does not complete it.
        clock.advance(second * 3);
        let a = lessons::report_progress(
            &app,
            &me,
            intro,
            &video.key,
            &send(&view, 2, vec![(0, 4_000), (d - 3_000, d)]),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(!a.complete);
        assert_eq!(a.furthest_ms, 4_000);
        let mut shown = a.share;
        // Opening the lesson again and again, each time claiming two seconds more at once,
        // does not renew the speed allowance: at 7 s of wall-clock, 2x plus 2 s is 16 s.
        let mut view = view;
        let mut refused = 0;
        for k in 1..=10u64 {
            let old = view.clone();
            view = lessons::open(&app, &me, intro, &video.key, || open(()))
                .await
                .unwrap()
                .view
                .unwrap();
            let claim = vec![(0, (4_000 + 2_000 * k).min(d))];
            match lessons::report_progress(&app, &me, intro, &video.key, &send(&view, 1, claim))
                .await
                .unwrap()
            {
                Ok(a) => assert!(!a.complete),
                Err(why) => {
                    assert_eq!(why, Refused::TooFast);
                    refused += 1;
                }
            }
            let r = lessons::report_progress(
                &app,
                &me,
                intro,
                &video.key,
                &send(&old, 9, vec![(0, 5_000)]),
            )
            .await
            .unwrap();
            assert_eq!(r.unwrap_err(), Refused::StaleView);
        }
        assert!(refused >= 5, "{refused} refused");
        let course = lessons::course(&app, &me, intro).await.unwrap();
        let row = course
            .lessons
            .iter()
            .find(|l| l.lesson.key == video.key)
            .unwrap();
        assert!(row.progress.as_ref().unwrap().covered_ms <= 16_000);
        assert!(!row.complete);
        // Watching on at normal speed completes it, and the share shown never goes back.
        let mut at = 4_000;
        let mut seq = 0;
        let mut complete = false;
        while at < d - 3_000 {
            clock.advance(second * 5);
            at = (at + 5_000).min(d - 3_000);
            seq += 1;
            let a = lessons::report_progress(
                &app,
                &me,
                intro,
                &video.key,
                &send(&view, seq, vec![(0, at), (d - 3_000, d)]),
            )
            .await
            .unwrap()
            .unwrap();
            assert!(a.share >= shown);
            shown = a.share;
            complete = a.complete;
        }
        assert!(complete);
        let course = lessons::course(&app, &me, intro).await.unwrap();
        let row = course
            .lessons
            .iter()
            .find(|l| l.lesson.key == video.key)
            .unwrap();
        assert!(row.complete);
        assert_eq!(row.progress.as_ref().unwrap().how, "watched");
        assert!(row.progress.as_ref().unwrap().refused_reports >= 10);
    }
);

both_backends!(
    the_demo_shows_people_at_several_stages_of_their_plans,
    |store| async move {
        let app = demo(store).await;
        onramp_app::demo::load_training_stages(&app).await.unwrap();
        // Loading again adds nothing.
        onramp_app::demo::load_training_stages(&app).await.unwrap();
        let share = |s: &plans::PlanState| s.view.share(&[]);
        let sam = ctx(&app, "trainee@harbor.example.org").await;
        let s = plans::person_plan(&app, &sam, sam.actor.person_id)
            .await
            .unwrap()
            .unwrap();
        let items: Vec<String> = s.spec.items().iter().map(|i| i.to_string()).collect();
        assert_eq!(
            items,
            [
                "course:security-awareness",
                "course:hmis-fundamentals",
                "quiz:hmis-fundamentals"
            ]
        );
        assert_eq!(share(&s), 0.0);
        let ada = ctx(&app, "trainee@northside.example.org").await;
        let s = plans::person_plan(&app, &ada, ada.actor.person_id)
            .await
            .unwrap()
            .unwrap();
        assert!(!s.view.is_complete(&[]));
        let intro = lessons::course(&app, &ada, s.courses["intro-hmis"].id)
            .await
            .unwrap();
        assert!(intro.share > 0.0 && intro.share < 1.0, "{}", intro.share);
        assert!(s
            .view
            .groups
            .iter()
            .flat_map(|g| g.items.iter())
            .any(|i| matches!(i.status, ItemStatus::Restricted { .. })));
        let rosa = ctx(&app, "rosa.diaz@harbor.example.org").await;
        let s = plans::person_plan(&app, &rosa, rosa.actor.person_id)
            .await
            .unwrap()
            .unwrap();
        assert!(s.view.is_complete(&[]));
        let mut tx = app.store.read().await.unwrap();
        let requests = tx.requests_of_person(rosa.actor.person_id).await.unwrap();
        assert_eq!(requests.len(), 1);
        let steps = tx.request_steps(requests[0].id).await.unwrap();
        let training = steps
            .iter()
            .find(|s| s.step_key == "required-courses")
            .unwrap();
        assert_eq!(
            training.status, "done",
            "the training step completed by itself"
        );
        assert_eq!(
            tx.requests_of_person(sam.actor.person_id)
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

both_backends!(
    a_snapshot_reads_what_a_transaction_reads,
    |store| async move {
        let app = demo(store).await;
        onramp_app::demo::load_training_stages(&app).await.unwrap();
        let mut people = Vec::new();
        for email in [
            "trainee@harbor.example.org",
            "trainee@northside.example.org",
            "rosa.diaz@harbor.example.org",
        ] {
            people.push(ctx(&app, email).await.actor.person_id);
        }
        // Every read of a plan decodes the same rows on both drivers: dates, booleans
        // (integers on SQLite), empty and missing values.
        async fn reads<R: PlanReads + CourseReads>(r: &mut R, person: i64) -> String {
            let plan = r.plan_current(person).await.unwrap().unwrap();
            format!(
                "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                r.completions_of(person).await.unwrap(),
                r.plan_waivers(plan.id).await.unwrap(),
                r.enrolments_of_person(person).await.unwrap(),
                r.lesson_progress_of_person(person).await.unwrap(),
                r.lesson_outlines_of_open_enrolments(person).await.unwrap(),
                r.courses(plan.implementation_id).await.unwrap(),
                plan,
            )
        }
        for &person in &people {
            let on_tx = reads(&mut app.store.read().await.unwrap(), person).await;
            let on_snapshot = reads(&mut app.store.snapshot().await.unwrap(), person).await;
            assert_eq!(on_tx, on_snapshot);
            assert!(on_tx.contains("LessonProgress") || person != people[1]);
        }
        // A snapshot keeps reading what it first read, whatever is written meanwhile.
        let sam = people[0];
        let mut snapshot = app.store.snapshot().await.unwrap();
        let before = snapshot.completions_of(sam).await.unwrap().len();
        let mut tx = app.store.begin().await.unwrap();
        tx.completion_add(&onramp_store::learning::plans::NewCompletion {
            implementation_id: 1,
            person_id: sam,
            item_kind: "course",
            item_key: "security-awareness",
            item_version: Some(1),
            completed_at: app.now(),
            evidence: "recorded",
            recorded_by: None,
            reason: "",
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(snapshot.completions_of(sam).await.unwrap().len(), before);
        drop(snapshot);
        let mut after = app.store.snapshot().await.unwrap();
        assert_eq!(after.completions_of(sam).await.unwrap().len(), before + 1);

        // The courses a plan shows are kept between visits, until a course changes.
        let sam_ctx = ctx(&app, "trainee@harbor.example.org").await;
        let plan = |app: &App| {
            let app = app.clone();
            let sam_ctx = sam_ctx.clone();
            async move {
                plans::person_plan(&app, &sam_ctx, sam_ctx.actor.person_id)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let first = plan(&app).await;
        let course = &first.courses["security-awareness"];
        assert!(course.retired_at.is_none());
        assert!(std::sync::Arc::ptr_eq(
            &first.courses,
            &plan(&app).await.courses
        ));
        let lead = ctx(&app, "lead@demo.example.org").await;
        onramp_app::learning::courses::set_retired(&app, &lead, course.id, true)
            .await
            .unwrap();
        let changed = plan(&app).await;
        assert!(changed.courses["security-awareness"].retired_at.is_some());
        assert!(!std::sync::Arc::ptr_eq(&first.courses, &changed.courses));
    }
);

/// The same report sent eight times at once (two tabs, a retrying network): exactly one is
/// counted, the others are refused, and the row holds that one report's coverage.
async fn concurrent_reports_of_one_viewing_count_once(store: onramp_store::Store) {
    let (app, clock) = demo_with_clock(store).await;
    let (_, me, _, person) = accepted_trainee(&app).await;
    let state = plans::person_plan(&app, &me, person)
        .await
        .unwrap()
        .unwrap();
    let intro = state.courses["intro-hmis"].id;
    let course = lessons::course(&app, &me, intro).await.unwrap();
    let video = course
        .lessons
        .iter()
        .find(|l| l.lesson.kind == "video")
        .unwrap()
        .lesson
        .clone();
    let view = lessons::open(&app, &me, intro, &video.key, || "view-1".into())
        .await
        .unwrap()
        .view
        .unwrap();
    clock.advance(chrono::Duration::seconds(4));
    let report = ProgressReport {
        view: view.clone(),
        seq: 1,
        ranges: vec![(0, 4_000)],
        position_ms: 4_000,
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, me, report, key) = (app.clone(), me.clone(), report.clone(), video.key.clone());
        tasks.push(tokio::spawn(async move {
            lessons::report_progress(&app, &me, intro, &key, &report)
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(why) => assert!(
                matches!(why, Refused::Replayed | Refused::OutOfOrder),
                "{why:?}"
            ),
        }
    }
    assert_eq!(accepted, 1, "one report counted");
    let c = lessons::course(&app, &me, intro).await.unwrap();
    let l = c
        .lessons
        .iter()
        .find(|l| l.lesson.key == video.key)
        .unwrap();
    let share = 4_000.0 / video.duration_ms.unwrap() as f64;
    assert!((l.share - share).abs() < 1e-9, "{} vs {share}", l.share);
}

spawned_on_both_backends!(concurrent_reports_of_one_viewing_count_once);
