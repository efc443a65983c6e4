//! Certificates and verification look-ups, on SQLite and on PostgreSQL (see `support`):
//! `cargo test -p onramp-store --test certificates sqlite` runs the SQLite half only.

#[macro_use]
mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use onramp_store::learning::certificates::{Certificate, NewCertificate};
use onramp_store::people::PersonFields;
use onramp_store::{Store, StoreError, Tx};

/// A fixed instant plus `secs` seconds (whole seconds compare equal on both backends).
fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

async fn implementation(tx: &mut Tx, slug: &str) -> i64 {
    tx.implementation_create(slug, &format!("{slug} HMIS"), "Lead Org", t(0))
        .await
        .unwrap()
}

async fn person(tx: &mut Tx, implementation_id: i64, given: &str) -> i64 {
    let email = format!("{}@example.org", given.to_lowercase());
    tx.person_create(
        implementation_id,
        &PersonFields {
            given_name: given,
            family_name: "Delgado",
            email: &email,
            agency_id: None,
        },
        t(0),
    )
    .await
    .unwrap()
}

fn course<'a>(imp: i64, person_id: i64, code: &'a str, reference: &'a str) -> NewCertificate<'a> {
    NewCertificate {
        implementation_id: imp,
        person_id,
        person_name: "Rosa Delgado",
        code,
        subject_kind: "course",
        subject_ref: reference,
        title: "Introduction to HMIS (version 2)",
        completed_at: t(10),
        valid_until: Some(t(365 * 86_400)),
    }
}

both_backends!(
    issued_once_per_person_and_subject,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = implementation(&mut tx, "il-510").await;
        let rosa = person(&mut tx, imp, "Rosa").await;
        let ana = person(&mut tx, imp, "Ana").await;
        let id = tx
            .certificate_insert(&course(imp, rosa, "7KQ2-M9XD-4TRB", "intro-hmis:2"), t(20))
            .await
            .unwrap()
            .expect("issued");
        let c = tx.certificate_get(imp, id).await.unwrap();
        assert_eq!(
            c,
            Certificate {
                id,
                implementation_id: imp,
                person_id: rosa,
                person_name: "Rosa Delgado".into(),
                code: "7KQ2-M9XD-4TRB".into(),
                subject_kind: "course".into(),
                subject_ref: "intro-hmis:2".into(),
                title: "Introduction to HMIS (version 2)".into(),
                completed_at: t(10),
                valid_until: Some(t(365 * 86_400)),
                issued_at: t(20),
                revoked_at: None,
                revoked_reason: None,
            }
        );
        // The same subject again, with another code: nothing is written.
        assert_eq!(
            tx.certificate_insert(&course(imp, rosa, "AAAA-BBBB-CCCC", "intro-hmis:2"), t(30))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            tx.certificate_of_subject(rosa, "course", "intro-hmis:2")
                .await
                .unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            tx.certificate_by_code("AAAA-BBBB-CCCC").await.unwrap(),
            None
        );
        // Another version, another person, a plan: each its own certificate.
        let v3 = tx
            .certificate_insert(&course(imp, rosa, "AAAA-BBBB-CCCC", "intro-hmis:3"), t(40))
            .await
            .unwrap()
            .expect("another version");
        let theirs = tx
            .certificate_insert(&course(imp, ana, "DDDD-EEEE-FFFF", "intro-hmis:2"), t(40))
            .await
            .unwrap()
            .expect("another person");
        let plan = tx
            .certificate_insert(
                &NewCertificate {
                    subject_kind: "plan",
                    subject_ref: "",
                    title: "HMIS training plan",
                    valid_until: None,
                    ..course(imp, rosa, "GGGG-HHHH-JJJJ", "")
                },
                t(50),
            )
            .await
            .unwrap()
            .expect("the plan");
        assert_eq!(
            tx.certificate_get(imp, plan).await.unwrap().valid_until,
            None
        );
        let mine: Vec<i64> = tx
            .certificates_of_person(imp, rosa)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(mine, [plan, v3, id], "newest first");
        assert_eq!(
            tx.certificate_by_code("DDDD-EEEE-FFFF")
                .await
                .unwrap()
                .map(|c| c.id),
            Some(theirs)
        );
        tx.commit().await.unwrap();
    }
);

both_backends!(
    codes_are_unique_across_implementations,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = implementation(&mut tx, "il-510").await;
        let other = implementation(&mut tx, "il-511").await;
        let rosa = person(&mut tx, imp, "Rosa").await;
        let olga = person(&mut tx, other, "Olga").await;
        let id = tx
            .certificate_insert(&course(imp, rosa, "7KQ2-M9XD-4TRB", "intro-hmis:2"), t(20))
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let clash = tx
            .certificate_insert(
                &course(other, olga, "7KQ2-M9XD-4TRB", "intro-hmis:2"),
                t(20),
            )
            .await;
        match clash {
            Err(e @ StoreError::Conflict(_)) => {
                assert!(e.to_string().contains("certificates"), "{e}");
                assert_eq!(
                    e.conflict_message(),
                    Some("Another certificate drew the same verification code. Try again.")
                );
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        drop(tx);

        // Another implementation's certificate is not found by id.
        let mut tx = store.read().await.unwrap();
        assert!(matches!(
            tx.certificate_get(other, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(tx
            .certificates_of_person(other, rosa)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            tx.certificate_by_code("7KQ2-M9XD-4TRB")
                .await
                .unwrap()
                .map(|c| c.implementation_id),
            Some(imp)
        );
    }
);

both_backends!(revoked_once_with_its_reason, |store: Store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = implementation(&mut tx, "il-510").await;
    let other = implementation(&mut tx, "il-511").await;
    let rosa = person(&mut tx, imp, "Rosa").await;
    let id = tx
        .certificate_insert(&course(imp, rosa, "7KQ2-M9XD-4TRB", "intro-hmis:2"), t(20))
        .await
        .unwrap()
        .unwrap();
    assert!(!tx
        .certificate_revoke(other, id, "not theirs", t(25))
        .await
        .unwrap());
    assert!(tx
        .certificate_revoke(imp, id, "Completed with someone else's account", t(30))
        .await
        .unwrap());
    assert!(!tx
        .certificate_revoke(imp, id, "again", t(40))
        .await
        .unwrap());
    let c = tx.certificate_get(imp, id).await.unwrap();
    assert_eq!(c.revoked_at, Some(t(30)));
    assert_eq!(
        c.revoked_reason.as_deref(),
        Some("Completed with someone else's account")
    );
    // A revoked certificate still holds its subject.
    assert_eq!(
        tx.certificate_insert(&course(imp, rosa, "AAAA-BBBB-CCCC", "intro-hmis:2"), t(50))
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
});

both_backends!(
    lookups_are_counted_per_address_and_pruned,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        for s in [0, 10, 20] {
            tx.certificate_lookup_record("203.0.113.7", t(s))
                .await
                .unwrap();
        }
        tx.certificate_lookup_record("198.51.100.1", t(15))
            .await
            .unwrap();
        assert_eq!(
            tx.certificate_lookups_since("203.0.113.7", t(0))
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            tx.certificate_lookups_since("203.0.113.7", t(10))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            tx.certificate_lookups_since("198.51.100.1", t(0))
                .await
                .unwrap(),
            1
        );
        assert_eq!(tx.certificate_lookups_prune(t(15)).await.unwrap(), 2);
        assert_eq!(
            tx.certificate_lookups_since("203.0.113.7", t(0))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            tx.certificate_lookups_since("198.51.100.1", t(0))
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
    }
);

/// Two transactions issue the same certificate at once: one writes it, the other gets None.
async fn concurrent_issue_writes_one(store: Store) {
    let mut tx = store.begin().await.unwrap();
    let imp = implementation(&mut tx, "il-510").await;
    let rosa = person(&mut tx, imp, "Rosa").await;
    tx.commit().await.unwrap();
    let issue = |code: &'static str, hold: u64| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let r = tx
                .certificate_insert(&course(imp, rosa, code, "intro-hmis:2"), t(20))
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
            tx.commit().await.unwrap();
            r
        })
    };
    let a = issue("AAAA-AAAA-AAAA", 150);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let b = issue("BBBB-BBBB-BBBB", 0);
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(
        a.is_some() != b.is_some(),
        "exactly one writes: {a:?} {b:?}"
    );
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.certificates_of_person(imp, rosa).await.unwrap().len(), 1);
}

spawned_on_both_backends!(concurrent_issue_writes_one);
