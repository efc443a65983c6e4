//! Email templates (subject, text, HTML) per implementation, and queueing mail in the
//! outbox inside the caller's transaction.
//!
//! Templates use `{{name}}` placeholders. Values are HTML-escaped in the HTML body. An
//! implementation may override any template; otherwise the default below is used.

use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::authz::Permission;
use onramp_store::outbox::NewOutboxMessage;
use onramp_store::{EmailTemplate, Tx};
use serde_json::json;

/// A template Onramp ships, with the placeholders it offers.
#[derive(Debug, Clone, Copy)]
pub struct DefaultTemplate {
    pub key: &'static str,
    pub title: &'static str,
    pub placeholders: &'static [&'static str],
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
}

pub const DEFAULTS: &[DefaultTemplate] = &[
    DefaultTemplate {
        key: "invitation",
        title: "Invitation to set a first password",
        placeholders: &["name", "implementation", "link", "expires"],
        subject: "Your {{implementation}} Onramp account",
        text: "Hello {{name}},\n\nAn account has been created for you in Onramp, where {{implementation}} manages HMIS training and access.\n\nSet your password here (the link works once and expires {{expires}}):\n{{link}}\n\nIf you did not expect this message, you can ignore it.\n",
        html: "<p>Hello {{name}},</p><p>An account has been created for you in Onramp, where {{implementation}} manages HMIS training and access.</p><p><a href=\"{{link}}\">Set your password</a> (the link works once and expires {{expires}}).</p><p>If you did not expect this message, you can ignore it.</p>",
    },
    DefaultTemplate {
        key: "password_reset",
        title: "Password reset",
        placeholders: &["name", "implementation", "link", "expires"],
        subject: "Reset your Onramp password",
        text: "Hello {{name}},\n\nSomeone asked to reset the password of your Onramp account. To choose a new password, open this link (it works once and expires {{expires}}):\n{{link}}\n\nIf it was not you, ignore this message: your password has not changed.\n",
        html: "<p>Hello {{name}},</p><p>Someone asked to reset the password of your Onramp account. <a href=\"{{link}}\">Choose a new password</a> (the link works once and expires {{expires}}).</p><p>If it was not you, ignore this message: your password has not changed.</p>",
    },
    DefaultTemplate {
        key: "account_locked",
        title: "Account locked after failed sign-ins",
        placeholders: &["name", "implementation", "until"],
        subject: "Your Onramp account is locked",
        text: "Hello {{name}},\n\nYour Onramp account was locked after several wrong passwords. It unlocks at {{until}}, or you can reset your password.\n\nIf it was not you, tell your HMIS Lead.\n",
        html: "<p>Hello {{name}},</p><p>Your Onramp account was locked after several wrong passwords. It unlocks at {{until}}, or you can reset your password.</p><p>If it was not you, tell your HMIS Lead.</p>",
    },
];

pub fn default_template(key: &str) -> Option<&'static DefaultTemplate> {
    DEFAULTS.iter().find(|t| t.key == key)
}

/// Replaces `{{name}}` placeholders; unknown placeholders are left as they are.
pub fn render(template: &str, vars: &[(&str, &str)], escape: bool) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        let value = if escape { html_escape(v) } else { (*v).to_string() };
        out = out.replace(&format!("{{{{{k}}}}}"), &value);
    }
    out
}

pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The template in force for an implementation: its override, else the default.
pub async fn template_for(tx: &mut Tx, implementation_id: i64, key: &str) -> AppResult<(String, String, String)> {
    if let Some(t) = tx.email_template_get(implementation_id, key).await? {
        return Ok((t.subject, t.text_body, t.html_body));
    }
    let d = default_template(key).ok_or(AppError::NotFound)?;
    Ok((d.subject.into(), d.text.into(), d.html.into()))
}

pub async fn render_for(tx: &mut Tx, implementation_id: i64, key: &str, vars: &[(&str, &str)]) -> AppResult<RenderedEmail> {
    let (s, t, h) = template_for(tx, implementation_id, key).await?;
    Ok(RenderedEmail {
        subject: render(&s, vars, false).replace(['\r', '\n'], " "),
        text: render(&t, vars, false),
        html: render(&h, vars, true),
    })
}

/// Queues an email in the outbox, in the caller's transaction.
pub async fn queue(
    tx: &mut Tx,
    app: &App,
    implementation_id: i64,
    to: &str,
    key: &str,
    vars: &[(&str, &str)],
) -> AppResult<i64> {
    let email = render_for(tx, implementation_id, key, vars).await?;
    let payload = json!({ "to": to, "subject": email.subject, "text": email.text, "html": email.html, "template": key });
    Ok(tx
        .outbox_enqueue(
            &NewOutboxMessage {
                implementation_id: Some(implementation_id),
                kind: "email",
                recipient: to,
                subject: &email.subject,
                payload: &payload.to_string(),
            },
            app.now(),
        )
        .await?)
}

/// One template as an admin sees it.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub key: &'static str,
    pub title: &'static str,
    pub placeholders: &'static [&'static str],
    pub subject: String,
    pub text: String,
    pub html: String,
    pub customised: bool,
}

pub async fn templates(app: &App, ctx: &Ctx) -> AppResult<Vec<TemplateView>> {
    ctx.require(Permission::ManageOutbox)?;
    let mut tx = app.store.read().await?;
    let mut out = Vec::new();
    for d in DEFAULTS {
        let custom = tx.email_template_get(ctx.implementation_id(), d.key).await?;
        out.push(TemplateView {
            key: d.key,
            title: d.title,
            placeholders: d.placeholders,
            customised: custom.is_some(),
            subject: custom.as_ref().map(|c| c.subject.clone()).unwrap_or_else(|| d.subject.into()),
            text: custom.as_ref().map(|c| c.text_body.clone()).unwrap_or_else(|| d.text.into()),
            html: custom.map(|c| c.html_body).unwrap_or_else(|| d.html.into()),
        });
    }
    Ok(out)
}

/// Saves an implementation's version of a template.
pub async fn template_save(app: &App, ctx: &Ctx, key: &str, subject: &str, text: &str, html: &str) -> AppResult<()> {
    ctx.require(Permission::ManageOutbox)?;
    let d = default_template(key).ok_or(AppError::NotFound)?;
    let mut p = crate::error::Problems::default();
    if subject.trim().is_empty() {
        p.push("subject", "Enter a subject");
    }
    if text.trim().is_empty() {
        p.push("text", "Enter a plain-text body");
    }
    if html.trim().is_empty() {
        p.push("html", "Enter an HTML body");
    }
    p.into_result()?;
    let mut tx = app.store.begin().await?;
    tx.email_template_put(&EmailTemplate {
        implementation_id: ctx.implementation_id(),
        key: d.key.into(),
        subject: subject.trim().into(),
        text_body: text.into(),
        html_body: html.into(),
        updated_at: app.now(),
    })
    .await?;
    crate::audit::record(&mut tx, app, ctx, "email_template.update", "email_template", None, json!({ "key": key })).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_escapes_html_only_where_asked() {
        let v = [("name", "<b>Ana</b> & co")];
        assert_eq!(render("Hi {{name}}", &v, false), "Hi <b>Ana</b> & co");
        assert_eq!(render("Hi {{name}}", &v, true), "Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co");
        assert_eq!(render("{{other}}", &v, true), "{{other}}");
    }

    #[test]
    fn every_default_uses_only_its_placeholders() {
        for d in DEFAULTS {
            for body in [d.subject, d.text, d.html] {
                let mut rest = body;
                while let Some(i) = rest.find("{{") {
                    let end = rest[i..].find("}}").map(|e| i + e).unwrap_or(rest.len());
                    let name = &rest[i + 2..end];
                    assert!(d.placeholders.contains(&name), "{}: unknown placeholder {name}", d.key);
                    rest = &rest[end..];
                }
            }
        }
    }
}
