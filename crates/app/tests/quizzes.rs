//! Quizzes through the services, on both backends: the bank imports with a report (again:
//! nothing changes; edited: a new version), an attempt is resumed rather than doubled, a
//! tampered, late or repeated submission changes nothing saved, a failed attempt emails
//! the person the right answers and a link to retake (and tells the agency administrator),
//! passing completes the plan's item, attempts finished too fast reach the Lead's queue,
//! and an essay waits for a grade.

use onramp_app::learning::plans;
use onramp_app::learning::quizzes::attempts::{self, AnswerRefused, Submitted};
use onramp_app::learning::quizzes::bank::{self, BankFormat, ImportedAs};
use onramp_app::learning::quizzes::{self, review, QuizInput};
use onramp_app::{auth, App, AppError, Ctx};
use onramp_domain::learning::plan::ItemStatus;
use onramp_domain::learning::question::{Question, QuestionKind};
use onramp_store::reads::*;
use onramp_store::PageRequest;

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;
use common::demo_with_clock;

async fn ctx(app: &App, email: &str) -> Ctx {
    let mut tx = app.store.read().await.unwrap();
    let a = tx.account_by_email(email).await.unwrap().unwrap();
    Ctx::new(
        auth::load_actor(&mut tx, a.person_id).await.unwrap(),
        "127.0.0.1",
    )
}

/// Every email queued: recipient, template and plain text, oldest first.
async fn emails(app: &App) -> Vec<(String, String, String)> {
    let mut tx = app.store.read().await.unwrap();
    let page = tx.outbox_list(1, None, PageRequest::ALL).await.unwrap();
    let mut out: Vec<(String, String, String)> = page
        .items
        .into_iter()
        .map(|m| {
            let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
            (
                m.recipient,
                v["template"].as_str().unwrap_or_default().to_string(),
                v["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.reverse();
    out
}

/// The form a person who knows (`right`) or gets wrong every answer would send.
async fn form(app: &App, attempt: i64, right: bool) -> Vec<(String, String)> {
    let mut tx = app.store.read().await.unwrap();
    let mut out = Vec::new();
    for aq in tx.attempt_questions(attempt).await.unwrap() {
        let q: Question = serde_json::from_str(&aq.body).unwrap();
        let name = format!("q{}", aq.position);
        let best = |ws: &[f64]| {
            ws.iter()
                .enumerate()
                .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
                .unwrap()
                .0
        };
        let worst = |ws: &[f64]| {
            ws.iter()
                .enumerate()
                .min_by(|a, b| a.1.partial_cmp(b.1).unwrap())
                .unwrap()
                .0
        };
        match &q.kind {
            QuestionKind::SingleChoice { choices } => {
                let ws: Vec<f64> = choices.iter().map(|c| c.weight).collect();
                let i = if right { best(&ws) } else { worst(&ws) };
                out.push((name, i.to_string()));
            }
            QuestionKind::MultipleResponse { choices } => {
                for (i, c) in choices.iter().enumerate() {
                    if (c.weight > 0.0) == right {
                        out.push((name.clone(), i.to_string()));
                    }
                }
            }
            QuestionKind::TrueFalse { answer, .. } => {
                out.push((name, (*answer == right).to_string()));
            }
            QuestionKind::Matching { pairs } => {
                for (i, p) in pairs.iter().enumerate() {
                    let a = if right {
                        p.answer.clone()
                    } else {
                        pairs[(i + 1) % pairs.len()].answer.clone()
                    };
                    out.push((format!("{name}_{i}"), a));
                }
            }
            QuestionKind::ShortAnswer { answers } => {
                let a = if right {
                    answers[0].text.clone()
                } else {
                    "no idea".into()
                };
                out.push((name, a));
            }
            QuestionKind::Numeric { answers } => {
                let v = if right {
                    answers[0].value
                } else {
                    answers[0].value + 1000.0
                };
                out.push((name, v.to_string()));
            }
            QuestionKind::Essay => out.push((name, "An answer at length.".into())),
        }
    }
    out
}

/// The demo with its people at their stages; Sam's seed 000 plan holds the quiz.
async fn sam_world(store: onramp_store::Store) -> (App, onramp_domain::clock::ManualClock, Ctx) {
    let (app, clock) = demo_with_clock(store).await;
    onramp_app::demo::load_training_stages(&app).await.unwrap();
    let sam = ctx(&app, "trainee@harbor.example.org").await;
    (app, clock, sam)
}

async fn quiz_status(app: &App, who: &Ctx) -> ItemStatus {
    let s = plans::person_plan(app, who, who.actor.person_id)
        .await
        .unwrap()
        .unwrap();
    s.view
        .groups
        .iter()
        .flat_map(|g| g.items.iter())
        .find(|i| i.item.to_string() == "quiz:hmis-fundamentals")
        .unwrap()
        .status
        .clone()
}

both_backends!(
    the_bank_imports_with_a_report_and_versions,
    |store| async move {
        let (app, _, _) = sam_world(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let text = "$CATEGORY: top/Security/Passwords\n\n// [id:T-1]\n::Share::Share your password? {F}\n\n::Broken::Never closes {=a ~b\n\nA description only.\n\n// [id:T-2]\n::No key::Pick. {~a ~b}\n";
        let report = bank::import(&app, &lead, BankFormat::Gift, text)
            .await
            .unwrap();
        let outcomes: Vec<&ImportedAs> = report.lines.iter().map(|l| &l.outcome).collect();
        assert_eq!(outcomes.len(), 4, "{:?}", report.lines);
        assert_eq!(outcomes[0], &ImportedAs::Added);
        assert!(matches!(outcomes[1], ImportedAs::Rejected(_)));
        assert!(matches!(outcomes[2], ImportedAs::Skipped(_)));
        assert!(
            matches!(outcomes[3], ImportedAs::Rejected(_)),
            "{:?}",
            outcomes[3]
        );
        assert_eq!(report.lines[0].category, "Security / Passwords");
        // Again: nothing changes. Edited: a new version of the same question.
        let again = bank::import(&app, &lead, BankFormat::Gift, text)
            .await
            .unwrap();
        assert_eq!(again.lines[0].outcome, ImportedAs::Unchanged);
        let edited = text.replace("Share your password?", "Share your password with anyone?");
        let edited = bank::import(&app, &lead, BankFormat::Gift, &edited)
            .await
            .unwrap();
        assert_eq!(edited.lines[0].outcome, ImportedAs::Revised);
        let mut tx = app.store.read().await.unwrap();
        let q = tx
            .bank_question_by_id_number(1, "T-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(q.current_version, 2);
        drop(tx);
        // The whole bank exports and reads back the same questions, in both formats.
        for format in [BankFormat::Gift, BankFormat::MoodleXml] {
            let out = bank::export(&app, &lead, format).await.unwrap();
            let back = bank::read_file(format, &out).unwrap();
            let bank_now = bank::bank(&app, &lead).await.unwrap();
            let held: usize = bank_now.iter().map(|c| c.questions.len()).sum();
            assert_eq!(back.len(), held, "{format:?}");
        }
        // A file that is not one: a message on the field, nothing saved.
        let e = bank::import(
            &app,
            &lead,
            BankFormat::MoodleXml,
            "<!DOCTYPE x [<!ENTITY a 'b'>]><quiz/>",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid(ref f) if f[0].field == "file"),
            "{e:?}"
        );
        // Only those who build courses import.
        let sam = ctx(&app, "trainee@harbor.example.org").await;
        assert!(matches!(
            bank::import(&app, &sam, BankFormat::Gift, text).await,
            Err(AppError::Forbidden)
        ));
    }
);

both_backends!(
    a_failed_quiz_is_retaken_and_passing_completes_the_plan_item,
    |store| async move {
        let (app, clock, sam) = sam_world(store).await;
        assert_eq!(quiz_status(&app, &sam).await, ItemStatus::Available);
        let first = attempts::start(&app, &sam, "hmis-fundamentals")
            .await
            .unwrap()
            .unwrap();
        // Another tab resumes the same attempt.
        assert_eq!(
            attempts::start(&app, &sam, "hmis-fundamentals")
                .await
                .unwrap()
                .unwrap(),
            first
        );
        let view = attempts::view(&app, &sam, first).await.unwrap();
        assert_eq!(view.questions.len(), 9);
        assert_eq!(view.seconds_left, Some(30 * 60));
        // Someone else's attempt is not found.
        let rosa = ctx(&app, "rosa.diaz@harbor.example.org").await;
        assert!(matches!(
            attempts::view(&app, &rosa, first).await,
            Err(AppError::NotFound)
        ));
        // A tampered form is refused and nothing saved changes.
        let wrong = form(&app, first, false).await;
        attempts::save(&app, &sam, first, &wrong[..1])
            .await
            .unwrap()
            .unwrap();
        let saved_before = attempts::view(&app, &sam, first).await.unwrap().questions;
        for bad in [
            vec![("q99".to_string(), "0".to_string())],
            vec![
                ("q1".to_string(), "7".to_string()),
                ("q1_0".to_string(), "not an answer".to_string()),
            ],
        ] {
            let mut f = form(&app, first, true).await;
            f.extend(bad);
            let e = attempts::submit(&app, &sam, first, &f).await.unwrap_err();
            assert!(matches!(e, AppError::Invalid(_)), "{e:?}");
        }
        assert_eq!(
            attempts::view(&app, &sam, first).await.unwrap().questions,
            saved_before
        );
        // Every answer wrong: failed, and told so with the right answers and a link to retake.
        clock.advance(chrono::Duration::minutes(5));
        assert_eq!(
            attempts::submit(&app, &sam, first, &wrong).await.unwrap(),
            Submitted::Graded
        );
        let result = attempts::result(&app, &sam, first).await.unwrap();
        assert_eq!(result.attempt.passed, Some(false));
        assert_eq!(result.attempt.percent, Some(0.0));
        assert!(result.shows_answers && result.items.iter().all(|i| i.right_answer.is_some()));
        let mail = emails(&app).await;
        let (to, _, text) = mail
            .iter()
            .rev()
            .find(|(_, t, _)| t == "quiz_result")
            .unwrap();
        assert_eq!(to, "trainee@harbor.example.org");
        assert!(
            text.contains("did not pass")
                && text.contains("The right answer:")
                && text.contains("/training/quizzes/hmis-fundamentals"),
            "{text}"
        );
        assert!(
            mail.iter()
                .any(|(to, t, _)| t == "quiz_failed" && to == "ata@harbor.example.org"),
            "the agency administrator is told"
        );
        // The same form again (another tab, a resubmission): nothing changes.
        assert_eq!(
            attempts::submit(&app, &sam, first, &wrong).await.unwrap(),
            Submitted::Refused(AnswerRefused::AlreadySubmitted)
        );
        assert_eq!(
            attempts::save(&app, &sam, first, &wrong).await.unwrap(),
            Err(AnswerRefused::AlreadySubmitted)
        );
        assert!(!matches!(
            quiz_status(&app, &sam).await,
            ItemStatus::Complete { .. }
        ));
        // Retaken and passed: the plan's item is complete.
        let second = attempts::start(&app, &sam, "hmis-fundamentals")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(second, first);
        let right = form(&app, second, true).await;
        clock.advance(chrono::Duration::minutes(5));
        assert_eq!(
            attempts::submit(&app, &sam, second, &right).await.unwrap(),
            Submitted::Graded
        );
        let result = attempts::result(&app, &sam, second).await.unwrap();
        assert_eq!(result.attempt.passed, Some(true));
        assert_eq!(result.attempt.percent, Some(100.0));
        assert!(!result.attempt.too_fast);
        assert!(matches!(
            quiz_status(&app, &sam).await,
            ItemStatus::Complete { .. }
        ));
        let overview = attempts::overview(&app, &sam, "hmis-fundamentals")
            .await
            .unwrap();
        assert!(overview.passed);
        assert_eq!(overview.kept.map(|a| a.id), Some(second));
        // Rosa's plan does not hold this quiz.
        assert!(matches!(
            attempts::overview(&app, &rosa, "hmis-fundamentals").await,
            Err(AppError::NotFound)
        ));
    }
);

both_backends!(late_and_too_fast_attempts, |store| async move {
    let (app, clock, sam) = sam_world(store).await;
    let id = attempts::start(&app, &sam, "hmis-fundamentals")
        .await
        .unwrap()
        .unwrap();
    let right = form(&app, id, true).await;
    attempts::save(&app, &sam, id, &right[..2])
        .await
        .unwrap()
        .unwrap();
    // Past the 30-minute limit and its grace: refused; the saved answers are graded.
    clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        attempts::submit(&app, &sam, id, &right).await.unwrap(),
        Submitted::Refused(AnswerRefused::Late)
    );
    let r = attempts::result(&app, &sam, id).await.unwrap();
    let earned: f64 = r.items.iter().filter_map(|i| i.mark).sum();
    assert!(
        earned <= 2.0 + 1e-9,
        "only the saved answers count: {earned}"
    );
    assert_eq!(r.attempt.passed, Some(false));
    // Nine questions in no time at all: flagged for the Lead, with its timeline.
    let fast = attempts::start(&app, &sam, "hmis-fundamentals")
        .await
        .unwrap()
        .unwrap();
    let right = form(&app, fast, true).await;
    assert_eq!(
        attempts::submit(&app, &sam, fast, &right).await.unwrap(),
        Submitted::Graded
    );
    let lead = ctx(&app, "lead@demo.example.org").await;
    let q = review::queues(&app, &lead).await.unwrap();
    assert_eq!(q.too_fast.iter().map(|a| a.id).collect::<Vec<_>>(), [fast]);
    let r = review::attempt_review(&app, &lead, fast).await.unwrap();
    assert_eq!(r.timeline.len(), 9);
    assert_eq!(r.floor_seconds, 18);
    assert!(matches!(
        review::queues(&app, &sam).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        review::clear_flag(&app, &lead, fast, " ").await,
        Err(AppError::Invalid(_))
    ));
    review::clear_flag(
        &app,
        &lead,
        fast,
        "Retook it after the course; checked with the agency",
    )
    .await
    .unwrap();
    assert!(review::queues(&app, &lead)
        .await
        .unwrap()
        .too_fast
        .is_empty());
    // Item analysis over the graded attempts: figures in range.
    let quiz = quizzes::list(&app, &lead)
        .await
        .unwrap()
        .into_iter()
        .find(|(q, _)| q.key == "hmis-fundamentals")
        .unwrap()
        .0;
    let stats = review::statistics(&app, &lead, quiz.id).await.unwrap();
    assert_eq!(stats.attempts, 2);
    assert_eq!(stats.questions.len(), 9);
    for s in &stats.questions {
        let f = s.stats.facility.unwrap();
        assert!((0.0..=100.0).contains(&f), "{s:?}");
    }
});

both_backends!(
    an_essay_waits_for_a_person_to_grade_it,
    |store| async move {
        let (app, clock, sam) = sam_world(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        bank::import(
        &app,
        &lead,
        BankFormat::Gift,
        "$CATEGORY: top/Consent\n\n// [id:ESSAY-1]\n::Consent::Explain HMIS consent to a client. {}\n\n// [id:CONSENT-2]\n::Refuse::A client may refuse consent. {T}\n",
    )
    .await
    .unwrap();
        // The Lead makes the fundamentals quiz ask these two instead; a bad line is named.
        let (quiz, mut input) = quizzes::for_edit(
            &app,
            &lead,
            quizzes::list(&app, &lead)
                .await
                .unwrap()
                .into_iter()
                .find(|(q, _)| q.key == "hmis-fundamentals")
                .unwrap()
                .0
                .id,
        )
        .await
        .unwrap();
        input.questions = "question: ESSAY-1\nquestion: NOPE\n".into();
        input.pass_percent = "101".into();
        let e = quizzes::save(&app, &lead, Some(quiz.id), &input)
            .await
            .unwrap_err();
        let AppError::Invalid(problems) = e else {
            panic!("{e:?}")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(
            fields.contains(&"pass_percent") && fields.contains(&"questions"),
            "{problems:?}"
        );
        input = QuizInput {
            questions: "question: ESSAY-1\nquestion: CONSENT-2\n".into(),
            pass_percent: "50".into(),
            ..input
        };
        quizzes::save(&app, &lead, Some(quiz.id), &input)
            .await
            .unwrap();
        let id = attempts::start(&app, &sam, "hmis-fundamentals")
            .await
            .unwrap()
            .unwrap();
        let right = form(&app, id, true).await;
        clock.advance(chrono::Duration::minutes(2));
        assert_eq!(
            attempts::submit(&app, &sam, id, &right).await.unwrap(),
            Submitted::AwaitingGrading
        );
        assert!(!matches!(
            quiz_status(&app, &sam).await,
            ItemStatus::Complete { .. }
        ));
        let q = review::queues(&app, &lead).await.unwrap();
        assert_eq!(q.to_grade.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
        let essay_position = attempts::result(&app, &lead, id)
            .await
            .unwrap()
            .items
            .iter()
            .find(|i| i.mark.is_none())
            .unwrap()
            .position;
        assert!(matches!(
            review::grade_essay(&app, &lead, id, essay_position, "3", "").await,
            Err(AppError::Invalid(_))
        ));
        review::grade_essay(
            &app,
            &lead,
            id,
            essay_position,
            "0.5",
            "Mention the right to refuse",
        )
        .await
        .unwrap();
        let r = attempts::result(&app, &sam, id).await.unwrap();
        assert_eq!(r.attempt.percent, Some(75.0));
        assert_eq!(r.attempt.passed, Some(true));
        assert!(matches!(
            quiz_status(&app, &sam).await,
            ItemStatus::Complete { .. }
        ));
        assert!(review::queues(&app, &lead)
            .await
            .unwrap()
            .to_grade
            .is_empty());
    }
);

both_backends!(
    a_quiz_lesson_is_done_when_its_quiz_is_passed,
    |store| async move {
        use onramp_app::learning::courses::{self, CourseInput, LessonInput};
        use onramp_app::learning::lessons::{self, Confirmation};
        let (app, clock, sam) = sam_world(store).await;
        let lead = ctx(&app, "lead@demo.example.org").await;
        let course = courses::create(
            &app,
            &lead,
            &CourseInput {
                key: "reporting-check".into(),
                title: "Reporting check".into(),
                summary: "A reading, then the reporting quiz.".into(),
                ..CourseInput::default()
            },
        )
        .await
        .unwrap();
        let lesson = |key: &str, kind: &str, quiz: &str| LessonInput {
            key: key.into(),
            title: format!("Lesson {key}"),
            kind: kind.into(),
            body: "Read about the APR.".into(),
            quiz: quiz.into(),
            ..LessonInput::default()
        };
        courses::save_lesson(&app, &lead, course, None, &lesson("apr", "reading", ""))
            .await
            .unwrap();
        let slot = courses::save_lesson(
            &app,
            &lead,
            course,
            None,
            &lesson("check", "quiz", "no-such-quiz"),
        )
        .await
        .unwrap();
        // A quiz lesson names a quiz that exists.
        match courses::publish(&app, &lead, course).await {
            Err(AppError::Invalid(f)) => assert!(
                f.iter()
                    .any(|e| e.field == "lesson-check-quiz" && e.message.contains("no-such-quiz")),
                "{f:?}"
            ),
            other => panic!("published with a missing quiz: {other:?}"),
        }
        courses::save_lesson(
            &app,
            &lead,
            course,
            Some(slot),
            &lesson("check", "quiz", "hmis-reporting"),
        )
        .await
        .unwrap();
        courses::publish(&app, &lead, course).await.unwrap();

        // Not in Sam's plan, not a lesson of his: he cannot take it.
        assert!(matches!(
            attempts::start(&app, &sam, "hmis-reporting").await,
            Err(AppError::NotFound)
        ));
        {
            let mut tx = app.store.begin().await.unwrap();
            let c = tx
                .course_get(sam.implementation_id(), course)
                .await
                .unwrap();
            plans::enrol_in(&mut tx, &c, sam.actor.person_id, app.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let page = lessons::open(&app, &sam, course, "check", || "v".into())
            .await
            .unwrap();
        assert!(!page.course.lessons[page.index].complete);
        let id = attempts::start(&app, &sam, "hmis-reporting")
            .await
            .unwrap()
            .unwrap();
        let right = form(&app, id, true).await;
        clock.advance(chrono::Duration::minutes(3));
        assert_eq!(
            attempts::submit(&app, &sam, id, &right).await.unwrap(),
            Submitted::Graded
        );
        let c = lessons::course(&app, &sam, course).await.unwrap();
        let done: Vec<(&str, bool)> = c
            .lessons
            .iter()
            .map(|l| (l.lesson.key.as_str(), l.complete))
            .collect();
        assert_eq!(done, [("apr", false), ("check", true)]);
        assert!(!c.complete);
        lessons::confirm(&app, &sam, course, "apr", Confirmation::Read)
            .await
            .unwrap();
        let c = lessons::course(&app, &sam, course).await.unwrap();
        assert!(c.complete, "the course completes with its last lesson");
    }
);
