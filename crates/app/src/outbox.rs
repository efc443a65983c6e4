//! The outbox as Lead admins see it.

use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_store::{OutboxMessage, Page, PageRequest};
use serde_json::json;

pub async fn list(app: &App, ctx: &Ctx, status: Option<&str>, page: PageRequest) -> AppResult<Page<OutboxMessage>> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    Ok(tx.outbox_list(ctx.implementation_id(), status, page).await?)
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<OutboxMessage> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    Ok(tx.outbox_get(ctx.implementation_id(), id).await?)
}

/// Puts a message that gave up back in the queue.
pub async fn retry(app: &App, ctx: &Ctx, id: i64) -> AppResult<()> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.begin().await?;
    if !tx.outbox_retry(ctx.implementation_id(), id, app.now()).await? {
        return Err(AppError::Conflict("Only a message that failed can be sent again".into()));
    }
    record(&mut tx, app, ctx, "outbox.retry", "outbox_message", Some(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}
