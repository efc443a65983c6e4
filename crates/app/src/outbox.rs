//! The outbox as Lead admins see it.

use crate::audit::record;
use crate::auth::{self, INVITATION};
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_domain::links;
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

/// What stands in an invitation link that no longer works (used, expired, or the person
/// has set a password since).
pub const SPENT: &str = "[no-longer-valid]";

/// One message, with the one-time links it carries hidden: a Lead admin never sees someone
/// else's live password-reset link, nor a live invitation link when email goes out over
/// SMTP. With the embedded maildir (no SMTP), the Outbox is where a Lead admin reads an
/// invitation to hand it over: a live invitation link is shown then, and that viewing is
/// audited.
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<OutboxMessage> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    let mut m = tx.outbox_get(ctx.implementation_id(), id).await?;
    let mut payload = links::mask(&m.payload, &[links::PASSWORD_RESET_PATH], links::HIDDEN);
    let mut shown = 0;
    if app.config.mail_to_maildir {
        let now = app.now();
        let mut live = Vec::new();
        for token in links::tokens_after(&payload, links::INVITATION_PATH) {
            if let Some(t) = tx.token_find(INVITATION, &auth::token_hash(token)).await? {
                let unused = t.used_at.is_none() && t.expires_at > now;
                if unused && !auth::has_password(&mut tx, t.person_id).await? {
                    live.push(token.to_string());
                }
            }
        }
        payload = links::replace_tokens(&payload, links::INVITATION_PATH, |t| {
            if live.iter().any(|l| l == t) {
                shown += 1;
                None
            } else {
                Some(SPENT.to_string())
            }
        });
    } else {
        payload = links::mask(&payload, &[links::INVITATION_PATH], links::HIDDEN);
    }
    m.payload = payload;
    drop(tx);
    if shown > 0 {
        let mut tx = app.store.begin().await?;
        record(
            &mut tx,
            app,
            ctx,
            "outbox.invitation_link_viewed",
            "outbox_message",
            Some(id),
            json!({"recipient": m.recipient}),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(m)
}

/// Replaces the token after every `marker` with a note.
pub fn hide_links(text: &str, marker: &str) -> String {
    links::mask(text, &[marker], links::HIDDEN)
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
