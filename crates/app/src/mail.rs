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
    DefaultTemplate {
        key: "mfa_changed",
        title: "Two-step sign-in changed",
        placeholders: &["name", "implementation", "change", "when"],
        subject: "Your Onramp two-step sign-in was changed",
        text: "Hello {{name}},\n\nThe two-step sign-in of your Onramp account was {{change}} at {{when}}.\n\nIf it was you, there is nothing to do. If it was not, reset your password now and tell your HMIS Lead.\n",
        html: "<p>Hello {{name}},</p><p>The two-step sign-in of your Onramp account was {{change}} at {{when}}.</p><p>If it was you, there is nothing to do. If it was not, reset your password now and tell your HMIS Lead.</p>",
    },
    DefaultTemplate {
        key: "email_changed",
        title: "Email address changed (to the old address)",
        placeholders: &["name", "implementation", "old_email", "new_email", "changed_by"],
        subject: "The email address of your Onramp account was changed",
        text: "Hello {{name}},\n\n{{changed_by}} changed the email address of your {{implementation}} Onramp account from {{old_email}} to {{new_email}}. Messages from Onramp now go to the new address, and you sign in with it.\n\nIf you did not expect this change, tell your HMIS Lead at once.\n",
        html: "<p>Hello {{name}},</p><p>{{changed_by}} changed the email address of your {{implementation}} Onramp account from {{old_email}} to {{new_email}}. Messages from Onramp now go to the new address, and you sign in with it.</p><p>If you did not expect this change, tell your HMIS Lead at once.</p>",
    },
    DefaultTemplate {
        key: "agency_move_requested",
        title: "An access request waits for an agency change (to Lead staff)",
        placeholders: &["name", "person", "agency", "requester", "implementation", "request_link"],
        subject: "Agency change to decide: {{person}} to {{agency}}",
        text: "Hello {{name}},\n\n{{requester}} asked for HMIS access for {{person}} at {{agency}}. {{person}} is already known to Onramp outside {{agency}}, so nothing happens on the request until Lead staff decide whether they move to {{agency}}.\n\nApprove or refuse the move here:\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{requester}} asked for HMIS access for {{person}} at {{agency}}. {{person}} is already known to Onramp outside {{agency}}, so nothing happens on the request until Lead staff decide whether they move to {{agency}}.</p><p><a href=\"{{request_link}}\">Approve or refuse the move</a></p>",
    },
    DefaultTemplate {
        key: "agency_move_approved",
        title: "Agency change approved: the request goes on",
        placeholders: &["name", "person", "agency", "implementation", "request_link"],
        subject: "{{person}} moves to {{agency}}: the HMIS access request goes on",
        text: "Hello {{name}},\n\nThe HMIS Lead approved the move of {{person}} to {{agency}}. The access request goes on with its steps:\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>The HMIS Lead approved the move of {{person}} to {{agency}}. <a href=\"{{request_link}}\">The access request goes on with its steps</a>.</p>",
    },
    DefaultTemplate {
        key: "request_received",
        title: "Access request received (to the requester)",
        placeholders: &["name", "person", "agency", "implementation", "request_link"],
        subject: "HMIS access request received for {{person}}",
        text: "Hello {{name}},\n\n{{implementation}} has received your request for HMIS access for {{person}} ({{agency}}). You can follow it here:\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{implementation}} has received your request for HMIS access for {{person}} ({{agency}}). <a href=\"{{request_link}}\">Follow the request</a>.</p>",
    },
    DefaultTemplate {
        key: "request_approved",
        title: "Access request approved by the Lead",
        placeholders: &["name", "person", "agency", "implementation", "request_link"],
        subject: "HMIS access request for {{person}} approved",
        text: "Hello {{name}},\n\nThe HMIS Lead approved the access request for {{person}} ({{agency}}). The next steps are listed here:\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>The HMIS Lead approved the access request for {{person}} ({{agency}}). <a href=\"{{request_link}}\">See the next steps</a>.</p>",
    },
    DefaultTemplate {
        key: "request_rejected",
        title: "Access request rejected",
        placeholders: &["name", "person", "agency", "implementation", "request_link", "reason"],
        subject: "HMIS access request for {{person}} was not approved",
        text: "Hello {{name}},\n\nThe HMIS Lead did not approve the access request for {{person}} ({{agency}}).\n\nReason: {{reason}}\n\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>The HMIS Lead did not approve the access request for {{person}} ({{agency}}).</p><p>Reason: {{reason}}</p><p><a href=\"{{request_link}}\">See the request</a></p>",
    },
    DefaultTemplate {
        key: "welcome",
        title: "Welcome to HMIS training, with the invitation to Onramp and the first step",
        placeholders: &["name", "implementation", "agency", "link", "expires", "request_link", "step", "step_link", "carry_over"],
        subject: "Welcome to the {{implementation}} HMIS community",
        text: "Hello {{name}},\n\n{{agency}} has asked for HMIS access for you. Your training and the rest of the process are in Onramp.\n\nStart by choosing your Onramp password (the link works once and expires {{expires}}):\n{{link}}\n\nThen your first step waits for you: {{step}}\n{{step_link}}\n\n{{carry_over}}\n\nAll your steps: {{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{agency}} has asked for HMIS access for you. Your training and the rest of the process are in Onramp.</p><p><a href=\"{{link}}\">Choose your Onramp password</a> (the link works once and expires {{expires}}).</p><p>Then your first step waits for you: <a href=\"{{step_link}}\">{{step}}</a>.</p><p>{{carry_over}}</p><p><a href=\"{{request_link}}\">All your steps</a></p>",
    },
    DefaultTemplate {
        key: "welcome_back",
        title: "Welcome back (for someone who already has an Onramp password), with the first step",
        placeholders: &["name", "implementation", "agency", "link", "expires", "request_link", "step", "step_link", "carry_over"],
        subject: "Your HMIS access request with {{implementation}}",
        text: "Hello {{name}},\n\n{{agency}} has asked for HMIS access for you. Sign in to Onramp with your existing password; your first step waits for you: {{step}}\n{{step_link}}\n\n{{carry_over}}\n\nForgot your password? Choose a new one here (the link works once and expires {{expires}}; your password stays as it is unless you use it):\n{{link}}\n\nAll your steps: {{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{agency}} has asked for HMIS access for you. Sign in to Onramp with your existing password; your first step waits for you: <a href=\"{{step_link}}\">{{step}}</a>.</p><p>{{carry_over}}</p><p>Forgot your password? <a href=\"{{link}}\">Choose a new one</a> (the link works once and expires {{expires}}; your password stays as it is unless you use it).</p><p><a href=\"{{request_link}}\">All your steps</a></p>",
    },
    DefaultTemplate {
        key: "login_information",
        title: "HMIS login information (never a password)",
        placeholders: &["name", "implementation", "username", "request_link"],
        subject: "Your HMIS login information",
        text: "Hello {{name}},\n\nYour HMIS account has been created. Your username is: {{username}}\n\nYour password is never sent by email. Follow your HMIS Lead's instructions to set it at first sign-in, then change it when asked.\n\nWhen you have signed in to the HMIS, confirm it in Onramp and complete any remaining steps:\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>Your HMIS account has been created. Your username is: <strong>{{username}}</strong></p><p>Your password is never sent by email. Follow your HMIS Lead's instructions to set it at first sign-in, then change it when asked.</p><p>When you have signed in to the HMIS, <a href=\"{{request_link}}\">confirm it in Onramp</a> and complete any remaining steps.</p>",
    },
    DefaultTemplate {
        key: "training_completion",
        title: "Onboarding complete: HMIS access granted",
        placeholders: &["name", "person", "implementation", "request_link"],
        subject: "HMIS onboarding complete for {{person}}",
        text: "Hello {{name}},\n\n{{person}} has completed every step of the HMIS training and access process and has access to the HMIS.\n\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{person}} has completed every step of the HMIS training and access process and has access to the HMIS.</p><p><a href=\"{{request_link}}\">See the request</a></p>",
    },
    DefaultTemplate {
        key: "step_waiting",
        title: "A step is now waiting for you (with a link to it)",
        placeholders: &["name", "person", "request", "step", "due", "step_link", "request_link"],
        subject: "Waiting for you: {{step}}",
        text: "Hello {{name}},\n\nA step of {{request}} is now waiting for you: {{step}}.{{due}}\n\nOpen it here: {{step_link}}\n",
        html: "<p>Hello {{name}},</p><p>A step of {{request}} is now waiting for you: <strong>{{step}}</strong>.{{due}}</p><p><a href=\"{{step_link}}\">Open the step</a></p>",
    },
    DefaultTemplate {
        key: "step_reminder",
        title: "Reminder: a step is waiting for you",
        placeholders: &["name", "person", "step", "due", "request_link"],
        subject: "Reminder: {{step}} for {{person}}",
        text: "Hello {{name}},\n\nThis step of {{person}}'s HMIS access request is waiting for you: {{step}}.{{due}}\n\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>This step of {{person}}'s HMIS access request is waiting for you: <strong>{{step}}</strong>.{{due}}</p><p><a href=\"{{request_link}}\">Open the request</a></p>",
    },
    DefaultTemplate {
        key: "deadline_warning",
        title: "A deadline is close",
        placeholders: &["name", "person", "step", "due", "request_link"],
        subject: "Deadline {{due}}: {{step}} for {{person}}",
        text: "Hello {{name}},\n\n{{step}} for {{person}} must be done by {{due}}, or the HMIS access request expires.\n\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p><strong>{{step}}</strong> for {{person}} must be done by {{due}}, or the HMIS access request expires.</p><p><a href=\"{{request_link}}\">Open the request</a></p>",
    },
    DefaultTemplate {
        key: "request_expired",
        title: "Access request expired",
        placeholders: &["name", "person", "agency", "step", "request_link"],
        subject: "HMIS access request for {{person}} expired",
        text: "Hello {{name}},\n\nThe HMIS access request for {{person}} ({{agency}}) expired: \"{{step}}\" was not done by its deadline. An agency contact can ask the HMIS Lead to reopen it.\n\n{{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>The HMIS access request for {{person}} ({{agency}}) expired: \u{201c}{{step}}\u{201d} was not done by its deadline. An agency contact can ask the HMIS Lead to reopen it.</p><p><a href=\"{{request_link}}\">See the request</a></p>",
    },
    DefaultTemplate {
        key: "request_message",
        title: "New message on an access request",
        placeholders: &["name", "person", "author", "message", "request_link"],
        subject: "New message about {{person}}'s HMIS access request",
        text: "Hello {{name}},\n\n{{author}} wrote:\n\n{{message}}\n\nReply here: {{request_link}}\n",
        html: "<p>Hello {{name}},</p><p>{{author}} wrote:</p><blockquote>{{message}}</blockquote><p><a href=\"{{request_link}}\">Reply</a></p>",
    },
    DefaultTemplate {
        key: "certificate_issued",
        title: "Certificate issued (to the person, with a link to it)",
        placeholders: &["name", "implementation", "title", "completed", "validity", "code", "certificate_link", "verify_link"],
        subject: "Your certificate: {{title}}",
        text: "Hello {{name}},\n\nYou completed {{title}} on {{completed}}, and {{implementation}} has issued your certificate. {{validity}}\n\nDownload it (PDF):\n{{certificate_link}}\n\nAnyone you show it to can check it with its code, {{code}}, at:\n{{verify_link}}\n",
        html: "<p>Hello {{name}},</p><p>You completed {{title}} on {{completed}}, and {{implementation}} has issued your certificate. {{validity}}</p><p><a href=\"{{certificate_link}}\">Download your certificate (PDF)</a></p><p>Anyone you show it to can check it with its code, <strong>{{code}}</strong>, at <a href=\"{{verify_link}}\">{{verify_link}}</a>.</p>",
    },
    DefaultTemplate {
        key: "quiz_result",
        title: "A quiz's result (to the person, with the right answers when the quiz shows them)",
        placeholders: &["name", "quiz", "outcome", "score", "pass_mark", "next", "review", "result_link"],
        subject: "{{quiz}}: you {{outcome}} with {{score}}",
        text: "Hello {{name}},\n\nYou {{outcome}} {{quiz}} with {{score}} (the pass mark is {{pass_mark}}). {{next}}\n\n{{review}}\nSee your result: {{result_link}}\n",
        html: "<p>Hello {{name}},</p><p>You {{outcome}} <strong>{{quiz}}</strong> with {{score}} (the pass mark is {{pass_mark}}). {{next}}</p><pre>{{review}}</pre><p><a href=\"{{result_link}}\">See your result</a></p>",
    },
    DefaultTemplate {
        key: "quiz_failed",
        title: "Someone did not pass a quiz (to their agency administrator or the Lead, when the quiz says so)",
        placeholders: &["name", "person", "quiz", "score", "pass_mark", "attempt", "next"],
        subject: "{{person}} did not pass {{quiz}}",
        text: "Hello {{name}},\n\n{{person}} did not pass {{quiz}} on attempt {{attempt}}, with {{score}} (the pass mark is {{pass_mark}}). What they were told: {{next}}\n",
        html: "<p>Hello {{name}},</p><p>{{person}} did not pass <strong>{{quiz}}</strong> on attempt {{attempt}}, with {{score}} (the pass mark is {{pass_mark}}). What they were told: {{next}}</p>",
    },
];

pub fn default_template(key: &str) -> Option<&'static DefaultTemplate> {
    DEFAULTS.iter().find(|t| t.key == key)
}

/// Replaces `{{name}}` placeholders; unknown placeholders are left as they are.
pub fn render(template: &str, vars: &[(&str, &str)], escape: bool) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        let value = if escape {
            html_escape(v)
        } else {
            (*v).to_string()
        };
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
pub async fn template_for(
    tx: &mut Tx,
    implementation_id: i64,
    key: &str,
) -> AppResult<(String, String, String)> {
    if let Some(t) = tx.email_template_get(implementation_id, key).await? {
        return Ok((t.subject, t.text_body, t.html_body));
    }
    let d = default_template(key).ok_or(AppError::NotFound)?;
    Ok((d.subject.into(), d.text.into(), d.html.into()))
}

pub async fn render_for(
    tx: &mut Tx,
    implementation_id: i64,
    key: &str,
    vars: &[(&str, &str)],
) -> AppResult<RenderedEmail> {
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
        let custom = tx
            .email_template_get(ctx.implementation_id(), d.key)
            .await?;
        out.push(TemplateView {
            key: d.key,
            title: d.title,
            placeholders: d.placeholders,
            customised: custom.is_some(),
            subject: custom
                .as_ref()
                .map(|c| c.subject.clone())
                .unwrap_or_else(|| d.subject.into()),
            text: custom
                .as_ref()
                .map(|c| c.text_body.clone())
                .unwrap_or_else(|| d.text.into()),
            html: custom.map(|c| c.html_body).unwrap_or_else(|| d.html.into()),
        });
    }
    Ok(out)
}

/// Saves an implementation's version of a template.
pub async fn template_save(
    app: &App,
    ctx: &Ctx,
    key: &str,
    subject: &str,
    text: &str,
    html: &str,
) -> AppResult<()> {
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
    crate::audit::record(
        &mut tx,
        app,
        ctx,
        "email_template.update",
        "email_template",
        None,
        json!({ "key": key }),
    )
    .await?;
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
        assert_eq!(
            render("Hi {{name}}", &v, true),
            "Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co"
        );
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
                    assert!(
                        d.placeholders.contains(&name),
                        "{}: unknown placeholder {name}",
                        d.key
                    );
                    rest = &rest[end..];
                }
            }
        }
    }
}
