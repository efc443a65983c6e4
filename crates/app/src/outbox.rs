//! The outbox as Lead admins see it.

use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_store::{OutboxMessage, Page, PageRequest};
use serde_json::json;

pub async fn list(
    app: &App,
    ctx: &Ctx,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<OutboxMessage>> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    Ok(tx
        .outbox_list(ctx.implementation_id(), status, page)
        .await?)
}

/// One message. Password-reset links are hidden: only their recipient may use them.
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<OutboxMessage> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    let mut m = tx.outbox_get(ctx.implementation_id(), id).await?;
    m.payload = hide_links(&m.payload, "/password-reset/");
    Ok(m)
}

/// Replaces the token after every `marker` with a note.
pub fn hide_links(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str("[hidden]");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Puts a message that gave up back in the queue.
pub async fn retry(app: &App, ctx: &Ctx, id: i64) -> AppResult<()> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.begin().await?;
    if !tx
        .outbox_retry(ctx.implementation_id(), id, app.now())
        .await?
    {
        // Another implementation's message, or none at all, is not found; only a message
        // of this implementation that has not failed is a conflict.
        tx.outbox_get(ctx.implementation_id(), id).await?;
        return Err(AppError::Conflict(
            "Only a message that failed can be sent again".into(),
        ));
    }
    record(
        &mut tx,
        app,
        ctx,
        "outbox.retry",
        "outbox_message",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reset_tokens_are_hidden() {
        // As stored: JSON text, where a new line is a backslash and an n.
        let t = r"open http://x/password-reset/AbC_-9 now; http://x/password-reset/Zz\n";
        assert_eq!(
            super::hide_links(t, "/password-reset/"),
            r"open http://x/password-reset/[hidden] now; http://x/password-reset/[hidden]\n"
        );
    }
}
