//! Certificates: issued when a person completes a course version or their plan (or a
//! named part of it), checked by anyone with the code on the public verification page, and
//! downloaded as an accessible PDF by the person, their agency's administrators and Lead
//! staff.

use crate::audit::record;
use crate::{mail, App, AppError, AppResult, Ctx};
use chrono::{DateTime, Duration, Utc};
use onramp_domain::authz::Permission;
use onramp_domain::learning::certificate::{
    CertificateStatus, CertificateSubject, VerificationCode, CODE_RANDOM_BYTES,
};
use onramp_domain::values::required_text;
use onramp_formats::certificate_pdf::{self, long_date, CertificateContent};
use onramp_store::learning::certificates::NewCertificate;
use onramp_store::Tx;
use rand::RngCore;
use serde_json::json;

pub use onramp_store::learning::certificates::Certificate;

/// The email a person gets when a certificate is issued to them.
pub const ISSUED_TEMPLATE: &str = "certificate_issued";
/// The longest title of what a certificate certifies.
pub const TITLE_MAX: usize = 300;
/// The longest reason for a revocation.
pub const REASON_MAX: usize = 1000;

/// What the public verification page shows of a certificate: nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicCertificate {
    /// The person's name, as certified.
    pub name: String,
    /// What was completed.
    pub title: String,
    pub completed_at: DateTime<Utc>,
    pub status: CertificateStatus,
    pub valid_until: Option<DateTime<Utc>>,
}

/// A certificate with its status now.
#[derive(Debug, Clone)]
pub struct CertificateView {
    pub certificate: Certificate,
    pub status: CertificateStatus,
}

/// A certificate as a file to download.
#[derive(Debug, Clone)]
pub struct CertificateFile {
    /// `certificate-7KQ2-M9XD-4TRB.pdf`
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Where anyone checks a code: `<base>/verify/<code>`.
pub fn verify_link(app: &App, code: &str) -> String {
    format!("{}/verify/{code}", app.config.base_url)
}

/// Where the person downloads their certificate.
pub fn pdf_link(app: &App, id: i64) -> String {
    format!("{}/certificates/{id}/pdf", app.config.base_url)
}

fn new_code() -> VerificationCode {
    let mut bytes = [0u8; CODE_RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    VerificationCode::from_random_bytes(bytes)
}

/// Issues a certificate to `person_id` (of `ctx`'s implementation) for `subject`, in the
/// caller's transaction, with its audit event and an email to the person. The caller has
/// decided that the subject is complete (this checks no permission: it is what completing
/// does). A person has one certificate per subject: issuing the same course version or
/// plan part again gives back the one they have (revoked or not), and writes nothing.
///
/// `title` says what was completed ("Introduction to HMIS (version 2)"); `valid_until`
/// None means it does not expire.
#[allow(clippy::too_many_arguments)]
pub async fn issue_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    subject: &CertificateSubject,
    title: &str,
    completed_at: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
) -> AppResult<Certificate> {
    let title = required_text("title", "what was completed", title, TITLE_MAX)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    if valid_until.is_some_and(|until| until <= completed_at) {
        return Err(AppError::field(
            "valid_until",
            "A certificate must be valid for some time after its completion",
        ));
    }
    let person = tx.person_get(ctx.implementation_id(), person_id).await?;
    let (kind, reference) = (subject.kind(), subject.reference());
    if let Some(existing) = tx
        .certificate_of_subject(person.id, kind, &reference)
        .await?
    {
        return Ok(existing);
    }
    let code = new_code();
    let name = person.display_name();
    let inserted = tx
        .certificate_insert(
            &NewCertificate {
                implementation_id: person.implementation_id,
                person_id: person.id,
                person_name: &name,
                code: code.as_str(),
                subject_kind: kind,
                subject_ref: &reference,
                title: &title,
                completed_at,
                valid_until,
            },
            app.now(),
        )
        .await?;
    let Some(id) = inserted else {
        // Issued by a transaction that committed in the meantime.
        return tx
            .certificate_of_subject(person.id, kind, &reference)
            .await?
            .ok_or(AppError::NotFound);
    };
    let certificate = tx.certificate_get(person.implementation_id, id).await?;
    record(
        tx,
        app,
        ctx,
        "certificate.issue",
        "certificate",
        Some(id),
        json!({
            "person_id": person.id,
            "subject_kind": kind,
            "subject_ref": reference,
            "title": title,
            "completed_at": completed_at,
            "valid_until": valid_until,
        }),
    )
    .await?;
    let implementation = tx.implementation_get(person.implementation_id).await?;
    let completed = long_date(completed_at.date_naive());
    let validity = match valid_until {
        Some(until) => format!("It is valid until {}.", long_date(until.date_naive())),
        None => "It does not expire.".to_string(),
    };
    let certificate_link = pdf_link(app, id);
    let verify = verify_link(app, code.as_str());
    mail::queue(
        tx,
        app,
        person.implementation_id,
        &person.email,
        ISSUED_TEMPLATE,
        &[
            ("name", &name),
            ("implementation", &implementation.name),
            ("title", &title),
            ("completed", &completed),
            ("validity", &validity),
            ("code", code.as_str()),
            ("certificate_link", &certificate_link),
            ("verify_link", &verify),
        ],
    )
    .await?;
    Ok(certificate)
}

/// Revokes a certificate (Lead admin), with the reason, audited. The verification page
/// then says it is revoked.
pub async fn revoke(app: &App, ctx: &Ctx, id: i64, reason: &str) -> AppResult<()> {
    ctx.require(Permission::RevokeCertificates)?;
    let reason = required_text("reason", "the reason", reason, REASON_MAX)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = app.store.begin().await?;
    let c = tx.certificate_get(ctx.implementation_id(), id).await?;
    if !tx
        .certificate_revoke(ctx.implementation_id(), id, &reason, app.now())
        .await?
    {
        return Err(AppError::Conflict(
            "This certificate was revoked already.".into(),
        ));
    }
    record(
        &mut tx,
        app,
        ctx,
        "certificate.revoke",
        "certificate",
        Some(id),
        json!({ "person_id": c.person_id, "title": c.title, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The certificate with this code as the public verification page shows it, or None; for
/// anyone, signed in or not. Each look-up counts against the client address's allowance
/// (`certificate_lookups_per_window` in `rate_limit_window_minutes`); past it, `RateLimited`.
pub async fn verify_public(
    app: &App,
    source_addr: &str,
    code: &VerificationCode,
    now: DateTime<Utc>,
) -> AppResult<Option<PublicCertificate>> {
    let window_start = now - Duration::minutes(app.config.rate_limit_window_minutes);
    let mut tx = app.store.begin().await?;
    tx.certificate_lookups_prune(window_start).await?;
    if tx
        .certificate_lookups_since(source_addr, window_start)
        .await?
        >= app.config.certificate_lookups_per_window
    {
        tx.commit().await?;
        return Err(AppError::RateLimited);
    }
    tx.certificate_lookup_record(source_addr, now).await?;
    let found = tx.certificate_by_code(code.as_str()).await?;
    tx.commit().await?;
    Ok(found.map(|c| PublicCertificate {
        status: CertificateStatus::at(c.valid_until, c.revoked_at, now),
        name: c.person_name,
        title: c.title,
        completed_at: c.completed_at,
        valid_until: c.valid_until,
    }))
}

fn views(app: &App, list: Vec<Certificate>) -> Vec<CertificateView> {
    let now = app.now();
    list.into_iter()
        .map(|c| CertificateView {
            status: CertificateStatus::at(c.valid_until, c.revoked_at, now),
            certificate: c,
        })
        .collect()
}

/// The signed-in person's certificates, newest first.
pub async fn mine(app: &App, ctx: &Ctx) -> AppResult<Vec<CertificateView>> {
    let mut tx = app.store.read().await?;
    let list = tx
        .certificates_of_person(ctx.implementation_id(), ctx.actor.person_id)
        .await?;
    Ok(views(app, list))
}

/// One person's certificates, newest first, for those who may see them.
pub async fn of_person(app: &App, ctx: &Ctx, person_id: i64) -> AppResult<Vec<CertificateView>> {
    let mut tx = app.store.read().await?;
    let person = tx.person_get(ctx.implementation_id(), person_id).await?;
    ctx.require(Permission::ViewCertificatesOf {
        person_id: person.id,
        agency_id: person.agency_id,
    })?;
    let list = tx
        .certificates_of_person(ctx.implementation_id(), person.id)
        .await?;
    Ok(views(app, list))
}

/// A certificate as a PDF file, for the person, their agency's administrators and Lead
/// staff.
pub async fn pdf(app: &App, ctx: &Ctx, id: i64) -> AppResult<CertificateFile> {
    let mut tx = app.store.read().await?;
    let c = tx.certificate_get(ctx.implementation_id(), id).await?;
    let person = tx.person_get(ctx.implementation_id(), c.person_id).await?;
    ctx.require(Permission::ViewCertificatesOf {
        person_id: person.id,
        agency_id: person.agency_id,
    })?;
    let issuer = tx.implementation_get(c.implementation_id).await?.name;
    drop(tx);
    let verify_url = verify_link(app, &c.code);
    let file_name = format!("certificate-{}.pdf", c.code);
    let bytes = tokio::task::spawn_blocking(move || {
        certificate_pdf::render(&CertificateContent {
            issuer: &issuer,
            person_name: &c.person_name,
            completed: &c.title,
            completed_on: c.completed_at.date_naive(),
            valid_until: c.valid_until.map(|d| d.date_naive()),
            issued_on: c.issued_at.date_naive(),
            code: &c.code,
            verify_url: &verify_url,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(CertificateFile { file_name, bytes })
}
