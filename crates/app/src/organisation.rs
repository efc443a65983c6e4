//! The implementation's settings, agencies, projects and catalogues.

use crate::audit::record;
use crate::error::Problems;
use crate::{App, AppError, AppResult, Ctx};
use chrono::NaiveDate;
use onramp_domain::authz::Permission;
use onramp_domain::values::{required_text, ORGANISATION_NAME_MAX};
use onramp_domain::{CocCode, HudProjectType, ParticipationStatus, Slug};
use onramp_formats::csv_export::write_csv;
use onramp_store::organisation::{AgencyFilter, Catalogue, NewAgency, ProjectFilter};
use onramp_store::{Agency, CatalogueEntry, Implementation, Page, PageRequest, Project};
use serde::Deserialize;
use serde_json::json;

pub use onramp_store::organisation::Catalogue as CatalogueKind;

// ---------------------------------------------------------------- implementation

#[derive(Debug, Clone)]
pub struct ImplementationSettings {
    pub implementation: Implementation,
    pub cocs: Vec<String>,
}

pub async fn settings(app: &App, ctx: &Ctx) -> AppResult<ImplementationSettings> {
    ctx.require(Permission::ViewOrganisation)?;
    let mut tx = app.store.read().await?;
    Ok(ImplementationSettings {
        implementation: tx.implementation_get(ctx.implementation_id()).await?,
        cocs: tx.cocs_of(ctx.implementation_id()).await?,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsInput {
    pub name: String,
    pub hmis_lead_name: String,
    /// CoC codes separated by commas, spaces or new lines.
    pub cocs: String,
}

/// Parses a list of CoC codes; every code must be valid and at least one given.
pub fn parse_cocs(input: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in input
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let code = CocCode::parse(part)?;
        if !out.contains(&code.as_str().to_string()) {
            out.push(code.as_str().to_string());
        }
    }
    if out.is_empty() {
        return Err("Enter at least one CoC code, like IL-510".into());
    }
    Ok(out)
}

pub async fn update_settings(app: &App, ctx: &Ctx, input: &SettingsInput) -> AppResult<()> {
    ctx.require(Permission::ManageImplementation)?;
    let mut p = Problems::default();
    let name = p.check(required_text(
        "name",
        "the implementation's name",
        &input.name,
        200,
    ));
    let lead = p.check(required_text(
        "hmis_lead_name",
        "the HMIS Lead's name",
        &input.hmis_lead_name,
        200,
    ));
    let cocs = p.check_str("cocs", parse_cocs(&input.cocs));
    p.into_result()?;
    let (Some(name), Some(lead), Some(cocs)) = (name, lead, cocs) else {
        return Err(AppError::Internal("unreachable".into()));
    };
    let mut tx = app.store.begin().await?;
    let before = tx.implementation_get(ctx.implementation_id()).await?;
    let before_cocs = tx.cocs_of(ctx.implementation_id()).await?;
    tx.implementation_update(ctx.implementation_id(), &name, &lead, app.now())
        .await?;
    tx.cocs_replace(ctx.implementation_id(), &cocs).await?;
    record(&mut tx, app, ctx, "implementation.update", "implementation", Some(ctx.implementation_id()), json!({
        "before": {"name": before.name, "hmis_lead_name": before.hmis_lead_name, "cocs": before_cocs},
        "after": {"name": name, "hmis_lead_name": lead, "cocs": cocs},
    })).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- agencies

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgencyInput {
    pub name: String,
    pub participation_status: String,
    /// YYYY-MM-DD, or empty.
    #[serde(default)]
    pub participation_date: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn parse_date(field: &str, s: &str, p: &mut Problems) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            p.push(field, "Enter a date as YYYY-MM-DD, like 2026-07-01");
            None
        }
    }
}

/// The agencies an actor may see: all for Lead staff, else the ones they oversee.
fn agency_scope(ctx: &Ctx) -> AppResult<Option<Vec<i64>>> {
    if ctx.actor.may(Permission::ViewOrganisation) {
        Ok(None)
    } else {
        let mine = ctx.actor.overseen_agencies();
        if mine.is_empty() {
            Err(AppError::Forbidden)
        } else {
            Ok(Some(mine))
        }
    }
}

pub async fn agencies(
    app: &App,
    ctx: &Ctx,
    mut f: AgencyFilter,
    page: PageRequest,
) -> AppResult<Page<Agency>> {
    f.only = agency_scope(ctx)?;
    let mut tx = app.store.read().await?;
    Ok(tx.agencies_list(ctx.implementation_id(), &f, page).await?)
}

pub async fn agency(app: &App, ctx: &Ctx, id: i64) -> AppResult<Agency> {
    ctx.require(Permission::ViewAgency(id))?;
    let mut tx = app.store.read().await?;
    Ok(tx.agency_get(ctx.implementation_id(), id).await?)
}

fn parse_agency(
    input: &AgencyInput,
) -> AppResult<(String, ParticipationStatus, Option<NaiveDate>)> {
    let mut p = Problems::default();
    let name = p.check(required_text(
        "name",
        "the agency's name",
        &input.name,
        ORGANISATION_NAME_MAX,
    ));
    let status = p.check_str(
        "participation_status",
        ParticipationStatus::parse(&input.participation_status),
    );
    let date = parse_date("participation_date", &input.participation_date, &mut p);
    p.into_result()?;
    match (name, status) {
        (Some(n), Some(s)) => Ok((n, s, date)),
        _ => Err(AppError::Internal("unreachable".into())),
    }
}

pub async fn agency_create(app: &App, ctx: &Ctx, input: &AgencyInput) -> AppResult<i64> {
    ctx.require(Permission::ManageImplementation)?;
    let (name, status, date) = parse_agency(input)?;
    let mut tx = app.store.begin().await?;
    let a = NewAgency {
        implementation_id: ctx.implementation_id(),
        name: &name,
        participation_status: status.as_str(),
        participation_date: date,
    };
    let id = tx
        .agency_create(&a, app.now())
        .await
        .map_err(|e| conflict_on(e, "name", "An agency with this name already exists"))?;
    record(&mut tx, app, ctx, "agency.create", "agency", Some(id), json!({"after": {"name": name, "participation_status": status.as_str(), "participation_date": date}})).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn agency_update(app: &App, ctx: &Ctx, id: i64, input: &AgencyInput) -> AppResult<()> {
    ctx.require(Permission::ManageImplementation)?;
    let (name, status, date) = parse_agency(input)?;
    let mut tx = app.store.begin().await?;
    let before = tx.agency_get(ctx.implementation_id(), id).await?;
    let a = NewAgency {
        implementation_id: ctx.implementation_id(),
        name: &name,
        participation_status: status.as_str(),
        participation_date: date,
    };
    tx.agency_update(id, &a, input.active, app.now())
        .await
        .map_err(|e| conflict_on(e, "name", "An agency with this name already exists"))?;
    let action = if before.active && !input.active {
        "agency.deactivate"
    } else {
        "agency.update"
    };
    record(&mut tx, app, ctx, action, "agency", Some(id), json!({
        "before": {"name": before.name, "participation_status": before.participation_status, "participation_date": before.participation_date, "active": before.active},
        "after": {"name": name, "participation_status": status.as_str(), "participation_date": date, "active": input.active},
    })).await?;
    tx.commit().await?;
    Ok(())
}

/// A uniqueness conflict reported next to the field that caused it.
fn conflict_on(e: onramp_store::StoreError, field: &str, message: &str) -> AppError {
    match e {
        onramp_store::StoreError::Conflict(_) => AppError::field(field, message),
        other => other.into(),
    }
}

pub async fn agencies_csv(app: &App, ctx: &Ctx, f: AgencyFilter) -> AppResult<String> {
    let page = agencies(app, ctx, f, PageRequest::ALL).await?;
    write_csv(
        &[
            "id",
            "name",
            "participation_status",
            "participation_date",
            "active",
        ],
        page.items.into_iter().map(|a| {
            vec![
                a.id.to_string(),
                a.name,
                a.participation_status,
                a.participation_date
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                a.active.to_string(),
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------- projects

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectInput {
    pub agency_id: String,
    pub name: String,
    pub hud_project_type: String,
    #[serde(default = "yes")]
    pub active: bool,
}

pub async fn projects(
    app: &App,
    ctx: &Ctx,
    mut f: ProjectFilter,
    page: PageRequest,
) -> AppResult<Page<Project>> {
    f.only_agencies = agency_scope(ctx)?;
    let mut tx = app.store.read().await?;
    Ok(tx.projects_list(ctx.implementation_id(), &f, page).await?)
}

pub async fn project(app: &App, ctx: &Ctx, id: i64) -> AppResult<Project> {
    let mut tx = app.store.read().await?;
    let p = tx.project_get(ctx.implementation_id(), id).await?;
    ctx.require(Permission::ViewAgency(p.agency_id))?;
    Ok(p)
}

async fn parse_project(
    app: &App,
    ctx: &Ctx,
    input: &ProjectInput,
) -> AppResult<(i64, String, HudProjectType)> {
    let mut p = Problems::default();
    let name = p.check(required_text(
        "name",
        "the project's name",
        &input.name,
        ORGANISATION_NAME_MAX,
    ));
    let kind = p.check_str(
        "hud_project_type",
        HudProjectType::parse(&input.hud_project_type),
    );
    let agency_id = match input.agency_id.trim().parse::<i64>() {
        Ok(id) => {
            let mut tx = app.store.read().await?;
            match tx.agency_get(ctx.implementation_id(), id).await {
                Ok(_) => Some(id),
                Err(onramp_store::StoreError::NotFound) => {
                    p.push("agency_id", "Choose an agency of this implementation");
                    None
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(_) => {
            p.push("agency_id", "Choose an agency");
            None
        }
    };
    p.into_result()?;
    match (agency_id, name, kind) {
        (Some(a), Some(n), Some(k)) => Ok((a, n, k)),
        _ => Err(AppError::Internal("unreachable".into())),
    }
}

pub async fn project_create(app: &App, ctx: &Ctx, input: &ProjectInput) -> AppResult<i64> {
    ctx.require(Permission::ManageImplementation)?;
    let (agency_id, name, kind) = parse_project(app, ctx, input).await?;
    let mut tx = app.store.begin().await?;
    let id = tx
        .project_create(
            ctx.implementation_id(),
            agency_id,
            &name,
            kind.code(),
            app.now(),
        )
        .await
        .map_err(|e| {
            conflict_on(
                e,
                "name",
                "This agency already has a project with this name",
            )
        })?;
    record(
        &mut tx,
        app,
        ctx,
        "project.create",
        "project",
        Some(id),
        json!({"after": {"agency_id": agency_id, "name": name, "hud_project_type": kind.code()}}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn project_update(app: &App, ctx: &Ctx, id: i64, input: &ProjectInput) -> AppResult<()> {
    ctx.require(Permission::ManageImplementation)?;
    let (agency_id, name, kind) = parse_project(app, ctx, input).await?;
    let mut tx = app.store.begin().await?;
    let before = tx.project_get(ctx.implementation_id(), id).await?;
    tx.project_update(
        ctx.implementation_id(),
        id,
        agency_id,
        &name,
        kind.code(),
        input.active,
        app.now(),
    )
    .await
    .map_err(|e| {
        conflict_on(
            e,
            "name",
            "This agency already has a project with this name",
        )
    })?;
    let action = if before.active && !input.active {
        "project.deactivate"
    } else {
        "project.update"
    };
    record(&mut tx, app, ctx, action, "project", Some(id), json!({
        "before": {"agency_id": before.agency_id, "name": before.name, "hud_project_type": before.hud_project_type, "active": before.active},
        "after": {"agency_id": agency_id, "name": name, "hud_project_type": kind.code(), "active": input.active},
    })).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn projects_csv(app: &App, ctx: &Ctx, f: ProjectFilter) -> AppResult<String> {
    let page = projects(app, ctx, f, PageRequest::ALL).await?;
    write_csv(
        &[
            "id",
            "agency",
            "name",
            "hud_project_type",
            "hud_project_type_label",
            "active",
        ],
        page.items.into_iter().map(|p| {
            let label = HudProjectType::from_code(p.hud_project_type)
                .map(|t| t.label())
                .unwrap_or("unknown");
            vec![
                p.id.to_string(),
                p.agency_name,
                p.name,
                p.hud_project_type.to_string(),
                label.to_string(),
                p.active.to_string(),
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------- catalogues

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogueInput {
    #[serde(default)]
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub active: bool,
}

pub async fn catalogue(
    app: &App,
    ctx: &Ctx,
    cat: Catalogue,
    search: Option<&str>,
    active: Option<bool>,
    page: PageRequest,
) -> AppResult<Page<CatalogueEntry>> {
    // Agency staff need the catalogues to request access, so anyone signed in may read them.
    let mut tx = app.store.read().await?;
    Ok(tx
        .catalogue_list(cat, ctx.implementation_id(), search, active, page)
        .await?)
}

pub async fn catalogue_entry(
    app: &App,
    ctx: &Ctx,
    cat: Catalogue,
    id: i64,
) -> AppResult<CatalogueEntry> {
    let mut tx = app.store.read().await?;
    Ok(tx.catalogue_get(cat, ctx.implementation_id(), id).await?)
}

fn catalogue_subject(cat: Catalogue) -> &'static str {
    match cat {
        Catalogue::AccessLevels => "access_level",
        Catalogue::Responsibilities => "responsibility",
    }
}

pub async fn catalogue_create(
    app: &App,
    ctx: &Ctx,
    cat: Catalogue,
    input: &CatalogueInput,
) -> AppResult<i64> {
    ctx.require(Permission::ManageImplementation)?;
    let mut p = Problems::default();
    let code = p.check_str("code", Slug::parse(&input.code));
    let name = p.check(required_text("name", "a name", &input.name, 120));
    let description = input
        .description
        .trim()
        .chars()
        .take(2000)
        .collect::<String>();
    p.into_result()?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::Internal("unreachable".into()));
    };
    let mut tx = app.store.begin().await?;
    let id = tx
        .catalogue_create(
            cat,
            ctx.implementation_id(),
            code.as_str(),
            &name,
            &description,
        )
        .await
        .map_err(|e| conflict_on(e, "code", "This code is already in use"))?;
    let subject = catalogue_subject(cat);
    record(
        &mut tx,
        app,
        ctx,
        &format!("{subject}.create"),
        subject,
        Some(id),
        json!({"after": {"code": code.as_str(), "name": name}}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn catalogue_update(
    app: &App,
    ctx: &Ctx,
    cat: Catalogue,
    id: i64,
    input: &CatalogueInput,
) -> AppResult<()> {
    ctx.require(Permission::ManageImplementation)?;
    let name = required_text("name", "a name", &input.name, 120)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let description = input
        .description
        .trim()
        .chars()
        .take(2000)
        .collect::<String>();
    let mut tx = app.store.begin().await?;
    let before = tx.catalogue_get(cat, ctx.implementation_id(), id).await?;
    tx.catalogue_update(
        cat,
        ctx.implementation_id(),
        id,
        &name,
        &description,
        input.active,
    )
    .await?;
    let subject = catalogue_subject(cat);
    record(&mut tx, app, ctx, &format!("{subject}.update"), subject, Some(id), json!({
        "before": {"name": before.name, "description": before.description, "active": before.active},
        "after": {"name": name, "description": description, "active": input.active},
    })).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn catalogue_csv(
    app: &App,
    ctx: &Ctx,
    cat: Catalogue,
    search: Option<&str>,
    active: Option<bool>,
) -> AppResult<String> {
    let page = catalogue(app, ctx, cat, search, active, PageRequest::ALL).await?;
    write_csv(
        &["id", "code", "name", "description", "active"],
        page.items.into_iter().map(|c| {
            vec![
                c.id.to_string(),
                c.code,
                c.name,
                c.description,
                c.active.to_string(),
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The catalogues every new implementation starts with.
pub const DEFAULT_ACCESS_LEVELS: &[(&str, &str, &str)] = &[
    (
        "read_only",
        "Read-only",
        "Sees client records; changes nothing",
    ),
    (
        "end_user",
        "End user / case manager",
        "Enters and updates client data for their projects",
    ),
    (
        "assessor",
        "Assessor",
        "Completes assessments such as the VI-SPDAT",
    ),
    (
        "ce_specialist",
        "Coordinated-entry specialist",
        "Works the coordinated-entry queue and referrals",
    ),
    (
        "agency_admin",
        "Agency admin",
        "Manages their agency's users and data quality",
    ),
    ("reporting", "Reporting", "Runs HUD and local reports"),
];

pub const DEFAULT_RESPONSIBILITIES: &[(&str, &str, &str)] = &[
    (
        "enroll_clients",
        "Enroll clients",
        "Enrolls clients into projects",
    ),
    (
        "exit_clients",
        "Exit clients",
        "Exits clients from projects",
    ),
    (
        "bed_reservations",
        "Bed reservations",
        "Completes bed reservations",
    ),
    (
        "assessments",
        "Assessments",
        "Conducts assessments (e.g. VI-SPDAT)",
    ),
    ("referrals", "Referrals", "Reviews and makes referrals"),
    ("reporting", "Reporting", "Runs reports"),
];

/// Creates an implementation with its CoCs and default catalogues (command line and demo).
pub async fn create_implementation(
    tx: &mut onramp_store::Tx,
    app: &App,
    slug: &str,
    name: &str,
    lead: &str,
    cocs: &[String],
) -> AppResult<i64> {
    let slug = Slug::parse(slug).map_err(|m| AppError::field("slug", m))?;
    let id = tx
        .implementation_create(slug.as_str(), name, lead, app.now())
        .await?;
    tx.cocs_replace(id, cocs).await?;
    for (code, name, desc) in DEFAULT_ACCESS_LEVELS {
        tx.catalogue_create(Catalogue::AccessLevels, id, code, name, desc)
            .await?;
    }
    for (code, name, desc) in DEFAULT_RESPONSIBILITIES {
        tx.catalogue_create(Catalogue::Responsibilities, id, code, name, desc)
            .await?;
    }
    crate::audit::record_system(
        tx,
        app,
        Some(id),
        None,
        "implementation.create",
        "implementation",
        Some(id),
        json!({"after": {"slug": slug.as_str(), "name": name, "cocs": cocs}}),
        "local",
    )
    .await?;
    Ok(id)
}
