//! The store's tests. Every test is written once and runs on SQLite and on PostgreSQL (see
//! `support`): `cargo test -p onramp-store postgres` runs the PostgreSQL half only.

#[macro_use]
mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use onramp_domain::audit::{AuditKey, ChainProblem, ChainVerifier};
use onramp_store::audit::{audit_time, AuditFilter, NewAuditEvent};
use onramp_store::organisation::{AgencyFilter, Catalogue, NewAgency, ProjectFilter};
use onramp_store::outbox::{NewOutboxMessage, STATUS_FAILED, STATUS_PENDING, STATUS_SENT};
use onramp_store::people::{PeopleFilter, PersonFields};
use onramp_store::sessions::NewSession;
use onramp_store::{Backend, EmailTemplate, Page, PageRequest, Store, StoreError, Tx};
use std::fmt::Debug;

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

/// A fixed instant plus `secs` seconds (whole seconds compare equal on both backends).
fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const MISSING: i64 = 987_654_321;

async fn new_implementation(tx: &mut Tx, slug: &str) -> i64 {
    tx.implementation_create(slug, &format!("{slug} HMIS"), "Lead Org", t(0))
        .await
        .unwrap()
}

async fn new_agency(tx: &mut Tx, implementation_id: i64, name: &str) -> i64 {
    tx.agency_create(
        &NewAgency {
            implementation_id,
            name,
            participation_status: "participating",
            participation_date: None,
        },
        t(0),
    )
    .await
    .unwrap()
}

async fn new_person(
    tx: &mut Tx,
    implementation_id: i64,
    given: &str,
    family: &str,
    agency_id: Option<i64>,
) -> i64 {
    let email = format!(
        "{}.{}@example.org",
        given.to_lowercase(),
        family.to_lowercase()
    );
    tx.person_create(
        implementation_id,
        &PersonFields {
            given_name: given,
            family_name: family,
            email: &email,
            agency_id,
        },
        t(0),
    )
    .await
    .unwrap()
}

fn agency_names(p: &Page<onramp_store::Agency>) -> Vec<&str> {
    p.items.iter().map(|a| a.name.as_str()).collect()
}

fn project_names(p: &Page<onramp_store::Project>) -> Vec<&str> {
    p.items.iter().map(|a| a.name.as_str()).collect()
}

fn person_names(p: &Page<onramp_store::Person>) -> Vec<String> {
    p.items.iter().map(|a| a.display_name()).collect()
}

#[track_caller]
fn assert_not_found<T: Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("expected StoreError::NotFound, got {other:?}"),
    }
}

/// A unique violation must come back as a `Conflict` whose text names the table (PostgreSQL
/// gives the constraint, `<table>_…_key`; SQLite the message, `… failed: <table>.<column>`).
#[track_caller]
fn assert_conflict<T: Debug>(r: Result<T, StoreError>, table: &str) {
    match r {
        Err(StoreError::Conflict(what)) => {
            assert!(
                what.contains(table),
                "the conflict should name {table}: {what:?}"
            )
        }
        other => panic!("expected StoreError::Conflict on {table}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// the harness itself and transactions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sqlite_half_runs_on_sqlite() {
    support::on_sqlite(|store| async move {
        assert_eq!(store.backend(), Backend::Sqlite);
        assert_eq!(store.begin().await.unwrap().backend(), Backend::Sqlite);
    })
    .await;
}

#[tokio::test]
async fn the_postgres_half_runs_on_postgres() {
    support::on_postgres(|store| async move {
        assert_eq!(store.backend(), Backend::Postgres);
        assert_eq!(store.read().await.unwrap().backend(), Backend::Postgres);
    })
    .await;
}

both_backends!(ping_and_migrate_again, |store| async move {
    store.ping().await.unwrap();
    // Migrating an up-to-date database is a no-op.
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
});

both_backends!(a_dropped_transaction_rolls_back, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    new_agency(&mut tx, imp, "Never Saved").await;
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    new_agency(&mut tx, imp, "Saved").await;
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let page = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(agency_names(&page), ["Saved"]);
    assert_eq!(page.total, 1);
});

// ---------------------------------------------------------------------------------------
// implementations and CoCs
// ---------------------------------------------------------------------------------------

both_backends!(implementations_and_cocs, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let chicago = tx
        .implementation_create("chicago", "Chicago HMIS", "All Chicago", t(0))
        .await
        .unwrap();
    let rockford = tx
        .implementation_create("rockford", "Rockford HMIS", "Rockford Lead", t(1))
        .await
        .unwrap();
    assert_ne!(chicago, rockford);

    let got = tx.implementation_get(chicago).await.unwrap();
    assert_eq!(got.id, chicago);
    assert_eq!(got.slug, "chicago");
    assert_eq!(got.name, "Chicago HMIS");
    assert_eq!(got.hmis_lead_name, "All Chicago");
    assert!(got.active);
    assert_eq!(got.created_at, t(0));
    assert_eq!(got.updated_at, t(0));

    tx.implementation_update(
        chicago,
        "Chicago CoC HMIS",
        "All Chicago Making Homelessness History",
        t(5),
    )
    .await
    .unwrap();
    let got = tx.implementation_get(chicago).await.unwrap();
    assert_eq!(got.name, "Chicago CoC HMIS");
    assert_eq!(
        got.hmis_lead_name,
        "All Chicago Making Homelessness History"
    );
    assert_eq!(got.created_at, t(0));
    assert_eq!(got.updated_at, t(5));

    assert_eq!(
        tx.implementation_by_slug("rockford")
            .await
            .unwrap()
            .unwrap()
            .id,
        rockford
    );
    assert!(tx
        .implementation_by_slug("nowhere")
        .await
        .unwrap()
        .is_none());
    let all: Vec<String> = tx
        .implementations_all()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(all, ["Chicago CoC HMIS", "Rockford HMIS"]);
    assert_not_found(tx.implementation_get(MISSING).await);

    // CoCs: replaced as a whole, listed in order, kept per implementation.
    assert!(tx.cocs_of(chicago).await.unwrap().is_empty());
    tx.cocs_replace(chicago, &["IL-511".into(), "IL-510".into()])
        .await
        .unwrap();
    tx.cocs_replace(rockford, &["IL-501".into()]).await.unwrap();
    assert_eq!(tx.cocs_of(chicago).await.unwrap(), ["IL-510", "IL-511"]);
    tx.cocs_replace(chicago, &["IL-510".into()]).await.unwrap();
    assert_eq!(tx.cocs_of(chicago).await.unwrap(), ["IL-510"]);
    assert_eq!(tx.cocs_of(rockford).await.unwrap(), ["IL-501"]);
    tx.cocs_replace(chicago, &[]).await.unwrap();
    assert!(tx.cocs_of(chicago).await.unwrap().is_empty());
    assert_eq!(tx.cocs_of(rockford).await.unwrap(), ["IL-501"]);
    tx.commit().await.unwrap();

    // The same CoC twice in one replacement breaks the key.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.cocs_replace(chicago, &["IL-510".into(), "IL-510".into()])
            .await,
        "implementation_cocs",
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.implementation_create("chicago", "Again", "Lead", t(9))
            .await,
        "implementations",
    );
});

// ---------------------------------------------------------------------------------------
// agencies
// ---------------------------------------------------------------------------------------

both_backends!(agency_create_update_get, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let id = tx
        .agency_create(
            &NewAgency {
                implementation_id: imp,
                name: "Hope House",
                participation_status: "participating",
                participation_date: Some(date(2024, 7, 1)),
            },
            t(0),
        )
        .await
        .unwrap();
    let a = tx.agency_get(imp, id).await.unwrap();
    assert_eq!(a.id, id);
    assert_eq!(a.implementation_id, imp);
    assert_eq!(a.name, "Hope House");
    assert_eq!(a.participation_status, "participating");
    assert_eq!(a.participation_date, Some(date(2024, 7, 1)));
    assert!(a.active);
    assert_eq!((a.created_at, a.updated_at), (t(0), t(0)));

    tx.agency_update(
        id,
        &NewAgency {
            implementation_id: imp,
            name: "Hope House Inc.",
            participation_status: "suspended",
            participation_date: None,
        },
        false,
        t(60),
    )
    .await
    .unwrap();
    let a = tx.agency_get(imp, id).await.unwrap();
    assert_eq!(a.name, "Hope House Inc.");
    assert_eq!(a.participation_status, "suspended");
    assert_eq!(a.participation_date, None);
    assert!(!a.active);
    assert_eq!((a.created_at, a.updated_at), (t(0), t(60)));

    // Another implementation can neither see nor change it.
    assert_not_found(tx.agency_get(other, id).await);
    tx.agency_update(
        id,
        &NewAgency {
            implementation_id: other,
            name: "Hijacked",
            participation_status: "participating",
            participation_date: None,
        },
        true,
        t(120),
    )
    .await
    .unwrap();
    assert_eq!(
        tx.agency_get(imp, id).await.unwrap().name,
        "Hope House Inc."
    );
    assert_not_found(tx.agency_get(imp, MISSING).await);

    // Names are unique within an implementation only.
    new_agency(&mut tx, other, "Hope House Inc.").await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.agency_create(
            &NewAgency {
                implementation_id: imp,
                name: "Hope House Inc.",
                participation_status: "participating",
                participation_date: None,
            },
            t(0),
        )
        .await,
        "agencies",
    );
});

both_backends!(
    agency_search_is_case_insensitive_and_literal,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = new_implementation(&mut tx, "il-510").await;
        for name in [
            "Hope House",
            "HOPE Center",
            "Open Door 50% Off",
            "Route 500 Outreach",
            "Under_score Shelter",
            "Underscore Shelter",
            r"Back\Slash Services",
            "Backslash Services",
        ] {
            new_agency(&mut tx, imp, name).await;
        }
        tx.commit().await.unwrap();

        let mut r = store.read().await.unwrap();
        async fn search(r: &mut Tx, imp: i64, s: &str) -> Vec<String> {
            let f = AgencyFilter {
                search: Some(s.into()),
                ..Default::default()
            };
            let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
            assert_eq!(page.total as usize, page.items.len());
            page.items.into_iter().map(|a| a.name).collect()
        }
        assert_eq!(
            search(&mut r, imp, "hope").await,
            ["HOPE Center", "Hope House"]
        );
        assert_eq!(
            search(&mut r, imp, "  hOpE ").await,
            ["HOPE Center", "Hope House"]
        );
        assert_eq!(search(&mut r, imp, "HOUSE").await, ["Hope House"]);
        // `%` and `_` in the search text are literal characters, not wildcards.
        assert_eq!(search(&mut r, imp, "50%").await, ["Open Door 50% Off"]);
        assert_eq!(search(&mut r, imp, "%").await, ["Open Door 50% Off"]);
        assert_eq!(search(&mut r, imp, "under_").await, ["Under_score Shelter"]);
        assert_eq!(search(&mut r, imp, "_").await, ["Under_score Shelter"]);
        // So is the escape character.
        assert_eq!(search(&mut r, imp, r"k\s").await, [r"Back\Slash Services"]);
        assert!(search(&mut r, imp, "nothing like it").await.is_empty());
        assert_eq!(search(&mut r, imp, "").await.len(), 8);
    }
);

both_backends!(agency_filters_and_pages, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let mut ids = Vec::new();
    for (name, status, active) in [
        ("Alpha Services", "participating", true),
        ("Bravo Housing", "participating", true),
        ("Charlie Outreach", "pending", true),
        ("Delta Shelter", "participating", false),
        ("Echo Center", "withdrawn", false),
        ("Foxtrot Family", "participating", true),
        ("Golf Home", "pending", true),
    ] {
        let id = tx
            .agency_create(
                &NewAgency {
                    implementation_id: imp,
                    name,
                    participation_status: status,
                    participation_date: None,
                },
                t(0),
            )
            .await
            .unwrap();
        if !active {
            let a = tx.agency_get(imp, id).await.unwrap();
            tx.agency_update(
                id,
                &NewAgency {
                    implementation_id: imp,
                    name: &a.name,
                    participation_status: &a.participation_status,
                    participation_date: None,
                },
                false,
                t(1),
            )
            .await
            .unwrap();
        }
        ids.push(id);
    }
    new_agency(&mut tx, other, "Alpha Elsewhere").await;
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let all = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(all.total, 7);
    assert_eq!(agency_names(&all)[0], "Alpha Services");
    assert!(!agency_names(&all).contains(&"Alpha Elsewhere"));

    let f = AgencyFilter {
        status: Some("participating".into()),
        ..Default::default()
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert_eq!(
        agency_names(&page),
        [
            "Alpha Services",
            "Bravo Housing",
            "Delta Shelter",
            "Foxtrot Family"
        ]
    );

    let f = AgencyFilter {
        active: Some(false),
        ..Default::default()
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert_eq!(agency_names(&page), ["Delta Shelter", "Echo Center"]);

    let f = AgencyFilter {
        status: Some("participating".into()),
        active: Some(true),
        ..Default::default()
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert_eq!(
        agency_names(&page),
        ["Alpha Services", "Bravo Housing", "Foxtrot Family"]
    );
    assert_eq!(page.total, 3);

    // `only`: a subset, combined with other filters, and the empty list means none.
    let f = AgencyFilter {
        only: Some(vec![ids[1], ids[2], ids[4]]),
        ..Default::default()
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert_eq!(
        agency_names(&page),
        ["Bravo Housing", "Charlie Outreach", "Echo Center"]
    );
    let f = AgencyFilter {
        search: Some("o".into()),
        status: Some("pending".into()),
        active: Some(true),
        only: Some(vec![ids[2], ids[6], ids[0]]),
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert_eq!(agency_names(&page), ["Charlie Outreach", "Golf Home"]);
    let f = AgencyFilter {
        only: Some(vec![]),
        ..Default::default()
    };
    let page = r.agencies_list(imp, &f, PageRequest::ALL).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 0);
    // Another implementation's agency is not let in by `only`.
    let f = AgencyFilter {
        only: Some(vec![ids[0] + 7]),
        ..Default::default()
    };
    assert_eq!(
        r.agencies_list(imp, &f, PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );

    // Pages: the total counts every match, the items are the page's.
    let p1 = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::new(1, 3))
        .await
        .unwrap();
    assert_eq!(
        agency_names(&p1),
        ["Alpha Services", "Bravo Housing", "Charlie Outreach"]
    );
    assert_eq!((p1.total, p1.page, p1.per_page, p1.pages()), (7, 1, 3, 3));
    let p2 = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::new(2, 3))
        .await
        .unwrap();
    assert_eq!(
        agency_names(&p2),
        ["Delta Shelter", "Echo Center", "Foxtrot Family"]
    );
    let p3 = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::new(3, 3))
        .await
        .unwrap();
    assert_eq!(agency_names(&p3), ["Golf Home"]);
    assert_eq!(p3.total, 7);
    let p4 = r
        .agencies_list(imp, &AgencyFilter::default(), PageRequest::new(4, 3))
        .await
        .unwrap();
    assert!(p4.items.is_empty());
    assert_eq!(p4.total, 7);
    let f = AgencyFilter {
        active: Some(true),
        ..Default::default()
    };
    let p = r
        .agencies_list(imp, &f, PageRequest::new(2, 2))
        .await
        .unwrap();
    assert_eq!(agency_names(&p), ["Charlie Outreach", "Foxtrot Family"]);
    assert_eq!(p.total, 5);
});

// ---------------------------------------------------------------------------------------
// projects
// ---------------------------------------------------------------------------------------

both_backends!(projects_with_agency_names_and_filters, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let zeta = new_agency(&mut tx, imp, "Zeta Services").await;
    let acme = new_agency(&mut tx, imp, "Acme Housing").await;
    let elsewhere = new_agency(&mut tx, other, "Elsewhere").await;

    let rrh = tx
        .project_create(imp, zeta, "Rapid Rehousing", 13, t(0))
        .await
        .unwrap();
    let es = tx
        .project_create(imp, zeta, "Emergency Shelter", 0, t(0))
        .await
        .unwrap();
    let psh = tx
        .project_create(imp, acme, "Permanent Supportive Housing", 3, t(0))
        .await
        .unwrap();
    let so = tx
        .project_create(imp, acme, "Street Outreach 100%", 4, t(0))
        .await
        .unwrap();
    let foreign = tx
        .project_create(other, elsewhere, "Rapid Rehousing", 13, t(0))
        .await
        .unwrap();

    let p = tx.project_get(imp, rrh).await.unwrap();
    assert_eq!(p.id, rrh);
    assert_eq!(p.implementation_id, imp);
    assert_eq!(p.agency_id, zeta);
    assert_eq!(p.agency_name, "Zeta Services");
    assert_eq!(p.name, "Rapid Rehousing");
    assert_eq!(p.hud_project_type, 13);
    assert!(p.active);
    assert_eq!((p.created_at, p.updated_at), (t(0), t(0)));

    // Update: moves it to another agency, renames, deactivates.
    tx.project_update(
        imp,
        es,
        acme,
        "Emergency Shelter (night by night)",
        1,
        false,
        t(30),
    )
    .await
    .unwrap();
    let p = tx.project_get(imp, es).await.unwrap();
    assert_eq!(p.agency_id, acme);
    assert_eq!(p.agency_name, "Acme Housing");
    assert_eq!(p.name, "Emergency Shelter (night by night)");
    assert_eq!(p.hud_project_type, 1);
    assert!(!p.active);
    assert_eq!((p.created_at, p.updated_at), (t(0), t(30)));

    // Other implementations can neither see nor change it.
    assert_not_found(tx.project_get(other, rrh).await);
    assert_not_found(tx.project_get(imp, foreign).await);
    assert_not_found(tx.project_get(imp, MISSING).await);
    tx.project_update(other, rrh, elsewhere, "Hijacked", 7, true, t(40))
        .await
        .unwrap();
    assert_eq!(
        tx.project_get(imp, rrh).await.unwrap().name,
        "Rapid Rehousing"
    );
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    // Ordered by agency name, then project name.
    let all = r
        .projects_list(imp, &ProjectFilter::default(), PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        project_names(&all),
        [
            "Emergency Shelter (night by night)",
            "Permanent Supportive Housing",
            "Street Outreach 100%",
            "Rapid Rehousing"
        ]
    );
    assert_eq!(all.total, 4);
    assert_eq!(all.items[3].agency_name, "Zeta Services");

    async fn list(r: &mut Tx, imp: i64, f: ProjectFilter) -> Vec<String> {
        let page = r.projects_list(imp, &f, PageRequest::ALL).await.unwrap();
        assert_eq!(page.total as usize, page.items.len());
        page.items.into_iter().map(|p| p.name).collect()
    }
    let f = ProjectFilter {
        search: Some("HOUSING".into()),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, f).await,
        ["Permanent Supportive Housing", "Rapid Rehousing"]
    );
    let f = ProjectFilter {
        search: Some("0%".into()),
        ..Default::default()
    };
    assert_eq!(list(&mut r, imp, f).await, ["Street Outreach 100%"]);
    let f = ProjectFilter {
        agency_id: Some(zeta),
        ..Default::default()
    };
    assert_eq!(list(&mut r, imp, f).await, ["Rapid Rehousing"]);
    let f = ProjectFilter {
        project_type: Some(3),
        ..Default::default()
    };
    assert_eq!(list(&mut r, imp, f).await, ["Permanent Supportive Housing"]);
    let f = ProjectFilter {
        active: Some(false),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, f).await,
        ["Emergency Shelter (night by night)"]
    );
    let f = ProjectFilter {
        active: Some(true),
        only_agencies: Some(vec![acme]),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, f).await,
        ["Permanent Supportive Housing", "Street Outreach 100%"]
    );
    let f = ProjectFilter {
        only_agencies: Some(vec![]),
        ..Default::default()
    };
    assert!(list(&mut r, imp, f).await.is_empty());
    let f = ProjectFilter {
        only_agencies: Some(vec![elsewhere]),
        ..Default::default()
    };
    assert!(list(&mut r, imp, f).await.is_empty());
    let f = ProjectFilter {
        search: Some("e".into()),
        agency_id: Some(acme),
        project_type: Some(4),
        active: Some(true),
        only_agencies: Some(vec![acme, zeta]),
    };
    assert_eq!(list(&mut r, imp, f).await, ["Street Outreach 100%"]);

    let p = r
        .projects_list(imp, &ProjectFilter::default(), PageRequest::new(2, 3))
        .await
        .unwrap();
    assert_eq!(project_names(&p), ["Rapid Rehousing"]);
    assert_eq!((p.total, p.pages()), (4, 2));
    drop(r);

    // Unique per agency: the same name elsewhere is fine.
    let mut tx = store.begin().await.unwrap();
    tx.project_create(imp, acme, "Rapid Rehousing", 13, t(0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.project_get(imp, psh).await.unwrap().hud_project_type, 3);
    assert_eq!(
        tx.project_get(imp, so).await.unwrap().agency_name,
        "Acme Housing"
    );
    assert_conflict(
        tx.project_create(imp, acme, "Permanent Supportive Housing", 3, t(0))
            .await,
        "projects",
    );
});

// ---------------------------------------------------------------------------------------
// catalogues
// ---------------------------------------------------------------------------------------

both_backends!(catalogues_of_both_kinds, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    tx.commit().await.unwrap();

    for (cat, other_cat) in [
        (Catalogue::AccessLevels, Catalogue::Responsibilities),
        (Catalogue::Responsibilities, Catalogue::AccessLevels),
    ] {
        let mut tx = store.begin().await.unwrap();
        // Each round creates the same codes in its own kind.
        let read_only = tx
            .catalogue_create(cat, imp, "read_only", "Read only", "Sees clients")
            .await
            .unwrap();
        let case_mgr = tx
            .catalogue_create(cat, imp, "case_mgr", "Case Manager", "")
            .await
            .unwrap();
        let ce = tx
            .catalogue_create(cat, imp, "ce", "Coordinated Entry Specialist", "CE team")
            .await
            .unwrap();
        tx.catalogue_create(cat, other, "read_only", "Read only", "")
            .await
            .unwrap();

        let e = tx.catalogue_get(cat, imp, read_only).await.unwrap();
        assert_eq!(e.id, read_only);
        assert_eq!(e.implementation_id, imp);
        assert_eq!(e.code, "read_only");
        assert_eq!(e.name, "Read only");
        assert_eq!(e.description, "Sees clients");
        assert!(e.active);

        tx.catalogue_update(
            cat,
            imp,
            case_mgr,
            "Case Manager / End User",
            "Enters clients",
            false,
        )
        .await
        .unwrap();
        let e = tx.catalogue_get(cat, imp, case_mgr).await.unwrap();
        assert_eq!(
            (e.name.as_str(), e.description.as_str(), e.active),
            ("Case Manager / End User", "Enters clients", false)
        );
        assert_eq!(e.code, "case_mgr");

        assert_not_found(tx.catalogue_get(cat, other, ce).await);
        assert_not_found(tx.catalogue_get(cat, imp, MISSING).await);
        tx.catalogue_update(cat, other, ce, "Hijacked", "", false)
            .await
            .unwrap();
        assert_eq!(
            tx.catalogue_get(cat, imp, ce).await.unwrap().name,
            "Coordinated Entry Specialist"
        );

        async fn codes(
            tx: &mut Tx,
            cat: Catalogue,
            imp: i64,
            search: Option<&str>,
            active: Option<bool>,
        ) -> Vec<String> {
            let page = tx
                .catalogue_list(cat, imp, search, active, PageRequest::ALL)
                .await
                .unwrap();
            assert_eq!(page.total as usize, page.items.len());
            page.items.into_iter().map(|e| e.code).collect()
        }
        // Ordered by name.
        assert_eq!(
            codes(&mut tx, cat, imp, None, None).await,
            ["case_mgr", "ce", "read_only"]
        );
        // The search looks at name and code, case-insensitively, `_` literally.
        assert_eq!(codes(&mut tx, cat, imp, Some("ENTRY"), None).await, ["ce"]);
        assert_eq!(
            codes(&mut tx, cat, imp, Some("_"), None).await,
            ["case_mgr", "read_only"]
        );
        assert_eq!(
            codes(&mut tx, cat, imp, Some("d_o"), None).await,
            ["read_only"]
        );
        assert_eq!(
            codes(&mut tx, cat, imp, None, Some(true)).await,
            ["ce", "read_only"]
        );
        assert_eq!(
            codes(&mut tx, cat, imp, Some("c"), Some(false)).await,
            ["case_mgr"]
        );
        let page = tx
            .catalogue_list(cat, imp, None, None, PageRequest::new(2, 2))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.total, 3);
        // The other kind of catalogue is a different list: empty in the first round.
        let theirs = codes(&mut tx, other_cat, imp, None, None).await.len();
        assert_eq!(theirs, if cat == Catalogue::AccessLevels { 0 } else { 3 });
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_conflict(
            tx.catalogue_create(cat, imp, "ce", "Again", "").await,
            match cat {
                Catalogue::AccessLevels => "access_levels",
                Catalogue::Responsibilities => "responsibilities",
            },
        );
    }

    // After both rounds each kind holds exactly its own three entries.
    let mut r = store.read().await.unwrap();
    for cat in [Catalogue::AccessLevels, Catalogue::Responsibilities] {
        assert_eq!(
            r.catalogue_list(cat, imp, None, None, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            3
        );
        assert_eq!(
            r.catalogue_list(cat, other, None, None, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            1
        );
    }
});

// ---------------------------------------------------------------------------------------
// people and roles
// ---------------------------------------------------------------------------------------

both_backends!(person_create_update_get, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let agency = new_agency(&mut tx, imp, "Hope House").await;
    let ana = tx
        .person_create(
            imp,
            &PersonFields {
                given_name: "Ana",
                family_name: "López",
                email: "ana@hope.example",
                agency_id: Some(agency),
            },
            t(0),
        )
        .await
        .unwrap();
    let lead = new_person(&mut tx, imp, "Lee", "Admin", None).await;

    let p = tx.person_get(imp, ana).await.unwrap();
    assert_eq!(p.id, ana);
    assert_eq!(p.implementation_id, imp);
    assert_eq!(
        (p.given_name.as_str(), p.family_name.as_str()),
        ("Ana", "López")
    );
    assert_eq!(p.display_name(), "Ana López");
    assert_eq!(p.email, "ana@hope.example");
    assert_eq!(p.agency_id, Some(agency));
    assert_eq!(p.agency_name.as_deref(), Some("Hope House"));
    assert!(p.active);
    assert_eq!((p.created_at, p.updated_at), (t(0), t(0)));

    let p = tx.person_get(imp, lead).await.unwrap();
    assert_eq!((p.agency_id, p.agency_name), (None, None));

    assert_eq!(
        tx.person_by_id(ana).await.unwrap().email,
        "ana@hope.example"
    );
    assert_not_found(tx.person_by_id(MISSING).await);
    assert_eq!(
        tx.person_by_email(imp, "ana@hope.example")
            .await
            .unwrap()
            .unwrap()
            .id,
        ana
    );
    assert!(tx
        .person_by_email(other, "ana@hope.example")
        .await
        .unwrap()
        .is_none());
    assert!(tx
        .person_by_email(imp, "nobody@hope.example")
        .await
        .unwrap()
        .is_none());

    tx.person_update(
        imp,
        ana,
        &PersonFields {
            given_name: "Ana María",
            family_name: "López",
            email: "ana.lopez@hope.example",
            agency_id: None,
        },
        false,
        t(10),
    )
    .await
    .unwrap();
    let p = tx.person_get(imp, ana).await.unwrap();
    assert_eq!(p.given_name, "Ana María");
    assert_eq!(p.email, "ana.lopez@hope.example");
    assert_eq!((p.agency_id, p.agency_name), (None, None));
    assert!(!p.active);
    assert_eq!((p.created_at, p.updated_at), (t(0), t(10)));

    // Another implementation can neither see nor change them.
    assert_not_found(tx.person_get(other, ana).await);
    assert_not_found(tx.person_get(imp, MISSING).await);
    tx.person_update(
        other,
        ana,
        &PersonFields {
            given_name: "Hijacked",
            family_name: "X",
            email: "x@x.example",
            agency_id: None,
        },
        true,
        t(20),
    )
    .await
    .unwrap();
    assert_eq!(
        tx.person_get(imp, ana).await.unwrap().given_name,
        "Ana María"
    );

    // Emails are unique within an implementation only.
    tx.person_create(
        other,
        &PersonFields {
            given_name: "Ana",
            family_name: "Other",
            email: "ana.lopez@hope.example",
            agency_id: None,
        },
        t(0),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.person_create(
            imp,
            &PersonFields {
                given_name: "Another",
                family_name: "Ana",
                email: "ana.lopez@hope.example",
                agency_id: None,
            },
            t(0),
        )
        .await,
        "people",
    );
});

both_backends!(people_list_filters, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let hope = new_agency(&mut tx, imp, "Hope House").await;
    let door = new_agency(&mut tx, imp, "Open Door").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", Some(hope)).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", Some(door)).await;
    let cy = new_person(&mut tx, imp, "Cy", "Adams", Some(hope)).await;
    let di = new_person(&mut tx, imp, "Di", "Zed", None).await;
    let per = tx
        .person_create(
            imp,
            &PersonFields {
                given_name: "Per",
                family_name: "Cent",
                email: "100%_sure@example.org",
                agency_id: Some(door),
            },
            t(0),
        )
        .await
        .unwrap();
    new_person(&mut tx, other, "Ana", "Lopez", None).await;

    tx.implementation_role_set(di, "system_admin", true)
        .await
        .unwrap();
    tx.agency_role_set(ana, hope, "agency_admin", true)
        .await
        .unwrap();
    tx.agency_role_set(bo, door, "agency_admin", true)
        .await
        .unwrap();
    tx.agency_role_set(cy, hope, "supervisor", true)
        .await
        .unwrap();
    let p = tx.person_get(imp, per).await.unwrap();
    tx.person_update(
        imp,
        per,
        &PersonFields {
            given_name: &p.given_name,
            family_name: &p.family_name,
            email: &p.email,
            agency_id: p.agency_id,
        },
        false,
        t(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    async fn list(r: &mut Tx, imp: i64, f: PeopleFilter) -> Vec<String> {
        let page = r.people_list(imp, &f, PageRequest::ALL).await.unwrap();
        assert_eq!(page.total as usize, page.items.len());
        page.items.into_iter().map(|p| p.display_name()).collect()
    }
    // Ordered by family name, then given name; other implementations' people are not listed.
    assert_eq!(
        list(&mut r, imp, PeopleFilter::default()).await,
        ["Cy Adams", "Per Cent", "Ana Lopez", "Bo Lopez", "Di Zed"]
    );
    let search = |s: &str| PeopleFilter {
        search: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, search("lopez")).await,
        ["Ana Lopez", "Bo Lopez"]
    );
    assert_eq!(list(&mut r, imp, search("ANA LOP")).await, ["Ana Lopez"]);
    assert_eq!(list(&mut r, imp, search("bo.lopez@")).await, ["Bo Lopez"]);
    assert_eq!(list(&mut r, imp, search("EXAMPLE.ORG")).await.len(), 5);
    assert_eq!(list(&mut r, imp, search("100%_")).await, ["Per Cent"]);
    assert!(list(&mut r, imp, search("a_a")).await.is_empty());
    assert!(list(&mut r, imp, search("%z%")).await.is_empty());

    let f = PeopleFilter {
        agency_id: Some(hope),
        ..Default::default()
    };
    assert_eq!(list(&mut r, imp, f).await, ["Cy Adams", "Ana Lopez"]);
    let f = PeopleFilter {
        active: Some(false),
        ..Default::default()
    };
    assert_eq!(list(&mut r, imp, f).await, ["Per Cent"]);

    // Role: an agency role or an implementation role, by its stored name.
    let role = |s: &str| PeopleFilter {
        role: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, role("agency_admin")).await,
        ["Ana Lopez", "Bo Lopez"]
    );
    assert_eq!(list(&mut r, imp, role("system_admin")).await, ["Di Zed"]);
    assert_eq!(list(&mut r, imp, role("supervisor")).await, ["Cy Adams"]);
    assert!(list(&mut r, imp, role("trainer")).await.is_empty());

    // only_agencies: people of those agencies; none for the empty list; never the agency-less.
    let only = |ids: Vec<i64>| PeopleFilter {
        only_agencies: Some(ids),
        ..Default::default()
    };
    assert_eq!(
        list(&mut r, imp, only(vec![door])).await,
        ["Per Cent", "Bo Lopez"]
    );
    assert_eq!(list(&mut r, imp, only(vec![door, hope])).await.len(), 4);
    assert!(list(&mut r, imp, only(vec![])).await.is_empty());

    let f = PeopleFilter {
        search: Some("lopez".into()),
        agency_id: None,
        active: Some(true),
        role: Some("agency_admin".into()),
        only_agencies: Some(vec![door]),
    };
    assert_eq!(list(&mut r, imp, f).await, ["Bo Lopez"]);

    let page = r
        .people_list(imp, &PeopleFilter::default(), PageRequest::new(2, 2))
        .await
        .unwrap();
    assert_eq!(person_names(&page), ["Ana Lopez", "Bo Lopez"]);
    assert_eq!((page.total, page.pages()), (5, 3));
    assert_eq!(page.items[0].agency_name.as_deref(), Some("Hope House"));
    let page = r
        .people_list(imp, &PeopleFilter::default(), PageRequest::new(9, 2))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 5);
});

both_backends!(roles_grant_and_revoke_are_idempotent, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let hope = new_agency(&mut tx, imp, "Hope House").await;
    let door = new_agency(&mut tx, imp, "Open Door").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", Some(hope)).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", Some(hope)).await;

    assert!(tx.implementation_roles_of(ana).await.unwrap().is_empty());
    tx.implementation_role_set(ana, "training_coordinator", true)
        .await
        .unwrap();
    tx.implementation_role_set(ana, "training_coordinator", true)
        .await
        .unwrap();
    tx.implementation_role_set(ana, "auditor", true)
        .await
        .unwrap();
    tx.implementation_role_set(bo, "auditor", true)
        .await
        .unwrap();
    assert_eq!(
        tx.implementation_roles_of(ana).await.unwrap(),
        ["auditor", "training_coordinator"]
    );
    tx.implementation_role_set(ana, "auditor", false)
        .await
        .unwrap();
    tx.implementation_role_set(ana, "auditor", false)
        .await
        .unwrap();
    tx.implementation_role_set(ana, "never_held", false)
        .await
        .unwrap();
    assert_eq!(
        tx.implementation_roles_of(ana).await.unwrap(),
        ["training_coordinator"]
    );
    assert_eq!(tx.implementation_roles_of(bo).await.unwrap(), ["auditor"]);

    assert!(tx.agency_roles_of(ana).await.unwrap().is_empty());
    tx.agency_role_set(ana, door, "supervisor", true)
        .await
        .unwrap();
    tx.agency_role_set(ana, hope, "supervisor", true)
        .await
        .unwrap();
    tx.agency_role_set(ana, hope, "agency_admin", true)
        .await
        .unwrap();
    tx.agency_role_set(ana, hope, "agency_admin", true)
        .await
        .unwrap();
    tx.agency_role_set(bo, hope, "agency_admin", true)
        .await
        .unwrap();
    let mut expected = vec![
        (hope, "agency_admin".to_string()),
        (hope, "supervisor".to_string()),
        (door, "supervisor".to_string()),
    ];
    expected.sort();
    assert_eq!(tx.agency_roles_of(ana).await.unwrap(), expected);
    tx.agency_role_set(ana, hope, "supervisor", false)
        .await
        .unwrap();
    tx.agency_role_set(ana, hope, "supervisor", false)
        .await
        .unwrap();
    let mut expected = vec![
        (hope, "agency_admin".to_string()),
        (door, "supervisor".to_string()),
    ];
    expected.sort();
    assert_eq!(tx.agency_roles_of(ana).await.unwrap(), expected);
    assert_eq!(
        tx.agency_roles_of(bo).await.unwrap(),
        [(hope, "agency_admin".to_string())]
    );
    tx.commit().await.unwrap();

    // What was committed is what a later reader sees.
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.implementation_roles_of(ana).await.unwrap(),
        ["training_coordinator"]
    );
    assert_eq!(r.agency_roles_of(ana).await.unwrap(), expected);
});

// ---------------------------------------------------------------------------------------
// accounts
// ---------------------------------------------------------------------------------------

both_backends!(account_password_failures_and_lockout, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;
    assert!(tx.account_get(ana).await.unwrap().is_none());
    tx.account_create(ana, "ana@example.org").await.unwrap();

    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(a.person_id, ana);
    assert_eq!(a.email, "ana@example.org");
    assert_eq!(a.password_hash, None);
    assert_eq!(a.password_set_at, None);
    assert!(!a.must_change_password);
    assert_eq!(a.failed_attempts, 0);
    assert_eq!(a.locked_until, None);
    assert_eq!(
        (a.mfa_secret, a.mfa_pending_secret, a.mfa_enabled_at),
        (None, None, None)
    );
    assert_eq!(a.last_sign_in_at, None);
    assert!(tx.account_get(bo).await.unwrap().is_none());

    tx.account_set_password(ana, "$argon2id$one", true, t(1))
        .await
        .unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$one"));
    assert_eq!(a.password_set_at, Some(t(1)));
    assert!(a.must_change_password);

    // Failures count up; a lock time is set when given and kept when not.
    assert_eq!(tx.account_record_failure(ana, None).await.unwrap(), 1);
    assert_eq!(tx.account_record_failure(ana, None).await.unwrap(), 2);
    assert_eq!(
        tx.account_get(ana).await.unwrap().unwrap().locked_until,
        None
    );
    assert_eq!(
        tx.account_record_failure(ana, Some(t(900))).await.unwrap(),
        3
    );
    assert_eq!(
        tx.account_get(ana).await.unwrap().unwrap().locked_until,
        Some(t(900))
    );
    assert_eq!(tx.account_record_failure(ana, None).await.unwrap(), 4);
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!((a.failed_attempts, a.locked_until), (4, Some(t(900))));

    // Setting a password clears failures and the lock.
    tx.account_set_password(ana, "$argon2id$two", false, t(2))
        .await
        .unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$two"));
    assert_eq!(a.password_set_at, Some(t(2)));
    assert!(!a.must_change_password);
    assert_eq!((a.failed_attempts, a.locked_until), (0, None));

    tx.account_lock(ana, t(500)).await.unwrap();
    assert_eq!(tx.account_record_failure(ana, None).await.unwrap(), 1);
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!((a.failed_attempts, a.locked_until), (1, Some(t(500))));

    // A success clears them too and records when.
    tx.account_record_success(ana, t(3)).await.unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!((a.failed_attempts, a.locked_until), (0, None));
    assert_eq!(a.last_sign_in_at, Some(t(3)));
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$two"));

    // A failure for someone without an account is NotFound, not a silent zero.
    assert_not_found(tx.account_record_failure(bo, None).await);
    tx.commit().await.unwrap();
});

both_backends!(account_emails, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;
    tx.account_create(ana, "ana@example.org").await.unwrap();
    tx.account_create(bo, "bo@example.org").await.unwrap();
    assert_eq!(
        tx.account_by_email("ana@example.org")
            .await
            .unwrap()
            .unwrap()
            .person_id,
        ana
    );
    assert!(tx
        .account_by_email("nobody@example.org")
        .await
        .unwrap()
        .is_none());

    tx.account_set_email(ana, "ana.lopez@example.org")
        .await
        .unwrap();
    assert!(tx
        .account_by_email("ana@example.org")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        tx.account_by_email("ana.lopez@example.org")
            .await
            .unwrap()
            .unwrap()
            .person_id,
        ana
    );
    assert_eq!(
        tx.account_get(ana).await.unwrap().unwrap().email,
        "ana.lopez@example.org"
    );
    tx.commit().await.unwrap();

    // Accounts are unique by email and by person.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.account_set_email(bo, "ana.lopez@example.org").await,
        "accounts",
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.account_create(ana, "another@example.org").await,
        "accounts",
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.account_get(bo).await.unwrap().unwrap().email,
        "bo@example.org"
    );
});

both_backends!(account_mfa_and_recovery_codes, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;
    tx.account_create(ana, "ana@example.org").await.unwrap();
    tx.account_create(bo, "bo@example.org").await.unwrap();

    tx.account_set_pending_mfa(ana, Some("PENDINGSECRET"))
        .await
        .unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(a.mfa_pending_secret.as_deref(), Some("PENDINGSECRET"));
    assert_eq!(a.mfa_secret, None);
    tx.account_set_pending_mfa(ana, None).await.unwrap();
    assert_eq!(
        tx.account_get(ana)
            .await
            .unwrap()
            .unwrap()
            .mfa_pending_secret,
        None
    );
    tx.account_set_pending_mfa(ana, Some("PENDINGSECRET"))
        .await
        .unwrap();

    tx.account_enable_mfa(ana, "PENDINGSECRET", t(5))
        .await
        .unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(a.mfa_secret.as_deref(), Some("PENDINGSECRET"));
    assert_eq!(a.mfa_pending_secret, None);
    assert_eq!(a.mfa_enabled_at, Some(t(5)));

    // Recovery codes: each works once, for its owner only.
    let codes: Vec<String> = ["h-a", "h-b", "h-c"].map(String::from).to_vec();
    tx.recovery_codes_replace(ana, &codes).await.unwrap();
    tx.recovery_codes_replace(bo, &["h-bo".to_string()])
        .await
        .unwrap();
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 3);
    assert!(tx.recovery_code_use(ana, "h-a", t(6)).await.unwrap());
    assert!(!tx.recovery_code_use(ana, "h-a", t(7)).await.unwrap());
    assert!(!tx.recovery_code_use(ana, "h-unknown", t(7)).await.unwrap());
    assert!(!tx.recovery_code_use(bo, "h-b", t(7)).await.unwrap());
    assert!(!tx.recovery_code_use(ana, "h-bo", t(7)).await.unwrap());
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 2);
    assert_eq!(tx.recovery_codes_left(bo).await.unwrap(), 1);

    // A new set replaces the old one entirely.
    tx.recovery_codes_replace(ana, &["h-d".to_string()])
        .await
        .unwrap();
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 1);
    assert!(!tx.recovery_code_use(ana, "h-b", t(8)).await.unwrap());
    assert!(tx.recovery_code_use(ana, "h-d", t(8)).await.unwrap());
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 0);
    tx.recovery_codes_replace(ana, &codes).await.unwrap();
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 3);

    // Turning MFA off forgets the secrets and the codes.
    tx.account_set_pending_mfa(ana, Some("NEXT")).await.unwrap();
    tx.account_disable_mfa(ana).await.unwrap();
    let a = tx.account_get(ana).await.unwrap().unwrap();
    assert_eq!(
        (a.mfa_secret, a.mfa_pending_secret, a.mfa_enabled_at),
        (None, None, None)
    );
    assert_eq!(tx.recovery_codes_left(ana).await.unwrap(), 0);
    assert!(!tx.recovery_code_use(ana, "h-c", t(9)).await.unwrap());
    assert_eq!(tx.recovery_codes_left(bo).await.unwrap(), 1);
    tx.commit().await.unwrap();
});

both_backends!(one_time_tokens_are_single_use, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;

    let id = tx
        .token_create("invite", "hash-1", ana, t(0), t(3600))
        .await
        .unwrap();
    let tok = tx.token_find("invite", "hash-1").await.unwrap().unwrap();
    assert_eq!(tok.id, id);
    assert_eq!(tok.kind, "invite");
    assert_eq!(tok.person_id, ana);
    assert_eq!(
        (tok.created_at, tok.expires_at, tok.used_at),
        (t(0), t(3600), None)
    );
    assert!(tx.token_find("reset", "hash-1").await.unwrap().is_none());
    assert!(tx.token_find("invite", "hash-x").await.unwrap().is_none());

    assert!(tx.token_use(id, t(5)).await.unwrap());
    assert!(!tx.token_use(id, t(6)).await.unwrap());
    assert_eq!(
        tx.token_find("invite", "hash-1")
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(t(5))
    );
    assert!(!tx.token_use(MISSING, t(6)).await.unwrap());

    // Retiring ends the person's unused tokens of that kind, and nothing else.
    let i2 = tx
        .token_create("invite", "hash-2", ana, t(10), t(3600))
        .await
        .unwrap();
    tx.token_create("invite", "hash-3", ana, t(11), t(3600))
        .await
        .unwrap();
    tx.token_create("reset", "hash-4", ana, t(12), t(3600))
        .await
        .unwrap();
    tx.token_create("invite", "hash-5", bo, t(13), t(3600))
        .await
        .unwrap();
    tx.tokens_retire("invite", ana, t(20)).await.unwrap();
    for (kind, hash, used_at) in [
        ("invite", "hash-1", Some(t(5))),
        ("invite", "hash-2", Some(t(20))),
        ("invite", "hash-3", Some(t(20))),
        ("reset", "hash-4", None),
        ("invite", "hash-5", None),
    ] {
        let tok = tx.token_find(kind, hash).await.unwrap().unwrap();
        assert_eq!(tok.used_at, used_at, "{hash}");
    }
    assert!(!tx.token_use(i2, t(21)).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.token_create("reset", "hash-1", bo, t(0), t(1)).await,
        "one_time_tokens",
    );
});

both_backends!(api_tokens, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;

    let a = tx
        .api_token_create(ana, "laptop", "tok-a", t(0))
        .await
        .unwrap();
    let b = tx
        .api_token_create(ana, "script", "tok-b", t(1))
        .await
        .unwrap();
    let c = tx
        .api_token_create(bo, "bo's", "tok-c", t(2))
        .await
        .unwrap();

    let found = tx.api_token_find("tok-a").await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.person_id, found.name.as_str()),
        (a, ana, "laptop")
    );
    assert_eq!(
        (found.created_at, found.last_used_at, found.revoked_at),
        (t(0), None, None)
    );
    assert!(tx.api_token_find("tok-zz").await.unwrap().is_none());

    tx.api_token_touch(a, t(5)).await.unwrap();
    assert_eq!(
        tx.api_token_find("tok-a")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t(5))
    );

    // Newest first.
    let mine: Vec<i64> = tx
        .api_tokens_of(ana)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(mine, [b, a]);

    // Revoking: only one's own, only once; a revoked token is not found but still listed.
    assert!(!tx.api_token_revoke(bo, a, t(6)).await.unwrap());
    assert!(tx.api_token_find("tok-a").await.unwrap().is_some());
    assert!(tx.api_token_revoke(ana, a, t(6)).await.unwrap());
    assert!(!tx.api_token_revoke(ana, a, t(7)).await.unwrap());
    assert!(tx.api_token_find("tok-a").await.unwrap().is_none());
    assert!(tx.api_token_find("tok-b").await.unwrap().is_some());
    let mine = tx.api_tokens_of(ana).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1].id, a);
    assert_eq!(mine[1].revoked_at, Some(t(6)));
    assert_eq!(mine[0].revoked_at, None);
    assert_eq!(tx.api_tokens_of(bo).await.unwrap()[0].id, c);
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.api_token_create(bo, "copy", "tok-a", t(9)).await,
        "api_tokens",
    );
});

both_backends!(sign_in_attempts_count_in_a_window, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let addr = "203.0.113.7";
    tx.sign_in_attempt_record("a@example.org", addr, t(0), false)
        .await
        .unwrap();
    tx.sign_in_attempt_record("b@example.org", addr, t(10), false)
        .await
        .unwrap();
    tx.sign_in_attempt_record("a@example.org", addr, t(20), true)
        .await
        .unwrap();
    tx.sign_in_attempt_record("a@example.org", addr, t(30), false)
        .await
        .unwrap();
    tx.sign_in_attempt_record("a@example.org", "198.51.100.1", t(30), false)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.sign_in_failures_since(addr, t(-1)).await.unwrap(), 3);
    assert_eq!(tx.sign_in_failures_since(addr, t(0)).await.unwrap(), 3);
    // The window's start is inclusive.
    assert_eq!(tx.sign_in_failures_since(addr, t(10)).await.unwrap(), 2);
    assert_eq!(tx.sign_in_failures_since(addr, t(11)).await.unwrap(), 1);
    assert_eq!(tx.sign_in_failures_since(addr, t(31)).await.unwrap(), 0);
    assert_eq!(
        tx.sign_in_failures_since("198.51.100.1", t(0))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tx.sign_in_failures_since("192.0.2.1", t(0)).await.unwrap(),
        0
    );

    // Sub-second times order correctly too (SQLite keeps them as text).
    let half = t(30) + Duration::milliseconds(500);
    tx.sign_in_attempt_record("a@example.org", addr, half, false)
        .await
        .unwrap();
    assert_eq!(
        tx.sign_in_failures_since(addr, t(30) + Duration::milliseconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(tx.sign_in_failures_since(addr, half).await.unwrap(), 1);
    assert_eq!(
        tx.sign_in_failures_since(addr, half + Duration::microseconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(tx.sign_in_failures_since(addr, t(30)).await.unwrap(), 2);

    assert_eq!(tx.sign_in_attempts_prune(t(10)).await.unwrap(), 1);
    assert_eq!(tx.sign_in_failures_since(addr, t(-1)).await.unwrap(), 3);
    assert_eq!(tx.sign_in_attempts_prune(t(40)).await.unwrap(), 5);
    assert_eq!(tx.sign_in_failures_since(addr, t(-1)).await.unwrap(), 0);
    tx.commit().await.unwrap();
});

// ---------------------------------------------------------------------------------------
// sessions
// ---------------------------------------------------------------------------------------

fn session<'a>(
    token_hash: &'a str,
    person_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> NewSession<'a> {
    NewSession {
        token_hash,
        person_id,
        stage: "full",
        csrf_token: "csrf",
        now,
        expires_at,
        source_addr: "192.0.2.10",
        user_agent: "test agent",
    }
}

both_backends!(
    session_holder_reads_person_account_and_roles_at_once,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = new_implementation(&mut tx, "il-520").await;
        let hope = new_agency(&mut tx, imp, "Hope House").await;
        let door = new_agency(&mut tx, imp, "Open Door").await;
        let ana = new_person(&mut tx, imp, "Ana", "Lopez", Some(hope)).await;
        let bo = new_person(&mut tx, imp, "Bo", "Chen", None).await;
        tx.account_create(ana, "ana@example.org").await.unwrap();
        tx.implementation_role_set(ana, "training_coordinator", true)
            .await
            .unwrap();
        tx.agency_role_set(ana, door, "supervisor", true)
            .await
            .unwrap();
        tx.agency_role_set(ana, hope, "agency_admin", true)
            .await
            .unwrap();
        // Someone else's roles never reach Ana's session.
        tx.agency_role_set(bo, hope, "agency_admin", true)
            .await
            .unwrap();
        tx.setting_put(imp, "mfa_for_all_readers", "false")
            .await
            .unwrap();
        tx.session_create(&session("h-ana", ana, t(0), t(600)))
            .await
            .unwrap();
        tx.session_create(&session("h-bo", bo, t(0), t(600)))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let h = store
            .session_holder("h-ana", "mfa_for_all_readers")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.session.person_id, h.session.stage.as_str()),
            (ana, "full")
        );
        assert_eq!(
            (
                h.person.id,
                h.person.given_name.as_str(),
                h.person.agency_id
            ),
            (ana, "Ana", Some(hope))
        );
        assert_eq!(h.person.agency_name.as_deref(), Some("Hope House"));
        assert_eq!(h.implementation_name, "il-520 HMIS");
        assert_eq!(h.account, Some(("ana@example.org".to_string(), None)));
        assert_eq!(h.mfa_for_all_readers.as_deref(), Some("false"));
        let other_key = store
            .session_holder("h-ana", "another_setting")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(other_key.mfa_for_all_readers, None);
        let mut by_agency = vec![
            (Some(hope), "agency_admin".to_string()),
            (Some(door), "supervisor".to_string()),
        ];
        by_agency.sort();
        let mut expected = vec![(None, "training_coordinator".to_string())];
        expected.extend(by_agency);
        assert_eq!(h.roles, expected);

        // Bo has no account; Bo's only role is Bo's own.
        let h = store
            .session_holder("h-bo", "mfa_for_all_readers")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h.person.agency_name, None);
        assert_eq!(h.account, None);
        assert_eq!(h.roles, vec![(Some(hope), "agency_admin".to_string())]);
        assert!(store
            .session_holder("h-none", "mfa_for_all_readers")
            .await
            .unwrap()
            .is_none());
    }
);

both_backends!(session_lifecycle, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    tx.session_create(&NewSession {
        token_hash: "s-1",
        person_id: ana,
        stage: "password",
        csrf_token: "csrf-1",
        now: t(0),
        expires_at: t(43_200),
        source_addr: "192.0.2.10",
        user_agent: "Firefox",
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let s = tx.session_get("s-1").await.unwrap().unwrap();
    assert_eq!(s.token_hash, "s-1");
    assert_eq!(s.person_id, ana);
    assert_eq!(s.stage, "password");
    assert_eq!(s.csrf_token, "csrf-1");
    assert_eq!(
        (s.created_at, s.last_seen_at, s.expires_at),
        (t(0), t(0), t(43_200))
    );
    assert_eq!(
        (s.source_addr.as_str(), s.user_agent.as_str()),
        ("192.0.2.10", "Firefox")
    );
    assert!(tx.session_get("s-none").await.unwrap().is_none());

    tx.session_touch("s-1", t(60)).await.unwrap();
    tx.session_set_stage("s-1", "full").await.unwrap();
    let s = tx.session_get("s-1").await.unwrap().unwrap();
    assert_eq!(
        (s.stage.as_str(), s.created_at, s.last_seen_at),
        ("full", t(0), t(60))
    );
    assert_eq!(tx.sessions_count_for(ana).await.unwrap(), 1);

    tx.session_delete("s-1").await.unwrap();
    tx.session_delete("s-1").await.unwrap();
    assert!(tx.session_get("s-1").await.unwrap().is_none());
    assert_eq!(tx.sessions_count_for(ana).await.unwrap(), 0);
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.session_create(&session("s-2", ana, t(0), t(10)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.session_create(&session("s-2", ana, t(0), t(10))).await,
        "sessions",
    );
});

both_backends!(sessions_end_for_a_person, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    let bo = new_person(&mut tx, imp, "Bo", "Lopez", None).await;
    for h in ["a-1", "a-2", "a-3"] {
        tx.session_create(&session(h, ana, t(0), t(1000)))
            .await
            .unwrap();
    }
    tx.session_create(&session("b-1", bo, t(0), t(1000)))
        .await
        .unwrap();

    // Keep the current one, end the rest.
    assert_eq!(tx.sessions_delete_for(ana, Some("a-2")).await.unwrap(), 2);
    assert!(tx.session_get("a-2").await.unwrap().is_some());
    assert!(tx.session_get("a-1").await.unwrap().is_none());
    assert_eq!(tx.sessions_count_for(ana).await.unwrap(), 1);
    // Someone else's session is not a way to keep one's own, nor is it touched.
    assert_eq!(tx.sessions_delete_for(ana, Some("b-1")).await.unwrap(), 1);
    assert_eq!(tx.sessions_count_for(ana).await.unwrap(), 0);
    assert_eq!(tx.sessions_count_for(bo).await.unwrap(), 1);

    tx.session_create(&session("a-4", ana, t(0), t(1000)))
        .await
        .unwrap();
    tx.session_create(&session("a-5", ana, t(0), t(1000)))
        .await
        .unwrap();
    assert_eq!(tx.sessions_delete_for(ana, None).await.unwrap(), 2);
    assert_eq!(tx.sessions_delete_for(ana, None).await.unwrap(), 0);
    assert_eq!(tx.sessions_count_for(bo).await.unwrap(), 1);
    tx.commit().await.unwrap();
});

both_backends!(sessions_prune_idle_and_expired, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    tx.session_create(&session("idle", ana, t(0), t(10_000)))
        .await
        .unwrap();
    tx.session_create(&session("busy", ana, t(0), t(10_000)))
        .await
        .unwrap();
    tx.session_create(&session("expired", ana, t(0), t(250)))
        .await
        .unwrap();
    tx.session_create(&session("edge", ana, t(0), t(300)))
        .await
        .unwrap();
    tx.session_touch("busy", t(200)).await.unwrap();
    tx.session_touch("expired", t(200)).await.unwrap();
    tx.session_touch("edge", t(100)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    // Idle since before t(100), or expired before t(300): both bounds are strict.
    assert_eq!(tx.sessions_prune(t(100), t(300)).await.unwrap(), 2);
    assert!(tx.session_get("idle").await.unwrap().is_none());
    assert!(tx.session_get("expired").await.unwrap().is_none());
    assert!(tx.session_get("busy").await.unwrap().is_some());
    assert!(tx.session_get("edge").await.unwrap().is_some());
    assert_eq!(tx.sessions_prune(t(100), t(300)).await.unwrap(), 0);
    // A millisecond later "edge" is both idle and expired.
    let later = Duration::milliseconds(1);
    assert_eq!(
        tx.sessions_prune(t(100) + later, t(300) + later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(tx.sessions_count_for(ana).await.unwrap(), 1);
    tx.commit().await.unwrap();
});

// ---------------------------------------------------------------------------------------
// audit
// ---------------------------------------------------------------------------------------

/// The key the tests' audit chains are written with.
fn audit_key() -> AuditKey {
    AuditKey::parse("the store tests' audit key, 32+ characters").unwrap()
}

#[allow(clippy::too_many_arguments)]
async fn append(
    tx: &mut Tx,
    implementation_id: Option<i64>,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    action: &str,
    subject_type: &str,
    subject_id: Option<i64>,
    summary: &str,
) -> i64 {
    tx.audit_append(
        &audit_key(),
        &NewAuditEvent {
            implementation_id,
            occurred_at: at,
            actor_id,
            actor_label: if actor_id.is_some() {
                "Ana Lopez"
            } else {
                "system"
            },
            action,
            subject_type,
            subject_id,
            summary,
            source_addr: "192.0.2.10",
        },
    )
    .await
    .unwrap()
}

/// Appends `n` events in one transaction and gives their ids in order.
async fn append_n(store: &Store, n: i64) -> Vec<i64> {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = append(
            &mut tx,
            Some(1),
            t(i),
            Some(7),
            "agency.update",
            "agency",
            Some(i),
            &format!("{{\"n\":{i}}}"),
        )
        .await;
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

/// Runs the verifier over the whole chain in small batches, as `audit verify` does.
async fn verify_chain(store: &Store) -> (u64, Vec<ChainProblem>) {
    let mut tx = store.read().await.unwrap();
    let mut v = ChainVerifier::new(&audit_key());
    let mut after = 0;
    loop {
        let batch = tx.audit_chain_batch(after, 3).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            v.push(e);
        }
    }
    let checked = v.checked;
    let (head, head_hash) = tx.audit_head().await.unwrap();
    assert_eq!(tx.audit_head_seq().await.unwrap(), head);
    (checked, v.finish(head, &head_hash))
}

both_backends!(audit_append_builds_a_verifiable_chain, |store| async move {
    let (checked, problems) = verify_chain(&store).await;
    assert_eq!((checked, problems), (0, vec![]));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.audit_head_seq().await.unwrap(), 0);
    let imp = new_implementation(&mut tx, "il-510").await;
    let first = append(
        &mut tx,
        Some(imp),
        t(0),
        Some(3),
        "agency.create",
        "agency",
        Some(1),
        "{}",
    )
    .await;
    let second = append(
        &mut tx,
        None,
        t(1),
        None,
        "sign_in.failed",
        "account",
        None,
        "{\"email\":\"x\"}",
    )
    .await;
    tx.commit().await.unwrap();
    append_n(&store, 5).await;

    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.audit_head_seq().await.unwrap(), 7);
    let e = tx.audit_get(first).await.unwrap();
    assert_eq!(e.seq, 1);
    assert_eq!(e.implementation_id, Some(imp));
    assert_eq!(e.occurred_at, t(0));
    assert_eq!((e.actor_id, e.actor_label.as_str()), (Some(3), "Ana Lopez"));
    assert_eq!(
        (e.action.as_str(), e.subject_type.as_str(), e.subject_id),
        ("agency.create", "agency", Some(1))
    );
    assert_eq!(
        (e.summary.as_str(), e.source_addr.as_str()),
        ("{}", "192.0.2.10")
    );
    assert_eq!(e.prev_hash, onramp_domain::audit::GENESIS);
    assert_eq!(e.hash.len(), 64);
    let e2 = tx.audit_get(second).await.unwrap();
    assert_eq!(
        (e2.seq, e2.implementation_id, e2.actor_id, e2.subject_id),
        (2, None, None, None)
    );
    assert_eq!(e2.prev_hash, e.hash);
    assert_not_found(tx.audit_get(MISSING).await);

    let batch = tx.audit_chain_batch(0, 100).await.unwrap();
    assert_eq!(
        batch.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(batch[0].occurred_at, audit_time(t(0)));
    assert_eq!(tx.audit_chain_batch(5, 100).await.unwrap().len(), 2);
    assert!(tx.audit_chain_batch(7, 100).await.unwrap().is_empty());
    drop(tx);

    assert_eq!(verify_chain(&store).await, (7, vec![]));
});

both_backends!(audit_rolled_back_appends_leave_no_gap, |store| async move {
    append_n(&store, 2).await;
    let mut tx = store.begin().await.unwrap();
    append(&mut tx, None, t(9), None, "lost", "x", None, "").await;
    drop(tx);
    append_n(&store, 2).await;
    assert_eq!(verify_chain(&store).await, (4, vec![]));
});

both_backends!(audit_edited_row_is_named, |store| async move {
    let ids = append_n(&store, 5).await;
    assert_eq!(verify_chain(&store).await, (5, vec![]));
    let mut tx = store.begin().await.unwrap();
    let n = tx
        .execute_raw(&format!(
            "UPDATE audit_events SET summary = 'tampered' WHERE id = {}",
            ids[2]
        ))
        .await
        .unwrap();
    assert_eq!(n, 1);
    tx.commit().await.unwrap();
    assert_eq!(
        verify_chain(&store).await,
        (5, vec![ChainProblem::Edited { id: ids[2], seq: 3 }])
    );

    // A second edit, of another column, is named as well.
    let mut tx = store.begin().await.unwrap();
    tx.execute_raw(&format!(
        "UPDATE audit_events SET actor_id = 99 WHERE id = {}",
        ids[4]
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        verify_chain(&store).await.1,
        vec![
            ChainProblem::Edited { id: ids[2], seq: 3 },
            ChainProblem::Edited { id: ids[4], seq: 5 }
        ]
    );
});

both_backends!(
    audit_rewritten_with_an_unkeyed_chain_is_named,
    |store| async move {
        let ids = append_n(&store, 4).await;
        // Someone who can write the database but lacks the key rewrites event 2 and
        // recomputes every later hash and the head with plain SHA-256.
        let mut tx = store.read().await.unwrap();
        let mut events = tx.audit_chain_batch(0, 100).await.unwrap();
        drop(tx);
        events[1].summary = "{\"forged\":true}".into();
        let mut tx = store.begin().await.unwrap();
        for i in 1..events.len() {
            events[i].prev_hash = events[i - 1].hash.clone();
            events[i].hash =
                onramp_domain::audit::unkeyed_event_hash(&events[i].prev_hash, &events[i].fields());
            let e = &events[i];
            tx.execute_raw(&format!(
                "UPDATE audit_events SET summary = '{}', prev_hash = '{}', hash = '{}' WHERE id = {}",
                e.summary, e.prev_hash, e.hash, e.id
            ))
            .await
            .unwrap();
        }
        tx.execute_raw(&format!(
            "UPDATE audit_head SET last_hash = '{}' WHERE id = 1",
            events[3].hash
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let (_, problems) = verify_chain(&store).await;
        assert_eq!(problems[0], ChainProblem::Unkeyed { id: ids[1], seq: 2 });
        assert_eq!(problems.len(), 3);
    }
);

both_backends!(audit_deleted_rows_are_found, |store| async move {
    let ids = append_n(&store, 6).await;
    let mut tx = store.begin().await.unwrap();
    tx.execute_raw(&format!("DELETE FROM audit_events WHERE id = {}", ids[2]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        verify_chain(&store).await,
        (
            5,
            vec![ChainProblem::Missing {
                before_id: ids[3],
                expected_seq: 3,
                found_seq: 4
            }]
        )
    );

    // Rows deleted at the end are found by the head.
    let mut tx = store.begin().await.unwrap();
    tx.execute_raw(&format!("DELETE FROM audit_events WHERE id = {}", ids[5]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (_, problems) = verify_chain(&store).await;
    assert_eq!(
        problems,
        vec![
            ChainProblem::Missing {
                before_id: ids[3],
                expected_seq: 3,
                found_seq: 4
            },
            ChainProblem::Truncated {
                last_seq: 5,
                head_seq: 6
            }
        ]
    );
});

both_backends!(
    audit_times_beyond_microseconds_still_verify,
    |store| async move {
        let precise = t(0) + Duration::nanoseconds(123_456_789);
        let tiny = t(1) + Duration::nanoseconds(999);
        let mut tx = store.begin().await.unwrap();
        let a = append(&mut tx, Some(1), precise, None, "x.precise", "x", None, "").await;
        let b = append(&mut tx, Some(1), tiny, None, "x.tiny", "x", None, "").await;
        tx.commit().await.unwrap();

        assert_eq!(verify_chain(&store).await, (2, vec![]));
        let mut tx = store.read().await.unwrap();
        // Stored to the microsecond, on both backends alike.
        assert_eq!(
            tx.audit_get(a).await.unwrap().occurred_at,
            t(0) + Duration::microseconds(123_456)
        );
        assert_eq!(tx.audit_get(b).await.unwrap().occurred_at, t(1));
        let batch = tx.audit_chain_batch(0, 10).await.unwrap();
        assert_eq!(batch[0].occurred_at, "2026-03-01T12:00:00.123456Z");
        assert_eq!(batch[1].occurred_at, "2026-03-01T12:00:01.000000Z");
    }
);

both_backends!(audit_list_filters_newest_first, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    let e1 = append(
        &mut tx,
        Some(imp),
        t(0),
        Some(1),
        "agency.create",
        "agency",
        Some(10),
        "",
    )
    .await;
    let e2 = append(
        &mut tx,
        Some(imp),
        t(10),
        Some(2),
        "agency.update",
        "agency",
        Some(10),
        "",
    )
    .await;
    let e3 = append(
        &mut tx,
        Some(imp),
        t(20),
        Some(1),
        "person.create",
        "person",
        Some(5),
        "",
    )
    .await;
    let e4 = append(
        &mut tx,
        Some(imp),
        t(30),
        Some(1),
        "agency.update",
        "agency",
        Some(11),
        "",
    )
    .await;
    let e5 = append(
        &mut tx,
        Some(imp),
        t(40),
        None,
        "agencyXupdate",
        "agency",
        Some(11),
        "",
    )
    .await;
    append(
        &mut tx,
        Some(other),
        t(15),
        Some(1),
        "agency.create",
        "agency",
        Some(12),
        "",
    )
    .await;
    append(
        &mut tx,
        None,
        t(25),
        None,
        "sign_in.failed",
        "account",
        None,
        "",
    )
    .await;
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    async fn ids(r: &mut Tx, imp: i64, f: AuditFilter) -> Vec<i64> {
        let page = r.audit_list(imp, &f, PageRequest::ALL).await.unwrap();
        assert_eq!(page.total as usize, page.items.len());
        page.items.into_iter().map(|e| e.id).collect()
    }
    // Newest first; only this implementation's events.
    assert_eq!(
        ids(&mut r, imp, AuditFilter::default()).await,
        [e5, e4, e3, e2, e1]
    );
    assert_eq!(ids(&mut r, other, AuditFilter::default()).await.len(), 1);

    // The action filter is a prefix, taken literally and case-sensitively on both backends.
    let action = |a: &str| AuditFilter {
        action: Some(a.into()),
        ..Default::default()
    };
    assert_eq!(ids(&mut r, imp, action("agency.")).await, [e4, e2, e1]);
    assert_eq!(ids(&mut r, imp, action("agency.update")).await, [e4, e2]);
    assert_eq!(ids(&mut r, imp, action("agency")).await, [e5, e4, e2, e1]);
    assert!(ids(&mut r, imp, action("Agency.")).await.is_empty());
    assert!(ids(&mut r, imp, action("agency_update")).await.is_empty());
    assert!(ids(&mut r, imp, action("%update")).await.is_empty());
    assert_eq!(ids(&mut r, imp, action("")).await.len(), 5);

    let f = AuditFilter {
        subject_type: Some("person".into()),
        ..Default::default()
    };
    assert_eq!(ids(&mut r, imp, f).await, [e3]);
    let f = AuditFilter {
        actor_id: Some(1),
        ..Default::default()
    };
    assert_eq!(ids(&mut r, imp, f).await, [e4, e3, e1]);
    // `from` is inclusive, `to` exclusive.
    let f = AuditFilter {
        from: Some(t(10)),
        to: Some(t(30)),
        ..Default::default()
    };
    assert_eq!(ids(&mut r, imp, f).await, [e3, e2]);
    let f = AuditFilter {
        from: Some(t(10) + Duration::milliseconds(1)),
        ..Default::default()
    };
    assert_eq!(ids(&mut r, imp, f).await, [e5, e4, e3]);
    let f = AuditFilter {
        action: Some("agency.".into()),
        subject_type: Some("agency".into()),
        actor_id: Some(1),
        from: Some(t(0)),
        to: Some(t(31)),
    };
    assert_eq!(ids(&mut r, imp, f).await, [e4, e1]);

    let page = r
        .audit_list(imp, &AuditFilter::default(), PageRequest::new(2, 2))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        [e3, e2]
    );
    assert_eq!((page.total, page.pages()), (5, 3));
});

both_backends!(
    audit_concurrent_appends_keep_one_chain,
    |store| async move {
        let mut tasks = Vec::new();
        for w in 0..6i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5i64 {
                    let mut tx = store.begin().await.unwrap();
                    append(
                        &mut tx,
                        Some(w),
                        t(i),
                        Some(w),
                        "worker.append",
                        "worker",
                        Some(i),
                        "",
                    )
                    .await;
                    tokio::task::yield_now().await;
                    tx.commit().await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(verify_chain(&store).await, (30, vec![]));
    }
);

// ---------------------------------------------------------------------------------------
// outbox
// ---------------------------------------------------------------------------------------

fn message<'a>(implementation_id: Option<i64>, recipient: &'a str) -> NewOutboxMessage<'a> {
    NewOutboxMessage {
        implementation_id,
        kind: "email",
        recipient,
        subject: "Welcome to Onramp",
        payload: "{\"template\":\"invite\"}",
    }
}

both_backends!(
    outbox_claims_due_pending_messages_and_leases_them,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = new_implementation(&mut tx, "il-510").await;
        let m1 = tx
            .outbox_enqueue(&message(Some(imp), "a@example.org"), t(0))
            .await
            .unwrap();
        let m2 = tx
            .outbox_enqueue(&message(None, "b@example.org"), t(5))
            .await
            .unwrap();
        let later = tx
            .outbox_enqueue(&message(Some(imp), "c@example.org"), t(100))
            .await
            .unwrap();
        let sent = tx
            .outbox_enqueue(&message(Some(imp), "d@example.org"), t(1))
            .await
            .unwrap();
        tx.outbox_mark_sent(sent, t(2)).await.unwrap();
        let m = tx.outbox_get(imp, m1).await.unwrap();
        assert_eq!(
            (m.id, m.implementation_id, m.kind.as_str()),
            (m1, Some(imp), "email")
        );
        assert_eq!(
            (m.recipient.as_str(), m.subject.as_str()),
            ("a@example.org", "Welcome to Onramp")
        );
        assert_eq!(m.payload, "{\"template\":\"invite\"}");
        assert_eq!(
            (m.status.as_str(), m.attempts, m.last_error),
            (STATUS_PENDING, 0, None)
        );
        assert_eq!(
            (m.next_attempt_at, m.created_at, m.sent_at),
            (t(0), t(0), None)
        );
        tx.commit().await.unwrap();

        // Due (next attempt at or before now) and pending only, oldest first, up to the limit.
        let mut tx = store.begin().await.unwrap();
        let got = tx.outbox_claim_due(t(5), t(65), 1).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [m1]);
        let got = tx.outbox_claim_due(t(5), t(65), 10).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [m2]);
        tx.commit().await.unwrap();

        // Leased: a second claim before the lease ends finds nothing…
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .outbox_claim_due(t(6), t(66), 10)
            .await
            .unwrap()
            .is_empty());
        assert!(tx
            .outbox_claim_due(t(64), t(124), 10)
            .await
            .unwrap()
            .is_empty());
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.outbox_get(imp, m1).await.unwrap().next_attempt_at, t(65));
        // …and once the lease has run out (a worker died), the messages are claimed again.
        let got = tx.outbox_claim_due(t(65), t(125), 10).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [m1, m2]);
        // Delivered messages are done with; the one enqueued for later comes up in its time.
        tx.outbox_mark_sent(m1, t(66)).await.unwrap();
        tx.outbox_mark_sent(m2, t(66)).await.unwrap();
        assert!(tx
            .outbox_claim_due(t(99), t(159), 10)
            .await
            .unwrap()
            .is_empty());
        let got = tx.outbox_claim_due(t(200), t(260), 10).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [later]);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    outbox_sent_failed_retry_list_and_counts,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = new_implementation(&mut tx, "il-510").await;
        let other = new_implementation(&mut tx, "il-511").await;
        let a = tx
            .outbox_enqueue(&message(Some(imp), "a@example.org"), t(0))
            .await
            .unwrap();
        let b = tx
            .outbox_enqueue(&message(Some(imp), "b@example.org"), t(0))
            .await
            .unwrap();
        let c = tx
            .outbox_enqueue(&message(Some(imp), "c@example.org"), t(0))
            .await
            .unwrap();
        let d = tx
            .outbox_enqueue(&message(Some(other), "d@example.org"), t(0))
            .await
            .unwrap();
        let e = tx
            .outbox_enqueue(&message(None, "e@example.org"), t(0))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.outbox_claim_due(t(1), t(61), 10).await.unwrap().len(), 5);
        tx.outbox_mark_sent(a, t(2)).await.unwrap();
        let m = tx.outbox_get(imp, a).await.unwrap();
        assert_eq!(
            (m.status.as_str(), m.attempts, m.sent_at, m.last_error),
            (STATUS_SENT, 1, Some(t(2)), None)
        );

        // A failure with a retry time stays pending and comes back at that time.
        tx.outbox_mark_failed(b, "421 try later", Some(t(120)))
            .await
            .unwrap();
        let m = tx.outbox_get(imp, b).await.unwrap();
        assert_eq!((m.status.as_str(), m.attempts), (STATUS_PENDING, 1));
        assert_eq!(
            (m.last_error.as_deref(), m.next_attempt_at),
            (Some("421 try later"), t(120))
        );
        // Giving up marks it failed; it is never claimed again.
        tx.outbox_mark_failed(c, "550 no such user", None)
            .await
            .unwrap();
        let m = tx.outbox_get(imp, c).await.unwrap();
        assert_eq!(
            (m.status.as_str(), m.attempts, m.last_error.as_deref()),
            (STATUS_FAILED, 1, Some("550 no such user"))
        );
        tx.outbox_mark_sent(d, t(3)).await.unwrap();
        tx.outbox_mark_sent(e, t(3)).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .outbox_claim_due(t(119), t(200), 10)
            .await
            .unwrap()
            .is_empty());
        let got = tx.outbox_claim_due(t(120), t(200), 10).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [b]);
        tx.outbox_mark_failed(b, "421 again", Some(t(300)))
            .await
            .unwrap();
        tx.outbox_mark_sent(b, t(301)).await.unwrap();
        let m = tx.outbox_get(imp, b).await.unwrap();
        assert_eq!(
            (m.status.as_str(), m.attempts, m.last_error),
            (STATUS_SENT, 3, None)
        );
        assert!(tx
            .outbox_claim_due(t(10_000), t(10_060), 10)
            .await
            .unwrap()
            .is_empty());

        assert_eq!(
            tx.outbox_counts().await.unwrap(),
            [(STATUS_FAILED.to_string(), 1), (STATUS_SENT.to_string(), 4)]
        );

        // Retry: only a failed message, only through its own implementation.
        assert!(!tx.outbox_retry(other, c, t(400)).await.unwrap());
        assert!(!tx.outbox_retry(imp, a, t(400)).await.unwrap());
        assert!(tx.outbox_retry(imp, c, t(400)).await.unwrap());
        assert!(!tx.outbox_retry(imp, c, t(400)).await.unwrap());
        let m = tx.outbox_get(imp, c).await.unwrap();
        assert_eq!(
            (m.status.as_str(), m.next_attempt_at, m.attempts),
            (STATUS_PENDING, t(400), 1)
        );
        assert!(tx
            .outbox_claim_due(t(399), t(460), 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            tx.outbox_claim_due(t(400), t(460), 10).await.unwrap()[0].id,
            c
        );
        assert_eq!(
            tx.outbox_counts().await.unwrap(),
            [
                (STATUS_PENDING.to_string(), 1),
                (STATUS_SENT.to_string(), 4)
            ]
        );

        // Listing: newest first, by status, paged, per implementation.
        let page = tx.outbox_list(imp, None, PageRequest::ALL).await.unwrap();
        assert_eq!(
            page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
            [c, b, a]
        );
        assert_eq!(page.total, 3);
        let page = tx
            .outbox_list(imp, Some(STATUS_SENT), PageRequest::ALL)
            .await
            .unwrap();
        assert_eq!(page.items.iter().map(|m| m.id).collect::<Vec<_>>(), [b, a]);
        assert_eq!(page.total, 2);
        let page = tx
            .outbox_list(imp, Some(STATUS_FAILED), PageRequest::ALL)
            .await
            .unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.total, 0);
        let page = tx
            .outbox_list(imp, None, PageRequest::new(2, 2))
            .await
            .unwrap();
        assert_eq!(page.items.iter().map(|m| m.id).collect::<Vec<_>>(), [a]);
        assert_eq!((page.total, page.pages()), (3, 2));
        let page = tx.outbox_list(other, None, PageRequest::ALL).await.unwrap();
        assert_eq!(page.items.iter().map(|m| m.id).collect::<Vec<_>>(), [d]);

        assert_not_found(tx.outbox_get(other, a).await);
        assert_not_found(tx.outbox_get(imp, e).await);
        assert_not_found(tx.outbox_get(imp, MISSING).await);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    outbox_concurrent_claims_do_not_overlap,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let mut all = Vec::new();
        for i in 0..4 {
            all.push(
                tx.outbox_enqueue(&message(None, &format!("{i}@example.org")), t(0))
                    .await
                    .unwrap(),
            );
        }
        tx.commit().await.unwrap();

        let mut first_tx = store.begin().await.unwrap();
        let first = first_tx.outbox_claim_due(t(1), t(61), 2).await.unwrap();
        assert_eq!(first.len(), 2);
        let other = store.clone();
        let second = tokio::spawn(async move {
            let mut tx = other.begin().await.unwrap();
            let got = tx.outbox_claim_due(t(1), t(61), 10).await.unwrap();
            tx.commit().await.unwrap();
            got
        });
        let second = match store.backend() {
            // A second worker skips the rows the first holds instead of waiting for them.
            Backend::Postgres => {
                let got = tokio::time::timeout(std::time::Duration::from_secs(10), second)
                    .await
                    .expect("the second worker waited for the first one's rows")
                    .unwrap();
                first_tx.commit().await.unwrap();
                got
            }
            // One writer: the second claim waits for the first transaction to end.
            Backend::Sqlite => {
                first_tx.commit().await.unwrap();
                second.await.unwrap()
            }
        };
        let mut ids: Vec<i64> = first.iter().chain(second.iter()).map(|m| m.id).collect();
        assert_eq!(second.len(), 2, "the second worker claims the other two");
        ids.sort();
        assert_eq!(ids, all);
    }
);

both_backends!(email_templates, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let other = new_implementation(&mut tx, "il-511").await;
    assert!(tx
        .email_template_get(imp, "invite")
        .await
        .unwrap()
        .is_none());
    let mut tpl = EmailTemplate {
        implementation_id: imp,
        key: "invite".into(),
        subject: "Welcome, {{ name }}".into(),
        text_body: "Hello {{ name }}".into(),
        html_body: "<p>Hello {{ name }}</p>".into(),
        updated_at: t(0),
    };
    tx.email_template_put(&tpl).await.unwrap();
    let got = tx.email_template_get(imp, "invite").await.unwrap().unwrap();
    assert_eq!((got.implementation_id, got.key.as_str()), (imp, "invite"));
    assert_eq!(got.subject, "Welcome, {{ name }}");
    assert_eq!(got.text_body, "Hello {{ name }}");
    assert_eq!(got.html_body, "<p>Hello {{ name }}</p>");
    assert_eq!(got.updated_at, t(0));
    assert!(tx
        .email_template_get(other, "invite")
        .await
        .unwrap()
        .is_none());
    assert!(tx.email_template_get(imp, "reset").await.unwrap().is_none());

    // Putting it again updates it in place.
    tpl.subject = "You are invited".into();
    tpl.html_body = "<p>Hi</p>".into();
    tpl.updated_at = t(10);
    tx.email_template_put(&tpl).await.unwrap();
    let got = tx.email_template_get(imp, "invite").await.unwrap().unwrap();
    assert_eq!(
        (got.subject.as_str(), got.html_body.as_str(), got.updated_at),
        ("You are invited", "<p>Hi</p>", t(10))
    );
    assert_eq!(got.text_body, "Hello {{ name }}");

    let theirs = EmailTemplate {
        implementation_id: other,
        subject: "Theirs".into(),
        ..tpl.clone()
    };
    tx.email_template_put(&theirs).await.unwrap();
    tx.email_template_delete(imp, "invite").await.unwrap();
    tx.email_template_delete(imp, "invite").await.unwrap();
    assert!(tx
        .email_template_get(imp, "invite")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        tx.email_template_get(other, "invite")
            .await
            .unwrap()
            .unwrap()
            .subject,
        "Theirs"
    );
    tx.commit().await.unwrap();
});

// ---------------------------------------------------------------------------------------
// integrity rules both backends enforce
// ---------------------------------------------------------------------------------------

#[track_caller]
fn assert_database_error<T: Debug>(r: Result<T, StoreError>) {
    match r {
        Err(StoreError::Database(_)) => {}
        other => panic!("expected a foreign key violation (StoreError::Database), got {other:?}"),
    }
}

both_backends!(foreign_keys_are_enforced, |store| async move {
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_database_error(tx.project_create(imp, MISSING, "Orphan", 0, t(0)).await);
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_database_error(
        tx.person_create(
            imp,
            &PersonFields {
                given_name: "No",
                family_name: "Agency",
                email: "no@example.org",
                agency_id: Some(MISSING),
            },
            t(0),
        )
        .await,
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_database_error(
        tx.session_create(&session("orphan", MISSING, t(0), t(10)))
            .await,
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_database_error(tx.account_create(MISSING, "ghost@example.org").await);
    drop(tx);

    // Nothing of it was kept.
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.projects_list(imp, &ProjectFilter::default(), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        r.people_list(imp, &PeopleFilter::default(), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(r.session_get("orphan").await.unwrap().is_none());
});

both_backends!(timestamps_keep_microseconds, |store| async move {
    let at = t(0) + Duration::microseconds(1);
    let later = t(0) + Duration::microseconds(654_321);
    let mut tx = store.begin().await.unwrap();
    let imp = new_implementation(&mut tx, "il-510").await;
    let ana = new_person(&mut tx, imp, "Ana", "Lopez", None).await;
    tx.session_create(&session("s", ana, at, later))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = store.read().await.unwrap();
    let s = r.session_get("s").await.unwrap().unwrap();
    assert_eq!((s.created_at, s.expires_at), (at, later));
});

// ---------------------------------------------------------------------------------------
// cross-implementation isolation, in one place
// ---------------------------------------------------------------------------------------

both_backends!(
    another_implementations_rows_are_not_found,
    |store| async move {
        let mut tx = store.begin().await.unwrap();
        let imp = new_implementation(&mut tx, "il-510").await;
        let other = new_implementation(&mut tx, "il-511").await;
        let agency = new_agency(&mut tx, imp, "Hope House").await;
        let project = tx
            .project_create(imp, agency, "Shelter", 0, t(0))
            .await
            .unwrap();
        let person = new_person(&mut tx, imp, "Ana", "Lopez", Some(agency)).await;
        let level = tx
            .catalogue_create(Catalogue::AccessLevels, imp, "ro", "Read only", "")
            .await
            .unwrap();
        let duty = tx
            .catalogue_create(Catalogue::Responsibilities, imp, "enroll", "Enroll", "")
            .await
            .unwrap();
        let msg = tx
            .outbox_enqueue(&message(Some(imp), "a@example.org"), t(0))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut r = store.read().await.unwrap();
        assert!(r.agency_get(imp, agency).await.is_ok());
        assert!(r.project_get(imp, project).await.is_ok());
        assert!(r.person_get(imp, person).await.is_ok());
        assert_not_found(r.agency_get(other, agency).await);
        assert_not_found(r.project_get(other, project).await);
        assert_not_found(r.person_get(other, person).await);
        assert_not_found(r.catalogue_get(Catalogue::AccessLevels, other, level).await);
        assert_not_found(
            r.catalogue_get(Catalogue::Responsibilities, other, duty)
                .await,
        );
        assert_not_found(r.outbox_get(other, msg).await);
        // Nor listed, even when asked for by id.
        let f = AgencyFilter {
            only: Some(vec![agency]),
            ..Default::default()
        };
        assert_eq!(
            r.agencies_list(other, &f, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            0
        );
        let f = ProjectFilter {
            agency_id: Some(agency),
            ..Default::default()
        };
        assert_eq!(
            r.projects_list(other, &f, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            0
        );
        let f = PeopleFilter {
            agency_id: Some(agency),
            ..Default::default()
        };
        assert_eq!(
            r.people_list(other, &f, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            r.outbox_list(other, None, PageRequest::ALL)
                .await
                .unwrap()
                .total,
            0
        );
    }
);
