//! A demo implementation: agencies, projects and a person in every role.

use crate::organisation::create_implementation;
use crate::{auth, App, AppResult};
use onramp_domain::{AgencyRole, HudProjectType, ImplementationRole, ParticipationStatus};
use onramp_store::organisation::NewAgency;
use onramp_store::people::PersonFields;
use onramp_store::reads::*;

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

/// Demo people at several stages of their training plans, each brought there through the
/// services as the people themselves would act:
///
/// - Sam Ortiz (Harbor House, a demo login) asked for access under seed 000's process: the
///   Lead accepted it, and his plan of the two online courses waits for him to start.
/// - Ada Moss (Northside) is under seed 004's process: half-way through the introduction,
///   with her project course Restricted until it is complete (and charged to Northside,
///   which has no training credits).
/// - Rosa Diaz (Harbor House), read-only under seed 001's process, took the alternate
///   introduction: her plan is complete, with its certificate, and her request's training
///   step completed by itself.
///
/// Does nothing when Sam already has a request.
pub async fn load_training_stages(app: &App) -> AppResult<()> {
    use crate::access::{self, RequestInput, StepAction, Submitted};
    use crate::learning::lessons::{self, Confirmation};
    use crate::Ctx;

    async fn as_person(app: &App, email: &str) -> AppResult<Ctx> {
        let mut tx = app.store.read().await?;
        let account = tx
            .account_by_email(email)
            .await?
            .ok_or(crate::AppError::NotFound)?;
        Ok(Ctx::new(
            auth::load_actor(&mut tx, account.person_id).await?,
            "local",
        ))
    }
    let done = || StepAction::Done {
        note: String::new(),
    };
    let (imp, _) = load(app).await?;
    let (agencies, projects) = {
        let mut tx = app.store.read().await?;
        let sam = tx.account_by_email("trainee@harbor.example.org").await?;
        if let Some(sam) = sam {
            if !tx.requests_of_person(sam.person_id).await?.is_empty() {
                return Ok(());
            }
        }
        (
            tx.agencies_list(imp, &Default::default(), onramp_store::PageRequest::ALL)
                .await?
                .items,
            tx.projects_list(imp, &Default::default(), onramp_store::PageRequest::ALL)
                .await?
                .items,
        )
    };
    let agency = |name: &str| agencies.iter().find(|a| a.name == name).map(|a| a.id);
    let project = |name: &str| projects.iter().find(|p| p.name == name).map(|p| p.id);
    let (Some(harbor), Some(northside), Some(shelter), Some(outreach)) = (
        agency("Harbor House"),
        agency("Northside Outreach Collective"),
        project("Harbor House Emergency Shelter"),
        project("Northside Street Outreach"),
    ) else {
        return Err(crate::AppError::NotFound);
    };
    let lead = as_person(app, "lead@demo.example.org").await?;
    let submit = |given: &'static str,
                  family: &'static str,
                  email: &'static str,
                  agency: i64,
                  level: &'static str,
                  project: i64,
                  process: &'static str| {
        let lead = &lead;
        async move {
            let input = RequestInput {
                given_name: given.into(),
                family_name: family.into(),
                email: email.into(),
                agency_id: agency.to_string(),
                access_level: level.into(),
                responsibilities: vec!["enroll_clients".into()],
                projects: vec![project.to_string()],
                new_or_returning: "new".into(),
                process: process.into(),
                ..Default::default()
            };
            match access::submit(app, lead, &input).await? {
                Submitted::Created(id) => Ok(id),
                _ => Err(crate::AppError::Conflict(format!(
                    "the demo request for {email} was not created"
                ))),
            }
        }
    };

    // Sam: accepted, nothing started.
    let sam = submit(
        "Sam",
        "Ortiz",
        "trainee@harbor.example.org",
        harbor,
        "end_user",
        shelter,
        "online-courses-then-login",
    )
    .await?;
    access::act(app, &lead, sam, "request-review", StepAction::Approve).await?;

    // Ada: the introduction half read, the project course Restricted.
    let ada = submit(
        "Ada",
        "Moss",
        "trainee@northside.example.org",
        northside,
        "end_user",
        outreach,
        "courses-and-proctored-session",
    )
    .await?;
    let northside_admin = as_person(app, "ata@northside.example.org").await?;
    access::act(app, &northside_admin, ada, "validate-new-hire", done()).await?;
    let ada_ctx = as_person(app, "trainee@northside.example.org").await?;
    access::act(app, &ada_ctx, ada, "learning-account", done()).await?;
    access::act(app, &lead, ada, "course-enrollment", StepAction::Approve).await?;
    read_some(app, &ada_ctx, "intro-hmis", 3).await?;

    // Rosa: the alternate introduction read in full; her plan is complete.
    let rosa = submit(
        "Rosa",
        "Diaz",
        "rosa.diaz@harbor.example.org",
        harbor,
        "read_only",
        shelter,
        "agency-checklist-then-account",
    )
    .await?;
    let harbor_admin = as_person(app, "ata@harbor.example.org").await?;
    access::act(app, &harbor_admin, rosa, "training-checklist", done()).await?;
    let rosa_person = {
        let mut tx = app.store.read().await?;
        tx.request_get(imp, rosa).await?.person_id
    };
    {
        let mut tx = app.store.begin().await?;
        if tx
            .account_by_email("rosa.diaz@harbor.example.org")
            .await?
            .is_none()
        {
            tx.account_create(rosa_person, "rosa.diaz@harbor.example.org")
                .await?;
        }
        auth::issue_password(&mut tx, app, rosa_person, DEMO_PASSWORD, false).await?;
        tx.commit().await?;
    }
    let rosa_ctx = as_person(app, "rosa.diaz@harbor.example.org").await?;
    access::act(app, &rosa_ctx, rosa, "learning-account", done()).await?;
    read_some(app, &rosa_ctx, "intro-hmis-read-only", usize::MAX).await?;

    /// Opens the course's first `n` reading lessons and confirms each read.
    async fn read_some(app: &App, ctx: &Ctx, course_key: &str, n: usize) -> AppResult<()> {
        let course_id = {
            let mut tx = app.store.read().await?;
            tx.courses(ctx.implementation_id())
                .await?
                .into_iter()
                .find(|c| c.key == course_key)
                .map(|c| c.id)
                .ok_or(crate::AppError::NotFound)?
        };
        let course = lessons::course(app, ctx, course_id).await?;
        for row in course
            .lessons
            .iter()
            .filter(|l| l.lesson.kind == "reading")
            .take(n)
        {
            lessons::open(app, ctx, course_id, &row.lesson.key, String::new).await?;
            lessons::confirm(app, ctx, course_id, &row.lesson.key, Confirmation::Read).await?;
        }
        Ok(())
    }
    Ok(())
}
