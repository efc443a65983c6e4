//! Process templates: an implementation's onboarding steps as versioned TOML files.
//!
//! Saving never changes a stored version: it adds the next one, so a request in progress
//! keeps the version it started with. The implementation setting `default_process` names
//! the template new requests use. [`install_seeds`] gives a new implementation the default
//! agreements and one template for each of the five seed processes.

use crate::audit::{record, record_system};
use crate::{App, AppError, AppResult, Ctx};
use onramp_domain::agreement::{text_hash, AgreementKind};
use onramp_domain::authz::Permission;
use onramp_domain::process::ProcessTemplate;
use onramp_domain::{FieldError, HudProjectType};
use onramp_formats::process_template::{self as format, FormatProblem};
use onramp_store::organisation::Catalogue;
use onramp_store::reads::*;
use onramp_store::Reads;
use onramp_store::{CatalogueEntry, PageRequest, ProcessTemplateRow, Tx};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The implementation setting that names the default template (by key).
pub const DEFAULT_PROCESS_SETTING: &str = "default_process";

/// The form field that problems of a template's text are reported on.
pub const BODY_FIELD: &str = "body";

/// Longest template text accepted, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 200_000;

/// Keys a template may not take, because they are page names under `/admin/processes/`.
const RESERVED_KEYS: [&str; 2] = ["import", "new"];

/// One template for each seed process (see `shared/seeds/`), in seed order. The first is
/// the default of a new implementation.
pub const SEED_TEMPLATES: [&str; 5] = [
    include_str!("../processes/000-online-courses-then-login.toml"),
    include_str!("../processes/001-agency-checklist-then-account.toml"),
    include_str!("../processes/002-introductory-and-advanced-training.toml"),
    include_str!("../processes/003-verification-and-agreement-then-quiz.toml"),
    include_str!("../processes/004-courses-and-proctored-session.toml"),
];

/// An agreement every implementation starts with.
#[derive(Debug, Clone, Copy)]
pub struct DefaultAgreement {
    pub key: &'static str,
    pub kind: AgreementKind,
    pub title: &'static str,
    pub resign_yearly: bool,
    /// Markdown.
    pub body: &'static str,
}

pub const DEFAULT_AGREEMENTS: [DefaultAgreement; 4] = [
    DefaultAgreement {
        key: "end_user",
        kind: AgreementKind::EndUser,
        title: "HMIS end-user agreement",
        resign_yearly: true,
        body: END_USER_AGREEMENT,
    },
    DefaultAgreement {
        key: "security_awareness",
        kind: AgreementKind::SecurityAwareness,
        title: "HMIS security awareness agreement",
        resign_yearly: true,
        body: SECURITY_AWARENESS_AGREEMENT,
    },
    DefaultAgreement {
        key: "staff_verification",
        kind: AgreementKind::StaffVerification,
        title: "Staff verification for HMIS access",
        resign_yearly: false,
        body: STAFF_VERIFICATION,
    },
    DefaultAgreement {
        key: "agency_participation",
        kind: AgreementKind::AgencyParticipation,
        title: "HMIS agency participation agreement",
        resign_yearly: false,
        body: AGENCY_PARTICIPATION_AGREEMENT,
    },
];

const END_USER_AGREEMENT: &str = "\
# HMIS end-user agreement

The Homeless Management Information System (HMIS) holds personal information about people
who are experiencing or at risk of homelessness. They trust us with it so that they can be
served. By signing, I accept the following commitments for as long as I have HMIS access.

## Confidentiality

1. I will look at, enter, change or share client information only when my work requires it,
   and only for the clients and projects I serve.
2. I will not discuss client information outside my work, and I will not disclose it to anyone
   who is not authorized to see it, inside or outside my agency.
3. My duty of confidentiality continues after my access ends.

## My account

4. My username and password are for me alone. I will not share them, write them where others
   can see them, or let anyone work under my sign-in.
5. I will lock or sign out of the HMIS whenever I leave my screen, and I will use the HMIS only
   on devices my agency allows.
6. I will not store, print, photograph or export client information except as my agency's
   procedures allow, and I will dispose of any printed information securely.

## Client consent

7. I will explain to each client, in words they understand, what is recorded about them, why,
   and who can see it, and I will respect their choices.
8. I will share a client's information with another agency only as their signed release of
   information (ROI) and the HMIS policies allow, and I will record the release accurately.
9. I will not refuse services to a client because they decline to share their information,
   unless a funder requires the information for eligibility.

## Data quality

10. I will enter data that is complete, accurate and timely, following the HMIS Data Standards
    and my Continuum of Care's policies, and I will correct errors when I find them.
11. I will not enter information I know to be false or misleading.

## Problems and breaches

12. I will report at once to my agency administrator and the HMIS Lead any suspected breach:
    a lost device, a shared or stolen password, information seen by someone who should not
    have seen it, or any misuse of the HMIS.
13. I understand that breaking this agreement may lead to the suspension or end of my HMIS
    access and to action under my agency's policies and the law.

## Training

14. I will complete the training required for my access level, and renew this agreement and my
    certification every year.
";

const SECURITY_AWARENESS_AGREEMENT: &str = "\
# HMIS security awareness agreement

I have completed the HMIS security awareness training and I understand that:

- My HMIS password is private. I will change it when the HMIS asks me to, choose one that I do
  not use anywhere else, and never send it by email or text message.
- I will sign in only from a secure, up-to-date device, never from a public computer, and I
  will lock my screen when I step away.
- I will watch for phishing: the HMIS Lead will never ask me for my password.
- I will keep client information off personal email, messaging apps, cloud drives and
  removable media.
- I will report a suspected security incident to my agency administrator and the HMIS Lead
  straight away, even if I am not sure.

I agree to follow these practices and the HMIS security policies of my Continuum of Care.
";

const STAFF_VERIFICATION: &str = "\
# Staff verification for HMIS access

As a supervisor at the agency named on this request, I confirm that:

- the person named on this request works for my agency and needs HMIS access for their work;
- the access level, responsibilities and projects requested match their duties;
- they have passed the background check that my agency and the HMIS policies require.

I will tell the HMIS Lead promptly when this person leaves my agency or no longer needs their
access. Only this attestation and its date are kept, not the background check itself.
";

const AGENCY_PARTICIPATION_AGREEMENT: &str = "\
# HMIS agency participation agreement

This agreement is between the participating agency named below and the HMIS Lead.

## The agency agrees to

- follow the HMIS policies and procedures, the privacy and security standards, and the data
  quality plan of the Continuum of Care;
- request HMIS access only for staff who need it, who have passed a background check, and who
  have completed the required training;
- name an agency administrator who oversees its users, and tell the HMIS Lead within one
  business day when a user leaves or no longer needs access;
- post the client privacy notice, obtain client consent and releases of information as the
  policies require, and keep signed releases on file;
- enter complete, accurate and timely data, and correct data quality problems it is told about;
- report suspected breaches to the HMIS Lead at once.

## The HMIS Lead agrees to

- operate the HMIS securely and make it available to the agency's authorized users;
- provide training, user support and data quality reports;
- create, change and end user accounts as requested by the agency's authorized contacts;
- use the agency's data only as the HMIS policies and the law allow.

Either party may end this agreement with written notice; client data already entered remains
subject to the HMIS privacy and security policies.
";

// ---------------------------------------------------------------- reading

/// Reads a stored version of a template; a stored text that no longer parses is an
/// internal error naming the template.
pub fn parse_stored(row: &ProcessTemplateRow) -> AppResult<ProcessTemplate> {
    format::parse(&row.body).map_err(|p| {
        let detail: Vec<String> = p.iter().map(|x| x.to_string()).collect();
        AppError::Internal(format!(
            "stored process template {:?} version {} (id {}) no longer parses: {}",
            row.key,
            row.version,
            row.id,
            detail.join("; ")
        ))
    })
}

/// Parsed template versions, shared by every request of one [`App`].
#[derive(Default)]
pub struct ParsedTemplates(
    std::sync::RwLock<std::collections::HashMap<(i64, i64), Arc<ProcessTemplate>>>,
);

/// Parsed versions kept at most; past it the cache starts again (versions are few).
const PARSED_TEMPLATES_KEPT: usize = 256;

/// One stored version of a template, by id, parsed once per application: for the pages
/// that read templates on every request (home, request pages).
pub async fn load_shared<R: Reads>(
    app: &App,
    tx: &mut R,
    implementation_id: i64,
    template_id: i64,
) -> AppResult<Arc<ProcessTemplate>> {
    let key = (implementation_id, template_id);
    if let Some(t) = app
        .templates
        .0
        .read()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        return Ok(t);
    }
    let parsed = Arc::new(load(tx, implementation_id, template_id).await?);
    if let Ok(mut m) = app.templates.0.write() {
        if m.len() >= PARSED_TEMPLATES_KEPT {
            m.clear();
        }
        m.insert(key, parsed.clone());
    }
    Ok(parsed)
}

/// One stored version of a template, by id.
pub async fn load<R: Reads>(
    tx: &mut R,
    implementation_id: i64,
    template_id: i64,
) -> AppResult<ProcessTemplate> {
    let row = tx.template_get(implementation_id, template_id).await?;
    parse_stored(&row)
}

/// The latest version of the template with this key.
pub async fn latest_by_key(
    tx: &mut Tx,
    implementation_id: i64,
    key: &str,
) -> AppResult<Option<ProcessTemplateRow>> {
    Ok(tx.template_latest(implementation_id, key).await?)
}

/// The template new requests use: the latest version of the one named by the
/// `default_process` setting; else the only template, if there is exactly one.
pub async fn default_template(
    tx: &mut Tx,
    implementation_id: i64,
) -> AppResult<Option<ProcessTemplateRow>> {
    if let Some(key) = tx
        .setting_get(implementation_id, DEFAULT_PROCESS_SETTING)
        .await?
    {
        if let Some(row) = tx.template_latest(implementation_id, &key).await? {
            return Ok(Some(row));
        }
    }
    let mut all = tx.templates_latest(implementation_id).await?;
    Ok(if all.len() == 1 { all.pop() } else { None })
}

/// A template in the list: its latest version.
#[derive(Debug, Clone)]
pub struct TemplateSummary {
    pub latest: ProcessTemplateRow,
    /// None when the stored text no longer parses.
    pub step_count: Option<usize>,
    pub is_default: bool,
}

/// The latest version of every template, by name.
pub async fn list(app: &App, ctx: &Ctx) -> AppResult<Vec<TemplateSummary>> {
    ctx.require(Permission::ViewOrganisation)?;
    let mut tx = app.store.read().await?;
    let default_key = default_template(&mut tx, ctx.implementation_id())
        .await?
        .map(|r| r.key);
    let rows = tx.templates_latest(ctx.implementation_id()).await?;
    Ok(rows
        .into_iter()
        .map(|latest| TemplateSummary {
            step_count: format::parse(&latest.body).ok().map(|t| t.steps.len()),
            is_default: default_key.as_deref() == Some(latest.key.as_str()),
            latest,
        })
        .collect())
}

/// Every version of a template, newest first.
pub async fn versions(app: &App, ctx: &Ctx, key: &str) -> AppResult<Vec<ProcessTemplateRow>> {
    ctx.require(Permission::ViewOrganisation)?;
    let mut tx = app.store.read().await?;
    let v = tx.template_versions(ctx.implementation_id(), key).await?;
    if v.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// One version of a template with what its page shows.
#[derive(Debug, Clone)]
pub struct TemplateDetail {
    pub row: ProcessTemplateRow,
    pub template: ProcessTemplate,
    /// Every version, newest first.
    pub versions: Vec<ProcessTemplateRow>,
    pub is_default: bool,
    /// Names of the access levels, by code.
    pub access_levels: BTreeMap<String, String>,
    /// Names of the responsibilities, by code.
    pub responsibilities: BTreeMap<String, String>,
    /// Titles of the agreements, by key.
    pub agreements: BTreeMap<String, String>,
}

/// A template's version (the latest when `version` is None), parsed.
pub async fn detail(
    app: &App,
    ctx: &Ctx,
    key: &str,
    version: Option<i32>,
) -> AppResult<TemplateDetail> {
    ctx.require(Permission::ViewOrganisation)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let versions = tx.template_versions(imp, key).await?;
    let row = match version {
        None => versions.first(),
        Some(n) => versions.iter().find(|r| r.version == n),
    }
    .cloned()
    .ok_or(AppError::NotFound)?;
    let template = parse_stored(&row)?;
    let is_default = default_template(&mut tx, imp)
        .await?
        .is_some_and(|d| d.key == row.key);
    let names = |entries: Vec<CatalogueEntry>| {
        entries
            .into_iter()
            .map(|e| (e.code, e.name))
            .collect::<BTreeMap<_, _>>()
    };
    let (access_levels, responsibilities) = catalogues(&mut tx, imp).await?;
    let (access_levels, responsibilities) = (names(access_levels), names(responsibilities));
    let agreements = tx
        .agreements_list(imp)
        .await?
        .into_iter()
        .map(|a| (a.key, a.title))
        .collect();
    Ok(TemplateDetail {
        row,
        template,
        versions,
        is_default,
        access_levels,
        responsibilities,
        agreements,
    })
}

/// A version of a template (the latest when `version` is None) as a file:
/// (`<key>-v<N>.toml`, its text).
pub async fn export(
    app: &App,
    ctx: &Ctx,
    key: &str,
    version: Option<i32>,
) -> AppResult<(String, String)> {
    ctx.require(Permission::ViewOrganisation)?;
    let mut tx = app.store.read().await?;
    let row = match version {
        None => tx.template_latest(ctx.implementation_id(), key).await?,
        Some(n) => tx
            .template_versions(ctx.implementation_id(), key)
            .await?
            .into_iter()
            .find(|r| r.version == n),
    }
    .ok_or(AppError::NotFound)?;
    Ok((format!("{}-v{}.toml", row.key, row.version), row.body))
}

// ---------------------------------------------------------------- checking

/// What a template may refer to in an implementation.
struct Known {
    agreements: Vec<String>,
    access_levels: Vec<String>,
    responsibilities: Vec<String>,
}

async fn known(tx: &mut Tx, implementation_id: i64) -> AppResult<Known> {
    let agreements = tx
        .agreements_list(implementation_id)
        .await?
        .into_iter()
        .filter(|a| a.active)
        .map(|a| a.key)
        .collect();
    let codes =
        |entries: Vec<CatalogueEntry>| entries.into_iter().map(|e| e.code).collect::<Vec<_>>();
    let access_levels = codes(
        tx.catalogue_list(
            Catalogue::AccessLevels,
            implementation_id,
            None,
            None,
            PageRequest::ALL,
        )
        .await?
        .items,
    );
    let responsibilities = codes(
        tx.catalogue_list(
            Catalogue::Responsibilities,
            implementation_id,
            None,
            None,
            PageRequest::ALL,
        )
        .await?
        .items,
    );
    Ok(Known {
        agreements,
        access_levels,
        responsibilities,
    })
}

/// Normalises line endings (browsers send CRLF from a textarea).
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Where a problem is: `line 12, step "training"`, or nothing for the template as a whole.
struct Locator {
    step_lines: Vec<usize>,
    keys: Vec<String>,
    /// How many "used by an earlier step" problems were placed, per key.
    duplicates_seen: BTreeMap<String, usize>,
}

impl Locator {
    fn new(text: &str, t: &ProcessTemplate) -> Self {
        Self {
            step_lines: format::step_lines(text),
            keys: t.steps.iter().map(|s| s.key.clone()).collect(),
            duplicates_seen: BTreeMap::new(),
        }
    }

    /// The index of the step a problem is about.
    fn index(&mut self, place: &str, message: &str) -> Option<usize> {
        if let Some(n) = place
            .strip_prefix("step ")
            .and_then(|n| n.parse::<usize>().ok())
        {
            return n.checked_sub(1);
        }
        let matches: Vec<usize> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| *k == place)
            .map(|(i, _)| i)
            .collect();
        if message.contains("earlier step") {
            let seen = self.duplicates_seen.entry(place.to_string()).or_insert(0);
            *seen += 1;
            return matches.get(*seen).or(matches.last()).copied();
        }
        matches.first().copied()
    }

    fn message(&mut self, place: &str, message: &str) -> String {
        if place == "template" {
            return format!("The template's {message}")
                .replace("The template's has ", "The template has ");
        }
        let index = self.index(place, message);
        let step = match index {
            Some(i) if self.keys.get(i).is_some_and(|k| !k.is_empty()) => {
                format!("step {:?}", self.keys[i])
            }
            Some(i) => format!("step {}", i + 1),
            None => format!("step {place:?}"),
        };
        match index.and_then(|i| self.step_lines.get(i)) {
            Some(line) => format!("line {line}, {step}: {message}"),
            None => format!("{step}: {message}"),
        }
    }
}

/// The line a problem message starts with (`line 12…`); 0 when it names none.
fn line_number(message: &str) -> usize {
    message
        .strip_prefix("line ")
        .map(|r| {
            r.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn format_problems(p: Vec<FormatProblem>) -> AppError {
    AppError::Invalid(
        p.into_iter()
            .map(|x| FieldError::new(BODY_FIELD, x.to_string()))
            .collect(),
    )
}

/// Parses and checks a template's text against what the implementation holds. Problems are
/// field errors on [`BODY_FIELD`], each naming its line or step.
async fn check(
    tx: &mut Tx,
    implementation_id: i64,
    text: &str,
    expected_key: Option<&str>,
) -> AppResult<ProcessTemplate> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(AppError::field(
            BODY_FIELD,
            format!(
                "The template is too long: keep it under {} KB",
                MAX_TEMPLATE_BYTES / 1000
            ),
        ));
    }
    let t = format::parse(text).map_err(format_problems)?;
    let known = known(tx, implementation_id).await?;
    let mut at = Locator::new(text, &t);
    let mut problems: Vec<String> = Vec::new();
    if let Some(k) = expected_key {
        if t.key != k {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("key"))
                .map(|i| format!("line {}: ", i + 1))
                .unwrap_or_default();
            problems.push(format!("{line}the key must stay {k:?} when editing this process; to start another process, import it as a new file"));
        }
    }
    if RESERVED_KEYS.contains(&t.key.as_str()) {
        problems.push(format!(
            "The template's key {:?} is reserved: choose another",
            t.key
        ));
    }
    if let Err(ps) = t.validate(&known.agreements) {
        for p in ps {
            problems.push(at.message(&p.place, &p.message));
        }
    }
    for (i, s) in t.steps.iter().enumerate() {
        let place = if s.key.is_empty() {
            format!("step {}", i + 1)
        } else {
            s.key.clone()
        };
        let unknown = |codes: &[String], known: &[String]| {
            codes
                .iter()
                .filter(|c| !known.contains(c))
                .cloned()
                .collect::<Vec<_>>()
        };
        for c in unknown(&s.applies.access_levels, &known.access_levels)
            .into_iter()
            .chain(unknown(
                &s.applies.except_access_levels,
                &known.access_levels,
            ))
        {
            problems.push(at.message(
                &place,
                &format!(
                    "access level {c:?} is not in the access-level catalogue (known: {})",
                    known.access_levels.join(", ")
                ),
            ));
        }
        for c in unknown(&s.applies.responsibilities, &known.responsibilities) {
            problems.push(at.message(
                &place,
                &format!(
                    "responsibility {c:?} is not in the responsibilities catalogue (known: {})",
                    known.responsibilities.join(", ")
                ),
            ));
        }
        for c in s
            .applies
            .project_types
            .iter()
            .filter(|c| HudProjectType::from_code(**c).is_none())
        {
            problems.push(at.message(
                &place,
                &format!("{c} is not a HUD project type: use 0\u{2013}4 or 6\u{2013}14"),
            ));
        }
    }
    // In the order of the file: problems of the whole template first, then by line.
    problems.sort_by_key(|m| line_number(m));
    if problems.is_empty() {
        Ok(t)
    } else {
        Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|m| FieldError::new(BODY_FIELD, m))
                .collect(),
        ))
    }
}

// ---------------------------------------------------------------- changing

/// Saves a template's text as the next version of the template its `key` names (version 1
/// of a new one). Returns (id, version).
pub async fn save(app: &App, ctx: &Ctx, text: &str) -> AppResult<(i64, i32)> {
    save_checked(app, ctx, text, None).await
}

/// Saves an edit of the template `key`: the text must keep that key.
pub async fn save_edit(app: &App, ctx: &Ctx, key: &str, text: &str) -> AppResult<(i64, i32)> {
    save_checked(app, ctx, text, Some(key)).await
}

async fn save_checked(
    app: &App,
    ctx: &Ctx,
    text: &str,
    expected_key: Option<&str>,
) -> AppResult<(i64, i32)> {
    ctx.require(Permission::ManageProcess)?;
    let imp = ctx.implementation_id();
    let text = normalise(text);
    let mut tx = app.store.begin().await?;
    if let Some(k) = expected_key {
        if tx.template_latest(imp, k).await?.is_none() {
            return Err(AppError::NotFound);
        }
    }
    let t = check(&mut tx, imp, &text, expected_key).await?;
    let (id, version) = tx
        .template_insert(
            imp,
            &t.key,
            &t.name,
            &text,
            app.now(),
            Some(ctx.actor.person_id),
        )
        .await?;
    record(&mut tx, app, ctx, "process_template.save", "process_template", Some(id), json!({
        "key": t.key, "version": version, "name": t.name, "steps": t.steps.len(), "sha256": text_hash(&text),
    }))
    .await?;
    tx.commit().await?;
    Ok((id, version))
}

// ---------------------------------------------------------------- the form editor

/// The name of a step's field in the editor's form: `s<index>-<field>` (index from 0), where
/// `field` is one of [`onramp_domain::process::editor::step_field`].
pub fn step_field_name(index: usize, field: &str) -> String {
    format!("s{index}-{field}")
}

/// One entry of a list the editor picks from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub code: String,
    pub name: String,
    /// Inactive entries are offered only where a template already names them.
    pub active: bool,
}

/// A template's latest version as the form editor opens it, with every list it picks from.
#[derive(Debug, Clone)]
pub struct Editing {
    pub row: ProcessTemplateRow,
    pub template: ProcessTemplate,
    pub access_levels: Vec<Choice>,
    pub responsibilities: Vec<Choice>,
    pub agreements: Vec<Choice>,
}

/// The implementation's access levels and responsibilities, every entry, for pickers.
async fn catalogues(
    tx: &mut Tx,
    imp: i64,
) -> AppResult<(Vec<CatalogueEntry>, Vec<CatalogueEntry>)> {
    let access_levels = tx
        .catalogue_list(Catalogue::AccessLevels, imp, None, None, PageRequest::ALL)
        .await?
        .items;
    let responsibilities = tx
        .catalogue_list(
            Catalogue::Responsibilities,
            imp,
            None,
            None,
            PageRequest::ALL,
        )
        .await?
        .items;
    Ok((access_levels, responsibilities))
}

/// Opens the latest version of the template `key` in the form editor.
pub async fn editing(app: &App, ctx: &Ctx, key: &str) -> AppResult<Editing> {
    ctx.require(Permission::ManageProcess)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let row = tx
        .template_latest(imp, key)
        .await?
        .ok_or(AppError::NotFound)?;
    let template = parse_stored(&row)?;
    let choices = |entries: Vec<CatalogueEntry>| {
        entries
            .into_iter()
            .map(|e| Choice {
                code: e.code,
                name: e.name,
                active: e.active,
            })
            .collect::<Vec<_>>()
    };
    let (access_levels, responsibilities) = catalogues(&mut tx, imp).await?;
    let (access_levels, responsibilities) = (choices(access_levels), choices(responsibilities));
    let agreements = tx
        .agreements_list(imp)
        .await?
        .into_iter()
        .map(|a| Choice {
            code: a.key,
            name: a.title,
            active: a.active,
        })
        .collect();
    Ok(Editing {
        row,
        template,
        access_levels,
        responsibilities,
        agreements,
    })
}

/// Every problem of a template made in the form editor, as field errors named as the form
/// names its fields (see [`step_field_name`]): the template's rules and the codes it takes
/// from the implementation's catalogues and agreements.
async fn form_problems(
    tx: &mut Tx,
    implementation_id: i64,
    key: &str,
    t: &ProcessTemplate,
) -> AppResult<Vec<FieldError>> {
    use onramp_domain::process::editor::{step_field, template_field};
    let known = known(tx, implementation_id).await?;
    let mut out = Vec::new();
    if t.key != key {
        out.push(FieldError::new(
            template_field::KEY,
            format!("The key stays {key:?} when editing this process"),
        ));
    }
    for p in t.problems_by_field(&known.agreements) {
        let field = match p.step {
            Some(i) => step_field_name(i, p.field),
            None => p.field.to_string(),
        };
        out.push(FieldError::new(field, p.message));
    }
    for (i, s) in t.steps.iter().enumerate() {
        let unknown = |codes: &[String], known: &[String]| {
            codes
                .iter()
                .filter(|c| !known.contains(c))
                .cloned()
                .collect::<Vec<_>>()
        };
        for (field, codes, catalogue, list) in [
            (
                step_field::ACCESS_LEVELS,
                &s.applies.access_levels,
                &known.access_levels,
                "access-level",
            ),
            (
                step_field::EXCEPT_ACCESS_LEVELS,
                &s.applies.except_access_levels,
                &known.access_levels,
                "access-level",
            ),
            (
                step_field::RESPONSIBILITIES,
                &s.applies.responsibilities,
                &known.responsibilities,
                "responsibilities",
            ),
        ] {
            let missing = unknown(codes, catalogue);
            if !missing.is_empty() {
                out.push(FieldError::new(
                    step_field_name(i, field),
                    format!(
                        "{} {} not in the {list} catalogue: untick {} or add {} to the catalogue",
                        missing.join(", "),
                        if missing.len() == 1 { "is" } else { "are" },
                        if missing.len() == 1 { "it" } else { "them" },
                        if missing.len() == 1 { "it" } else { "them" },
                    ),
                ));
            }
        }
        let bad_types: Vec<String> = s
            .applies
            .project_types
            .iter()
            .filter(|c| HudProjectType::from_code(**c).is_none())
            .map(|c| c.to_string())
            .collect();
        if !bad_types.is_empty() {
            out.push(FieldError::new(
                step_field_name(i, step_field::PROJECT_TYPES),
                format!(
                    "{} is not a HUD project type: use 0\u{2013}4 or 6\u{2013}14",
                    bad_types.join(", ")
                ),
            ));
        }
    }
    Ok(out)
}

/// The problems the form editor shows for a template that is not saved (for example one
/// with fields that could not be read), without saving anything.
pub async fn problems_of(
    app: &App,
    ctx: &Ctx,
    key: &str,
    t: &ProcessTemplate,
) -> AppResult<Vec<FieldError>> {
    ctx.require(Permission::ManageProcess)?;
    let mut tx = app.store.read().await?;
    form_problems(&mut tx, ctx.implementation_id(), key, t).await
}

/// Saves a template made in the form editor as the next version of the template `key`
/// (written as the TOML file an export gives). Problems are field errors named as the
/// form names its fields. Returns (id, version).
pub async fn save_template(
    app: &App,
    ctx: &Ctx,
    key: &str,
    t: &ProcessTemplate,
) -> AppResult<(i64, i32)> {
    ctx.require(Permission::ManageProcess)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.begin().await?;
    if tx.template_latest(imp, key).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let problems = form_problems(&mut tx, imp, key, t).await?;
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let text = format::write(t);
    let (id, version) = tx
        .template_insert(
            imp,
            &t.key,
            &t.name,
            &text,
            app.now(),
            Some(ctx.actor.person_id),
        )
        .await?;
    record(&mut tx, app, ctx, "process_template.save", "process_template", Some(id), json!({
        "key": t.key, "version": version, "name": t.name, "steps": t.steps.len(), "sha256": text_hash(&text), "editor": "form",
    }))
    .await?;
    tx.commit().await?;
    Ok((id, version))
}

/// Makes the template `key` the one new requests use.
pub async fn set_default(app: &App, ctx: &Ctx, key: &str) -> AppResult<()> {
    ctx.require(Permission::ManageProcess)?;
    let imp = ctx.implementation_id();
    let mut tx = app.store.begin().await?;
    let row = tx
        .template_latest(imp, key)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = tx.setting_get(imp, DEFAULT_PROCESS_SETTING).await?;
    tx.setting_put(imp, DEFAULT_PROCESS_SETTING, &row.key)
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "process_template.set_default",
        "process_template",
        Some(row.id),
        json!({
            "before": before, "after": row.key,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives an implementation the default agreements and the five seed templates (those it
/// does not have yet), and makes the seed-000 template the default unless one is set.
pub async fn install_seeds(tx: &mut Tx, app: &App, implementation_id: i64) -> AppResult<()> {
    let now = app.now();
    let mut agreements = Vec::new();
    for a in DEFAULT_AGREEMENTS {
        if tx
            .agreement_by_key(implementation_id, a.key)
            .await?
            .is_some()
        {
            continue;
        }
        let id = tx
            .agreement_create(
                implementation_id,
                a.key,
                a.title,
                a.kind.as_str(),
                a.resign_yearly,
                now,
            )
            .await?;
        tx.agreement_version_add(id, a.body, &text_hash(a.body), now, None)
            .await?;
        agreements.push(a.key);
    }
    let mut templates = Vec::new();
    let mut first_key = None;
    for text in SEED_TEMPLATES {
        let t = match check(tx, implementation_id, text, None).await {
            Ok(t) => t,
            Err(AppError::Invalid(p)) => {
                let detail: Vec<String> = p.into_iter().map(|e| e.message).collect();
                return Err(AppError::Internal(format!(
                    "a seed process template is not valid: {}",
                    detail.join("; ")
                )));
            }
            Err(e) => return Err(e),
        };
        first_key.get_or_insert_with(|| t.key.clone());
        if tx
            .template_latest(implementation_id, &t.key)
            .await?
            .is_none()
        {
            tx.template_insert(implementation_id, &t.key, &t.name, text, now, None)
                .await?;
            templates.push(t.key);
        }
    }
    if let Some(k) = &first_key {
        if tx
            .setting_get(implementation_id, DEFAULT_PROCESS_SETTING)
            .await?
            .is_none()
        {
            tx.setting_put(implementation_id, DEFAULT_PROCESS_SETTING, k)
                .await?;
        }
    }
    record_system(
        tx,
        app,
        Some(implementation_id),
        None,
        "process.install_seeds",
        "implementation",
        Some(implementation_id),
        json!({
            "agreements": agreements, "templates": templates, "default": first_key,
        }),
        "local",
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_parse_and_have_distinct_keys() {
        let mut keys: Vec<String> = SEED_TEMPLATES
            .iter()
            .map(|t| format::parse(t).unwrap().key)
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn problems_are_placed_on_their_step_and_line() {
        let text = "key = \"t\"\nname = \"T\"\n\n[[steps]]\nkey = \"a\"\ntitle = \"A\"\nkind = \"checklist\"\nactor = \"lead\"\n\n[[steps]]\nkey = \"a\"\ntitle = \"B\"\nkind = \"checklist\"\nactor = \"lead\"\n";
        let t = format::parse(text).unwrap();
        let mut at = Locator::new(text, &t);
        assert_eq!(
            at.message("a", "key is used by an earlier step"),
            "line 10, step \"a\": key is used by an earlier step"
        );
        assert_eq!(
            at.message("a", "title is empty"),
            "line 4, step \"a\": title is empty"
        );
        assert_eq!(
            at.message("template", "has no steps"),
            "The template has no steps"
        );
        assert_eq!(
            at.message("template", "name is empty"),
            "The template's name is empty"
        );
        assert_eq!(line_number("line 12, step \"a\": x"), 12);
        assert_eq!(line_number("line 7: x"), 7);
        assert_eq!(line_number("The template has no steps"), 0);
    }

    #[test]
    fn default_agreements_hash_their_text() {
        for a in DEFAULT_AGREEMENTS {
            assert_eq!(text_hash(a.body).len(), 64);
            assert!(a.body.starts_with("# "), "{}", a.key);
        }
    }
}
