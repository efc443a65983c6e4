//! A demo implementation: agencies, projects and a person in every role.

use crate::organisation::create_implementation;
use crate::{auth, App, AppResult};
use onramp_domain::{AgencyRole, HudProjectType, ImplementationRole, ParticipationStatus};
use onramp_store::organisation::NewAgency;
use onramp_store::people::PersonFields;

pub const DEMO_SLUG: &str = "demo";
/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "onramp-demo-2026";

/// Who can sign in to the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: &'static str,
    pub email: &'static str,
}

pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        role: "Lead admin",
        email: "lead@demo.example.org",
    },
    DemoLogin {
        role: "Training coordinator",
        email: "coordinator@demo.example.org",
    },
    DemoLogin {
        role: "Proctor",
        email: "proctor@demo.example.org",
    },
    DemoLogin {
        role: "Auditor",
        email: "auditor@demo.example.org",
    },
    DemoLogin {
        role: "Agency administrator (Harbor House)",
        email: "ata@harbor.example.org",
    },
    DemoLogin {
        role: "Executive director (Harbor House)",
        email: "director@harbor.example.org",
    },
    DemoLogin {
        role: "Trainee (Harbor House)",
        email: "trainee@harbor.example.org",
    },
];

/// Given name, family name, email, agency, implementation roles, agency roles.
type DemoPerson<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<i64>,
    &'a [ImplementationRole],
    &'a [AgencyRole],
);

/// Creates the demo implementation unless it exists. Returns its id and whether it was new.
pub async fn load(app: &App) -> AppResult<(i64, bool)> {
    let mut tx = app.store.begin().await?;
    if let Some(i) = tx.implementation_by_slug(DEMO_SLUG).await? {
        return Ok((i.id, false));
    }
    let now = app.now();
    let imp = create_implementation(
        &mut tx,
        app,
        DEMO_SLUG,
        "Lakeside County HMIS",
        "Lakeside Continuum of Care",
        &["IL-510".into(), "IL-511".into()],
    )
    .await?;
    let agencies = [
        (
            "Harbor House",
            ParticipationStatus::Participating,
            &[
                (
                    "Harbor House Emergency Shelter",
                    HudProjectType::EmergencyShelterEntryExit,
                ),
                (
                    "Harbor House Rapid Re-Housing",
                    HudProjectType::RapidReHousing,
                ),
            ][..],
        ),
        (
            "Northside Outreach Collective",
            ParticipationStatus::Participating,
            &[
                ("Northside Street Outreach", HudProjectType::StreetOutreach),
                ("Northside Day Center", HudProjectType::DayShelter),
            ][..],
        ),
        (
            "Lakeside Coordinated Entry",
            ParticipationStatus::Participating,
            &[(
                "Lakeside Coordinated Entry",
                HudProjectType::CoordinatedEntry,
            )][..],
        ),
        (
            "Cedar Supportive Housing",
            ParticipationStatus::Pending,
            &[("Cedar PSH", HudProjectType::PermanentSupportiveHousing)][..],
        ),
    ];
    let mut agency_ids = Vec::new();
    for (name, status, projects) in agencies {
        let id = tx
            .agency_create(
                &NewAgency {
                    implementation_id: imp,
                    name,
                    participation_status: status.as_str(),
                    participation_date: Some(now.date_naive()),
                },
                now,
            )
            .await?;
        for (pname, kind) in projects {
            tx.project_create(imp, id, pname, kind.code(), now).await?;
        }
        agency_ids.push(id);
    }
    let harbor = agency_ids[0];
    let northside = agency_ids[1];
    let people: &[DemoPerson] = &[
        (
            "Lena",
            "Okafor",
            "lead@demo.example.org",
            None,
            &[ImplementationRole::LeadAdmin],
            &[],
        ),
        (
            "Marcus",
            "Bell",
            "coordinator@demo.example.org",
            None,
            &[ImplementationRole::TrainingCoordinator],
            &[],
        ),
        (
            "Priya",
            "Raman",
            "proctor@demo.example.org",
            None,
            &[ImplementationRole::Proctor],
            &[],
        ),
        (
            "Dana",
            "Whitfield",
            "auditor@demo.example.org",
            None,
            &[ImplementationRole::Auditor],
            &[],
        ),
        (
            "Tomas",
            "Reyes",
            "ata@harbor.example.org",
            Some(harbor),
            &[],
            &[AgencyRole::AgencyAdministrator, AgencyRole::Supervisor],
        ),
        (
            "Grace",
            "Lin",
            "director@harbor.example.org",
            Some(harbor),
            &[],
            &[AgencyRole::ExecutiveDirector],
        ),
        (
            "Sam",
            "Ortiz",
            "trainee@harbor.example.org",
            Some(harbor),
            &[],
            &[],
        ),
        (
            "Ivy",
            "Chen",
            "security@harbor.example.org",
            Some(harbor),
            &[],
            &[AgencyRole::SecurityOfficer],
        ),
        (
            "Noah",
            "Grant",
            "ata@northside.example.org",
            Some(northside),
            &[],
            &[AgencyRole::AgencyAdministrator],
        ),
        (
            "Ada",
            "Moss",
            "trainee@northside.example.org",
            Some(northside),
            &[],
            &[],
        ),
    ];
    for (given, family, email, agency, impl_roles, agency_roles) in people {
        let id = tx
            .person_create(
                imp,
                &PersonFields {
                    given_name: given,
                    family_name: family,
                    email,
                    agency_id: *agency,
                },
                now,
            )
            .await?;
        tx.account_create(id, email).await?;
        auth::issue_password(&mut tx, app, id, DEMO_PASSWORD, false).await?;
        for r in *impl_roles {
            tx.implementation_role_set(id, r.as_str(), true).await?;
        }
        for r in *agency_roles {
            if let Some(a) = agency {
                tx.agency_role_set(id, *a, r.as_str(), true).await?;
            }
        }
    }
    crate::processes::install_seeds(&mut tx, app, imp).await?;
    let courses = crate::learning::packages::install_starter_in(&mut tx, app, imp).await?;
    // Harbor House bought a pack of training credits for the $25 project courses (seed 004);
    // Northside has none, so its paid courses become charges to invoice.
    let lead = tx
        .account_by_email("lead@demo.example.org")
        .await?
        .map(|a| a.person_id);
    let bought = tx
        .credit_add(&onramp_store::learning::credits::NewMovement {
            implementation_id: imp,
            agency_id: harbor,
            kind: onramp_domain::learning::credits::MovementKind::Bought.as_str(),
            credits: 5,
            amount_cents: Some(12_500),
            reference: "Demo invoice 2026-001",
            reason: "Pack bought for $125.00",
            person_id: None,
            course_id: None,
            request_id: None,
            recorded_by: lead,
            at: now,
        })
        .await?;
    crate::audit::record_system(
        &mut tx,
        app,
        Some(imp),
        None,
        "training_credits.bought",
        "agency",
        Some(harbor),
        serde_json::json!({"movement_id": bought.id, "credits": bought.credits, "balance_after": bought.balance_after,
                           "amount_cents": bought.amount_cents, "reference": bought.reference, "reason": bought.reason}),
        "local",
    )
    .await?;
    crate::audit::record_system(
        &mut tx,
        app,
        Some(imp),
        None,
        "demo.load",
        "implementation",
        Some(imp),
        serde_json::json!({"people": people.len(), "courses": courses.len()}),
        "local",
    )
    .await?;
    tx.commit().await?;
    Ok((imp, true))
}
