//! People of an implementation, their accounts and roles.

use crate::audit::record;
use crate::error::Problems;
use crate::{auth, App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::standing::Holding;
use onramp_domain::values::required_text;
use onramp_domain::{AgencyRole, Email, ImplementationRole};
use onramp_formats::csv_export::write_csv;
use onramp_store::people::{PeopleFilter, PersonFields};
use onramp_store::{Page, PageRequest, Person, StoreError, Tx};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonInput {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// An agency id, or empty for Lead staff with no agency.
    #[serde(default)]
    pub agency_id: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A person with their roles, as shown on their page.
#[derive(Debug, Clone)]
pub struct PersonDetail {
    pub person: Person,
    pub implementation_roles: Vec<ImplementationRole>,
    pub agency_roles: Vec<(i64, AgencyRole)>,
    pub has_password: bool,
    pub mfa_enabled: bool,
    pub last_sign_in_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// People the actor may see: everyone for Lead staff, their agencies' staff for agency
/// administrators and executive directors, and only themselves otherwise.
pub async fn list(
    app: &App,
    ctx: &Ctx,
    mut f: PeopleFilter,
    page: PageRequest,
) -> AppResult<Page<Person>> {
    if !ctx.actor.may(Permission::ViewAllPeople) {
        let mine = ctx.actor.overseen_agencies();
        if mine.is_empty() {
            return Err(AppError::Forbidden);
        }
        f.only_agencies = Some(mine);
    }
    let mut tx = app.store.read().await?;
    Ok(tx.people_list(ctx.implementation_id(), &f, page).await?)
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<PersonDetail> {
    let mut tx = app.store.read().await?;
    let person = tx.person_get(ctx.implementation_id(), id).await?;
    ctx.require(Permission::ViewPerson {
        person_id: person.id,
        agency_id: person.agency_id,
    })?;
    let implementation_roles = tx
        .implementation_roles_of(id)
        .await?
        .iter()
        .filter_map(|r| ImplementationRole::parse(r).ok())
        .collect();
    let agency_roles = tx
        .agency_roles_of(id)
        .await?
        .into_iter()
        .filter_map(|(a, r)| AgencyRole::parse(&r).ok().map(|r| (a, r)))
        .collect();
    let account = tx.account_get(id).await?;
    Ok(PersonDetail {
        person,
        implementation_roles,
        agency_roles,
        has_password: account.as_ref().is_some_and(|a| a.password_hash.is_some()),
        mfa_enabled: account.as_ref().is_some_and(|a| a.mfa_enabled_at.is_some()),
        last_sign_in_at: account.and_then(|a| a.last_sign_in_at),
    })
}

struct Parsed {
    given: String,
    family: String,
    email: Email,
    agency_id: Option<i64>,
}

async fn parse(app: &App, ctx: &Ctx, input: &PersonInput) -> AppResult<Parsed> {
    let mut p = Problems::default();
    let given = p.check(required_text(
        "given_name",
        "a given name",
        &input.given_name,
        100,
    ));
    let family = p.check(required_text(
        "family_name",
        "a family name",
        &input.family_name,
        100,
    ));
    let email = p.check_str("email", Email::parse(&input.email));
    let agency_id = if input.agency_id.trim().is_empty() {
        None
    } else {
        match input.agency_id.trim().parse::<i64>() {
            Ok(id) => {
                let mut tx = app.store.read().await?;
                match tx.agency_get(ctx.implementation_id(), id).await {
                    Ok(_) => Some(id),
                    Err(StoreError::NotFound) => {
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
        }
    };
    p.into_result()?;
    match (given, family, email) {
        (Some(given), Some(family), Some(email)) => Ok(Parsed {
            given,
            family,
            email,
            agency_id,
        }),
        _ => Err(AppError::Internal("unreachable".into())),
    }
}

fn email_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::field("email", "Someone already uses this email address")
        }
        other => other.into(),
    }
}

/// The roles a person holds, for deciding who may manage them.
pub async fn holding_of(tx: &mut Tx, person_id: i64) -> AppResult<Holding> {
    Ok(Holding {
        implementation_roles: tx
            .implementation_roles_of(person_id)
            .await?
            .iter()
            .filter_map(|r| ImplementationRole::parse(r).ok())
            .collect(),
        agency_roles: tx
            .agency_roles_of(person_id)
            .await?
            .iter()
            .filter_map(|(_, r)| AgencyRole::parse(r).ok())
            .collect(),
    })
}

/// Fails with `Forbidden` unless the actor stands high enough to manage someone holding
/// `target` (see [`onramp_domain::standing`]).
fn require_standing(ctx: &Ctx, target: &Holding) -> AppResult<()> {
    if ctx.actor.may_manage(target) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Adds a person; with `invite`, creates their account and emails an invitation.
pub async fn create(app: &App, ctx: &Ctx, input: &PersonInput, invite: bool) -> AppResult<i64> {
    let v = parse(app, ctx, input).await?;
    ctx.require(Permission::ManagePeopleOf(v.agency_id))?;
    let mut tx = app.store.begin().await?;
    let fields = PersonFields {
        given_name: &v.given,
        family_name: &v.family,
        email: v.email.as_str(),
        agency_id: v.agency_id,
    };
    let id = tx
        .person_create(ctx.implementation_id(), &fields, app.now())
        .await
        .map_err(email_taken)?;
    if invite {
        tx.account_create(id, v.email.as_str())
            .await
            .map_err(email_taken)?;
        auth::invite(&mut tx, app, id).await?;
    }
    record(&mut tx, app, ctx, "person.create", "person", Some(id), json!({"after": {
        "given_name": v.given, "family_name": v.family, "email": v.email.as_str(), "agency_id": v.agency_id, "invited": invite
    }})).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(app: &App, ctx: &Ctx, id: i64, input: &PersonInput) -> AppResult<()> {
    let v = parse(app, ctx, input).await?;
    let mut tx = app.store.begin().await?;
    let before = tx.person_get(ctx.implementation_id(), id).await?;
    // Both the agency the person leaves and the one they join must be the actor's to manage.
    ctx.require(Permission::ManagePeopleOf(before.agency_id))?;
    ctx.require(Permission::ManagePeopleOf(v.agency_id))?;
    require_standing(ctx, &holding_of(&mut tx, id).await?)?;
    if id == ctx.actor.person_id && !input.active {
        return Err(AppError::field("active", "You cannot deactivate yourself"));
    }
    let fields = PersonFields {
        given_name: &v.given,
        family_name: &v.family,
        email: v.email.as_str(),
        agency_id: v.agency_id,
    };
    tx.person_update(
        ctx.implementation_id(),
        id,
        &fields,
        input.active,
        app.now(),
    )
    .await
    .map_err(email_taken)?;
    let email_changed = before.email != v.email.as_str();
    if tx.account_get(id).await?.is_some() && email_changed {
        tx.account_set_email(id, v.email.as_str())
            .await
            .map_err(email_taken)?;
    }
    if email_changed {
        // The old address hears of it: if the change was not theirs, they can raise the alarm.
        let implementation = tx.implementation_get(ctx.implementation_id()).await?.name;
        crate::mail::queue(
            &mut tx,
            app,
            ctx.implementation_id(),
            &before.email,
            "email_changed",
            &[
                ("name", &before.given_name),
                ("implementation", &implementation),
                ("old_email", &before.email),
                ("new_email", v.email.as_str()),
                ("changed_by", &ctx.actor.display_name),
            ],
        )
        .await?;
    }
    if before.active && !input.active {
        // A deactivated person is signed out at once.
        tx.sessions_delete_for(id, None).await?;
    }
    let action = match (before.active, input.active) {
        (true, false) => "person.deactivate",
        (false, true) => "person.reactivate",
        _ => "person.update",
    };
    record(&mut tx, app, ctx, action, "person", Some(id), json!({
        "before": {"given_name": before.given_name, "family_name": before.family_name, "email": before.email, "agency_id": before.agency_id, "active": before.active},
        "after": {"given_name": v.given, "family_name": v.family, "email": v.email.as_str(), "agency_id": v.agency_id, "active": input.active},
    })).await?;
    tx.commit().await?;
    Ok(())
}

/// What an invitation sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    /// An invitation to set a first password.
    Invitation,
    /// The person already has a password: a password-reset link, which never takes it
    /// away unless they choose a new one.
    PasswordReset,
}

/// Sends (again) an invitation to set a password, or a password-reset link to someone who
/// already has one.
pub async fn invite(app: &App, ctx: &Ctx, id: i64) -> AppResult<Invited> {
    let mut tx = app.store.begin().await?;
    let person = tx.person_get(ctx.implementation_id(), id).await?;
    ctx.require(Permission::ManagePeopleOf(person.agency_id))?;
    require_standing(ctx, &holding_of(&mut tx, id).await?)?;
    if !person.active {
        return Err(AppError::Conflict(
            "This person is deactivated: reactivate them before inviting them".into(),
        ));
    }
    let sent = if auth::has_password(&mut tx, id).await? {
        auth::issue_link(&mut tx, app, id, auth::PASSWORD_RESET).await?;
        Invited::PasswordReset
    } else {
        auth::invite(&mut tx, app, id).await?;
        Invited::Invitation
    };
    record(
        &mut tx,
        app,
        ctx,
        "person.invite",
        "person",
        Some(id),
        json!({"email": person.email, "sent": match sent {
            Invited::Invitation => "invitation",
            Invited::PasswordReset => "password_reset",
        }}),
    )
    .await?;
    tx.commit().await?;
    Ok(sent)
}

/// Grants or removes an implementation role.
pub async fn set_implementation_role(
    app: &App,
    ctx: &Ctx,
    id: i64,
    role: &str,
    granted: bool,
) -> AppResult<()> {
    ctx.require(Permission::ManageImplementationRoles)?;
    let role = ImplementationRole::parse(role).map_err(|m| AppError::field("role", m))?;
    if id == ctx.actor.person_id && role == ImplementationRole::LeadAdmin && !granted {
        return Err(AppError::field(
            "role",
            "You cannot remove your own Lead admin role",
        ));
    }
    let mut tx = app.store.begin().await?;
    tx.person_get(ctx.implementation_id(), id).await?;
    let target = holding_of(&mut tx, id).await?;
    require_standing(ctx, &target)?;
    require_standing(ctx, &target.with_implementation_role(role, granted))?;
    tx.implementation_role_set(id, role.as_str(), granted)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        if granted { "role.grant" } else { "role.revoke" },
        "person",
        Some(id),
        json!({"role": role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Grants or removes a role in an agency.
pub async fn set_agency_role(
    app: &App,
    ctx: &Ctx,
    id: i64,
    agency_id: i64,
    role: &str,
    granted: bool,
) -> AppResult<()> {
    ctx.require(Permission::ManageAgencyRoles(agency_id))?;
    let role = AgencyRole::parse(role).map_err(|m| AppError::field("role", m))?;
    let mut tx = app.store.begin().await?;
    let person = tx.person_get(ctx.implementation_id(), id).await?;
    // An agency administrator grants roles of their agency to its own staff only, not to
    // someone of another agency (whom they may not even see).
    ctx.require(Permission::ManagePeopleOf(person.agency_id))?;
    // Only someone of equal or higher standing changes a person's roles, and nobody raises
    // a person above themselves.
    let target = holding_of(&mut tx, id).await?;
    require_standing(ctx, &target)?;
    if granted {
        require_standing(ctx, &target.with_agency_role(role))?;
    }
    tx.agency_get(ctx.implementation_id(), agency_id).await?;
    tx.agency_role_set(id, agency_id, role.as_str(), granted)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        if granted {
            "agency_role.grant"
        } else {
            "agency_role.revoke"
        },
        "person",
        Some(id),
        json!({"agency_id": agency_id, "role": role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn csv(app: &App, ctx: &Ctx, f: PeopleFilter) -> AppResult<String> {
    let page = list(app, ctx, f, PageRequest::ALL).await?;
    write_csv(
        &[
            "id",
            "given_name",
            "family_name",
            "email",
            "agency",
            "active",
        ],
        page.items.into_iter().map(|p| {
            vec![
                p.id.to_string(),
                p.given_name,
                p.family_name,
                p.email,
                p.agency_name.unwrap_or_default(),
                p.active.to_string(),
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// Creates a person with an account and an issued password (command line). The password
/// must be changed at first sign-in unless `must_change` is false.
#[allow(clippy::too_many_arguments)]
pub async fn create_with_password(
    app: &App,
    implementation_id: i64,
    given: &str,
    family: &str,
    email: &str,
    agency_id: Option<i64>,
    roles: &[ImplementationRole],
    password: &str,
    must_change: bool,
) -> AppResult<i64> {
    let email = Email::parse(email).map_err(|m| AppError::field("email", m))?;
    let mut tx = app.store.begin().await?;
    let fields = PersonFields {
        given_name: given,
        family_name: family,
        email: email.as_str(),
        agency_id,
    };
    let id = tx
        .person_create(implementation_id, &fields, app.now())
        .await
        .map_err(email_taken)?;
    tx.account_create(id, email.as_str())
        .await
        .map_err(email_taken)?;
    auth::issue_password(&mut tx, app, id, password, must_change).await?;
    for r in roles {
        tx.implementation_role_set(id, r.as_str(), true).await?;
    }
    crate::audit::record_system(&mut tx, app, Some(implementation_id), None, "person.create", "person", Some(id), json!({"after": {
        "email": email.as_str(), "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(), "via": "command line"
    }}), "local").await?;
    tx.commit().await?;
    Ok(id)
}
