//! Agreements: versioned Markdown documents, and their signing on an access request's
//! agreement step by the signers that step names, in order.
//!
//! A signature commits to the SHA-256 of the exact stored text of the version signed. A
//! new version never invalidates what was signed (those signatures stay on record, and the
//! printable document checks them against the stored text), but only signatures on the
//! latest version count toward an open step: whoever signed an older one signs again. A
//! signature names the version its signer read; a newer one since is refused.

use crate::audit::record;
use crate::error::Problems;
use crate::{access, notices, processes, App, AppError, AppResult, Ctx};
use chrono::{DateTime, Duration, Utc};
use onramp_domain::agreement::{
    next_signer, signature_matches, text_hash, AgreementKind, SignerRole,
};
use onramp_domain::authz::{Actor, Permission};
use onramp_domain::process::{StepDef, StepKind, StepStatus};
use onramp_domain::request::RequestStatus;
use onramp_domain::values::required_text;
use onramp_domain::{AgencyRole, Slug};
use onramp_formats::markdown::render_safe;
use onramp_store::agreements::NewSignature;
use onramp_store::reads::*;
use onramp_store::Reads;
use onramp_store::{AccessRequest, AgreementRow, AgreementVersion, Signature, StoreError, Tx};
use serde::Deserialize;
use serde_json::json;

/// The longest agreement text accepted, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;

// ---------------------------------------------------------------- administration

/// A new agreement, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgreementInput {
    pub key: String,
    pub title: String,
    /// An [`AgreementKind`] name, e.g. `end_user`.
    pub kind: String,
    #[serde(default)]
    pub resign_yearly: bool,
    /// The text of version 1, in Markdown.
    pub body: String,
}

/// What can change about an agreement besides its text (its key and kind are fixed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetaInput {
    pub title: String,
    #[serde(default)]
    pub resign_yearly: bool,
    #[serde(default)]
    pub active: bool,
}

/// An agreement as a list shows it.
#[derive(Debug, Clone)]
pub struct AgreementSummary {
    pub agreement: AgreementRow,
    pub kind_label: &'static str,
    pub latest_version: Option<i32>,
    pub latest_at: Option<DateTime<Utc>>,
    /// How many steps of the processes in use sign it.
    pub uses: usize,
}

/// A step of a process (its latest version) that has an agreement signed, and by whom.
#[derive(Debug, Clone)]
pub struct AgreementUse {
    pub process_key: String,
    pub process_name: String,
    pub step_key: String,
    pub step_title: String,
    /// The step's signers, in order.
    pub signers: Vec<SignerRole>,
}

impl AgreementUse {
    /// The signer roles' labels in order, joined by arrows.
    pub fn signer_labels(&self) -> String {
        signer_labels(&self.signers)
    }
}

/// One agreement with its text and history.
#[derive(Debug, Clone)]
pub struct AgreementDetail {
    pub agreement: AgreementRow,
    pub kind_label: &'static str,
    /// The process steps that have it signed, each with its signers.
    pub uses: Vec<AgreementUse>,
    /// Newest first.
    pub versions: Vec<AgreementVersion>,
    /// The latest version's text, rendered and sanitised.
    pub current_html: String,
    pub may_manage: bool,
}

impl AgreementDetail {
    pub fn latest(&self) -> Option<&AgreementVersion> {
        self.versions.first()
    }
}

/// What `new_version` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOutcome {
    /// A new version with this number was saved.
    Created(i32),
    /// The text is the same as the latest version's (this number): nothing was saved.
    Unchanged(i32),
}

fn signer_labels(order: &[SignerRole]) -> String {
    order
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Who signs an agreement step, in order: the signers the step names. A step saved before
/// steps named their signers is signed by the person alone.
pub fn signer_order(def: &StepDef) -> Vec<SignerRole> {
    if def.signers.is_empty() {
        vec![SignerRole::User]
    } else {
        def.signers.clone()
    }
}

/// The steps of the latest version of every process that have agreement `key` signed.
async fn uses_of(tx: &mut Tx, implementation_id: i64, key: &str) -> AppResult<Vec<AgreementUse>> {
    let mut out = Vec::new();
    for row in tx.templates_latest(implementation_id).await? {
        // A stored text that no longer parses names no agreement anyone can sign.
        let Ok(t) = processes::parse_stored(&row) else {
            continue;
        };
        for s in t
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::AgreementSigning && s.agreement.as_deref() == Some(key))
        {
            out.push(AgreementUse {
                process_key: t.key.clone(),
                process_name: t.name.clone(),
                step_key: s.key.clone(),
                step_title: s.title.clone(),
                signers: signer_order(s),
            });
        }
    }
    Ok(out)
}

fn kind_label(kind: &str) -> &'static str {
    AgreementKind::parse(kind)
        .unwrap_or(AgreementKind::Other)
        .label()
}

/// An agreement text as stored: line endings made `\n`, trailing blanks removed, so that a
/// browser's CRLF does not make a different hash of the same text.
pub fn normalise_body(body: &str) -> String {
    let mut s = body.replace("\r\n", "\n").replace('\r', "\n");
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

fn parse_body(p: &mut Problems, body: &str) -> Option<String> {
    let s = normalise_body(body);
    if s.trim().is_empty() {
        p.push("body", "Enter the agreement's text");
        None
    } else if s.chars().count() > MAX_BODY_CHARS {
        p.push(
            "body",
            format!("The text must be at most {MAX_BODY_CHARS} characters"),
        );
        None
    } else {
        Some(s)
    }
}

/// Agreements of the implementation: all of them for those who manage processes, the
/// active ones for anyone else signed in.
pub async fn list(app: &App, ctx: &Ctx) -> AppResult<Vec<AgreementSummary>> {
    let manage = ctx.actor.may(Permission::ManageProcess);
    let mut tx = app.store.read().await?;
    let mut out = Vec::new();
    for a in tx.agreements_list(ctx.implementation_id()).await? {
        if !a.active && !manage {
            continue;
        }
        let latest = tx.agreement_version_latest(a.id).await?;
        out.push(AgreementSummary {
            kind_label: kind_label(&a.kind),
            uses: uses_of(&mut tx, ctx.implementation_id(), &a.key)
                .await?
                .len(),
            latest_version: latest.as_ref().map(|v| v.version),
            latest_at: latest.map(|v| v.created_at),
            agreement: a,
        });
    }
    Ok(out)
}

/// One agreement with its versions (an inactive one only for those who manage processes).
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> AppResult<AgreementDetail> {
    let manage = ctx.actor.may(Permission::ManageProcess);
    let mut tx = app.store.read().await?;
    let a = tx.agreement_get(ctx.implementation_id(), id).await?;
    if !a.active && !manage {
        return Err(AppError::NotFound);
    }
    let versions = tx.agreement_versions(a.id).await?;
    Ok(AgreementDetail {
        kind_label: kind_label(&a.kind),
        uses: uses_of(&mut tx, ctx.implementation_id(), &a.key).await?,
        current_html: versions
            .first()
            .map(|v| render_safe(&v.body))
            .unwrap_or_default(),
        versions,
        may_manage: manage,
        agreement: a,
    })
}

/// Creates an agreement with its text as version 1.
pub async fn create(app: &App, ctx: &Ctx, input: &AgreementInput) -> AppResult<i64> {
    ctx.require(Permission::ManageProcess)?;
    let mut p = Problems::default();
    let key = p.check_str("key", Slug::parse(&input.key));
    let title = p.check(required_text(
        "title",
        "the agreement's title",
        &input.title,
        200,
    ));
    let kind = match AgreementKind::parse(input.kind.trim()) {
        Some(k) => Some(k),
        None => {
            p.push("kind", "Choose what kind of agreement this is");
            None
        }
    };
    let body = parse_body(&mut p, &input.body);
    p.into_result()?;
    let (Some(key), Some(title), Some(kind), Some(body)) = (key, title, kind, body) else {
        return Err(AppError::Internal("unreachable".into()));
    };
    let imp = ctx.implementation_id();
    let now = app.now();
    let mut tx = app.store.begin().await?;
    if tx.agreement_by_key(imp, key.as_str()).await?.is_some() {
        return Err(AppError::field(
            "key",
            "Another agreement already uses this key",
        ));
    }
    let id = tx
        .agreement_create(
            imp,
            key.as_str(),
            &title,
            kind.as_str(),
            input.resign_yearly,
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::field("key", "Another agreement already uses this key")
            }
            other => other.into(),
        })?;
    let sha = text_hash(&body);
    let (version_id, version) = tx
        .agreement_version_add(id, &body, &sha, now, Some(ctx.actor.person_id))
        .await?;
    record(&mut tx, app, ctx, "agreement.create", "agreement", Some(id), json!({
        "after": {"key": key.as_str(), "title": title, "kind": kind.as_str(), "resign_yearly": input.resign_yearly},
        "version": {"id": version_id, "version": version, "sha256": sha},
    }))
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes an agreement's title, yearly re-signing and whether it is active.
pub async fn update_meta(app: &App, ctx: &Ctx, id: i64, input: &MetaInput) -> AppResult<()> {
    ctx.require(Permission::ManageProcess)?;
    let mut p = Problems::default();
    let title = p.check(required_text(
        "title",
        "the agreement's title",
        &input.title,
        200,
    ));
    p.into_result()?;
    let Some(title) = title else {
        return Err(AppError::Internal("unreachable".into()));
    };
    let imp = ctx.implementation_id();
    let mut tx = app.store.begin().await?;
    let before = tx.agreement_get(imp, id).await?;
    tx.agreement_update(imp, id, &title, input.resign_yearly, input.active)
        .await?;
    let action = if before.active && !input.active {
        "agreement.deactivate"
    } else {
        "agreement.update"
    };
    record(&mut tx, app, ctx, action, "agreement", Some(id), json!({
        "before": {"title": before.title, "resign_yearly": before.resign_yearly, "active": before.active},
        "after": {"title": title, "resign_yearly": input.resign_yearly, "active": input.active},
    }))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Saves a changed text as a new version. The same text as the latest version saves
/// nothing and says so.
pub async fn new_version(app: &App, ctx: &Ctx, id: i64, body: &str) -> AppResult<VersionOutcome> {
    ctx.require(Permission::ManageProcess)?;
    let mut p = Problems::default();
    let body = parse_body(&mut p, body);
    p.into_result()?;
    let Some(body) = body else {
        return Err(AppError::Internal("unreachable".into()));
    };
    let mut tx = app.store.begin().await?;
    let a = tx.agreement_get(ctx.implementation_id(), id).await?;
    let latest = tx.agreement_version_latest(a.id).await?;
    if let Some(l) = &latest {
        if normalise_body(&l.body) == body {
            return Ok(VersionOutcome::Unchanged(l.version));
        }
    }
    let sha = text_hash(&body);
    let (version_id, version) = tx
        .agreement_version_add(a.id, &body, &sha, app.now(), Some(ctx.actor.person_id))
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "agreement.new_version",
        "agreement",
        Some(a.id),
        json!({
            "key": a.key,
            "before": latest.map(|l| json!({"version": l.version, "sha256": l.sha256})),
            "after": {"id": version_id, "version": version, "sha256": sha},
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(VersionOutcome::Created(version))
}

// ---------------------------------------------------------------- signing

/// Where the signing of one agreement step of one request stands.
pub(crate) struct SigningState {
    agreement: AgreementRow,
    order: Vec<SignerRole>,
    pub(crate) latest: AgreementVersion,
    /// This request's signatures on the latest version, oldest first.
    current: Vec<Signature>,
    pub(crate) next: Option<SignerRole>,
}

async fn agreement_of_step<R: Reads>(
    tx: &mut R,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<AgreementRow> {
    if def.kind != StepKind::AgreementSigning {
        return Err(AppError::NotFound);
    }
    let key = def.agreement.as_deref().ok_or_else(|| {
        AppError::Internal(format!("agreement step {:?} names no agreement", def.key))
    })?;
    tx.agreement_by_key(request.implementation_id, key)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
            "The agreement \u{201c}{key}\u{201d} of this step no longer exists: tell the HMIS Lead."
        ))
        })
}

pub(crate) async fn signing_state<R: Reads>(
    tx: &mut R,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<SigningState> {
    let agreement = agreement_of_step(tx, request, def).await?;
    let order = signer_order(def);
    let latest = tx
        .agreement_version_latest(agreement.id)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "\u{201c}{}\u{201d} has no text yet: tell the HMIS Lead.",
                agreement.title
            ))
        })?;
    let current: Vec<Signature> = tx
        .signatures_of_request(request.id)
        .await?
        .into_iter()
        .filter(|s| s.agreement_version_id == latest.id)
        .collect();
    let signed: Vec<SignerRole> = current
        .iter()
        .filter_map(|s| SignerRole::parse(&s.signer_role))
        .collect();
    let next = next_signer(&order, &signed);
    Ok(SigningState {
        agreement,
        order,
        latest,
        current,
        next,
    })
}

/// Whether the actor holds a signer role for this request.
pub fn holds_role(actor: &Actor, request: &AccessRequest, role: SignerRole) -> bool {
    holds_role_for(actor, request.person_id, request.agency_id, role)
}

/// Whether the actor holds a signer role for the person `subject` of agency `a`.
fn holds_role_for(actor: &Actor, subject: i64, a: i64, role: SignerRole) -> bool {
    match role {
        SignerRole::User => actor.person_id == subject,
        SignerRole::Supervisor => {
            actor.has_agency_role(a, AgencyRole::AgencyAdministrator)
                || actor.has_agency_role(a, AgencyRole::Supervisor)
        }
        SignerRole::AgencyAdministrator => {
            actor.has_agency_role(a, AgencyRole::AgencyAdministrator)
        }
        SignerRole::ExecutiveDirector => actor.has_agency_role(a, AgencyRole::ExecutiveDirector),
        SignerRole::Lead => actor.is_lead_staff(),
    }
}

/// Whether the step's row is open on an open request.
async fn step_open<R: Reads>(
    tx: &mut R,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<bool> {
    if RequestStatus::parse(&request.status) != Some(RequestStatus::Open) {
        return Ok(false);
    }
    let row = tx
        .request_steps(request.id)
        .await?
        .into_iter()
        .find(|s| s.step_key == def.key);
    Ok(row.is_some_and(|r| StepStatus::parse(&r.status) == Some(StepStatus::Open)))
}

/// Whether it is the actor's turn to sign this agreement step: the step and the request
/// are open, and the actor holds the role of the next signer (per the agreement's order,
/// among this request's signatures on the latest version).
pub async fn may_sign_now<R: Reads>(
    tx: &mut R,
    actor: &Actor,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<bool> {
    if def.kind != StepKind::AgreementSigning || !step_open(tx, request, def).await? {
        return Ok(false);
    }
    // A step whose agreement is missing or has no text is nobody's to sign (the pages say why).
    match signing_state(tx, request, def).await {
        Ok(state) => Ok(state.next.is_some_and(|r| holds_role(actor, request, r))),
        Err(AppError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Email and given name of everyone who may sign next (empty when nobody is due).
pub async fn next_signers(
    tx: &mut Tx,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<Vec<(String, String)>> {
    if def.kind != StepKind::AgreementSigning {
        return Ok(Vec::new());
    }
    let state = match signing_state(tx, request, def).await {
        Ok(state) => state,
        Err(AppError::Conflict(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(role) = state.next else {
        return Ok(Vec::new());
    };
    Ok(notices::signer_holders(tx, request, role)
        .await?
        .into_iter()
        .map(|r| (r.email, r.name))
        .collect())
}

/// A name compared the way a typed signature is checked: case and spaces ignored.
fn name_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a typed name matches a person's name (case- and space-insensitive).
pub fn typed_name_matches(typed: &str, given_name: &str, family_name: &str) -> bool {
    let t = name_key(typed);
    !t.is_empty() && t == name_key(&format!("{given_name}{family_name}"))
}

/// Who may see a request's agreements: the person, the agency's contacts and director,
/// Lead staff and auditors.
fn may_view(actor: &Actor, request: &AccessRequest) -> bool {
    actor.person_id == request.person_id || actor.may(Permission::ViewRequestsOf(request.agency_id))
}

/// What a signer sends: the name they typed and the version of the text they read.
#[derive(Debug, Clone)]
pub struct SignatureInput<'a> {
    pub typed_name: &'a str,
    /// The version number of the text shown to the signer. A newer version published since
    /// refuses the signature: nobody signs a text they were not shown.
    pub version: i32,
    pub user_agent: &'a str,
}

/// The field a refused signature on a changed text is reported on.
pub const VERSION_FIELD: &str = "version";

/// Signs an agreement step of a request as the actor, whose turn it must be, on the version
/// they read. When every signer has signed the latest version, the step is done; otherwise
/// the next signer is told it is their turn.
pub async fn sign(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    step_key: &str,
    input: &SignatureInput<'_>,
) -> AppResult<()> {
    let (typed_name, user_agent) = (input.typed_name, input.user_agent);
    let imp = ctx.implementation_id();
    let mut tx = app.store.begin().await?;
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    let template = processes::load(&mut tx, imp, request.template_id).await?;
    let def = template.step(step_key).ok_or(AppError::NotFound)?.clone();
    if def.kind != StepKind::AgreementSigning {
        return Err(AppError::NotFound);
    }
    if !step_open(&mut tx, &request, &def).await? {
        return Err(AppError::Conflict(format!(
            "\u{201c}{}\u{201d} is not waiting for a signature now.",
            def.title
        )));
    }
    let state = signing_state(&mut tx, &request, &def).await?;
    let Some(role) = state.next else {
        return Err(AppError::Conflict(
            "Everyone has already signed this agreement.".into(),
        ));
    };
    if !holds_role(&ctx.actor, &request, role) {
        return Err(AppError::Forbidden);
    }
    if input.version != state.latest.version {
        return Err(AppError::field(
            VERSION_FIELD,
            format!(
                "This agreement changed since you opened it: read the new text (version {}) and sign again. Nothing was signed.",
                state.latest.version
            ),
        ));
    }
    let me = tx.person_by_id(ctx.actor.person_id).await?;
    let typed = typed_name.split_whitespace().collect::<Vec<_>>().join(" ");
    if typed.is_empty() {
        return Err(AppError::field("typed_name", "Type your full name to sign"));
    }
    if typed.chars().count() > 200 || !typed_name_matches(&typed, &me.given_name, &me.family_name) {
        return Err(AppError::field(
            "typed_name",
            format!(
                "Type your full name as Onramp knows it ({}) to sign",
                me.display_name()
            ),
        ));
    }
    // The text must be the one that was saved: a stored text changed behind Onramp's back
    // is not signed.
    let sha = text_hash(&state.latest.body);
    if sha != state.latest.sha256 {
        return Err(AppError::Conflict(format!(
            "The stored text of \u{201c}{}\u{201d} version {} no longer matches its fingerprint: tell the HMIS Lead.",
            state.agreement.title, state.latest.version
        )));
    }
    let now = app.now();
    let user_agent: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    let signature_id = tx
        .signature_add(&NewSignature {
            agreement_version_id: state.latest.id,
            request_id: Some(request.id),
            subject_person_id: request.person_id,
            signer_person_id: ctx.actor.person_id,
            signer_role: role.as_str(),
            typed_name: &typed,
            signed_at: now,
            source_addr: &ctx.source_addr,
            user_agent: &user_agent,
            text_sha256: &sha,
        })
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "agreement.sign",
        "access_request",
        Some(request.id),
        json!({
            "step": def.key, "agreement": state.agreement.key, "version": state.latest.version,
            "signer_role": role.as_str(), "signature_id": signature_id, "sha256": sha,
        }),
    )
    .await?;
    let mut signed: Vec<SignerRole> = state
        .current
        .iter()
        .filter_map(|s| SignerRole::parse(&s.signer_role))
        .collect();
    signed.push(role);
    match next_signer(&state.order, &signed) {
        None => {
            let mut names: Vec<String> = state
                .current
                .iter()
                .map(|s| {
                    format!(
                        "{} ({})",
                        s.typed_name,
                        SignerRole::parse(&s.signer_role)
                            .map(|r| r.label())
                            .unwrap_or("?")
                    )
                })
                .collect();
            names.push(format!("{typed} ({})", role.label()));
            let note = format!(
                "{} version {} signed by {}",
                state.agreement.title,
                state.latest.version,
                names.join(", ")
            );
            let summary = json!({"agreement": state.agreement.key, "version": state.latest.version, "sha256": sha});
            access::settle(
                &mut tx,
                app,
                ctx,
                &request,
                &template,
                &def,
                StepStatus::Done,
                &note,
                summary,
            )
            .await?;
        }
        Some(_) => {
            // Tell whoever signs next that it is their turn.
            let fresh = tx.request_get(imp, request.id).await?;
            notices::announce(&mut tx, app, &fresh, &template, &def).await?;
            tx.request_touch(request.id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// One line of a signature block.
#[derive(Debug, Clone)]
pub struct SignatureLine {
    pub signature_id: i64,
    pub role: SignerRole,
    pub role_label: &'static str,
    pub typed_name: String,
    /// The signer's name in Onramp.
    pub signer_name: String,
    pub signed_at: DateTime<Utc>,
    pub source_addr: String,
    pub user_agent: String,
    /// The version signed.
    pub version: i32,
    pub text_sha256: String,
    /// Whether the stored text of the version signed still has the hash signed.
    pub text_matches: bool,
}

/// An agreement step of a request as its signing and printable pages show it.
#[derive(Debug, Clone)]
pub struct SignedDocument {
    pub request_id: i64,
    pub step_key: String,
    pub step_title: String,
    pub step_status: StepStatus,
    pub agreement_key: String,
    pub title: String,
    pub kind_label: &'static str,
    /// The version shown: the latest while signing is open, else the latest one signed.
    pub version: i32,
    pub version_created_at: DateTime<Utc>,
    /// The hash recorded when the version was saved.
    pub version_sha256: String,
    /// Whether the stored text still has the hash recorded when it was saved.
    pub stored_text_intact: bool,
    /// The version's text, rendered and sanitised.
    pub html: String,
    pub person_name: String,
    pub agency_name: String,
    /// The signer roles in order, with the signature on the shown version, if any.
    pub block: Vec<(SignerRole, Option<SignatureLine>)>,
    /// Signatures on other versions of this agreement for this request: valid records of
    /// what was signed, which no longer count toward the step.
    pub earlier: Vec<SignatureLine>,
    /// Whose turn it is while the step is open.
    pub next: Option<SignerRole>,
    /// Whether every signer has signed the shown version.
    pub complete: bool,
    /// Whether the viewer may sign now.
    pub may_sign: bool,
    /// The name the viewer must type to sign.
    pub viewer_name: String,
}

impl SignedDocument {
    /// Whether every signature shown still matches the stored text it signed.
    pub fn all_match(&self) -> bool {
        self.block
            .iter()
            .filter_map(|(_, l)| l.as_ref())
            .all(|l| l.text_matches)
            && self.earlier.iter().all(|l| l.text_matches)
    }
    /// Whether it is this signer role's turn.
    pub fn is_next(&self, role: &SignerRole) -> bool {
        self.next == Some(*role)
    }
    pub fn next_label(&self) -> Option<&'static str> {
        self.next.map(|r| r.label())
    }
}

/// Everything the signing and printable pages show about an agreement step of a request,
/// for whoever may view the request (the person, the agency's contacts and director, Lead
/// staff, auditors).
pub async fn signature_record(
    app: &App,
    ctx: &Ctx,
    request_id: i64,
    step_key: &str,
) -> AppResult<SignedDocument> {
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let request = tx.request_get(imp, request_id).await?;
    if !may_view(&ctx.actor, &request) {
        return Err(AppError::NotFound);
    }
    let template = processes::load(&mut tx, imp, request.template_id).await?;
    let def = template.step(step_key).ok_or(AppError::NotFound)?.clone();
    if def.kind != StepKind::AgreementSigning {
        return Err(AppError::NotFound);
    }
    let step_status = tx
        .request_steps(request.id)
        .await?
        .into_iter()
        .find(|s| s.step_key == def.key)
        .and_then(|s| StepStatus::parse(&s.status))
        .unwrap_or(StepStatus::Waiting);
    let state = signing_state(&mut tx, &request, &def).await?;
    let versions = tx.agreement_versions(state.agreement.id).await?;
    let mine: Vec<Signature> = tx
        .signatures_of_request(request.id)
        .await?
        .into_iter()
        .filter(|s| versions.iter().any(|v| v.id == s.agreement_version_id))
        .collect();
    let open = step_open(&mut tx, &request, &def).await?;
    // While signing goes on, the latest version; after, the latest version signed.
    let shown = if open || mine.is_empty() {
        state.latest.clone()
    } else {
        versions
            .iter()
            .filter(|v| mine.iter().any(|s| s.agreement_version_id == v.id))
            .max_by_key(|v| v.version)
            .cloned()
            .unwrap_or_else(|| state.latest.clone())
    };
    let mut lines = Vec::new();
    for s in &mine {
        let Some(v) = versions.iter().find(|v| v.id == s.agreement_version_id) else {
            continue;
        };
        let role = SignerRole::parse(&s.signer_role).unwrap_or(SignerRole::User);
        let signer_name = tx
            .person_by_id(s.signer_person_id)
            .await
            .map(|p| p.display_name())
            .unwrap_or_default();
        lines.push(SignatureLine {
            signature_id: s.id,
            role,
            role_label: role.label(),
            typed_name: s.typed_name.clone(),
            signer_name,
            signed_at: s.signed_at,
            source_addr: s.source_addr.clone(),
            user_agent: s.user_agent.clone(),
            version: v.version,
            text_sha256: s.text_sha256.clone(),
            text_matches: signature_matches(&v.body, &s.text_sha256),
        });
    }
    let (on_shown, earlier): (Vec<SignatureLine>, Vec<SignatureLine>) =
        lines.into_iter().partition(|l| l.version == shown.version);
    let block: Vec<(SignerRole, Option<SignatureLine>)> = state
        .order
        .iter()
        .map(|r| (*r, on_shown.iter().rev().find(|l| l.role == *r).cloned()))
        .collect();
    let complete = block.iter().all(|(_, l)| l.is_some());
    let next = if open { state.next } else { None };
    let person = tx.person_by_id(request.person_id).await?;
    let agency_name = tx.agency_get(imp, request.agency_id).await?.name;
    let may_sign = open && next.is_some_and(|r| holds_role(&ctx.actor, &request, r));
    Ok(SignedDocument {
        request_id: request.id,
        step_key: def.key.clone(),
        step_title: def.title.clone(),
        step_status,
        agreement_key: state.agreement.key.clone(),
        title: state.agreement.title.clone(),
        kind_label: kind_label(&state.agreement.kind),
        version: shown.version,
        version_created_at: shown.created_at,
        stored_text_intact: signature_matches(&shown.body, &shown.sha256),
        version_sha256: shown.sha256.clone(),
        html: render_safe(&shown.body),
        person_name: person.display_name(),
        agency_name,
        block,
        earlier,
        next,
        complete,
        may_sign,
        viewer_name: ctx.actor.display_name.clone(),
    })
}

/// For agreements signed yearly: whether the person's latest signature as the user is more
/// than 365 days old at `now` (or they never signed). Always false for other agreements.
pub async fn yearly_resign_due(
    tx: &mut Tx,
    person_id: i64,
    agreement: &AgreementRow,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !agreement.resign_yearly {
        return Ok(false);
    }
    let latest = tx
        .signatures_for(person_id, agreement.id)
        .await?
        .into_iter()
        .filter(|s| s.signer_role == SignerRole::User.as_str() && s.signer_person_id == person_id)
        .map(|s| s.signed_at)
        .max();
    Ok(match latest {
        Some(at) => now - at > Duration::days(365),
        None => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use onramp_domain::ImplementationRole;

    #[test]
    fn typed_names_ignore_case_and_spaces() {
        assert!(!typed_name_matches("ana lopez", "Ana", "López"));
        assert!(typed_name_matches("ana lópez", "Ana", "López"));
        assert!(typed_name_matches("  ANA   LÓPEZ ", "Ana", "López"));
        assert!(typed_name_matches("AnaLópez", "Ana", "López"));
        assert!(typed_name_matches(
            "Mary Ann de la Cruz",
            "Mary Ann",
            "De La Cruz"
        ));
        assert!(!typed_name_matches("Ana", "Ana", "López"));
        assert!(!typed_name_matches("", "", ""));
        assert!(!typed_name_matches("Ana Lopez Smith", "Ana", "Lopez"));
    }

    #[test]
    fn bodies_are_stored_with_plain_line_ends() {
        assert_eq!(normalise_body("# T\r\n\r\nText  \r\n\r\n"), "# T\n\nText\n");
        assert_eq!(normalise_body("a\rb"), "a\nb\n");
        assert_eq!(normalise_body("a\n"), normalise_body("a\r\n\r\n"));
    }

    fn actor(
        person_id: i64,
        impl_roles: &[ImplementationRole],
        agency_roles: &[(i64, AgencyRole)],
    ) -> Actor {
        Actor {
            person_id,
            implementation_id: 1,
            display_name: "A".into(),
            implementation_roles: impl_roles.to_vec(),
            agency_roles: agency_roles.to_vec(),
            agency_id: None,
        }
    }

    #[test]
    fn signer_roles_map_to_the_request_s_people() {
        let holds = |a: &Actor, role| holds_role_for(a, 10, 7, role);
        let user = actor(10, &[], &[]);
        let admin = actor(11, &[], &[(7, AgencyRole::AgencyAdministrator)]);
        let other_admin = actor(12, &[], &[(8, AgencyRole::AgencyAdministrator)]);
        let supervisor = actor(13, &[], &[(7, AgencyRole::Supervisor)]);
        let ed = actor(14, &[], &[(7, AgencyRole::ExecutiveDirector)]);
        let lead = actor(15, &[ImplementationRole::TrainingCoordinator], &[]);
        let auditor = actor(16, &[ImplementationRole::Auditor], &[]);
        assert!(holds(&user, SignerRole::User));
        assert!(!holds(&admin, SignerRole::User));
        assert!(holds(&admin, SignerRole::Supervisor));
        assert!(holds(&admin, SignerRole::AgencyAdministrator));
        assert!(!holds(&other_admin, SignerRole::AgencyAdministrator));
        assert!(holds(&supervisor, SignerRole::Supervisor));
        assert!(!holds(&supervisor, SignerRole::AgencyAdministrator));
        assert!(holds(&ed, SignerRole::ExecutiveDirector));
        assert!(!holds(&ed, SignerRole::Supervisor));
        assert!(holds(&lead, SignerRole::Lead));
        assert!(!holds(&lead, SignerRole::ExecutiveDirector));
        assert!(!holds(&auditor, SignerRole::Lead));
    }
}
