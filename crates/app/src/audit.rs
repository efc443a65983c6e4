//! Writing and reading the audit trail.

use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::audit::{event_hash, ChainProblem, ChainVerifier};
use onramp_domain::authz::Permission;
use onramp_formats::csv_export::write_csv;
use onramp_store::audit::{audit_time, AuditFilter, NewAuditEvent};
use onramp_store::{AuditEvent, Page, PageRequest, Tx};
use serde_json::Value;

/// Appends one audit event for a change made by `ctx`, in the change's transaction.
pub async fn record(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    action: &str,
    subject_type: &str,
    subject_id: Option<i64>,
    summary: Value,
) -> AppResult<()> {
    let summary = summary.to_string();
    tx.audit_append(
        &app.config.audit_key,
        &NewAuditEvent {
            implementation_id: Some(ctx.implementation_id()),
            occurred_at: app.now(),
            // Scheduled work acts as person 0, which is no one.
            actor_id: (ctx.actor.person_id > 0).then_some(ctx.actor.person_id),
            actor_label: &ctx.actor.display_name,
            action,
            subject_type,
            subject_id,
            summary: &summary,
            source_addr: &ctx.source_addr,
        },
    )
    .await?;
    Ok(())
}

/// An audit event with no signed-in actor (a failed sign-in, a command-line action).
#[allow(clippy::too_many_arguments)]
pub async fn record_system(
    tx: &mut Tx,
    app: &App,
    implementation_id: Option<i64>,
    actor: Option<(i64, &str)>,
    action: &str,
    subject_type: &str,
    subject_id: Option<i64>,
    summary: Value,
    source_addr: &str,
) -> AppResult<()> {
    let summary = summary.to_string();
    tx.audit_append(
        &app.config.audit_key,
        &NewAuditEvent {
            implementation_id,
            occurred_at: app.now(),
            actor_id: actor.map(|a| a.0),
            actor_label: actor.map(|a| a.1).unwrap_or("system"),
            action,
            subject_type,
            subject_id,
            summary: &summary,
            source_addr,
        },
    )
    .await?;
    Ok(())
}

/// The audit trail of the actor's implementation, newest first.
pub async fn list(
    app: &App,
    ctx: &Ctx,
    f: &AuditFilter,
    page: PageRequest,
) -> AppResult<Page<AuditEvent>> {
    ctx.require(Permission::ViewAudit)?;
    let mut tx = app.store.read().await?;
    Ok(tx.audit_list(ctx.implementation_id(), f, page).await?)
}

/// The filtered audit trail as CSV, newest first, with each event's hash so that an
/// export can be checked against the chain.
pub async fn csv(app: &App, ctx: &Ctx, f: &AuditFilter) -> AppResult<String> {
    let page = list(app, ctx, f, PageRequest::ALL).await?;
    write_csv(
        &[
            "seq",
            "occurred_at",
            "actor_id",
            "actor",
            "action",
            "subject_type",
            "subject_id",
            "summary",
            "source_addr",
            "hash",
        ],
        page.items.into_iter().map(|e| {
            vec![
                e.seq.to_string(),
                audit_time(e.occurred_at),
                e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                e.actor_label,
                e.action,
                e.subject_type,
                e.subject_id.map(|s| s.to_string()).unwrap_or_default(),
                e.summary,
                e.source_addr,
                e.hash,
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The result of checking the whole chain.
#[derive(Debug)]
pub struct VerifyReport {
    pub checked: u64,
    pub problems: Vec<ChainProblem>,
}

/// The chain head: the sequence number and hash of the last event written. Published
/// elsewhere (a ticket, a signed email, a printed log), it lets anyone later check that the
/// chain up to it was not rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// The chain head (there is one chain for all implementations), for those who read the
/// audit trail.
pub async fn head(app: &App, ctx: &Ctx) -> AppResult<ChainHead> {
    ctx.require(Permission::ViewAudit)?;
    chain_head(app).await
}

/// The chain head, for the command line.
pub async fn chain_head(app: &App) -> AppResult<ChainHead> {
    let mut tx = app.store.read().await?;
    let (seq, hash) = tx.audit_head().await?;
    Ok(ChainHead { seq, hash })
}

/// Whether the last event of the chain was written with this App's key. Checked at start-up,
/// so that a server never goes on writing the chain under a different key than before.
pub async fn key_matches_chain(app: &App) -> AppResult<bool> {
    let mut tx = app.store.read().await?;
    let (seq, _) = tx.audit_head().await?;
    if seq == 0 {
        return Ok(true);
    }
    let last = tx.audit_chain_batch(seq - 1, 1).await?;
    Ok(match last.first() {
        Some(e) => event_hash(&app.config.audit_key, &e.prev_hash, &e.fields()) == e.hash,
        // A missing last event is for `audit verify` to name.
        None => true,
    })
}

/// Recomputes every hash of the chain with the App's key (all implementations: the chain
/// is one).
pub async fn verify(app: &App) -> AppResult<VerifyReport> {
    let mut tx = app.store.read().await?;
    let (head, head_hash) = tx.audit_head().await?;
    let mut v = ChainVerifier::new(&app.config.audit_key);
    let mut after = 0;
    loop {
        let batch = tx.audit_chain_batch(after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        batch.iter().for_each(|e| v.push(e));
    }
    let checked = v.checked;
    Ok(VerifyReport {
        checked,
        problems: v.finish(head, &head_hash),
    })
}
