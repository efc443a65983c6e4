//! Sign-in, sessions, multi-factor authentication, invitations, password resets and API tokens.

use crate::audit::{record, record_system};
use crate::{mail, App, AppError, AppResult, Ctx};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use onramp_domain::authz::Actor;
use onramp_domain::{AgencyRole, Email, ImplementationRole};
use onramp_store::sessions::NewSession;
use onramp_store::{ApiToken, Tx};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Where a signed-in session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password accepted; a code from the authenticator app is due.
    Mfa,
    /// The person's role requires MFA and they have not set it up yet.
    MfaEnrol,
    /// An issued password must be replaced before anything else.
    PasswordChange,
    /// Fully signed in.
    Active,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Mfa => "mfa",
            Stage::MfaEnrol => "mfa_enrol",
            Stage::PasswordChange => "password_change",
            Stage::Active => "active",
        }
    }
    pub fn parse(s: &str) -> Stage {
        match s {
            "mfa" => Stage::Mfa,
            "mfa_enrol" => Stage::MfaEnrol,
            "password_change" => Stage::PasswordChange,
            "active" => Stage::Active,
            // An unknown stage grants nothing beyond the first step.
            _ => Stage::Mfa,
        }
    }
}

/// A live session, as a request sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token_hash: String,
    pub stage: Stage,
    pub csrf_token: String,
    pub actor: Actor,
    pub email: String,
}

pub(crate) const INVITATION: &str = "invitation";
pub(crate) const PASSWORD_RESET: &str = "password_reset";
const WRONG_CREDENTIALS: &str =
    "The email or password is not right, or the account is locked after repeated failures";

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Tokens are stored only as their SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn argon2(app: &App) -> AppResult<Argon2<'static>> {
    let params = Params::new(
        app.config.argon2_memory_kib,
        app.config.argon2_iterations,
        1,
        None,
    )
    .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password(app: &App, password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2(app)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Builds the actor for a person: their roles and agency.
pub async fn load_actor(tx: &mut Tx, person_id: i64) -> AppResult<Actor> {
    let person = tx.person_by_id(person_id).await?;
    actor_of(tx, &person).await
}

/// The actor for a person already read.
async fn actor_of(tx: &mut Tx, person: &onramp_store::Person) -> AppResult<Actor> {
    let person_id = person.id;
    let implementation_roles = tx
        .implementation_roles_of(person_id)
        .await?
        .iter()
        .filter_map(|r| ImplementationRole::parse(r).ok())
        .collect();
    let agency_roles = tx
        .agency_roles_of(person_id)
        .await?
        .into_iter()
        .filter_map(|(a, r)| AgencyRole::parse(&r).ok().map(|r| (a, r)))
        .collect();
    Ok(Actor {
        person_id,
        implementation_id: person.implementation_id,
        display_name: person.display_name(),
        implementation_roles,
        agency_roles,
        agency_id: person.agency_id,
    })
}

/// What happened at the sign-in form.
#[derive(Debug)]
pub struct SignedIn {
    /// The session cookie's value; only its hash is stored.
    pub session_token: String,
    pub stage: Stage,
}

/// Checks an email and password; on success opens a session at the right stage.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: &str,
    source_addr: &str,
    user_agent: &str,
) -> AppResult<SignedIn> {
    let now = app.now();
    let window_start = now - Duration::minutes(app.config.rate_limit_window_minutes);
    let mut tx = app.store.begin().await?;
    if tx.sign_in_failures_since(source_addr, window_start).await? >= app.config.rate_limit_failures
    {
        return Err(AppError::RateLimited);
    }
    let email_norm = Email::parse(email)
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let account = tx.account_by_email(&email_norm).await?;
    let Some(account) = account else {
        // Spend the time a real check would, so timing does not tell which emails exist.
        let _ = hash_password(app, password);
        tx.sign_in_attempt_record(&email_norm, source_addr, now, false)
            .await?;
        record_system(
            &mut tx,
            app,
            None,
            None,
            "auth.sign_in_failed",
            "account",
            None,
            json!({"email": email_norm, "reason": "unknown email"}),
            source_addr,
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::field("password", WRONG_CREDENTIALS));
    };
    let person = tx.person_by_id(account.person_id).await?;
    let locked = account.locked_until.is_some_and(|t| t > now);
    let ok = !locked
        && person.active
        && account
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(h, password));
    if !ok {
        tx.sign_in_attempt_record(&email_norm, source_addr, now, false)
            .await?;
        let reason = if locked {
            "locked"
        } else if !person.active {
            "inactive"
        } else {
            "wrong password"
        };
        if !locked {
            let n = tx.account_record_failure(person.id, None).await?;
            if n >= app.config.lockout_threshold {
                let until = now + Duration::minutes(app.config.lockout_minutes);
                tx.account_lock(person.id, until).await?;
                let until_text = until.format("%Y-%m-%d %H:%M UTC").to_string();
                let implementation = implementation_name(&mut tx, person.implementation_id).await?;
                mail::queue(
                    &mut tx,
                    app,
                    person.implementation_id,
                    &account.email,
                    "account_locked",
                    &[
                        ("name", &person.given_name),
                        ("implementation", &implementation),
                        ("until", &until_text),
                    ],
                )
                .await?;
                record_system(
                    &mut tx,
                    app,
                    Some(person.implementation_id),
                    Some((person.id, &person.display_name())),
                    "auth.locked",
                    "person",
                    Some(person.id),
                    json!({"failures": n, "until": until_text}),
                    source_addr,
                )
                .await?;
            }
        }
        record_system(
            &mut tx,
            app,
            Some(person.implementation_id),
            Some((person.id, &person.display_name())),
            "auth.sign_in_failed",
            "person",
            Some(person.id),
            json!({"reason": reason}),
            source_addr,
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::field("password", WRONG_CREDENTIALS));
    }
    tx.sign_in_attempt_record(&email_norm, source_addr, now, true)
        .await?;
    tx.account_record_success(person.id, now).await?;
    let actor = load_actor(&mut tx, person.id).await?;
    let stage = if account.mfa_enabled_at.is_some() {
        Stage::Mfa
    } else {
        stage_after_mfa(&actor, false, account.must_change_password)
    };
    let token = random_token();
    let hash = token_hash(&token);
    if app.config.single_session {
        tx.sessions_delete_for(person.id, None).await?;
    }
    tx.session_create(&NewSession {
        token_hash: &hash,
        person_id: person.id,
        stage: stage.as_str(),
        csrf_token: &random_token(),
        now,
        expires_at: now + Duration::hours(app.config.session_absolute_hours),
        source_addr,
        user_agent: &user_agent.chars().take(300).collect::<String>(),
    })
    .await?;
    record_system(
        &mut tx,
        app,
        Some(person.implementation_id),
        Some((person.id, &person.display_name())),
        "auth.sign_in",
        "person",
        Some(person.id),
        json!({"stage": stage.as_str()}),
        source_addr,
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn {
        session_token: token,
        stage,
    })
}

/// The stage after the MFA step: enrolment when required and missing, then a forced
/// password change, else active.
fn stage_after_mfa(actor: &Actor, mfa_done: bool, must_change_password: bool) -> Stage {
    if !mfa_done && actor.requires_mfa() {
        Stage::MfaEnrol
    } else if must_change_password {
        Stage::PasswordChange
    } else {
        Stage::Active
    }
}

async fn implementation_name(tx: &mut Tx, implementation_id: i64) -> AppResult<String> {
    Ok(tx.implementation_get(implementation_id).await?.name)
}

/// Finds the session for a cookie value, ending it when idle too long or expired.
pub async fn session(app: &App, token: &str) -> AppResult<Option<SessionInfo>> {
    let now = app.now();
    let hash = token_hash(token);
    let mut tx = app.store.read().await?;
    let Some(s) = tx.session_get(&hash).await? else {
        return Ok(None);
    };
    let idle = now - s.last_seen_at > Duration::minutes(app.config.session_idle_minutes);
    if idle || s.expires_at <= now {
        drop(tx);
        let mut w = app.store.begin().await?;
        w.session_delete(&hash).await?;
        w.commit().await?;
        return Ok(None);
    }
    let person = tx.person_by_id(s.person_id).await?;
    if !person.active {
        return Ok(None);
    }
    let actor = actor_of(&mut tx, &person).await?;
    let email = tx
        .account_get(s.person_id)
        .await?
        .map(|a| a.email)
        .unwrap_or_default();
    drop(tx);
    // Record activity at most once a minute, to keep reads cheap.
    if now - s.last_seen_at > Duration::seconds(60) {
        let mut w = app.store.begin().await?;
        w.session_touch(&hash, now).await?;
        w.commit().await?;
    }
    Ok(Some(SessionInfo {
        token_hash: hash,
        stage: Stage::parse(&s.stage),
        csrf_token: s.csrf_token,
        actor,
        email,
    }))
}

/// Ends one session.
pub async fn sign_out(app: &App, session: &SessionInfo, source_addr: &str) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    tx.session_delete(&session.token_hash).await?;
    let ctx = Ctx::new(session.actor.clone(), source_addr);
    record(
        &mut tx,
        app,
        &ctx,
        "auth.sign_out",
        "person",
        Some(ctx.actor.person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the actor, this one included.
pub async fn sign_out_everywhere(app: &App, ctx: &Ctx) -> AppResult<u64> {
    let mut tx = app.store.begin().await?;
    let n = tx.sessions_delete_for(ctx.actor.person_id, None).await?;
    record(
        &mut tx,
        app,
        ctx,
        "auth.sign_out_everywhere",
        "person",
        Some(ctx.actor.person_id),
        json!({"sessions": n}),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

// ---------------------------------------------------------------- MFA

fn totp(secret_b32: &str) -> AppResult<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("stored MFA secret: {e:?}")))?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .map_err(|e| AppError::Internal(format!("totp: {e}")))
}

fn totp_ok(app: &App, secret_b32: &str, code: &str) -> AppResult<bool> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(false);
    }
    let t = u64::try_from(app.now().timestamp()).unwrap_or(0);
    Ok(totp(secret_b32)?.check(&code, t))
}

/// The current code for a secret (for tests and the demo only).
pub fn totp_code(secret_b32: &str, at: DateTime<Utc>) -> AppResult<String> {
    Ok(totp(secret_b32)?.generate(u64::try_from(at.timestamp()).unwrap_or(0)))
}

/// What the person needs to add Onramp to an authenticator app.
#[derive(Debug, Clone)]
pub struct MfaEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
    /// An SVG QR code of `otpauth_uri`, safe to inline.
    pub qr_svg: String,
}

/// Starts MFA enrolment: a new secret waits for a first code (or the waiting one is shown again).
pub async fn mfa_begin(app: &App, ctx: &Ctx) -> AppResult<MfaEnrolment> {
    let mut raw = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = match totp_rs::Secret::Raw(raw.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => return Err(AppError::Internal("secret encoding".into())),
    };
    let mut tx = app.store.begin().await?;
    let account = tx
        .account_get(ctx.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // A reload of the set-up page keeps the secret the person may already have scanned.
    let secret = match account.mfa_pending_secret.clone() {
        Some(pending) => pending,
        None => {
            tx.account_set_pending_mfa(ctx.actor.person_id, Some(&secret))
                .await?;
            record(
                &mut tx,
                app,
                ctx,
                "mfa.enrolment_started",
                "person",
                Some(ctx.actor.person_id),
                json!({}),
            )
            .await?;
            secret
        }
    };
    tx.commit().await?;
    let issuer = &app.config.mfa_issuer;
    let uri = format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        url_escape(issuer),
        url_escape(&account.email),
        secret,
        url_escape(issuer)
    );
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    // Strip the XML declaration so the SVG can sit inside HTML.
    let qr_svg = match qr_svg.find("<svg") {
        Some(i) => qr_svg[i..].to_string(),
        None => qr_svg,
    };
    Ok(MfaEnrolment {
        secret,
        otpauth_uri: uri,
        qr_svg,
    })
}

fn url_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Confirms enrolment with a first code; returns ten one-time recovery codes, shown once.
pub async fn mfa_confirm(
    app: &App,
    ctx: &Ctx,
    session_token_hash: Option<&str>,
    code: &str,
) -> AppResult<Vec<String>> {
    let mut tx = app.store.begin().await?;
    let account = tx
        .account_get(ctx.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pending = account.mfa_pending_secret.ok_or_else(|| {
        AppError::field(
            "code",
            "Start the set-up again: no authenticator is waiting for a code",
        )
    })?;
    if !totp_ok(app, &pending, code)? {
        return Err(AppError::field(
            "code",
            "That code is not right: enter the 6 digits your app shows now",
        ));
    }
    let now = app.now();
    tx.account_enable_mfa(ctx.actor.person_id, &pending, now)
        .await?;
    let codes: Vec<String> = (0..10).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| token_hash(&normalise_recovery(c)))
        .collect();
    tx.recovery_codes_replace(ctx.actor.person_id, &hashes)
        .await?;
    if let Some(h) = session_token_hash {
        if let Some(s) = tx.session_get(h).await? {
            if Stage::parse(&s.stage) == Stage::MfaEnrol {
                let next = stage_after_mfa(&ctx.actor, true, account.must_change_password);
                tx.session_set_stage(h, next.as_str()).await?;
            }
        }
    }
    record(
        &mut tx,
        app,
        ctx,
        "mfa.enabled",
        "person",
        Some(ctx.actor.person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut b = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let s: String = b
        .iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

fn normalise_recovery(c: &str) -> String {
    c.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// The second step of sign-in: a code from the app, or a recovery code.
pub async fn mfa_verify(
    app: &App,
    session: &SessionInfo,
    code: &str,
    source_addr: &str,
) -> AppResult<Stage> {
    if session.stage != Stage::Mfa {
        return Ok(session.stage);
    }
    let mut tx = app.store.begin().await?;
    let person_id = session.actor.person_id;
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    let secret = account
        .mfa_secret
        .clone()
        .ok_or(AppError::Unauthenticated)?;
    let ctx = Ctx::new(session.actor.clone(), source_addr);
    let by_app = totp_ok(app, &secret, code)?;
    let by_recovery = !by_app
        && tx
            .recovery_code_use(person_id, &token_hash(&normalise_recovery(code)), app.now())
            .await?;
    if !by_app && !by_recovery {
        let n = tx.account_record_failure(person_id, None).await?;
        if n >= app.config.lockout_threshold {
            tx.account_lock(
                person_id,
                app.now() + Duration::minutes(app.config.lockout_minutes),
            )
            .await?;
            tx.session_delete(&session.token_hash).await?;
        }
        record(
            &mut tx,
            app,
            &ctx,
            "mfa.failed",
            "person",
            Some(person_id),
            json!({"failures": n}),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::field(
            "code",
            "That code is not right: enter the 6 digits your app shows now, or a recovery code",
        ));
    }
    tx.account_record_success(person_id, app.now()).await?;
    let next = stage_after_mfa(&session.actor, true, account.must_change_password);
    tx.session_set_stage(&session.token_hash, next.as_str())
        .await?;
    record(
        &mut tx,
        app,
        &ctx,
        if by_app {
            "mfa.verified"
        } else {
            "mfa.recovery_code_used"
        },
        "person",
        Some(person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Whether MFA is on, and recovery codes left.
pub async fn mfa_status(app: &App, ctx: &Ctx) -> AppResult<(bool, i64)> {
    let mut tx = app.store.read().await?;
    let a = tx
        .account_get(ctx.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let left = tx.recovery_codes_left(ctx.actor.person_id).await?;
    Ok((a.mfa_enabled_at.is_some(), left))
}

// ---------------------------------------------------------------- passwords

/// Changes the actor's own password (also the forced change of an issued password).
pub async fn change_password(
    app: &App,
    ctx: &Ctx,
    session_token_hash: Option<&str>,
    current: &str,
    new: &str,
    confirm: &str,
) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let account = tx
        .account_get(ctx.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !account
        .password_hash
        .as_deref()
        .is_some_and(|h| verify_password(h, current))
    {
        return Err(AppError::field(
            "current",
            "Your current password is not right",
        ));
    }
    let pw = app
        .config
        .password_policy
        .check(new, &account.email)
        .map_err(|m| AppError::field("password", m))?;
    if new != confirm {
        return Err(AppError::field(
            "confirm",
            "The two passwords are not the same",
        ));
    }
    if new == current {
        return Err(AppError::field(
            "password",
            "Choose a password you have not used here before",
        ));
    }
    tx.account_set_password(
        ctx.actor.person_id,
        &hash_password(app, pw.expose())?,
        false,
        app.now(),
    )
    .await?;
    // Other sessions end: whoever knew the old password is signed out.
    tx.sessions_delete_for(ctx.actor.person_id, session_token_hash)
        .await?;
    if let Some(h) = session_token_hash {
        if let Some(s) = tx.session_get(h).await? {
            if Stage::parse(&s.stage) == Stage::PasswordChange {
                tx.session_set_stage(h, Stage::Active.as_str()).await?;
            }
        }
    }
    record(
        &mut tx,
        app,
        ctx,
        "auth.password_changed",
        "person",
        Some(ctx.actor.person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a one-time link of a kind for a person and queues the email that carries it.
pub(crate) async fn issue_link(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    kind: &str,
) -> AppResult<String> {
    issue_link_with(tx, app, person_id, kind, None, &[]).await
}

/// As [`issue_link`], with another email template and more placeholders.
pub(crate) async fn issue_link_with(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    kind: &str,
    template_key: Option<&str>,
    extra: &[(&str, &str)],
) -> AppResult<String> {
    let now = app.now();
    let (valid_for, path, template) = match kind {
        INVITATION => (
            Duration::days(app.config.invitation_days),
            "invitation",
            "invitation",
        ),
        _ => (
            Duration::minutes(app.config.password_reset_minutes),
            "password-reset",
            "password_reset",
        ),
    };
    tx.tokens_retire(kind, person_id, now).await?;
    let token = random_token();
    let expires = now + valid_for;
    tx.token_create(kind, &token_hash(&token), person_id, now, expires)
        .await?;
    let person = tx.person_by_id(person_id).await?;
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    let link = format!("{}/{path}/{token}", app.config.base_url);
    let expires_text = expires.format("%Y-%m-%d %H:%M UTC").to_string();
    let implementation = implementation_name(tx, person.implementation_id).await?;
    let mut vars: Vec<(&str, &str)> = vec![
        ("name", &person.given_name),
        ("implementation", &implementation),
        ("link", &link),
        ("expires", &expires_text),
    ];
    vars.extend_from_slice(extra);
    mail::queue(
        tx,
        app,
        person.implementation_id,
        &account.email,
        template_key.unwrap_or(template),
        &vars,
    )
    .await?;
    Ok(token)
}

/// Sends an invitation to set a first password (the account is created if missing).
pub async fn invite(tx: &mut Tx, app: &App, person_id: i64) -> AppResult<String> {
    invite_with(tx, app, person_id, None, &[]).await
}

/// An invitation carried by another email (e.g. the welcome to onboarding).
pub async fn invite_with(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    template_key: Option<&str>,
    extra: &[(&str, &str)],
) -> AppResult<String> {
    let person = tx.person_by_id(person_id).await?;
    if tx.account_get(person_id).await?.is_none() {
        tx.account_create(person_id, &person.email).await?;
    }
    issue_link_with(tx, app, person_id, INVITATION, template_key, extra).await
}

/// Whether the person can already sign in to Onramp.
pub async fn has_password(tx: &mut Tx, person_id: i64) -> AppResult<bool> {
    Ok(tx
        .account_get(person_id)
        .await?
        .is_some_and(|a| a.password_hash.is_some()))
}

/// Who a one-time link is for, if it is still good.
pub async fn link_holder(app: &App, kind: LinkKind, token: &str) -> AppResult<(i64, String)> {
    let mut tx = app.store.read().await?;
    let t = tx
        .token_find(kind.as_str(), &token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    if t.used_at.is_some() || t.expires_at <= app.now() {
        return Err(AppError::NotFound);
    }
    let a = tx
        .account_get(t.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if kind == LinkKind::Invitation && a.password_hash.is_some() {
        // An invitation never overwrites a password chosen since it was sent.
        return Err(AppError::NotFound);
    }
    Ok((t.person_id, a.email))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Invitation,
    PasswordReset,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            LinkKind::Invitation => INVITATION,
            LinkKind::PasswordReset => PASSWORD_RESET,
        }
    }
}

/// Sets a password from an invitation or a reset link. The link works once.
pub async fn use_link(
    app: &App,
    kind: LinkKind,
    token: &str,
    password: &str,
    confirm: &str,
    source_addr: &str,
) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let now = app.now();
    let t = tx
        .token_find(kind.as_str(), &token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    if t.used_at.is_some() || t.expires_at <= now {
        return Err(AppError::NotFound);
    }
    let account = tx
        .account_get(t.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if kind == LinkKind::Invitation && account.password_hash.is_some() {
        // An invitation never overwrites a password chosen since it was sent.
        return Err(AppError::NotFound);
    }
    let pw = app
        .config
        .password_policy
        .check(password, &account.email)
        .map_err(|m| AppError::field("password", m))?;
    if password != confirm {
        return Err(AppError::field(
            "confirm",
            "The two passwords are not the same",
        ));
    }
    if !tx.token_use(t.id, now).await? {
        return Err(AppError::NotFound);
    }
    tx.account_set_password(t.person_id, &hash_password(app, pw.expose())?, false, now)
        .await?;
    tx.sessions_delete_for(t.person_id, None).await?;
    let person = tx.person_by_id(t.person_id).await?;
    let action = match kind {
        LinkKind::Invitation => "auth.invitation_accepted",
        LinkKind::PasswordReset => "auth.password_reset",
    };
    record_system(
        &mut tx,
        app,
        Some(person.implementation_id),
        Some((person.id, &person.display_name())),
        action,
        "person",
        Some(person.id),
        json!({}),
        source_addr,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends a reset link if the email belongs to an active account. Says nothing either way.
pub async fn request_password_reset(app: &App, email: &str, source_addr: &str) -> AppResult<()> {
    let Ok(email) = Email::parse(email) else {
        return Err(AppError::field(
            "email",
            "Enter an email address like name@agency.org",
        ));
    };
    let mut tx = app.store.begin().await?;
    let window_start = app.now() - Duration::minutes(app.config.rate_limit_window_minutes);
    if tx.sign_in_failures_since(source_addr, window_start).await? >= app.config.rate_limit_failures
    {
        return Err(AppError::RateLimited);
    }
    if let Some(a) = tx.account_by_email(email.as_str()).await? {
        let person = tx.person_by_id(a.person_id).await?;
        if person.active {
            issue_link(&mut tx, app, a.person_id, PASSWORD_RESET).await?;
            record_system(
                &mut tx,
                app,
                Some(person.implementation_id),
                Some((person.id, &person.display_name())),
                "auth.password_reset_requested",
                "person",
                Some(person.id),
                json!({}),
                source_addr,
            )
            .await?;
        }
    } else {
        // Counts toward the address's limit, so the form cannot be used to probe many emails.
        tx.sign_in_attempt_record(email.as_str(), source_addr, app.now(), false)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets an issued password that must be changed at first sign-in (command line, admins).
pub async fn issue_password(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    password: &str,
    must_change: bool,
) -> AppResult<()> {
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    let pw = app
        .config
        .password_policy
        .check(password, &account.email)
        .map_err(|m| AppError::field("password", m))?;
    tx.account_set_password(
        person_id,
        &hash_password(app, pw.expose())?,
        must_change,
        app.now(),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- API tokens

/// A new API token: the secret is shown once.
pub async fn api_token_create(app: &App, ctx: &Ctx, name: &str) -> AppResult<(i64, String)> {
    let name = onramp_domain::values::required_text("name", "a name for the token", name, 100)
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let token = format!("onr_{}", random_token());
    let mut tx = app.store.begin().await?;
    let id = tx
        .api_token_create(ctx.actor.person_id, &name, &token_hash(&token), app.now())
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "api_token.create",
        "api_token",
        Some(id),
        json!({"name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok((id, token))
}

pub async fn api_tokens(app: &App, ctx: &Ctx) -> AppResult<Vec<ApiToken>> {
    let mut tx = app.store.read().await?;
    Ok(tx.api_tokens_of(ctx.actor.person_id).await?)
}

pub async fn api_token_revoke(app: &App, ctx: &Ctx, id: i64) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    if !tx
        .api_token_revoke(ctx.actor.person_id, id, app.now())
        .await?
    {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        app,
        ctx,
        "api_token.revoke",
        "api_token",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The actor behind a bearer token, if it is live and its person active.
pub async fn api_actor(app: &App, token: &str) -> AppResult<Actor> {
    let hash = token_hash(token);
    let mut tx = app.store.read().await?;
    let t = tx
        .api_token_find(&hash)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let person = tx.person_by_id(t.person_id).await?;
    if !person.active {
        return Err(AppError::Unauthenticated);
    }
    let actor = load_actor(&mut tx, t.person_id).await?;
    drop(tx);
    let now = app.now();
    if t.last_used_at
        .is_none_or(|u| now - u > Duration::seconds(60))
    {
        let mut w = app.store.begin().await?;
        w.api_token_touch(t.id, now).await?;
        w.commit().await?;
    }
    Ok(actor)
}

/// Constant-time comparison of a submitted CSRF token with the session's.
pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    let a = expected.as_bytes();
    let b = submitted.as_bytes();
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The stage a session has reached now, if it still exists.
pub async fn session_stage(app: &App, token_hash: &str) -> AppResult<Option<Stage>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .session_get(token_hash)
        .await?
        .map(|s| Stage::parse(&s.stage)))
}
