//! HMIS account provisioning: the Lead's task when a request reaches it, the account record
//! with its status history, the login-information email (never a password), and a signed
//! webhook for every status change.

use crate::audit::record;
use crate::{mail, processes, App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::hmis_account::HmisAccountStatus;
use onramp_domain::process::{StepKind, StepStatus};
use onramp_domain::request::RequestStatus;
use onramp_domain::username::UsernamePattern;
use onramp_formats::csv_export::write_csv;
use onramp_store::hmis_accounts::{HmisAccountFilter, NewHmisAccount};
use onramp_store::outbox::NewOutboxMessage;
use onramp_store::reads::*;
use onramp_store::{AccessRequest, HmisAccount, HmisAccountEvent, Page, PageRequest, Tx};
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;

/// Implementation settings holding the webhook's address and secret.
pub const WEBHOOK_URL: &str = "webhook_url";
pub const WEBHOOK_SECRET: &str = onramp_domain::webhook::SECRET_SETTING;

/// Creates the pending account of a request reaching provisioning, with a proposed
/// username: the person's earlier HMIS username if they had one, else the template's
/// pattern made unique in the implementation.
pub(crate) async fn propose(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
) -> AppResult<()> {
    if tx.hmis_account_of_request(request.id).await?.is_some() {
        return Ok(());
    }
    let imp = request.implementation_id;
    let person = tx.person_by_id(request.person_id).await?;
    let earlier = tx
        .hmis_accounts_of_person(person.id)
        .await?
        .into_iter()
        .next();
    let username = match &earlier {
        Some(a) => a.username.clone(),
        None => {
            let template = processes::load(tx, imp, request.template_id).await?;
            let pattern =
                UsernamePattern::parse(&template.username_pattern).map_err(AppError::Internal)?;
            let base = pattern.render(&person.given_name, &person.family_name);
            let taken = tx.hmis_usernames_like(imp, &base).await?;
            pattern.unique(&person.given_name, &person.family_name, &|u| {
                taken.iter().any(|t| t == u)
            })
        }
    };
    let projects = tx
        .request_projects(request.id)
        .await?
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let now = app.now();
    let id = match earlier {
        // A returning person keeps their account: it moves to the new request's details.
        Some(mut a) => {
            a.access_level = request.access_level.clone();
            a.projects = projects.clone();
            tx.hmis_account_save(&a, now).await?;
            tx.hmis_account_set_request(a.id, request.id, request.agency_id)
                .await?;
            tx.hmis_account_event_add(
                a.id,
                &a.status,
                now,
                None,
                &format!("Provisioning for request #{}", request.id),
            )
            .await?;
            a.id
        }
        None => {
            let id = tx
                .hmis_account_create(
                    &NewHmisAccount {
                        implementation_id: imp,
                        person_id: person.id,
                        request_id: Some(request.id),
                        username: &username,
                        access_level: &request.access_level,
                        agency_id: request.agency_id,
                        projects: &projects,
                        status: HmisAccountStatus::Pending.as_str(),
                    },
                    now,
                )
                .await?;
            tx.hmis_account_event_add(
                id,
                HmisAccountStatus::Pending.as_str(),
                now,
                None,
                "Proposed by Onramp",
            )
            .await?;
            id
        }
    };
    record(
        tx,
        app,
        ctx,
        "hmis_account.propose",
        "hmis_account",
        Some(id),
        json!({"username": username, "request_id": request.id}),
    )
    .await?;
    Ok(())
}

fn check_username(u: &str) -> AppResult<String> {
    let u = u.trim().to_lowercase();
    if u.is_empty()
        || u.len() > 64
        || !u.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
        })
    {
        return Err(AppError::field(
            "username",
            "Use 1 to 64 letters, digits, '.', '_', '-' or '@'",
        ));
    }
    Ok(u)
}

/// The Lead records that the account exists in the HMIS: the account becomes active, the
/// person gets their login information (username only), and the step is done.
pub async fn record_created(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    username: &str,
) -> AppResult<()> {
    ctx.require(Permission::WorkQueue)?;
    let username = check_username(username)?;
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let request = tx.request_get(imp, request_id).await?;
    if RequestStatus::parse(&request.status) != Some(RequestStatus::Open) {
        return Err(AppError::Conflict(
            "This request is not in progress.".into(),
        ));
    }
    let template = processes::load(&mut tx, imp, request.template_id).await?;
    let steps = tx.request_steps(request_id).await?;
    let def = template
        .steps
        .iter()
        .find(|d| {
            d.kind == StepKind::AccountProvisioning
                && steps.iter().any(|s| {
                    s.step_key == d.key && StepStatus::parse(&s.status) == Some(StepStatus::Open)
                })
        })
        .cloned()
        .ok_or_else(|| AppError::Conflict("This request has no provisioning task open.".into()))?;
    let account = tx.hmis_account_of_request(request_id).await?;
    let account = match account {
        Some(a) => a,
        None => {
            propose(&mut tx, app, ctx, &request).await?;
            tx.hmis_account_of_request(request_id)
                .await?
                .ok_or(AppError::NotFound)?
        }
    };
    if !account.username.eq_ignore_ascii_case(&username)
        && tx.hmis_username_taken(imp, &username).await?
    {
        return Err(AppError::field(
            "username",
            "Another HMIS account already uses this username",
        ));
    }
    let now = app.now();
    let before = account.status.clone();
    let mut updated = account.clone();
    updated.username = username.clone();
    updated.status = HmisAccountStatus::Active.as_str().into();
    tx.hmis_account_save(&updated, now).await?;
    tx.hmis_account_event_add(
        account.id,
        HmisAccountStatus::Active.as_str(),
        now,
        Some(ctx.actor.person_id),
        "Account created in the HMIS",
    )
    .await?;
    record(&mut tx, app, ctx, "hmis_account.activate", "hmis_account", Some(account.id), json!({"before": {"status": before, "username": account.username}, "after": {"status": "active", "username": username}})).await?;
    let person = tx.person_by_id(request.person_id).await?;
    let implementation = tx.implementation_get(imp).await?.name;
    mail::queue(
        &mut tx,
        app,
        imp,
        &person.email,
        "login_information",
        &[
            ("name", &person.given_name),
            ("implementation", &implementation),
            ("username", &username),
            (
                "request_link",
                &crate::access::request_link(app, request_id),
            ),
        ],
    )
    .await?;
    let fresh = tx.hmis_account_get(imp, account.id).await?;
    post_webhook(&mut tx, app, &fresh, &before).await?;
    crate::access::settle(
        &mut tx,
        app,
        ctx,
        &request,
        &template,
        &def,
        StepStatus::Done,
        &format!("HMIS account {username} created"),
        json!({"username": username}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Notes the person's first sign-in to the HMIS on their account.
pub(crate) async fn record_first_sign_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
) -> AppResult<()> {
    let Some(mut a) = tx.hmis_account_of_request(request.id).await? else {
        return Ok(());
    };
    if a.first_sign_in_at.is_some() {
        return Ok(());
    }
    let now = app.now();
    a.first_sign_in_at = Some(now);
    tx.hmis_account_save(&a, now).await?;
    tx.hmis_account_event_add(
        a.id,
        &a.status,
        now,
        Some(ctx.actor.person_id),
        "First sign-in confirmed",
    )
    .await?;
    Ok(())
}

/// Suspends, reactivates or deactivates an account, with a note.
pub async fn set_status(
    app: &App,
    ctx: &Ctx,
    account_id: i64,
    status: &str,
    note: &str,
) -> AppResult<()> {
    ctx.require(Permission::WorkQueue)?;
    let to = HmisAccountStatus::parse(status)
        .ok_or_else(|| AppError::field("status", "Choose a status"))?;
    let mut tx = app.store.begin().await?;
    let imp = ctx.implementation_id();
    let a = tx.hmis_account_get(imp, account_id).await?;
    let from = HmisAccountStatus::parse(&a.status).ok_or_else(|| {
        AppError::Internal(format!("account {account_id} has status {:?}", a.status))
    })?;
    if !from.may_become(to) {
        return Err(AppError::field(
            "status",
            format!(
                "An account that is {} cannot become {}",
                from.label().to_lowercase(),
                to.label().to_lowercase()
            ),
        ));
    }
    let note = note.trim().chars().take(1000).collect::<String>();
    if note.is_empty() {
        return Err(AppError::field(
            "note",
            "Say why (it is kept in the account's history)",
        ));
    }
    let now = app.now();
    let mut updated = a.clone();
    updated.status = to.as_str().into();
    tx.hmis_account_save(&updated, now).await?;
    tx.hmis_account_event_add(a.id, to.as_str(), now, Some(ctx.actor.person_id), &note)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        &format!("hmis_account.{}", to.as_str()),
        "hmis_account",
        Some(a.id),
        json!({"before": from.as_str(), "after": to.as_str(), "note": note}),
    )
    .await?;
    let fresh = tx.hmis_account_get(imp, a.id).await?;
    post_webhook(&mut tx, app, &fresh, from.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// Queues the status change for the implementation's webhook, if one is set. The worker
/// signs each delivery when it makes it, over the time of sending and the body, with the
/// implementation's secret (`onramp_jobs::webhook`), and retries it.
async fn post_webhook(tx: &mut Tx, app: &App, a: &HmisAccount, before: &str) -> AppResult<()> {
    let Some(url) = tx
        .setting_get(a.implementation_id, WEBHOOK_URL)
        .await?
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(());
    };
    let person = tx.person_by_id(a.person_id).await?;
    let now = app.now();
    let body = json!({
        "event": "hmis_account.status_changed",
        "occurred_at": now.to_rfc3339(),
        "account": {"id": a.id, "username": a.username, "status": a.status, "previous_status": before, "access_level": a.access_level, "agency_id": a.agency_id,
                    "projects": a.projects.split(',').filter(|s| !s.is_empty()).filter_map(|s| s.parse::<i64>().ok()).collect::<Vec<_>>()},
        "person": {"id": person.id, "given_name": person.given_name, "family_name": person.family_name, "email": person.email},
    })
    .to_string();
    let payload = json!({"url": url, "body": body}).to_string();
    tx.outbox_enqueue(
        &NewOutboxMessage {
            implementation_id: Some(a.implementation_id),
            kind: "webhook",
            recipient: &url,
            subject: "hmis_account.status_changed",
            payload: &payload,
        },
        now,
    )
    .await?;
    Ok(())
}

/// An account with its history, for its page.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: HmisAccount,
    pub events: Vec<HmisAccountEvent>,
    pub person_name: String,
    pub agency_name: String,
}

fn scope(ctx: &Ctx, f: &mut HmisAccountFilter) -> AppResult<()> {
    if !ctx.actor.may(Permission::ViewOrganisation) {
        let mine = ctx.actor.overseen_agencies();
        if mine.is_empty() {
            return Err(AppError::Forbidden);
        }
        f.only_agencies = Some(mine);
    }
    Ok(())
}

pub async fn list(
    app: &App,
    ctx: &Ctx,
    mut f: HmisAccountFilter,
    page: PageRequest,
) -> AppResult<Page<HmisAccount>> {
    scope(ctx, &mut f)?;
    let mut tx = app.store.read().await?;
    Ok(tx
        .hmis_accounts_list(ctx.implementation_id(), &f, page)
        .await?)
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<AccountView> {
    let mut tx = app.store.read().await?;
    let account = tx.hmis_account_get(ctx.implementation_id(), id).await?;
    if !ctx.actor.may(Permission::ViewAgency(account.agency_id))
        && account.person_id != ctx.actor.person_id
    {
        return Err(AppError::NotFound);
    }
    let events = tx.hmis_account_events(id).await?;
    let person_name = tx.person_by_id(account.person_id).await?.display_name();
    let agency_name = tx
        .agency_get(ctx.implementation_id(), account.agency_id)
        .await?
        .name;
    Ok(AccountView {
        account,
        events,
        person_name,
        agency_name,
    })
}

pub async fn csv(app: &App, ctx: &Ctx, f: HmisAccountFilter) -> AppResult<String> {
    let page = list(app, ctx, f, PageRequest::ALL).await?;
    let mut tx = app.store.read().await?;
    let mut rows = Vec::new();
    for a in page.items {
        let p = tx.person_by_id(a.person_id).await?;
        let agency = tx
            .agency_get(ctx.implementation_id(), a.agency_id)
            .await?
            .name;
        rows.push(vec![
            a.id.to_string(),
            a.username,
            p.given_name,
            p.family_name,
            p.email,
            agency,
            a.access_level,
            a.projects,
            a.status,
            a.first_sign_in_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            a.created_at.to_rfc3339(),
            a.updated_at.to_rfc3339(),
        ]);
    }
    write_csv(
        &[
            "id",
            "username",
            "given_name",
            "family_name",
            "email",
            "agency",
            "access_level",
            "project_ids",
            "status",
            "first_sign_in_at",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The webhook settings (the secret is never shown again once saved).
pub async fn webhook_settings(app: &App, ctx: &Ctx) -> AppResult<(String, bool)> {
    ctx.require(Permission::ManageImplementation)?;
    let mut tx = app.store.read().await?;
    let url = tx
        .setting_get(ctx.implementation_id(), WEBHOOK_URL)
        .await?
        .unwrap_or_default();
    let has_secret = tx
        .setting_get(ctx.implementation_id(), WEBHOOK_SECRET)
        .await?
        .is_some_and(|s| !s.is_empty());
    Ok((url, has_secret))
}

/// How long saving a webhook waits for its host name to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Checks a webhook address as saved: http(s), a host, and no loopback, private,
/// link-local or metadata address, written or resolved (unless the operator allows the
/// host). A name that does not resolve now is accepted: delivery checks it again.
async fn check_webhook_url(app: &App, url: &str) -> AppResult<()> {
    let field = |m: String| AppError::field("webhook_url", m);
    let parsed = url::Url::parse(url).map_err(|_| {
        field("Enter a full address, like https://hmis.example.org/hooks/onramp".into())
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(field("Enter an address starting with https://".into()));
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(field(
            "The address needs a host name, like hmis.example.org".into(),
        ));
    };
    let allowed = &app.config.webhook_allow_hosts;
    let refused = |why: String| {
        field(format!(
            "Onramp does not post to this address: {why}. Use your receiver's public address, or ask whoever runs Onramp to allow this host"
        ))
    };
    onramp_domain::webhook::check_host(host, allowed).map_err(refused)?;
    if allowed.allows(host) || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.to_string(), port));
    if let Ok(Ok(addrs)) = tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
        onramp_domain::webhook::check_resolved(host, &ips, allowed).map_err(refused)?;
    }
    Ok(())
}

/// Sets the webhook address (empty to turn it off) and, when given, a new secret. A
/// webhook needs a secret: receivers check each delivery's signature with it.
pub async fn set_webhook(app: &App, ctx: &Ctx, url: &str, secret: &str) -> AppResult<()> {
    ctx.require(Permission::ManageImplementation)?;
    let url = url.trim();
    if !url.is_empty() {
        check_webhook_url(app, url).await?;
    }
    if !secret.is_empty() && secret.chars().count() < 16 {
        return Err(AppError::field(
            "webhook_secret",
            "Use a secret of at least 16 characters",
        ));
    }
    let mut tx = app.store.begin().await?;
    let has_secret = tx
        .setting_get(ctx.implementation_id(), WEBHOOK_SECRET)
        .await?
        .is_some_and(|s| !s.is_empty());
    if !url.is_empty() && secret.is_empty() && !has_secret {
        return Err(AppError::field(
            "webhook_secret",
            "Enter a secret of at least 16 characters: your receiver uses it to check that each delivery comes from Onramp",
        ));
    }
    tx.setting_put(ctx.implementation_id(), WEBHOOK_URL, url)
        .await?;
    if !secret.is_empty() {
        tx.setting_put(ctx.implementation_id(), WEBHOOK_SECRET, secret)
            .await?;
    }
    record(
        &mut tx,
        app,
        ctx,
        "webhook.update",
        "implementation",
        Some(ctx.implementation_id()),
        json!({"url": url, "secret_changed": !secret.is_empty()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
