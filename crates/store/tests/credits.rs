//! Training credits, on SQLite and on PostgreSQL (see `support`):
//! `cargo test -p onramp-store --test credits sqlite` runs the SQLite half only.

#[macro_use]
mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use onramp_store::learning::courses::CourseFields;
use onramp_store::learning::credits::{NewCharge, NewMovement};
use onramp_store::organisation::NewAgency;
use onramp_store::people::PersonFields;
use onramp_store::{Store, StoreError, Tx};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

struct World {
    imp: i64,
    agency: i64,
    course: i64,
    people: Vec<i64>,
}

async fn world(tx: &mut Tx, people: usize) -> World {
    let imp = tx
        .implementation_create("il-510", "IL-510 HMIS", "Lead Org", t(0))
        .await
        .unwrap();
    let agency = tx
        .agency_create(
            &NewAgency {
                implementation_id: imp,
                name: "Harbor House",
                participation_status: "participating",
                participation_date: None,
            },
            t(0),
        )
        .await
        .unwrap();
    let course = tx
        .course_create(
            imp,
            "es-th-sh-workflow",
            &CourseFields {
                title: "Emergency shelter workflow",
                summary: "",
                data_standards: None,
                price_cents: Some(2500),
                restrict_seeking: false,
                tags: "[]",
                objectives: "[]",
                prerequisites: "{}",
            },
            t(0),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..people {
        let email = format!("trainee{i}@harbor.example.org");
        let given = format!("Trainee{i}");
        ids.push(
            tx.person_create(
                imp,
                &PersonFields {
                    given_name: &given,
                    family_name: "Stone",
                    email: &email,
                    agency_id: Some(agency),
                },
                t(0),
            )
            .await
            .unwrap(),
        );
    }
    World {
        imp,
        agency,
        course,
        people: ids,
    }
}

fn grant<'a>(w: &World, credits: i64, reason: &'a str) -> NewMovement<'a> {
    NewMovement {
        implementation_id: w.imp,
        agency_id: w.agency,
        kind: "granted",
        credits,
        amount_cents: None,
        reference: "",
        reason,
        person_id: None,
        course_id: None,
        request_id: None,
        recorded_by: None,
        at: t(1),
    }
}

fn draw(w: &World, person: i64) -> NewMovement<'static> {
    NewMovement {
        implementation_id: w.imp,
        agency_id: w.agency,
        kind: "drawn",
        credits: 1,
        amount_cents: None,
        reference: "",
        reason: "Assigned",
        person_id: Some(person),
        course_id: Some(w.course),
        request_id: None,
        recorded_by: None,
        at: t(2),
    }
}

both_backends!(
    grants_add_draws_take_and_an_empty_ledger_refuses,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let w = world(&mut tx, 2).await;
        assert_eq!(tx.credit_balance(w.agency).await.unwrap(), 0);
        // Nothing to take from: nothing is written.
        assert_eq!(tx.credit_take(&draw(&w, w.people[0])).await.unwrap(), None);
        let g = tx.credit_add(&grant(&w, 2, "Pilot")).await.unwrap();
        assert_eq!((g.credits, g.balance_after), (2, 2));
        let d = tx
            .credit_take(&draw(&w, w.people[0]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.kind.as_str(), d.credits, d.balance_after),
            ("drawn", -1, 1)
        );
        let mut two = draw(&w, w.people[1]);
        two.credits = 2;
        assert_eq!(tx.credit_take(&two).await.unwrap(), None, "two from one");
        assert_eq!(tx.credit_balance(w.agency).await.unwrap(), 1);
        assert_eq!(tx.credit_ledger_sum(w.agency).await.unwrap(), 1);
        let lines = tx.credit_movements(w.agency, 50).await.unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].kind, "drawn", "newest first");
        assert_eq!(lines[0].person_name.as_deref(), Some("Trainee0 Stone"));
        assert_eq!(
            lines[0].course_title.as_deref(),
            Some("Emergency shelter workflow")
        );
        // A negative amount is refused before anything is written.
        assert!(matches!(
            tx.credit_add(&grant(&w, -5, "Sneaky")).await,
            Err(StoreError::Corrupt(_))
        ));
        assert!(
            tx.execute_raw(&format!(
                "UPDATE training_credit_balances SET balance = -1 WHERE agency_id = {}",
                w.agency
            ))
            .await
            .is_err(),
            "the database refuses a negative balance too"
        );
    }
);

both_backends!(
    one_charge_per_person_course_and_request,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let w = world(&mut tx, 1).await;
        let charge = NewCharge {
            implementation_id: w.imp,
            agency_id: w.agency,
            person_id: w.people[0],
            course_id: w.course,
            request_id: None,
            amount_cents: 2500,
            reason: "No credit left",
            at: t(3),
        };
        let c = tx.charge_insert(&charge).await.unwrap().unwrap();
        assert_eq!(c.status, "open");
        assert_eq!(tx.charges_open_total(w.agency).await.unwrap(), (1, 2500));
        assert!(tx.charge_cancel(c.id, "Withdrawn", t(4)).await.unwrap());
        assert!(!tx.charge_cancel(c.id, "Withdrawn", t(4)).await.unwrap());
        assert_eq!(tx.charges_open_total(w.agency).await.unwrap(), (0, 0));
        let lines = tx.charges_of_agency(w.agency).await.unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].status, "cancelled");
    }
);

/// Eight transactions assign the paid course to eight people of an agency holding three
/// credits, at the same time: each reads the balance first and waits before drawing, as a
/// read-then-write check would. Afterwards the balance is zero, never below; three drew and
/// five were charged; the ledger sums to the balance.
async fn concurrent_draws_never_go_below_zero(store: Store) {
    const TASKS: usize = 8;
    const CREDITS: i64 = 3;
    let mut tx = store.begin().await.unwrap();
    let w = world(&mut tx, TASKS).await;
    tx.credit_add(&grant(&w, CREDITS, "Pilot")).await.unwrap();
    tx.commit().await.unwrap();
    let w = std::sync::Arc::new(w);
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store = store.clone();
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let person = w.people[i];
            let mut tx = store.begin().await.unwrap();
            let seen = tx.credit_balance(w.agency).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            let drew = tx.credit_take(&draw(&w, person)).await.unwrap().is_some();
            if !drew {
                tx.charge_insert(&NewCharge {
                    implementation_id: w.imp,
                    agency_id: w.agency,
                    person_id: person,
                    course_id: w.course,
                    request_id: None,
                    amount_cents: 2500,
                    reason: "No credit left",
                    at: t(5),
                })
                .await
                .unwrap()
                .unwrap();
            }
            tx.commit().await.unwrap();
            (seen, drew)
        }));
    }
    let mut draws = 0;
    for task in tasks {
        let (_, drew) = task.await.unwrap();
        draws += usize::from(drew);
    }
    let mut tx = store.read().await.unwrap();
    let balance = tx.credit_balance(w.agency).await.unwrap();
    let (charges, cents) = tx.charges_open_total(w.agency).await.unwrap();
    assert!(balance >= 0);
    assert_eq!(balance, 0);
    assert_eq!(draws, CREDITS as usize);
    assert_eq!(
        draws + charges as usize,
        TASKS,
        "every assignment drew or was charged"
    );
    assert_eq!(cents, 2500 * (TASKS as i64 - CREDITS));
    assert_eq!(tx.credit_ledger_sum(w.agency).await.unwrap(), balance);
    assert!(tx
        .credit_movements(w.agency, 100)
        .await
        .unwrap()
        .iter()
        .all(|m| m.balance_after >= 0));
}

spawned_on_both_backends!(concurrent_draws_never_go_below_zero);
