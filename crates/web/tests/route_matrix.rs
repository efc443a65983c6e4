//! The authorization matrix: every route of `onramp_web::route_list()` × every role, over
//! real HTTP with real sessions.
//!
//! [`ROWS`] has one entry per (method, path). The test fails if a route has no entry (it
//! names it) or an entry names a route that does not exist, so a new route cannot go
//! untested. Each entry says, for each role (signed out, trainee, agency administrator,
//! executive director, auditor, proctor, training coordinator, lead admin), what must
//! happen; see [`X`]. POST entries send a form with a valid `_csrf` token and minimal
//! fields; whenever the outcome is not a success, nothing may have changed (audit head,
//! outbox, people, agencies, projects).
//!
//! Two more tests reuse the entries that take an id: an agency administrator and an
//! executive director of Harbor House on Northside's agency, projects and people (403 or
//! 404), and every role of the demo implementation on the ids of a second implementation
//! (403 or 404).
//!
//! `/api/*` routes belong to the API's own tests; here each must have an entry, marked
//! [`api`], and a request with no bearer token (but a signed-in browser's cookies) gets
//! 401, except the public OpenAPI document.

mod support;

use onramp_app::auth;
use onramp_app::demo::DEMO_LOGINS;
use onramp_store::reads::*;
use std::collections::{BTreeSet, HashMap};
use support::{Fingerprint, Reply, TestApp, TestClient, OTHER_EMAIL};

/// What must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum X {
    /// Redirected to sign in (303 to `/signin…`).
    S,
    /// Allowed: 2xx, or a 3xx to a page other than sign-in or a sign-in step.
    O,
    /// Allowed, and the (empty) form is refused with field messages: 422.
    I,
    /// Forbidden: 403.
    F,
    /// Not found: 404.
    N,
    /// Unauthorized: 401 (API without a token).
    U,
    /// Ends the session: 303 to `/signin`, and the browser is signed out after.
    E,
}
use X::*;

/// The roles, in the order of each entry's expectations.
const ROLES: [(&str, Option<&str>); 10] = [
    ("signed out", None),
    ("trainee", Some("trainee@harbor.example.org")),
    ("agency administrator", Some("ata@harbor.example.org")),
    ("executive director", Some("director@harbor.example.org")),
    // Not demo logins: the matrix's world adds the supervisor; Ivy Chen is the demo's
    // security officer.
    ("supervisor", Some(SUPERVISOR_EMAIL)),
    ("security officer", Some("security@harbor.example.org")),
    ("auditor", Some("auditor@demo.example.org")),
    ("proctor", Some("proctor@demo.example.org")),
    ("training coordinator", Some("coordinator@demo.example.org")),
    ("lead admin", Some("lead@demo.example.org")),
];
const AGENCY_ADMIN: usize = 2;
const EXECUTIVE_DIRECTOR: usize = 3;
const SUPERVISOR: usize = 4;
const SECURITY_OFFICER: usize = 5;
const LEAD_ADMIN: usize = 9;
/// Harbor House's supervisor (and nothing else), added by [`world`].
const SUPERVISOR_EMAIL: &str = "supervisor@harbor.example.org";
/// A Northside person with a live invitation (and no password yet), added by [`world`].
const INVITEE: &str = "ina.invitee@northside.example.org";

/// What the `{…}` segment of a path stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Id {
    None,
    /// An agency: Harbor House (cross-agency: Northside).
    Agency,
    /// A project: Harbor House Emergency Shelter (cross-agency: Northside Street Outreach).
    Project,
    /// A person: Ivy Chen, Harbor House's security officer (cross-agency: Ada Moss, Northside).
    Person,
    AccessLevel,
    Responsibility,
    /// An outbox message of the implementation (failed, so that it may be retried).
    Outbox,
    /// An API token of the lead admin.
    ApiToken,
    /// A live password-reset link token.
    ResetToken,
    /// A live invitation link token.
    InviteToken,
    /// An email template key.
    TemplateKey,
    /// A vendored asset's file name.
    StaticFile,
    /// An access request at Harbor House for a new person, on the process with a staff
    /// verification and an agreement (cross-agency: one at Northside).
    Request,
    /// That request and its open staff-verification step (`id|step`).
    RequestStep,
    /// That request and its open agreement-signing step (`id|step`).
    RequestAgreement,
    /// A process template key.
    ProcessKey,
    /// An agreement (the end-user agreement).
    Agreement,
    /// An active HMIS account of the request's person (cross-agency: of Northside's).
    HmisAccount,
    /// A certificate of Harbor House's trainee (cross-agency: of Northside's trainee).
    Certificate,
    /// That certificate's verification code.
    CertificateCode,
    /// The Introduction to HMIS, in which Harbor House's trainee is enrolled.
    Course,
    /// That course and a reading lesson of it (`id|key`).
    CourseLesson,
    /// That course and its welcome video's file (`id|hash`).
    CourseFile,
    /// That course and the id of a lesson of its published version (`id|lesson`), as the
    /// course writers' pages name lessons (cross-implementation: a course imported there).
    CourseLessonRow,
    /// The HMIS Fundamentals quiz's key, which is in Harbor House's trainee's plan.
    QuizKey,
    /// That quiz (cross-implementation: the other implementation's copy).
    Quiz,
    /// The trainee's submitted attempt at it.
    SubmittedAttempt,
    /// The trainee's open attempt at it.
    OpenAttempt,
    /// A question bank export's file name.
    BankFormat,
}

struct Row {
    method: &'static str,
    path: &'static str,
    id: Id,
    /// Placeholders: `{role}` (a word naming the role), `{harbor}` (Harbor House's id),
    /// `{today}` (the clock's date).
    form: &'static [(&'static str, &'static str)],
    expect: [X; 10],
    /// An `/api/*` route: covered by the API tests; here only "401 without a token".
    api: bool,
    /// The realistic, valid form sent when the entry is tried on another agency's or another
    /// implementation's record (the form above when None). Placeholders as in `form`.
    attempt: Option<&'static [(&'static str, &'static str)]>,
}

impl Row {
    /// With this valid form for the attempts on others' records.
    const fn attempt(self, form: &'static [(&'static str, &'static str)]) -> Row {
        Row {
            attempt: Some(form),
            ..self
        }
    }
}

const fn page(
    method: &'static str,
    path: &'static str,
    id: Id,
    form: &'static [(&'static str, &'static str)],
    expect: [X; 10],
) -> Row {
    Row {
        method,
        path,
        id,
        form,
        expect,
        api: false,
        attempt: None,
    }
}

const fn get(path: &'static str, id: Id, expect: [X; 10]) -> Row {
    page("GET", path, id, &[], expect)
}

const fn post(
    path: &'static str,
    id: Id,
    form: &'static [(&'static str, &'static str)],
    expect: [X; 10],
) -> Row {
    page("POST", path, id, form, expect)
}

/// An API route: without a bearer token, 401 for everyone (a browser session is not enough).
const fn api(method: &'static str, path: &'static str, id: Id) -> Row {
    Row {
        method,
        path,
        id,
        form: &[],
        expect: [U; 10],
        api: true,
        attempt: None,
    }
}

/// An API route anyone may read.
const fn api_public(path: &'static str) -> Row {
    Row {
        method: "GET",
        path,
        id: Id::None,
        form: &[],
        expect: [O; 10],
        api: true,
        attempt: None,
    }
}

const EVERYONE: [X; 10] = [O, O, O, O, O, O, O, O, O, O];
const SIGNED_IN: [X; 10] = [S, O, O, O, O, O, O, O, O, O];
/// Lead staff and agency overseers (administrators, executive directors) may read.
const READERS: [X; 10] = [S, F, O, O, O, O, O, O, O, O];
/// Only the lead admin (ManageImplementation, ManageOutbox, ManageImplementationRoles).
const LEAD_ONLY: [X; 10] = [S, F, F, F, F, F, F, F, F, O];
/// Who may request access for Harbor House's staff: its contacts (administrator,
/// supervisor) and Lead staff.
const REQUESTERS: [X; 10] = [S, F, O, F, O, F, F, F, O, O];
/// Who may manage Harbor House's staff: its administrator, the coordinator, the lead.
const HARBOR_STAFF_MANAGERS: [X; 10] = [S, F, O, F, F, F, F, F, O, O];
/// Lead staff who may read the implementation's organisation.
const STAFF_READERS: [X; 10] = [S, F, F, F, F, F, O, O, O, O];
const AUDIT_READERS: [X; 10] = [S, F, F, F, F, F, O, F, F, O];
/// Lead staff: the lead admin and the training coordinator (WorkQueue, ManageProcess).
const LEAD_STAFF: [X; 10] = [S, F, F, F, F, F, F, F, O, O];
/// Lead staff, whose empty form is then refused with field messages.
const LEAD_STAFF_INVALID: [X; 10] = [S, F, F, F, F, F, F, F, I, I];
/// Who may download the Harbor House trainee's certificate: the trainee, Harbor House's
/// administrator, Lead staff.
const CERTIFICATE_READERS: [X; 10] = [S, O, O, F, F, F, F, F, O, O];
/// Who sees Harbor House's training credits: its administrator, the auditor, Lead staff.
const CREDIT_READERS: [X; 10] = [S, F, O, F, F, F, O, F, O, O];
/// A course's pages: its enrolled trainee and the people who write courses; to everyone
/// else the course does not exist.
const COURSE_VIEWERS: [X; 10] = [S, O, N, N, N, N, N, N, O, O];
/// Completing a lesson: its enrolled trainee; course writers who are not enrolled may look
/// but not complete.
const LESSON_DOERS: [X; 10] = [S, O, N, N, N, N, N, N, F, F];
/// Course writers (ManageCourses: the lead admin and the training coordinator), whose
/// empty form is refused with field messages.
const COURSE_WRITERS: [X; 10] = LEAD_STAFF;
const COURSE_WRITERS_INVALID: [X; 10] = LEAD_STAFF_INVALID;
/// A quiz in the trainee's plan: the trainee, and course writers (who may try any quiz);
/// to everyone else it does not exist.
const QUIZ_TAKERS: [X; 10] = [S, O, N, N, N, N, N, N, O, O];
/// An attempt is its person's alone.
const ATTEMPT_OWNER: [X; 10] = [S, O, N, N, N, N, N, N, N, N];
/// A submitted attempt's result: its person, and readers of training reports.
const RESULT_READERS: [X; 10] = [S, O, F, F, F, F, O, O, O, O];
/// Who sees Harbor House's request: not another trainee (not found), everyone overseeing.
const REQUEST_VIEWERS: [X; 10] = [S, N, O, O, O, O, O, O, O, O];

/// The process editor's form for the matrix's process, saved: realistic, but refused
/// because the agreement step names no signers (so nothing changes even for Lead staff).
const EDITOR_FORM: &[(&str, &str)] = &[
    (
        "name",
        "Staff verification and agreement, then quiz ({role})",
    ),
    ("carry_over_days", "365"),
    ("username_pattern", "{first}.{last}"),
    ("s0-row", "r0"),
    ("s0-key", "staff-verification"),
    ("s0-title", "Staff verification for HMIS access"),
    ("s0-kind", "staff_verification"),
    ("s0-actor", "supervisor"),
    ("s1-row", "r1"),
    ("s1-key", "end-user-agreement"),
    ("s1-title", "Sign the HMIS end-user agreement"),
    ("s1-kind", "agreement_signing"),
    ("s1-actor", "signers"),
    ("s1-agreement", "end_user"),
    ("op", "save"),
];
const AGENCY_FORM: &[(&str, &str)] = &[
    ("name", "Harbor House"),
    ("participation_status", "participating"),
    ("participation_date", "{today}"),
    ("active", "on"),
];
const PROJECT_FORM: &[(&str, &str)] = &[
    ("agency_id", "{harbor}"),
    ("name", "Harbor House Emergency Shelter"),
    ("hud_project_type", "0"),
    ("active", "on"),
];
const PERSON_FORM: &[(&str, &str)] = &[
    ("given_name", "Ivy"),
    ("family_name", "Chen"),
    ("email", "security@harbor.example.org"),
    ("agency_id", "{harbor}"),
    ("active", "on"),
];
const CATALOGUE_FORM: &[(&str, &str)] = &[
    ("name", "Read-only"),
    ("description", "Sees client records; changes nothing"),
    ("active", "on"),
];
const TEMPLATE_FORM: &[(&str, &str)] = &[
    ("subject", "Your {{implementation}} Onramp account"),
    (
        "text",
        "Hello {{name}}, set a password: {{link}} (expires {{expires}})",
    ),
    (
        "html",
        "<p>Hello {{name}}, <a href=\"{{link}}\">set a password</a> (expires {{expires}}).</p>",
    ),
];

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ---- operations
    get("/healthz", Id::None, EVERYONE),
    get("/readyz", Id::None, EVERYONE),
    // 404 without ONRAMP_METRICS_TOKEN (the token itself is tested in tests/operations.rs).
    get("/metrics", Id::None, [N, N, N, N, N, N, N, N, N, N]),
    get("/static/{file}", Id::StaticFile, EVERYONE),
    // ---- signing in (the anonymous pages stay reachable once signed in: they redirect or render)
    get("/", Id::None, SIGNED_IN),
    get("/signin", Id::None, EVERYONE),
    post("/signin", Id::None, &[], [I, I, I, I, I, I, I, I, I, I]),
    post("/signout", Id::None, &[], [S, E, E, E, E, E, E, E, E, E]),
    get("/signin/mfa", Id::None, [S, O, O, O, O, O, O, O, O, O]),
    post("/signin/mfa", Id::None, &[], [S, O, O, O, O, O, O, O, O, O]),
    get("/password-reset", Id::None, EVERYONE),
    post("/password-reset", Id::None, &[], [I, I, I, I, I, I, I, I, I, I]),
    get("/password-reset/{token}", Id::ResetToken, EVERYONE),
    post("/password-reset/{token}", Id::ResetToken, &[], [I, I, I, I, I, I, I, I, I, I]),
    get("/invitation/{token}", Id::InviteToken, EVERYONE),
    post("/invitation/{token}", Id::InviteToken, &[], [I, I, I, I, I, I, I, I, I, I]),
    // ---- own account
    get("/account", Id::None, SIGNED_IN),
    get("/account/mfa", Id::None, SIGNED_IN),
    post("/account/mfa", Id::None, &[], [S, I, I, I, I, I, I, I, I, I]),
    // Only a trainee's roles let two-step sign-in be off (and theirs is off already).
    post("/account/mfa/off", Id::None, &[("current", "not-my-password-7")], [S, I, F, F, F, F, F, F, F, F]),
    get("/account/password", Id::None, SIGNED_IN),
    post("/account/password", Id::None, &[], [S, I, I, I, I, I, I, I, I, I]),
    post("/account/sign-out-everywhere", Id::None, &[], [S, E, E, E, E, E, E, E, E, E]),
    post("/account/api-tokens", Id::None, &[], [S, I, I, I, I, I, I, I, I, I]),
    // Someone else's token is not found; the lead revokes their own.
    post("/account/api-tokens/{id}/revoke", Id::ApiToken, &[], [S, N, N, N, N, N, N, N, N, O]),
    // ---- agencies
    get("/admin/agencies", Id::None, READERS),
    get("/admin/agencies.csv", Id::None, READERS),
    get("/admin/agencies/new", Id::None, LEAD_ONLY),
    post("/admin/agencies/new", Id::None, &[("name", "Matrix agency {role}"), ("participation_status", "participating")], LEAD_ONLY),
    get("/admin/agencies/{id}", Id::Agency, READERS),
    // ---- training credits: Lead staff, auditors and the agency's own administrator read
    // them; the lead admin grants and records purchases (an empty form: field messages)
    get("/admin/agencies/{id}/credits", Id::Agency, CREDIT_READERS),
    post("/admin/agencies/{id}/credits/grant", Id::Agency, &[], [S, F, F, F, F, F, F, F, F, I]).attempt(&[("credits", "50"), ("reason", "Taken by the {role}")]),
    post("/admin/agencies/{id}/credits/purchase", Id::Agency, &[], [S, F, F, F, F, F, F, F, F, I]).attempt(&[("pack_credits", "50"), ("amount", "1.00"), ("reference", "Taken by the {role}")]),
    post("/admin/agencies/{id}", Id::Agency, AGENCY_FORM, LEAD_ONLY).attempt(&[("name", "Taken over by the {role}"), ("participation_status", "participating"), ("participation_date", "{today}"), ("active", "on")]),
    // ---- projects
    get("/admin/projects", Id::None, READERS),
    get("/admin/projects.csv", Id::None, READERS),
    get("/admin/projects/new", Id::None, LEAD_ONLY),
    post("/admin/projects/new", Id::None, &[("agency_id", "{harbor}"), ("name", "Matrix project {role}"), ("hud_project_type", "13")], LEAD_ONLY),
    get("/admin/projects/{id}", Id::Project, READERS),
    post("/admin/projects/{id}", Id::Project, PROJECT_FORM, LEAD_ONLY).attempt(&[("agency_id", "{harbor}"), ("name", "Taken over by the {role}"), ("hud_project_type", "0"), ("active", "on")]),
    // ---- people
    get("/admin/people", Id::None, READERS),
    get("/admin/people.csv", Id::None, READERS),
    get("/admin/people/new", Id::None, HARBOR_STAFF_MANAGERS),
    post("/admin/people/new", Id::None, &[("given_name", "Matrix"), ("family_name", "{role}"), ("email", "matrix-{role}@harbor.example.org"), ("agency_id", "{harbor}")], HARBOR_STAFF_MANAGERS),
    get("/admin/people/{id}", Id::Person, READERS),
    post("/admin/people/{id}", Id::Person, PERSON_FORM, HARBOR_STAFF_MANAGERS).attempt(&[("given_name", "Taken"), ("family_name", "Over"), ("email", "taken.over.{role}@harbor.example.org"), ("agency_id", "{harbor}"), ("active", "on")]),
    post("/admin/people/{id}/invite", Id::Person, &[], HARBOR_STAFF_MANAGERS),
    post("/admin/people/{id}/roles", Id::Person, &[("role", "proctor"), ("granted", "false")], LEAD_ONLY).attempt(&[("role", "lead_admin"), ("granted", "true")]),
    post("/admin/people/{id}/agency-roles", Id::Person, &[("agency_id", "{harbor}"), ("role", "supervisor"), ("granted", "false")], HARBOR_STAFF_MANAGERS).attempt(&[("agency_id", "{harbor}"), ("role", "agency_administrator"), ("granted", "true")]),
    // ---- catalogues: anyone signed in may read them (agency staff request access with them)
    get("/admin/access-levels", Id::None, SIGNED_IN),
    get("/admin/access-levels.csv", Id::None, SIGNED_IN),
    get("/admin/access-levels/new", Id::None, LEAD_ONLY),
    post("/admin/access-levels/new", Id::None, &[("code", "matrix-{role}"), ("name", "Matrix {role}")], LEAD_ONLY),
    get("/admin/access-levels/{id}", Id::AccessLevel, SIGNED_IN),
    post("/admin/access-levels/{id}", Id::AccessLevel, CATALOGUE_FORM, LEAD_ONLY),
    get("/admin/responsibilities", Id::None, SIGNED_IN),
    get("/admin/responsibilities.csv", Id::None, SIGNED_IN),
    get("/admin/responsibilities/new", Id::None, LEAD_ONLY),
    post("/admin/responsibilities/new", Id::None, &[("code", "matrix-{role}"), ("name", "Matrix {role}")], LEAD_ONLY),
    get("/admin/responsibilities/{id}", Id::Responsibility, SIGNED_IN),
    post("/admin/responsibilities/{id}", Id::Responsibility, CATALOGUE_FORM, LEAD_ONLY),
    // ---- settings, audit, outbox, email templates
    get("/admin/settings", Id::None, STAFF_READERS),
    post("/admin/settings", Id::None, &[("name", "Lakeside County HMIS"), ("hmis_lead_name", "Lakeside Continuum of Care"), ("cocs", "IL-510\nIL-511")], LEAD_ONLY),
    post("/admin/settings/two-step-sign-in", Id::None, &[("mfa_for_all_readers", "on")], LEAD_ONLY),
    get("/admin/audit", Id::None, AUDIT_READERS),
    get("/admin/audit.csv", Id::None, AUDIT_READERS),
    get("/admin/outbox", Id::None, LEAD_ONLY),
    get("/admin/outbox/{id}", Id::Outbox, LEAD_ONLY),
    post("/admin/outbox/{id}/retry", Id::Outbox, &[], LEAD_ONLY),
    get("/admin/email-templates", Id::None, LEAD_ONLY),
    get("/admin/email-templates/{key}", Id::TemplateKey, LEAD_ONLY),
    post("/admin/email-templates/{key}", Id::TemplateKey, TEMPLATE_FORM, LEAD_ONLY),
    // ---- access requests (the request is at Harbor House, for someone else than the trainee)
    get("/requests", Id::None, SIGNED_IN),
    // Nothing selected: the queue says so; only Lead staff may act in bulk.
    post("/requests/bulk", Id::None, &[], LEAD_STAFF),
    get("/requests/new", Id::None, REQUESTERS),
    // Only the agency is given: those who may request for it are told what else is missing.
    post("/requests/new", Id::None, &[("agency_id", "{harbor}")], [S, F, I, F, I, F, F, F, I, I]),
    get("/requests/{id}", Id::Request, REQUEST_VIEWERS),
    // The supervisor's attestation, without its date: the agency's contacts are asked for it;
    // it is nobody else's to attest, not even Lead staff's.
    post("/requests/{id}/steps/{step}", Id::RequestStep, &[("action", "attest"), ("background_check_on", "")], [S, N, I, F, I, F, F, F, F, F]).attempt(&[("action", "attest"), ("background_check_on", "{today}")]),
    // A hold without its reason: only Lead staff may hold, and are asked for the reason.
    post("/requests/{id}/status", Id::Request, &[("to", "hold"), ("reason", "")], [S, N, F, F, F, F, F, F, I, I]).attempt(&[("to", "withdraw"), ("reason", "Withdrawn by the {role}")]),
    // The request is in progress, not waiting for an agency change: Lead staff are told so.
    post("/requests/{id}/agency-move", Id::Request, &[("decision", "approve")], [S, F, F, F, F, F, F, F, I, I]),
    post("/requests/{id}/messages", Id::Request, &[("body", "Matrix message from the {role}")], REQUEST_VIEWERS),
    post("/requests/{id}/provision", Id::Request, &[("username", "")], LEAD_STAFF_INVALID).attempt(&[("username", "taken.over")]),
    get("/requests/{id}/sign/{step}", Id::RequestAgreement, REQUEST_VIEWERS),
    // The new user signs first: it is nobody else's turn.
    post("/requests/{id}/sign/{step}", Id::RequestAgreement, &[("agree", "on"), ("typed_name", "")], [S, N, F, F, F, F, F, F, F, F]).attempt(&[("agree", "on"), ("typed_name", "Olga Other")]),
    get("/requests/{id}/agreements/{step}/print", Id::RequestAgreement, REQUEST_VIEWERS),
    // ---- HMIS accounts and the status webhook
    get("/hmis-accounts", Id::None, READERS),
    get("/hmis-accounts.csv", Id::None, READERS),
    get("/hmis-accounts/{id}", Id::HmisAccount, REQUEST_VIEWERS),
    // A suspension without its note: only Lead staff may, and are asked why.
    post("/hmis-accounts/{id}/status", Id::HmisAccount, &[("status", "suspended"), ("note", "")], LEAD_STAFF_INVALID).attempt(&[("status", "suspended"), ("note", "Suspended by the {role}")]),
    get("/admin/webhook", Id::None, LEAD_ONLY),
    // Empty: the webhook is turned off.
    post("/admin/webhook", Id::None, &[("webhook_url", ""), ("webhook_secret", "")], LEAD_ONLY),
    // ---- process templates
    get("/admin/processes", Id::None, STAFF_READERS),
    get("/admin/processes/import", Id::None, LEAD_STAFF),
    post("/admin/processes/import", Id::None, &[], LEAD_STAFF_INVALID),
    get("/admin/processes/{key}", Id::ProcessKey, STAFF_READERS),
    get("/admin/processes/{key}/edit", Id::ProcessKey, LEAD_STAFF),
    post("/admin/processes/{key}/edit", Id::ProcessKey, &[], LEAD_STAFF_INVALID),
    get("/admin/processes/{key}/export", Id::ProcessKey, STAFF_READERS),
    post("/admin/processes/{key}/default", Id::ProcessKey, &[], LEAD_STAFF),
    get("/admin/processes/{key}/editor", Id::ProcessKey, LEAD_STAFF),
    post(
        "/admin/processes/{key}/editor",
        Id::ProcessKey,
        EDITOR_FORM,
        LEAD_STAFF_INVALID,
    ),
    // ---- agreements: anyone signed in may read the active ones
    get("/admin/agreements", Id::None, SIGNED_IN),
    get("/admin/agreements/new", Id::None, LEAD_STAFF),
    post("/admin/agreements/new", Id::None, &[], LEAD_STAFF_INVALID),
    get("/admin/agreements/{id}", Id::Agreement, SIGNED_IN),
    post("/admin/agreements/{id}", Id::Agreement, &[], LEAD_STAFF_INVALID).attempt(&[("title", "Taken over"), ("signers", "user"), ("active", "on")]),
    post("/admin/agreements/{id}/versions", Id::Agreement, &[], LEAD_STAFF_INVALID).attempt(&[("body", "# Taken over\n\nSign here.")]),
    // ---- the JSON API (its own tests cover who may do what with a token)
    api_public("/api/openapi.json"),
    api("GET", "/api/v1/me", Id::None),
    api("GET", "/api/v1/agencies", Id::None),
    api("POST", "/api/v1/agencies", Id::None),
    api("GET", "/api/v1/agencies/{id}", Id::Agency),
    api("PUT", "/api/v1/agencies/{id}", Id::Agency),
    api("GET", "/api/v1/projects", Id::None),
    api("POST", "/api/v1/projects", Id::None),
    api("GET", "/api/v1/projects/{id}", Id::Project),
    api("PUT", "/api/v1/projects/{id}", Id::Project),
    api("GET", "/api/v1/people", Id::None),
    api("POST", "/api/v1/people", Id::None),
    api("GET", "/api/v1/people/{id}", Id::Person),
    api("PUT", "/api/v1/people/{id}", Id::Person),
    api("GET", "/api/v1/access-levels", Id::None),
    api("GET", "/api/v1/responsibilities", Id::None),
    api("GET", "/api/v1/audit", Id::None),
    api("GET", "/api/v1/requests", Id::None),
    api("POST", "/api/v1/requests", Id::None),
    api("GET", "/api/v1/requests/{id}", Id::Request),
    // ---- certificates: checked by anyone; downloaded by their person, the person's agency
    // administrator and Lead staff
    get("/verify", Id::None, EVERYONE),
    get("/verify/{code}", Id::CertificateCode, EVERYONE),
    get("/certificates", Id::None, SIGNED_IN),
    get("/certificates/{id}/pdf", Id::Certificate, CERTIFICATE_READERS),
    // ---- training: a person's own plan, and the courses they are enrolled in
    get("/training", Id::None, SIGNED_IN),
    get("/training/courses/{id}", Id::Course, COURSE_VIEWERS),
    get(
        "/training/courses/{id}/lessons/{key}",
        Id::CourseLesson,
        COURSE_VIEWERS,
    ),
    get("/training/courses/{id}/files/{hash}", Id::CourseFile, COURSE_VIEWERS),
    post(
        "/training/courses/{id}/lessons/{key}/done",
        Id::CourseLesson,
        &[("what", "read")],
        LESSON_DOERS,
    ),
    // The player's JSON report carries the CSRF token in a header, which a form post
    // lacks: refused for everyone here; accepted reports are walked in seed_walks.
    post(
        "/training/courses/{id}/lessons/{key}/progress",
        Id::CourseLesson,
        &[],
        [S, F, F, F, F, F, F, F, F, F],
    ),
    // ---- the Lead's side of training: requirement rules and their preview, the completion
    // report (readers of training reports), an agency's staff plans (its overseers), and a
    // person's plan (whoever sees the person), which Lead staff change.
    get("/training-rules", Id::None, STAFF_READERS),
    post("/training-rules", Id::None, &[("rules", "[[rules")], COURSE_WRITERS_INVALID),
    get("/reports/training", Id::None, STAFF_READERS),
    get("/admin/agencies/{id}/training", Id::Agency, READERS),
    get("/admin/people/{id}/training", Id::Person, READERS),
    post("/admin/people/{id}/training/waive", Id::Person, &[], LEAD_STAFF_INVALID).attempt(&[("item", "course:intro-hmis"), ("reason", "Taken by the {role}")]),
    post("/admin/people/{id}/training/recompute", Id::Person, &[], LEAD_STAFF_INVALID).attempt(&[("recompute_reason", "Taken by the {role}")]),
    post("/admin/people/{id}/training/accommodation", Id::Person, &[], LEAD_STAFF_INVALID).attempt(&[("accommodation_reason", "Taken by the {role}")]),
    // ---- course authoring: the people who write courses. The forms sent are refused
    // (nothing changes), except retiring and bringing back, which undo each other.
    get("/courses", Id::None, COURSE_WRITERS),
    get("/courses/new", Id::None, COURSE_WRITERS),
    post("/courses/new", Id::None, &[("title", "")], COURSE_WRITERS_INVALID),
    get("/courses/import", Id::None, COURSE_WRITERS),
    post("/courses/import", Id::None, &[], COURSE_WRITERS_INVALID),
    get("/courses/{id}", Id::Course, COURSE_WRITERS),
    get("/courses/{id}/edit", Id::Course, COURSE_WRITERS),
    post("/courses/{id}/edit", Id::Course, &[("title", "")], COURSE_WRITERS_INVALID),
    get("/courses/{id}/lessons/new", Id::Course, COURSE_WRITERS),
    post(
        "/courses/{id}/lessons/new",
        Id::Course,
        &[("kind", "reading"), ("key", "Not A Key")],
        COURSE_WRITERS_INVALID,
    ),
    get("/courses/{id}/lessons/{lesson}", Id::CourseLessonRow, COURSE_WRITERS),
    post(
        "/courses/{id}/lessons/{lesson}",
        Id::CourseLessonRow,
        &[("kind", "reading"), ("key", "how-systems-fit"), ("title", "")],
        COURSE_WRITERS_INVALID,
    ),
    post(
        "/courses/{id}/lessons/{lesson}/arrange",
        Id::CourseLessonRow,
        &[("to", "sideways")],
        COURSE_WRITERS_INVALID,
    )
    .attempt(&[("to", "down")]),
    // The starter course has no draft: there is nothing to publish.
    post("/courses/{id}/publish", Id::Course, &[], COURSE_WRITERS_INVALID),
    post("/courses/{id}/retire", Id::Course, &[], COURSE_WRITERS),
    post("/courses/{id}/unretire", Id::Course, &[], COURSE_WRITERS),
    get("/courses/{id}/package.zip", Id::Course, COURSE_WRITERS),
    // ---- quizzes: taken by the people whose plan holds them; an attempt is its person's
    get("/training/quizzes/{key}", Id::QuizKey, QUIZ_TAKERS),
    post("/training/quizzes/{key}/start", Id::QuizKey, &[], QUIZ_TAKERS),
    get("/training/attempts/{id}", Id::OpenAttempt, ATTEMPT_OWNER),
    post("/training/attempts/{id}/save", Id::OpenAttempt, &[], ATTEMPT_OWNER),
    post("/training/attempts/{id}/submit", Id::OpenAttempt, &[], ATTEMPT_OWNER),
    get("/training/attempts/{id}/result", Id::SubmittedAttempt, RESULT_READERS),
    // ---- the question bank and quizzes: the people who write courses
    get("/questions", Id::None, COURSE_WRITERS),
    get("/questions/import", Id::None, COURSE_WRITERS),
    post("/questions/import", Id::None, &[], COURSE_WRITERS_INVALID),
    get("/questions/export/{file}", Id::BankFormat, COURSE_WRITERS),
    get("/quizzes", Id::None, COURSE_WRITERS),
    get("/quizzes/new", Id::None, COURSE_WRITERS),
    post("/quizzes/new", Id::None, &[("title", "")], COURSE_WRITERS_INVALID),
    get("/quizzes/{id}", Id::Quiz, COURSE_WRITERS),
    post("/quizzes/{id}", Id::Quiz, &[("title", "")], COURSE_WRITERS_INVALID),
    // ---- quiz reviews: readers of training reports look; Lead staff decide
    get("/quiz-reviews", Id::None, STAFF_READERS),
    get("/quiz-reviews/{id}", Id::SubmittedAttempt, STAFF_READERS),
    post("/quiz-reviews/{id}/clear", Id::SubmittedAttempt, &[], LEAD_STAFF_INVALID),
    post("/quiz-reviews/{id}/grade", Id::SubmittedAttempt, &[("position", "1"), ("mark", "")], LEAD_STAFF),
    get("/quizzes/{id}/statistics", Id::Quiz, STAFF_READERS),
];

/// A form posted to a path without an id, naming another agency's or implementation's
/// records (`{agency}`, `{project}`, `{request}`): refused (403 or 404), or its fields
/// refused (422), and nothing changed.
struct Attempt {
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
}

#[rustfmt::skip]
const ATTEMPTS: &[Attempt] = &[
    // A complete request for their agency's project.
    Attempt { path: "/requests/new", form: &[("given_name", "Taken"), ("family_name", "Over"), ("email", "taken.over.{role}@elsewhere.example.org"), ("agency_id", "{agency}"), ("access_level", "end_user"), ("projects", "{project}"), ("new_or_returning", "new"), ("note", "Matrix")] },
    // A person added to their agency, with an invitation.
    Attempt { path: "/admin/people/new", form: &[("given_name", "Planted"), ("family_name", "Person"), ("email", "planted.{role}@elsewhere.example.org"), ("agency_id", "{agency}"), ("invite", "on")] },
    // A project added to their agency.
    Attempt { path: "/admin/projects/new", form: &[("agency_id", "{agency}"), ("name", "Planted project {role}"), ("hud_project_type", "13")] },
    // Their request held in bulk.
    Attempt { path: "/requests/bulk", form: &[("ids", "{request}"), ("action", "hold"), ("reason", "Held by the {role}")] },
];

// ---------------------------------------------------------------- the route list

#[test]
fn every_route_has_exactly_one_matrix_entry() {
    let routes: BTreeSet<(String, String)> = onramp_web::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut entries = BTreeSet::new();
    let mut duplicates = Vec::new();
    for r in ROWS {
        if !entries.insert((r.method.to_string(), r.path.to_string())) {
            duplicates.push(format!("{} {}", r.method, r.path));
        }
    }
    let missing: Vec<String> = routes
        .difference(&entries)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let stale: Vec<String> = entries
        .difference(&routes)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && duplicates.is_empty(),
        "the authorization matrix is out of date.\n  routes with no entry: {missing:#?}\n  entries for routes that do not exist: {stale:#?}\n  duplicate entries: {duplicates:#?}"
    );
    for r in ROWS {
        assert_eq!(
            r.api,
            r.path.starts_with("/api/"),
            "{} {}: /api/ routes and only they are marked api",
            r.method,
            r.path
        );
        assert_eq!(
            r.id == Id::None,
            !r.path.contains('{'),
            "{} {}: a path with a {{…}} segment names what it stands for",
            r.method,
            r.path
        );
    }
}

#[test]
fn the_roles_are_the_demo_logins_and_two_more() {
    let demo: BTreeSet<&str> = DEMO_LOGINS.iter().map(|d| d.email).collect();
    let ours: BTreeSet<&str> = ROLES
        .iter()
        .enumerate()
        .filter(|(i, _)| ![SUPERVISOR, SECURITY_OFFICER].contains(i))
        .filter_map(|(_, (_, e))| *e)
        .collect();
    assert_eq!(demo, ours);
    assert_eq!(ROLES[SUPERVISOR].0, "supervisor");
    assert_eq!(ROLES[SECURITY_OFFICER].0, "security officer");
    assert_eq!(ROLES[LEAD_ADMIN].0, "lead admin");
}

// ---------------------------------------------------------------- the world the matrix runs in

/// The ids a path's `{…}` segment is replaced with.
struct Ids(HashMap<Id, String>);

impl Ids {
    fn path(&self, row: &Row) -> String {
        if row.id == Id::None {
            return row.path.to_string();
        }
        let value = self
            .0
            .get(&row.id)
            .unwrap_or_else(|| panic!("no id for {:?}", row.id));
        // `a|b` fills the first `{…}` segment with a, the second with b.
        let mut parts = value.split('|');
        let mut out = String::new();
        let mut rest = row.path;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').expect("closing }") + start;
            out.push_str(&rest[..start]);
            let part = parts
                .next()
                .unwrap_or_else(|| panic!("{:?}: too few parts for {}", row.id, row.path));
            out.push_str(part);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        assert!(
            parts.next().is_none(),
            "{:?}: too many parts for {}",
            row.id,
            row.path
        );
        out
    }
}

struct World {
    app: TestApp,
    demo: Ids,
    /// Northside's agency, project and person.
    northside: Ids,
    /// A second implementation's ids.
    foreign: Ids,
    harbor: i64,
    today: String,
}

async fn first_entry(
    app: &TestApp,
    implementation_id: i64,
    cat: onramp_store::organisation::Catalogue,
) -> i64 {
    let mut tx = app.app.store.read().await.expect("read");
    tx.catalogue_list(
        cat,
        implementation_id,
        None,
        None,
        onramp_store::PageRequest::new(1, 1),
    )
    .await
    .expect("catalogue")
    .items[0]
        .id
}

/// The path of a link emailed to `to` in `implementation_id`'s outbox, and the message's id.
async fn emailed_link(
    app: &TestApp,
    implementation_id: i64,
    to: &str,
    segment: &str,
) -> (String, i64) {
    let m = app
        .outbox_in(implementation_id)
        .await
        .into_iter()
        .rev()
        .find(|m| m.recipient == to)
        .expect("an email");
    let link = support::link_in(&support::email_text(&m), &app.base, segment).expect("a link");
    (link, m.id)
}

/// The seed process with a staff verification and an agreement at the start, and those steps.
const PROCESS: &str = "verification-and-agreement-then-quiz";
const VERIFICATION_STEP: &str = "staff-verification";
const AGREEMENT_STEP: &str = "end-user-agreement";

/// Submits an access request on [`PROCESS`] for a new person, as `ctx` (Lead staff).
async fn submit_request(
    app: &TestApp,
    ctx: &onramp_app::Ctx,
    (given, family): (&str, &str),
    email: &str,
    agency: i64,
    project: i64,
) -> i64 {
    let input = onramp_app::access::RequestInput {
        given_name: given.into(),
        family_name: family.into(),
        email: email.into(),
        agency_id: agency.to_string(),
        access_level: "end_user".into(),
        projects: vec![project.to_string()],
        new_or_returning: "new".into(),
        process: PROCESS.into(),
        ..Default::default()
    };
    match onramp_app::access::submit(&app.app, ctx, &input)
        .await
        .expect("submit a request")
    {
        onramp_app::access::Submitted::Created(id) => id,
        other => panic!("the request was not created: {other:?}"),
    }
}

/// An active HMIS account for the person of a request.
async fn hmis_account(app: &TestApp, implementation_id: i64, request: i64) -> i64 {
    let mut tx = app.app.store.begin().await.expect("begin");
    let r = tx
        .request_get(implementation_id, request)
        .await
        .expect("request");
    let username = format!("matrix.{request}.{implementation_id}");
    let account = onramp_store::hmis_accounts::NewHmisAccount {
        implementation_id,
        person_id: r.person_id,
        request_id: Some(request),
        username: &username,
        access_level: "end_user",
        agency_id: r.agency_id,
        projects: "",
        status: "active",
    };
    let id = tx
        .hmis_account_create(&account, app.now())
        .await
        .expect("HMIS account");
    tx.commit().await.expect("commit");
    id
}

/// A certificate of a course for the person with this email, issued by `ctx`.
async fn certificate_for(
    app: &TestApp,
    ctx: &onramp_app::Ctx,
    email: &str,
) -> onramp_app::learning::certificates::Certificate {
    let person = app.person_id_in(ctx.implementation_id(), email).await;
    let mut tx = app.app.store.begin().await.expect("begin");
    let c = onramp_app::learning::certificates::issue_in(
        &mut tx,
        &app.app,
        ctx,
        person,
        &onramp_domain::learning::certificate::CertificateSubject::Course {
            key: onramp_domain::Slug::parse("intro-hmis").expect("key"),
            version: 1,
        },
        "Introduction to HMIS (version 1)",
        app.now(),
        Some(app.now() + chrono::Duration::days(365)),
    )
    .await
    .expect("a certificate");
    tx.commit().await.expect("commit");
    c
}

async fn agreement_id(app: &TestApp, implementation_id: i64) -> i64 {
    let mut tx = app.app.store.read().await.expect("read");
    tx.agreement_by_key(implementation_id, "end_user")
        .await
        .expect("agreement")
        .expect("the end-user agreement")
        .id
}

/// The HMIS Fundamentals quiz in Harbor House's trainee's plan (the demo's training stages
/// put it there), with one attempt submitted and a second open.
async fn quiz_attempts(app: &TestApp) -> (i64, i64, i64) {
    use onramp_app::learning::quizzes::attempts;
    onramp_app::demo::load_training_stages(&app.app)
        .await
        .expect("training stages");
    let imp = app.implementation_id;
    let quiz = {
        let mut tx = app.app.store.read().await.expect("read");
        tx.quiz_by_key(imp, "hmis-fundamentals")
            .await
            .expect("quiz")
            .expect("the starter quiz")
            .id
    };
    let trainee = app.ctx("trainee@harbor.example.org").await;
    let started = |what: Result<Result<i64, _>, onramp_app::AppError>| match what {
        Ok(Ok(id)) => id,
        other => panic!("the trainee could not start the quiz: {other:?}"),
    };
    let first = started(attempts::start(&app.app, &trainee, "hmis-fundamentals").await);
    let submitted = attempts::submit(&app.app, &trainee, first, &[])
        .await
        .expect("submit");
    assert!(
        matches!(submitted, attempts::Submitted::Graded),
        "{submitted:?}"
    );
    let second = started(attempts::start(&app.app, &trainee, "hmis-fundamentals").await);
    (quiz, first, second)
}

async fn world() -> World {
    use onramp_store::organisation::Catalogue;
    let app = TestApp::sqlite().await;
    let imp = app.implementation_id;
    let harbor = app.agency_id("Harbor House").await;
    let northside = app.agency_id("Northside Outreach Collective").await;
    let (quiz, submitted_attempt, open_attempt) = quiz_attempts(&app).await;

    // Live links: a reset for Northside's trainee, an invitation for a new Northside person
    // (an invitation of someone who has a password no longer works).
    auth::request_password_reset(&app.app, "trainee@northside.example.org", "setup")
        .await
        .expect("reset");
    let (reset, _) =
        emailed_link(&app, imp, "trainee@northside.example.org", "password-reset").await;
    let invitee = onramp_app::people::PersonInput {
        given_name: "Ina".into(),
        family_name: "Invitee".into(),
        email: INVITEE.into(),
        agency_id: northside.to_string(),
        active: true,
    };
    onramp_app::people::create(
        &app.app,
        &app.ctx("lead@demo.example.org").await,
        &invitee,
        true,
    )
    .await
    .expect("invite");
    let (invite, message) = emailed_link(&app, imp, INVITEE, "invitation").await;
    // Harbor House's supervisor (and nothing else).
    let supervisor = onramp_app::people::create_with_password(
        &app.app,
        imp,
        "Sofia",
        "Park",
        SUPERVISOR_EMAIL,
        Some(harbor),
        &[],
        onramp_app::demo::DEMO_PASSWORD,
        false,
    )
    .await
    .expect("supervisor");
    let mut tx = app.app.store.begin().await.expect("begin");
    tx.agency_role_set(supervisor, harbor, "supervisor", true)
        .await
        .expect("supervisor role");
    tx.commit().await.expect("commit");
    // That message gave up, so that the lead admin may retry it.
    let mut tx = app.app.store.begin().await.expect("begin");
    tx.outbox_mark_failed(message, "matrix: gave up", None)
        .await
        .expect("mark failed");
    tx.commit().await.expect("commit");
    let (token, _) =
        auth::api_token_create(&app.app, &app.ctx("lead@demo.example.org").await, "matrix")
            .await
            .expect("API token");

    let lead = app.ctx("lead@demo.example.org").await;
    let harbor_project = app.project_id("Harbor House Emergency Shelter").await;
    let northside_project = app.project_id("Northside Street Outreach").await;
    let request = submit_request(
        &app,
        &lead,
        ("Rex", "Request"),
        "rex.request@harbor.example.org",
        harbor,
        harbor_project,
    )
    .await;
    let northside_request = submit_request(
        &app,
        &lead,
        ("Nora", "Request"),
        "nora.request@northside.example.org",
        northside,
        northside_project,
    )
    .await;
    let agreement = agreement_id(&app, imp).await;
    let account = hmis_account(&app, imp, request).await;
    let northside_account = hmis_account(&app, imp, northside_request).await;

    let certificate = certificate_for(&app, &lead, "trainee@harbor.example.org").await;
    let northside_certificate = certificate_for(&app, &lead, "trainee@northside.example.org").await;

    let token_segment = |link: &str| link.rsplit('/').next().expect("token").to_string();
    // Harbor House's trainee is enrolled in the Introduction to HMIS.
    let (course, video, lesson) = {
        let trainee = app.person_id("trainee@harbor.example.org").await;
        let mut tx = app.app.store.begin().await.expect("begin");
        let intro = tx
            .course_by_key(imp, "intro-hmis")
            .await
            .expect("course")
            .expect("the starter Introduction to HMIS");
        let version = tx.course_versions(intro.id).await.expect("versions")[0].id;
        tx.enrolment_ensure(imp, trainee, intro.id, version, app.now())
            .await
            .expect("enrol");
        let lessons = tx.lessons_of_version(version).await.expect("lessons");
        let video = lessons
            .iter()
            .find_map(|l| l.file_hash.clone())
            .expect("a video");
        let lesson = lessons
            .iter()
            .find(|l| l.key == "how-systems-fit")
            .expect("a reading")
            .id;
        tx.commit().await.expect("commit");
        (intro.id, video, lesson)
    };
    let demo = Ids(HashMap::from([
        (Id::QuizKey, "hmis-fundamentals".to_string()),
        (Id::Quiz, quiz.to_string()),
        (Id::SubmittedAttempt, submitted_attempt.to_string()),
        (Id::OpenAttempt, open_attempt.to_string()),
        (Id::BankFormat, "questions.gift.txt".to_string()),
        (Id::Agency, harbor.to_string()),
        (
            Id::Project,
            app.project_id("Harbor House Emergency Shelter")
                .await
                .to_string(),
        ),
        (
            Id::Person,
            app.person_id("security@harbor.example.org")
                .await
                .to_string(),
        ),
        (
            Id::AccessLevel,
            first_entry(&app, imp, Catalogue::AccessLevels)
                .await
                .to_string(),
        ),
        (
            Id::Responsibility,
            first_entry(&app, imp, Catalogue::Responsibilities)
                .await
                .to_string(),
        ),
        (Id::Outbox, message.to_string()),
        (Id::ApiToken, token.to_string()),
        (Id::ResetToken, token_segment(&reset)),
        (Id::InviteToken, token_segment(&invite)),
        (Id::TemplateKey, "invitation".to_string()),
        (Id::StaticFile, "onramp.css".to_string()),
        (Id::Request, request.to_string()),
        (Id::RequestStep, format!("{request}|{VERIFICATION_STEP}")),
        (Id::RequestAgreement, format!("{request}|{AGREEMENT_STEP}")),
        (Id::ProcessKey, PROCESS.to_string()),
        (Id::Agreement, agreement.to_string()),
        (Id::HmisAccount, account.to_string()),
        (Id::Certificate, certificate.id.to_string()),
        (Id::CertificateCode, certificate.code.clone()),
        (Id::Course, course.to_string()),
        (Id::CourseLesson, format!("{course}|how-systems-fit")),
        (Id::CourseFile, format!("{course}|{video}")),
        (Id::CourseLessonRow, format!("{course}|{lesson}")),
    ]));
    let northside_ids = Ids(HashMap::from([
        (Id::Agency, northside.to_string()),
        (
            Id::Project,
            app.project_id("Northside Street Outreach")
                .await
                .to_string(),
        ),
        (
            Id::Person,
            app.person_id("trainee@northside.example.org")
                .await
                .to_string(),
        ),
        (Id::Request, northside_request.to_string()),
        (Id::HmisAccount, northside_account.to_string()),
        (Id::Certificate, northside_certificate.id.to_string()),
        (
            Id::RequestStep,
            format!("{northside_request}|{VERIFICATION_STEP}"),
        ),
        (
            Id::RequestAgreement,
            format!("{northside_request}|{AGREEMENT_STEP}"),
        ),
    ]));

    let other = app.second_implementation().await;
    auth::request_password_reset(&app.app, OTHER_EMAIL, "setup")
        .await
        .expect("reset");
    let (_, other_message) =
        emailed_link(&app, other.implementation_id, OTHER_EMAIL, "password-reset").await;
    let (other_token, _) =
        auth::api_token_create(&app.app, &app.ctx_of(other.person_id).await, "elsewhere")
            .await
            .expect("API token");
    // The other implementation has the same processes and agreements, a lead and a request.
    let mut tx = app.app.store.begin().await.expect("begin");
    onramp_app::processes::install_seeds(&mut tx, &app.app, other.implementation_id)
        .await
        .expect("seeds");
    tx.commit().await.expect("commit");
    let other_lead = onramp_app::people::create_with_password(
        &app.app,
        other.implementation_id,
        "Leo",
        "Elsewhere",
        "leo@elsewhere.example.org",
        None,
        &[onramp_domain::ImplementationRole::LeadAdmin],
        "Elsewhere-Lead-2026",
        false,
    )
    .await
    .expect("other lead");
    let other_ctx = app.ctx_of(other_lead).await;
    let other_request = submit_request(
        &app,
        &other_ctx,
        ("Olga", "Other"),
        OTHER_EMAIL,
        other.agency_id,
        other.project_id,
    )
    .await;
    let other_agreement = agreement_id(&app, other.implementation_id).await;
    let other_account = hmis_account(&app, other.implementation_id, other_request).await;
    let other_certificate = certificate_for(&app, &other_ctx, OTHER_EMAIL).await;
    // The other implementation has its own copy of the Introduction to HMIS.
    let (other_course, other_lesson) = {
        let (_, zip) = onramp_app::learning::packages::export_zip(&app.app, &lead, course)
            .await
            .expect("export");
        onramp_app::learning::packages::import_zip(&app.app, &other_ctx, &zip)
            .await
            .expect("import elsewhere");
        let mut tx = app.app.store.read().await.expect("read");
        let c = tx
            .course_by_key(other.implementation_id, "intro-hmis")
            .await
            .expect("course")
            .expect("imported");
        let version = tx.course_versions(c.id).await.expect("versions")[0].id;
        let lesson = tx.lessons_of_version(version).await.expect("lessons")[0].id;
        (c.id, lesson)
    };
    // And its own starter quizzes.
    let other_quiz = {
        let mut tx = app.app.store.begin().await.expect("begin");
        onramp_app::learning::quizzes::install_starter_in(&mut tx, &app.app, &other_ctx)
            .await
            .expect("quizzes elsewhere");
        let q = tx
            .quiz_by_key(other.implementation_id, "hmis-fundamentals")
            .await
            .expect("quiz")
            .expect("installed");
        tx.commit().await.expect("commit");
        q.id
    };
    let foreign = Ids(HashMap::from([
        (Id::Quiz, other_quiz.to_string()),
        (Id::Agency, other.agency_id.to_string()),
        (Id::Project, other.project_id.to_string()),
        (Id::Person, other.person_id.to_string()),
        (
            Id::AccessLevel,
            first_entry(&app, other.implementation_id, Catalogue::AccessLevels)
                .await
                .to_string(),
        ),
        (
            Id::Responsibility,
            first_entry(&app, other.implementation_id, Catalogue::Responsibilities)
                .await
                .to_string(),
        ),
        (Id::Outbox, other_message.to_string()),
        (Id::ApiToken, other_token.to_string()),
        (Id::Request, other_request.to_string()),
        (
            Id::RequestStep,
            format!("{other_request}|{VERIFICATION_STEP}"),
        ),
        (
            Id::RequestAgreement,
            format!("{other_request}|{AGREEMENT_STEP}"),
        ),
        (Id::Agreement, other_agreement.to_string()),
        (Id::HmisAccount, other_account.to_string()),
        (Id::Certificate, other_certificate.id.to_string()),
        (Id::Course, other_course.to_string()),
        (
            Id::CourseLessonRow,
            format!("{other_course}|{other_lesson}"),
        ),
    ]));
    let today = app.now().date_naive().to_string();
    World {
        app,
        demo,
        northside: northside_ids,
        foreign,
        harbor,
        today,
    }
}

/// A browser for a role: signed in (all steps done), or signed out with a pre-session token.
async fn browser(app: &TestApp, email: Option<&str>) -> (TestClient, String) {
    let c = app.client();
    match email {
        Some(e) => {
            c.sign_in_as(e).await;
        }
        None => {
            c.get("/signin").await.expect(200);
        }
    }
    let token = c.csrf().expect("a CSRF token");
    (c, token)
}

fn role_word(role: usize) -> String {
    ROLES[role].0.replace(' ', "-")
}

/// Fills a form value's placeholders: `{role}`, `{harbor}`, `{today}`, and with `ids`
/// (others' records) `{agency}`, `{project}`, `{request}`.
fn fill(world: &World, role: usize, value: &str, ids: Option<&Ids>) -> String {
    let mut v = value
        .replace("{role}", &role_word(role))
        .replace("{harbor}", &world.harbor.to_string())
        .replace("{today}", &world.today);
    if let Some(ids) = ids {
        for (placeholder, id) in [
            ("{agency}", Id::Agency),
            ("{project}", Id::Project),
            ("{request}", Id::Request),
        ] {
            if let Some(value) = ids.0.get(&id) {
                v = v.replace(placeholder, value);
            }
        }
    }
    v
}

/// Posts a form with its placeholders filled, with a valid CSRF token.
async fn post_filled(
    world: &World,
    c: &TestClient,
    token: &str,
    role: usize,
    path: &str,
    form: &[(&str, &str)],
    ids: Option<&Ids>,
) -> Reply {
    let filled: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), fill(world, role, v, ids)))
        .collect();
    let fields: Vec<(&str, &str)> = filled
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form_token(path, &fields, token).await
}

/// Sends one entry's request as a role.
async fn send(
    world: &World,
    c: &TestClient,
    token: &str,
    role: usize,
    row: &Row,
    path: &str,
    form: &[(&str, &str)],
) -> Reply {
    if row.api {
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
        let mut req = c.http.request(method, c.url(path));
        if row.method != "GET" {
            req = req.header("content-type", "application/json").body("{}");
        }
        let res = req.send().await.expect("API request");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        return Reply {
            status,
            headers,
            body,
        };
    }
    match row.method {
        "GET" => c.get(path).await,
        "POST" => post_filled(world, c, token, role, path, form, None).await,
        other => panic!("no page is served with {other}"),
    }
}

/// Whether a reply is what `want` says (before the session check of `E`).
fn matches(want: X, r: &Reply) -> bool {
    let status = r.status.as_u16();
    let location = r.location().unwrap_or_default();
    let to_signin =
        (location == "/signin" || location.starts_with("/signin?")) && (300..400).contains(&status);
    let to_step = ["/signin/mfa", "/account/mfa", "/account/password"]
        .iter()
        .any(|p| location.starts_with(p));
    match want {
        S | E => to_signin,
        O => {
            (200..300).contains(&status) || ((300..400).contains(&status) && !to_signin && !to_step)
        }
        I => status == 422,
        F => status == 403,
        N => status == 404,
        U => status == 401,
    }
}

fn describe(r: &Reply) -> String {
    match r.location() {
        Some(l) => format!("{} to {l}", r.status.as_u16()),
        None => r.status.as_u16().to_string(),
    }
}

async fn fingerprint(world: &World) -> Fingerprint {
    world.app.fingerprint().await
}

// ---------------------------------------------------------------- the matrix

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let world = world().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (role, (role_name, email)) in ROLES.iter().enumerate() {
        let (c, mut token) = browser(&world.app, *email).await;
        // Entries that end the session go last.
        let order = ROWS
            .iter()
            .filter(|r| r.expect[role] != E)
            .chain(ROWS.iter().filter(|r| r.expect[role] == E));
        let mut ended = false;
        for row in order {
            let want = row.expect[role];
            if ended {
                // A session-ending entry already ran: sign in again for the next one.
                c.sign_in_as(email.expect("only signed-in roles end sessions"))
                    .await;
                token = c.csrf().expect("a CSRF token");
                ended = false;
            }
            let path = world.demo.path(row);
            let before = fingerprint(&world).await;
            let r = send(&world, &c, &token, role, row, &path, row.form).await;
            checked += 1;
            let mut ok = matches(want, &r);
            if ok && want == E {
                ok = !c.is_signed_in().await;
                ended = true;
            }
            if !ok {
                failures.push(format!(
                    "{:<6} {path:<42} as {role_name:<22} expected {want:?}, got {}",
                    row.method,
                    describe(&r)
                ));
                continue;
            }
            if row.method != "GET" && !matches!(want, O | E) {
                let after = fingerprint(&world).await;
                if after != before {
                    failures.push(format!("{:<6} {path:<42} as {role_name:<22} was refused ({want:?}) but changed something: {before:?} -> {after:?}", row.method));
                }
            }
        }
    }
    assert_eq!(checked, ROWS.len() * ROLES.len());
    assert!(
        failures.is_empty(),
        "{} of {checked} authorization checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    world.app.assert_audit_chain_valid().await;
}

/// Runs every entry that takes an id of `kinds`, with `ids`, as each of `roles`, and
/// expects 403 or 404, with nothing changed by a POST.
async fn only_forbidden_or_not_found(
    world: &World,
    ids: &Ids,
    roles: &[usize],
    what: &str,
    secrets: &[&str],
) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    for &role in roles {
        let (c, token) = browser(&world.app, ROLES[role].1).await;
        for row in ROWS.iter().filter(|r| !r.api && ids.0.contains_key(&r.id)) {
            let path = ids.path(row);
            let before = fingerprint(world).await;
            let r = send(
                world,
                &c,
                &token,
                role,
                row,
                &path,
                row.attempt.unwrap_or(row.form),
            )
            .await;
            checked += 1;
            if !matches!(r.status.as_u16(), 403 | 404) {
                failures.push(format!(
                    "{:<6} {path:<42} as {:<22} expected 403 or 404, got {}",
                    row.method,
                    ROLES[role].0,
                    describe(&r)
                ));
            }
            if fingerprint(world).await != before {
                failures.push(format!(
                    "{:<6} {path:<42} as {:<22} changed something",
                    row.method, ROLES[role].0
                ));
            }
            for secret in ["Northside", "Elsewhere", "Olga", "Ada Moss", "Nora"] {
                if r.body.contains(secret) {
                    failures.push(format!(
                        "{:<6} {path:<42} as {:<22} shows {secret:?}",
                        row.method, ROLES[role].0
                    ));
                }
            }
        }
        // Forms without an id in their path, naming the others' records.
        for a in ATTEMPTS {
            let before = fingerprint(world).await;
            let r = post_filled(world, &c, &token, role, a.path, a.form, Some(ids)).await;
            checked += 1;
            if !matches!(r.status.as_u16(), 403 | 404 | 422) {
                failures.push(format!(
                    "POST   {:<42} as {:<22} naming {what} records: expected 403, 404 or 422, got {}",
                    a.path,
                    ROLES[role].0,
                    describe(&r)
                ));
            }
            if fingerprint(world).await != before {
                failures.push(format!(
                    "POST   {:<42} as {:<22} naming {what} records changed something",
                    a.path, ROLES[role].0
                ));
            }
            for secret in secrets {
                if r.body.contains(secret) {
                    failures.push(format!(
                        "POST   {:<42} as {:<22} shows {secret:?}",
                        a.path, ROLES[role].0
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harbor_house_staff_cannot_reach_northside() {
    let world = world().await;
    let roles = [
        AGENCY_ADMIN,
        EXECUTIVE_DIRECTOR,
        SUPERVISOR,
        SECURITY_OFFICER,
    ];
    let checked = only_forbidden_or_not_found(
        &world,
        &world.northside,
        &roles,
        "cross-agency",
        &["Northside", "Ada Moss", "Nora", "northside.example.org"],
    )
    .await;
    let kinds = ROWS
        .iter()
        .filter(|r| !r.api && world.northside.0.contains_key(&r.id))
        .count();
    assert_eq!(checked, (kinds + ATTEMPTS.len()) * roles.len());
    assert!(kinds >= 6, "agency, project and person pages are covered");
    // The lists only show their own agency.
    let (ata, _) = browser(&world.app, ROLES[AGENCY_ADMIN].1).await;
    for path in [
        "/admin/agencies",
        "/admin/projects",
        "/admin/people",
        "/admin/agencies.csv",
        "/admin/people.csv",
        "/requests?status=all",
        "/hmis-accounts",
        "/hmis-accounts.csv",
    ] {
        let r = ata.get(path).await;
        r.expect(200);
        assert!(r.body.contains("Harbor"), "{path} lists Harbor House");
        assert!(
            !r.body.contains("Northside"),
            "{path} shows Northside to Harbor House's administrator"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_reaches_another_implementation() {
    let world = world().await;
    let roles: Vec<usize> = (1..ROLES.len()).collect();
    let checked = only_forbidden_or_not_found(
        &world,
        &world.foreign,
        &roles,
        "cross-implementation",
        &["Elsewhere", "Olga"],
    )
    .await;
    let kinds = ROWS
        .iter()
        .filter(|r| !r.api && world.foreign.0.contains_key(&r.id))
        .count();
    assert_eq!(checked, (kinds + ATTEMPTS.len()) * roles.len());
    // Nor do its lists.
    let (lead, _) = browser(&world.app, ROLES[LEAD_ADMIN].1).await;
    for path in [
        "/admin/agencies",
        "/admin/projects",
        "/admin/people",
        "/admin/outbox",
        "/admin/audit",
        "/admin/people.csv",
        "/requests?status=all",
        "/hmis-accounts",
        "/hmis-accounts.csv",
    ] {
        let r = lead.get(path).await;
        r.expect(200);
        assert!(
            !r.body.contains("Elsewhere") && !r.body.contains("Olga"),
            "{path} shows the other implementation"
        );
    }
}
