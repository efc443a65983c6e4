//! Sign-in, sessions, multi-factor authentication, invitations, password resets and API tokens.

use crate::audit::{record, record_system};
use crate::{mail, App, AppError, AppResult, Ctx};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use onramp_domain::authz::{Actor, MfaPolicy};
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
    /// The session was sent to MFA enrolment while signed in: set-up asks for the password.
    pub mfa_needs_password: bool,
    /// The name of the holder's implementation, for page headings.
    pub implementation_name: String,
}

/// A session given a new token (and CSRF token) at a stage change, so that whatever was
/// captured before the change opens nothing after it.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new cookie value; only its hash is stored.
    pub session_token: String,
    pub csrf_token: String,
    pub stage: Stage,
}

/// The implementation setting that makes every role that reads others use two-step sign-in.
pub const MFA_FOR_ALL_READERS: &str = "mfa_for_all_readers";

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
    Ok(actor_from(person, tx.roles_of(person.id).await?))
}

/// The actor of a person holding these (agency, role) pairs; unknown role names grant nothing.
fn actor_from(person: &onramp_store::Person, roles: Vec<(Option<i64>, String)>) -> Actor {
    let person_id = person.id;
    let mut implementation_roles = Vec::new();
    let mut agency_roles = Vec::new();
    for (agency, role) in roles {
        match agency {
            None => implementation_roles.extend(ImplementationRole::parse(&role).ok()),
            Some(a) => agency_roles.extend(AgencyRole::parse(&role).ok().map(|r| (a, r))),
        }
    }
    Actor {
        person_id,
        implementation_id: person.implementation_id,
        display_name: person.display_name(),
        implementation_roles,
        agency_roles,
        agency_id: person.agency_id,
    }
}

/// What happened at the sign-in form.
#[derive(Debug)]
pub struct SignedIn {
    /// The session cookie's value; only its hash is stored.
    pub session_token: String,
    pub stage: Stage,
}

/// Checks an email and password; on success opens a session at the right stage.
///
/// A right password alone does not clear the count of failures when a code is still due:
/// only a whole sign-in (password and, where due, the code) does.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: &str,
    source_addr: &str,
    user_agent: &str,
) -> AppResult<SignedIn> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    refuse_when_rate_limited(&mut tx, app, source_addr).await?;
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
            count_failure(&mut tx, app, &person, &account.email, source_addr).await?;
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
    let actor = actor_of(&mut tx, &person).await?;
    let stage = if account.mfa_enabled_at.is_some() {
        Stage::Mfa
    } else {
        let policy = mfa_policy(&mut tx, person.implementation_id).await?;
        stage_after_mfa(&actor, policy, false, account.must_change_password)
    };
    if stage != Stage::Mfa {
        // No code is due: the whole sign-in has succeeded.
        tx.account_record_success(person.id, now).await?;
    }
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

/// Refuses an address with too many failed sign-ins (passwords and codes) in the window.
async fn refuse_when_rate_limited(tx: &mut Tx, app: &App, source_addr: &str) -> AppResult<()> {
    let window_start = app.now() - Duration::minutes(app.config.rate_limit_window_minutes);
    if tx.sign_in_failures_since(source_addr, window_start).await? >= app.config.rate_limit_failures
    {
        return Err(AppError::RateLimited);
    }
    Ok(())
}

/// Counts one more failure (a wrong password or a wrong code) against the account; at the
/// threshold the account locks and the person is emailed. Returns whether it locked now.
async fn count_failure(
    tx: &mut Tx,
    app: &App,
    person: &onramp_store::Person,
    email: &str,
    source_addr: &str,
) -> AppResult<bool> {
    let n = tx.account_record_failure(person.id, None).await?;
    if n < app.config.lockout_threshold {
        return Ok(false);
    }
    let until = app.now() + Duration::minutes(app.config.lockout_minutes);
    tx.account_lock(person.id, until).await?;
    let until_text = until.format("%Y-%m-%d %H:%M UTC").to_string();
    let implementation = implementation_name(tx, person.implementation_id).await?;
    mail::queue(
        tx,
        app,
        person.implementation_id,
        email,
        "account_locked",
        &[
            ("name", &person.given_name),
            ("implementation", &implementation),
            ("until", &until_text),
        ],
    )
    .await?;
    record_system(
        tx,
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
    Ok(true)
}

/// Who must use two-step sign-in in an implementation (every role that reads others unless
/// a Lead admin turned it off).
pub async fn mfa_policy(tx: &mut Tx, implementation_id: i64) -> AppResult<MfaPolicy> {
    Ok(mfa_policy_of(
        tx.setting_get(implementation_id, MFA_FOR_ALL_READERS)
            .await?
            .as_deref(),
    ))
}

/// The policy a stored `mfa_for_all_readers` setting stands for (unset: everyone who reads others).
fn mfa_policy_of(setting: Option<&str>) -> MfaPolicy {
    match setting {
        Some("false") => MfaPolicy::AdminRoles,
        _ => MfaPolicy::EveryoneWhoReadsOthers,
    }
}

/// The implementation's two-step sign-in policy, for its settings page.
pub async fn implementation_mfa_policy(app: &App, ctx: &Ctx) -> AppResult<MfaPolicy> {
    ctx.require(onramp_domain::authz::Permission::ViewOrganisation)?;
    let mut tx = app.store.read().await?;
    mfa_policy(&mut tx, ctx.implementation_id()).await
}

/// Chooses who must use two-step sign-in in the actor's implementation (Lead admins only).
/// Sessions of people who now need it and have none are sent to enrolment at their next page.
pub async fn set_implementation_mfa_policy(
    app: &App,
    ctx: &Ctx,
    policy: MfaPolicy,
) -> AppResult<()> {
    ctx.require(onramp_domain::authz::Permission::ManageImplementation)?;
    let mut tx = app.store.begin().await?;
    let before = mfa_policy(&mut tx, ctx.implementation_id()).await?;
    let on = policy == MfaPolicy::EveryoneWhoReadsOthers;
    tx.setting_put(
        ctx.implementation_id(),
        MFA_FOR_ALL_READERS,
        if on { "true" } else { "false" },
    )
    .await?;
    record(
        &mut tx,
        app,
        ctx,
        "implementation.mfa_policy",
        "implementation",
        Some(ctx.implementation_id()),
        json!({
            "before": {"mfa_for_all_readers": before == MfaPolicy::EveryoneWhoReadsOthers},
            "after": {"mfa_for_all_readers": on},
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The stage after the MFA step: enrolment when required and missing, then a forced
/// password change, else active.
fn stage_after_mfa(
    actor: &Actor,
    policy: MfaPolicy,
    mfa_done: bool,
    must_change_password: bool,
) -> Stage {
    if !mfa_done && actor.requires_mfa(policy) {
        Stage::MfaEnrol
    } else if must_change_password {
        Stage::PasswordChange
    } else {
        Stage::Active
    }
}

/// Gives the session a new token and CSRF token at its new stage.
async fn rotate(tx: &mut Tx, app: &App, old_hash: &str, stage: Stage) -> AppResult<Rotated> {
    let token = random_token();
    let csrf = random_token();
    if !tx
        .session_rotate(
            old_hash,
            &token_hash(&token),
            &csrf,
            stage.as_str(),
            app.now(),
        )
        .await?
    {
        return Err(AppError::Unauthenticated);
    }
    Ok(Rotated {
        session_token: token,
        csrf_token: csrf,
        stage,
    })
}

async fn implementation_name(tx: &mut Tx, implementation_id: i64) -> AppResult<String> {
    Ok(tx.implementation_get(implementation_id).await?.name)
}

/// Finds the session for a cookie value, ending it when idle too long or expired. A session
/// whose person now needs two-step sign-in and has none is moved to enrolment.
pub async fn session(app: &App, token: &str, source_addr: &str) -> AppResult<Option<SessionInfo>> {
    let now = app.now();
    let hash = token_hash(token);
    let Some(holder) = app.store.session_holder(&hash, MFA_FOR_ALL_READERS).await? else {
        return Ok(None);
    };
    let s = holder.session;
    let idle = now - s.last_seen_at > Duration::minutes(app.config.session_idle_minutes);
    if idle || s.expires_at <= now {
        let mut w = app.store.begin().await?;
        w.session_delete(&hash).await?;
        w.commit().await?;
        return Ok(None);
    }
    let person = holder.person;
    if !person.active {
        return Ok(None);
    }
    let actor = actor_from(&person, holder.roles);
    // Without an account there is no two-step sign-in to ask for.
    let mfa_missing = holder.account.as_ref().is_some_and(|(_, on)| on.is_none());
    let email = holder.account.map(|(e, _)| e).unwrap_or_default();
    let mut stage = Stage::parse(&s.stage);
    let mut mfa_needs_password = s.mfa_needs_password;
    // A role that needs two-step sign-in, granted while signed in, asks for enrolment now.
    let enrol_now = matches!(stage, Stage::Active | Stage::PasswordChange)
        && mfa_missing
        && actor.requires_mfa(MfaPolicy::EveryoneWhoReadsOthers)
        && actor.requires_mfa(mfa_policy_of(holder.mfa_for_all_readers.as_deref()));
    if enrol_now {
        let mut w = app.store.begin().await?;
        w.session_require_enrolment(&hash, Stage::MfaEnrol.as_str())
            .await?;
        record_system(
            &mut w,
            app,
            Some(person.implementation_id),
            Some((person.id, &person.display_name())),
            "mfa.enrolment_required",
            "person",
            Some(person.id),
            json!({"from_stage": stage.as_str()}),
            source_addr,
        )
        .await?;
        w.commit().await?;
        stage = Stage::MfaEnrol;
        mfa_needs_password = true;
    }
    // Record activity at most once a minute, to keep reads cheap.
    if now - s.last_seen_at > Duration::seconds(60) {
        let mut w = app.store.begin().await?;
        w.session_touch(&hash, now).await?;
        w.commit().await?;
    }
    Ok(Some(SessionInfo {
        token_hash: hash,
        stage,
        csrf_token: s.csrf_token,
        actor,
        email,
        mfa_needs_password,
        implementation_name: holder.implementation_name,
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

/// Ends every session of the actor, this one included, and revokes their API tokens.
pub async fn sign_out_everywhere(app: &App, ctx: &Ctx) -> AppResult<u64> {
    let mut tx = app.store.begin().await?;
    let n = tx.sessions_delete_for(ctx.actor.person_id, None).await?;
    let tokens = tx
        .api_tokens_revoke_all(ctx.actor.person_id, app.now())
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "auth.sign_out_everywhere",
        "person",
        Some(ctx.actor.person_id),
        json!({"sessions": n, "api_tokens_revoked": tokens}),
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

/// The time step of a six-digit code that matches the secret now (one step of clock drift
/// either way is allowed), or None.
fn totp_step(app: &App, secret_b32: &str, code: &str) -> AppResult<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_b32)?;
    let now = app.now().timestamp().max(0);
    let current = now / 30;
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let at = u64::try_from(step * 30).unwrap_or(0);
        let expected = t.generate(at);
        // Compare every candidate whole, so timing does not tell which step matched.
        if csrf_matches(&expected, &code) {
            found = Some(step);
        }
    }
    Ok(found)
}

/// Checks a code from the person's current authenticator, accepting each time step once.
enum CodeCheck {
    Accepted,
    /// The code was right, but its time step (or a later one) was used already.
    Replayed,
    Wrong,
}

async fn check_current_code(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    secret: &str,
    code: &str,
) -> AppResult<CodeCheck> {
    Ok(match totp_step(app, secret, code)? {
        Some(step) if tx.account_use_mfa_step(person_id, step).await? => CodeCheck::Accepted,
        Some(_) => CodeCheck::Replayed,
        None => CodeCheck::Wrong,
    })
}

const CODE_REPLAYED: &str =
    "That code was used already: wait for your app to show a new one, then enter it";

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

/// Starts MFA enrolment in this session: a new secret waits for a first code (or the one this
/// session is already setting up is shown again). Another session never sees it.
pub async fn mfa_begin(app: &App, ctx: &Ctx, session_token_hash: &str) -> AppResult<MfaEnrolment> {
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
    let session = tx
        .session_get(session_token_hash)
        .await?
        .filter(|s| s.person_id == ctx.actor.person_id)
        .ok_or(AppError::Unauthenticated)?;
    // A reload of the set-up page keeps the secret the person may already have scanned.
    let secret = match session.mfa_pending_secret {
        Some(pending) => pending,
        None => {
            tx.session_set_pending_mfa(session_token_hash, Some(&secret))
                .await?;
            record(
                &mut tx,
                app,
                ctx,
                "mfa.enrolment_started",
                "person",
                Some(ctx.actor.person_id),
                json!({"replacing": account.mfa_enabled_at.is_some()}),
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

/// What a set-up or replacement of two-step sign-in asks for, besides the new app's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCheck {
    /// Nothing more: the password was given moments ago to open this session.
    None,
    /// The current password.
    Password,
    /// The current password or a code from the authenticator app in use now.
    PasswordOrCode,
}

/// What the set-up form must ask for in this session: replacing an app that is on, setting
/// one up from a signed-in session, or after being moved to enrolment mid-session asks
/// who it is again; the enrolment owed right after the password does not.
pub async fn mfa_identity_check(app: &App, session: &SessionInfo) -> AppResult<IdentityCheck> {
    let mut tx = app.store.read().await?;
    let account = tx
        .account_get(session.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(identity_check_for(
        account.mfa_enabled_at.is_some(),
        session.stage,
        session.mfa_needs_password,
    ))
}

fn identity_check_for(mfa_on: bool, stage: Stage, needs_password: bool) -> IdentityCheck {
    if mfa_on {
        IdentityCheck::PasswordOrCode
    } else if stage == Stage::MfaEnrol && !needs_password {
        IdentityCheck::None
    } else {
        IdentityCheck::Password
    }
}

/// Checks the current password (or, when allowed, a current code) typed to confirm a change
/// of two-step sign-in. Wrong answers count like wrong sign-ins: toward the account's lockout
/// and the address's rate limit.
async fn confirm_identity(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    account: &onramp_store::Account,
    check: IdentityCheck,
    answer: &str,
) -> AppResult<()> {
    if check == IdentityCheck::None {
        return Ok(());
    }
    if answer.trim().is_empty() {
        return Err(AppError::field(
            "current",
            match check {
                IdentityCheck::PasswordOrCode => {
                    "Enter your current password, or a code from the app you use now"
                }
                _ => "Enter your current password",
            },
        ));
    }
    refuse_when_rate_limited(tx, app, &ctx.source_addr).await?;
    let now = app.now();
    let person = tx.person_by_id(account.person_id).await?;
    if account.locked_until.is_some_and(|t| t > now) {
        return Err(AppError::field(
            "current",
            "Your account is locked after repeated failures: try again later",
        ));
    }
    let by_password = account
        .password_hash
        .as_deref()
        .is_some_and(|h| !answer.is_empty() && verify_password(h, answer));
    let by_code = match (&account.mfa_secret, check) {
        (Some(secret), IdentityCheck::PasswordOrCode) if !by_password => {
            Some(check_current_code(tx, app, account.person_id, secret, answer).await?)
        }
        _ => None,
    };
    if by_password || matches!(by_code, Some(CodeCheck::Accepted)) {
        return Ok(());
    }
    tx.sign_in_attempt_record(&account.email, &ctx.source_addr, now, false)
        .await?;
    count_failure(tx, app, &person, &account.email, &ctx.source_addr).await?;
    record(
        tx,
        app,
        ctx,
        "mfa.identity_check_failed",
        "person",
        Some(account.person_id),
        json!({}),
    )
    .await?;
    let message = match (by_code, check) {
        (Some(CodeCheck::Replayed), _) => CODE_REPLAYED,
        (_, IdentityCheck::PasswordOrCode) => {
            "That is not your current password, nor a code your app shows now"
        }
        _ => "That is not your current password",
    };
    Err(AppError::field("current", message))
}

/// What confirming an authenticator app gives back.
#[derive(Debug, Clone)]
pub struct MfaConfirmed {
    /// Ten one-time recovery codes, shown once.
    pub recovery_codes: Vec<String>,
    /// The session's new token when enrolment was the step it owed.
    pub rotated: Option<Rotated>,
}

/// Confirms the authenticator app this session is setting up with a first code. Replacing
/// an app that is on (or setting one up from a signed-in session) also needs `current`, the
/// person's password or a current code; a replacement is emailed to the person.
pub async fn mfa_confirm(
    app: &App,
    ctx: &Ctx,
    session_token_hash: &str,
    code: &str,
    current: &str,
) -> AppResult<MfaConfirmed> {
    let mut tx = app.store.begin().await?;
    let person_id = ctx.actor.person_id;
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    let session = tx
        .session_get(session_token_hash)
        .await?
        .filter(|s| s.person_id == person_id)
        .ok_or(AppError::Unauthenticated)?;
    let stage = Stage::parse(&session.stage);
    if !matches!(stage, Stage::Active | Stage::MfaEnrol) {
        return Err(AppError::Unauthenticated);
    }
    let replacing = account.mfa_enabled_at.is_some();
    let check = identity_check_for(replacing, stage, session.mfa_needs_password);
    let pending = session.mfa_pending_secret.clone().ok_or_else(|| {
        AppError::field(
            "code",
            "Start the set-up again: no authenticator is waiting for a code",
        )
    })?;
    if code.trim().is_empty() {
        let mut p = crate::error::Problems::default();
        p.push("code", "Enter the 6-digit code your new app shows");
        if check != IdentityCheck::None && current.trim().is_empty() {
            p.push("current", "Enter your current password");
        }
        return Err(AppError::Invalid(p.0));
    }
    // Who is asking is checked first, and its failures are kept even when the code is wrong.
    if let Err(e) = confirm_identity(&mut tx, app, ctx, &account, check, current).await {
        tx.commit().await?;
        return Err(e);
    }
    let Some(step) = totp_step(app, &pending, code)? else {
        tx.commit().await?;
        return Err(AppError::field(
            "code",
            "That code is not right: enter the 6 digits your app shows now",
        ));
    };
    let now = app.now();
    tx.account_enable_mfa(person_id, &pending, now).await?;
    // The new app's code is used: it cannot open a sign-in too.
    tx.account_set_mfa_step(person_id, Some(step)).await?;
    tx.session_set_pending_mfa(session_token_hash, None).await?;
    let codes: Vec<String> = (0..10).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| token_hash(&normalise_recovery(c)))
        .collect();
    tx.recovery_codes_replace(person_id, &hashes).await?;
    let rotated = if stage == Stage::MfaEnrol {
        let policy = mfa_policy(&mut tx, ctx.implementation_id()).await?;
        let next = stage_after_mfa(&ctx.actor, policy, true, account.must_change_password);
        Some(rotate(&mut tx, app, session_token_hash, next).await?)
    } else {
        None
    };
    if replacing {
        notify_mfa_change(
            &mut tx,
            app,
            person_id,
            &account.email,
            "replaced with a new authenticator app",
        )
        .await?;
    }
    record(
        &mut tx,
        app,
        ctx,
        if replacing {
            "mfa.replaced"
        } else {
            "mfa.enabled"
        },
        "person",
        Some(person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(MfaConfirmed {
        recovery_codes: codes,
        rotated,
    })
}

/// Turns two-step sign-in off, for someone whose roles do not require it; asks for the
/// password or a current code, and emails the person.
pub async fn mfa_turn_off(app: &App, ctx: &Ctx, current: &str) -> AppResult<()> {
    let mut tx = app.store.begin().await?;
    let person_id = ctx.actor.person_id;
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    if account.mfa_enabled_at.is_none() {
        return Err(AppError::field(
            "current",
            "Two-step sign-in is off already",
        ));
    }
    if ctx
        .actor
        .requires_mfa(mfa_policy(&mut tx, ctx.implementation_id()).await?)
    {
        return Err(AppError::Forbidden);
    }
    if let Err(e) = confirm_identity(
        &mut tx,
        app,
        ctx,
        &account,
        IdentityCheck::PasswordOrCode,
        current,
    )
    .await
    {
        tx.commit().await?;
        return Err(e);
    }
    tx.account_disable_mfa(person_id).await?;
    notify_mfa_change(&mut tx, app, person_id, &account.email, "turned off").await?;
    record(
        &mut tx,
        app,
        ctx,
        "mfa.disabled",
        "person",
        Some(person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Tells the person that their two-step sign-in changed (no secret in it).
async fn notify_mfa_change(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    email: &str,
    change: &str,
) -> AppResult<()> {
    let person = tx.person_by_id(person_id).await?;
    let implementation = implementation_name(tx, person.implementation_id).await?;
    let when = app.now().format("%Y-%m-%d %H:%M UTC").to_string();
    mail::queue(
        tx,
        app,
        person.implementation_id,
        email,
        "mfa_changed",
        &[
            ("name", &person.given_name),
            ("implementation", &implementation),
            ("change", change),
            ("when", &when),
        ],
    )
    .await?;
    Ok(())
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

/// The second step of sign-in: a code from the app (each time step once), or a recovery
/// code. Wrong codes count per account (toward the lockout) and per address (toward the rate
/// limit). On success the session gets a new token at its next stage; None when the session
/// was not at this step.
pub async fn mfa_verify(
    app: &App,
    session: &SessionInfo,
    code: &str,
    source_addr: &str,
) -> AppResult<Option<Rotated>> {
    if session.stage != Stage::Mfa {
        return Ok(None);
    }
    let now = app.now();
    let mut tx = app.store.begin().await?;
    refuse_when_rate_limited(&mut tx, app, source_addr).await?;
    let person_id = session.actor.person_id;
    let account = tx.account_get(person_id).await?.ok_or(AppError::NotFound)?;
    let ctx = Ctx::new(session.actor.clone(), source_addr);
    if account.locked_until.is_some_and(|t| t > now) {
        // Locked meanwhile (from this or another half-open session): nothing more is tried.
        tx.session_delete(&session.token_hash).await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    let secret = account
        .mfa_secret
        .clone()
        .ok_or(AppError::Unauthenticated)?;
    let by_app = check_current_code(&mut tx, app, person_id, &secret, code).await?;
    let by_recovery = !matches!(by_app, CodeCheck::Accepted)
        && tx
            .recovery_code_use(person_id, &token_hash(&normalise_recovery(code)), now)
            .await?;
    if !matches!(by_app, CodeCheck::Accepted) && !by_recovery {
        tx.sign_in_attempt_record(&account.email, source_addr, now, false)
            .await?;
        let person = tx.person_by_id(person_id).await?;
        let locked = count_failure(&mut tx, app, &person, &account.email, source_addr).await?;
        if locked {
            tx.session_delete(&session.token_hash).await?;
        }
        record(
            &mut tx,
            app,
            &ctx,
            "mfa.failed",
            "person",
            Some(person_id),
            json!({"replayed": matches!(by_app, CodeCheck::Replayed)}),
        )
        .await?;
        tx.commit().await?;
        if locked {
            return Err(AppError::Unauthenticated);
        }
        return Err(AppError::field(
            "code",
            match by_app {
                CodeCheck::Replayed => CODE_REPLAYED,
                _ => "That code is not right: enter the 6 digits your app shows now, or a recovery code",
            },
        ));
    }
    // The whole sign-in has succeeded: the count of failures starts again.
    tx.account_record_success(person_id, now).await?;
    let policy = mfa_policy(&mut tx, session.actor.implementation_id).await?;
    let next = stage_after_mfa(&session.actor, policy, true, account.must_change_password);
    let rotated = rotate(&mut tx, app, &session.token_hash, next).await?;
    record(
        &mut tx,
        app,
        &ctx,
        if by_recovery {
            "mfa.recovery_code_used"
        } else {
            "mfa.verified"
        },
        "person",
        Some(person_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(rotated))
}

/// Whether the actor's roles require two-step sign-in under their implementation's policy.
pub async fn mfa_required(app: &App, ctx: &Ctx) -> AppResult<bool> {
    let mut tx = app.store.read().await?;
    let policy = mfa_policy(&mut tx, ctx.implementation_id()).await?;
    Ok(ctx.actor.requires_mfa(policy))
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

/// Changes the actor's own password (also the forced change of an issued password). The
/// person's other sessions end and their API tokens are revoked; this session gets a new
/// token (at the active stage after a forced change), returned when one was given.
pub async fn change_password(
    app: &App,
    ctx: &Ctx,
    session_token_hash: Option<&str>,
    current: &str,
    new: &str,
    confirm: &str,
) -> AppResult<Option<Rotated>> {
    let mut tx = app.store.begin().await?;
    refuse_when_rate_limited(&mut tx, app, &ctx.source_addr).await?;
    let account = tx
        .account_get(ctx.actor.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if current.is_empty() {
        return Err(AppError::field(
            "current",
            "Your current password is not right",
        ));
    }
    if !account
        .password_hash
        .as_deref()
        .is_some_and(|h| verify_password(h, current))
    {
        // Counted like a wrong sign-in, so the form cannot be used to guess the password.
        tx.sign_in_attempt_record(&account.email, &ctx.source_addr, app.now(), false)
            .await?;
        let person = tx.person_by_id(account.person_id).await?;
        count_failure(&mut tx, app, &person, &account.email, &ctx.source_addr).await?;
        tx.commit().await?;
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
    let now = app.now();
    tx.account_set_password(
        ctx.actor.person_id,
        &hash_password(app, pw.expose())?,
        false,
        now,
    )
    .await?;
    // Other sessions end and API tokens stop: whoever knew the old password is locked out.
    tx.sessions_delete_for(ctx.actor.person_id, session_token_hash)
        .await?;
    let tokens = tx.api_tokens_revoke_all(ctx.actor.person_id, now).await?;
    let mut rotated = None;
    if let Some(h) = session_token_hash {
        if let Some(s) = tx.session_get(h).await? {
            let stage = match Stage::parse(&s.stage) {
                Stage::PasswordChange => Stage::Active,
                other => other,
            };
            rotated = Some(rotate(&mut tx, app, h, stage).await?);
        }
    }
    record(
        &mut tx,
        app,
        ctx,
        "auth.password_changed",
        "person",
        Some(ctx.actor.person_id),
        json!({"api_tokens_revoked": tokens}),
    )
    .await?;
    tx.commit().await?;
    Ok(rotated)
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
    let tokens = tx.api_tokens_revoke_all(t.person_id, now).await?;
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
        json!({"api_tokens_revoked": tokens}),
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
    refuse_when_rate_limited(&mut tx, app, source_addr).await?;
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

/// How long a new API token works, as chosen when it is created.
pub const API_TOKEN_LIFETIMES: &[(&str, &str)] = &[
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("", "No expiry"),
];

/// A new API token that does not expire: the secret is shown once.
pub async fn api_token_create(app: &App, ctx: &Ctx, name: &str) -> AppResult<(i64, String)> {
    api_token_create_expiring(app, ctx, name, "").await
}

/// A new API token that stops working after `expires_in_days` days (one of
/// [`API_TOKEN_LIFETIMES`]; empty for never): the secret is shown once.
pub async fn api_token_create_expiring(
    app: &App,
    ctx: &Ctx,
    name: &str,
    expires_in_days: &str,
) -> AppResult<(i64, String)> {
    let mut p = crate::error::Problems::default();
    let name = p.check(onramp_domain::values::required_text(
        "name",
        "a name for the token",
        name,
        100,
    ));
    let days = expires_in_days.trim();
    let expires_at = if days.is_empty() {
        None
    } else if API_TOKEN_LIFETIMES.iter().any(|(d, _)| *d == days) {
        days.parse::<i64>()
            .ok()
            .map(|d| app.now() + Duration::days(d))
    } else {
        p.push("expires", "Choose how long the token works from the list");
        None
    };
    p.into_result()?;
    let name = name.ok_or_else(|| AppError::Internal("unreachable".into()))?;
    let token = format!("onr_{}", random_token());
    let mut tx = app.store.begin().await?;
    let id = tx
        .api_token_create_expiring(
            ctx.actor.person_id,
            &name,
            &token_hash(&token),
            app.now(),
            expires_at,
        )
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "api_token.create",
        "api_token",
        Some(id),
        json!({"name": name, "expires_at": expires_at}),
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
    if t.expires_at.is_some_and(|e| e <= app.now()) {
        return Err(AppError::Unauthenticated);
    }
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
