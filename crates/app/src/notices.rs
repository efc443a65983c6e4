//! Telling whoever must act that a step of an access request waits for them.
//!
//! A step's *turn* is who it waits for now: the step itself once it opens (turn `""`), or,
//! on an agreement step, one signer on one version of the text (`"<version id>:<role>"`).
//! Each turn is announced once, by email with a link to the step, to everyone who may act
//! on it (resolved from the step's actor and the request); `step_notices` records the
//! announcement in the same transaction, so running the engine or the sweep again sends
//! nothing more. The person being onboarded learns of their first turn from their welcome:
//! an invitation to Onramp, or, when they already have a password, a welcome back with a
//! sign-in link that never replaces the password.

use crate::{agreements, auth, mail, App, AppError, AppResult};
use onramp_domain::agreement::SignerRole;
use onramp_domain::process::{ProcessTemplate, StepActor, StepDef, StepKind, StepStatus};
use onramp_domain::{AgencyRole, ImplementationRole};
use onramp_store::reads::*;
use onramp_store::{AccessRequest, Tx};

/// Someone to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: i64,
    pub email: String,
    pub name: String,
}

fn recipients(holders: Vec<(i64, String, String)>) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for (person_id, email, name) in holders {
        if !out.iter().any(|r| r.email == email) {
            out.push(Recipient {
                person_id,
                email,
                name,
            });
        }
    }
    out
}

async fn the_person(tx: &mut Tx, request: &AccessRequest) -> AppResult<Vec<Recipient>> {
    let p = tx.person_by_id(request.person_id).await?;
    Ok(vec![Recipient {
        person_id: p.id,
        email: p.email,
        name: p.given_name,
    }])
}

async fn lead_staff(tx: &mut Tx, request: &AccessRequest) -> AppResult<Vec<Recipient>> {
    Ok(recipients(
        tx.implementation_role_holders(
            request.implementation_id,
            &[
                ImplementationRole::LeadAdmin.as_str(),
                ImplementationRole::TrainingCoordinator.as_str(),
            ],
        )
        .await?,
    ))
}

async fn agency(
    tx: &mut Tx,
    request: &AccessRequest,
    roles: &[AgencyRole],
) -> AppResult<Vec<Recipient>> {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Ok(recipients(
        tx.agency_role_holders(request.agency_id, &names).await?,
    ))
}

/// Everyone who holds a signer role for this request.
pub async fn signer_holders(
    tx: &mut Tx,
    request: &AccessRequest,
    role: SignerRole,
) -> AppResult<Vec<Recipient>> {
    match role {
        SignerRole::User => the_person(tx, request).await,
        SignerRole::Supervisor => {
            agency(
                tx,
                request,
                &[AgencyRole::Supervisor, AgencyRole::AgencyAdministrator],
            )
            .await
        }
        SignerRole::AgencyAdministrator => {
            agency(tx, request, &[AgencyRole::AgencyAdministrator]).await
        }
        SignerRole::ExecutiveDirector => {
            agency(tx, request, &[AgencyRole::ExecutiveDirector]).await
        }
        SignerRole::Lead => lead_staff(tx, request).await,
    }
}

/// Everyone who acts as `who` on this request (signers excepted: see [`signer_holders`]).
async fn actor_holders(
    tx: &mut Tx,
    request: &AccessRequest,
    who: StepActor,
) -> AppResult<Vec<Recipient>> {
    match who {
        StepActor::Lead => lead_staff(tx, request).await,
        StepActor::AgencyContact | StepActor::Supervisor => {
            agency(
                tx,
                request,
                &[AgencyRole::AgencyAdministrator, AgencyRole::Supervisor],
            )
            .await
        }
        StepActor::ExecutiveDirector => agency(tx, request, &[AgencyRole::ExecutiveDirector]).await,
        StepActor::Proctor => Ok(recipients(
            tx.implementation_role_holders(
                request.implementation_id,
                &[ImplementationRole::Proctor.as_str()],
            )
            .await?,
        )),
        StepActor::Trainee | StepActor::Signers => the_person(tx, request).await,
    }
}

/// Who a step waits for now, and the key of that turn; `None` when it waits for nobody
/// (an agreement step that everyone signed, or whose agreement cannot be signed yet).
pub async fn current_turn(
    tx: &mut Tx,
    request: &AccessRequest,
    def: &StepDef,
) -> AppResult<Option<(String, Option<SignerRole>)>> {
    if def.kind != StepKind::AgreementSigning {
        return Ok(Some((String::new(), None)));
    }
    match agreements::signing_state(tx, request, def).await {
        Ok(state) => Ok(state
            .next
            .map(|role| (format!("{}:{}", state.latest.id, role.as_str()), Some(role)))),
        // A missing agreement or text: the pages say why; nobody can sign yet.
        Err(AppError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Everyone who must act on a step now: its actor's holders for this request (the agency's
/// contacts, supervisors or executive director, Lead staff, proctors, the person), or the
/// next signer of an agreement step. A practice exercise is also the person's to do. When
/// nobody holds the role (an agency without an executive director), Lead staff are told,
/// so that no step waits unseen.
pub async fn who_must_act(
    tx: &mut Tx,
    request: &AccessRequest,
    def: &StepDef,
    signer: Option<SignerRole>,
) -> AppResult<Vec<Recipient>> {
    let mut out = match signer {
        Some(role) => signer_holders(tx, request, role).await?,
        None => actor_holders(tx, request, def.actor).await?,
    };
    if def.kind == StepKind::PracticeExerciseApproved {
        for r in the_person(tx, request).await? {
            if !out.iter().any(|o| o.email == r.email) {
                out.push(r);
            }
        }
    }
    if out.is_empty() {
        out = lead_staff(tx, request).await?;
    }
    Ok(out)
}

/// The page where a step is acted on: an agreement's signing page, else the step on the
/// request's page.
pub fn step_link(app: &App, request_id: i64, def: &StepDef) -> String {
    if def.kind == StepKind::AgreementSigning {
        format!(
            "{}/requests/{request_id}/sign/{}",
            app.config.base_url, def.key
        )
    } else {
        format!(
            "{}/requests/{request_id}#step-{}",
            app.config.base_url, def.key
        )
    }
}

/// Announces the step's current turn to whoever must act, unless it was announced already.
/// Returns how many people were emailed.
pub async fn announce(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
) -> AppResult<usize> {
    let Some((turn, signer)) = current_turn(tx, request, def).await? else {
        return Ok(0);
    };
    announce_turn(tx, app, request, template, def, &turn, signer).await
}

/// As [`announce`], skipping the turns in `known` (announced already) without a look-up.
pub async fn announce_unless_known(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
    known: &[(String, String)],
) -> AppResult<usize> {
    if def.kind != StepKind::AgreementSigning
        && known.iter().any(|(k, t)| *k == def.key && t.is_empty())
    {
        return Ok(0);
    }
    let Some((turn, signer)) = current_turn(tx, request, def).await? else {
        return Ok(0);
    };
    if known.iter().any(|(k, t)| *k == def.key && *t == turn) {
        return Ok(0);
    }
    announce_turn(tx, app, request, template, def, &turn, signer).await
}

async fn announce_turn(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
    turn: &str,
    signer: Option<SignerRole>,
) -> AppResult<usize> {
    let who = who_must_act(tx, request, def, signer).await?;
    let count = i64::try_from(who.len()).unwrap_or(i64::MAX);
    if !tx
        .step_notice_add(request.id, &def.key, turn, count, app.now())
        .await?
    {
        return Ok(0);
    }
    let person = tx.person_by_id(request.person_id).await?;
    let link = step_link(app, request.id, def);
    let request_link = crate::access::request_link(app, request.id);
    let due = tx
        .request_steps(request.id)
        .await?
        .into_iter()
        .find(|s| s.step_key == def.key)
        .and_then(|s| s.due_at)
        .map(|d| format!(" It is due by {}.", d.format("%Y-%m-%d")))
        .unwrap_or_default();
    let person_name = person.display_name();
    for r in &who {
        let theirs = r.person_id == request.person_id;
        // The person's first turn comes with their welcome, which links to it.
        if theirs
            && tx
                .request_get(request.implementation_id, request.id)
                .await?
                .welcomed_at
                .is_none()
        {
            welcome(tx, app, request, template, def).await?;
            continue;
        }
        let whose = if theirs {
            "your HMIS access request".to_string()
        } else {
            format!("the HMIS access request for {person_name}")
        };
        mail::queue(
            tx,
            app,
            request.implementation_id,
            &r.email,
            "step_waiting",
            &[
                ("name", &r.name),
                ("person", &person_name),
                ("request", &whose),
                ("step", &def.title),
                ("due", &due),
                ("step_link", &link),
                ("request_link", &request_link),
            ],
        )
        .await?;
    }
    Ok(who.len())
}

/// What the person is told about earlier training, following the template's carry-over.
pub fn carry_over_note(
    template: &ProcessTemplate,
    request: &AccessRequest,
    carried: &[String],
) -> String {
    if !request.is_returning {
        return "Your training record stays in Onramp: if you return, recent training counts again."
            .into();
    }
    let days = template.carry_over_days;
    if days == 0 {
        return "This process does not carry earlier training over: you repeat every step, including training you completed before.".into();
    }
    if carried.is_empty() {
        format!("Training completed within {days} days would count again, but none of yours is that recent: you complete the training steps again.")
    } else {
        format!(
            "Training you completed within the last {days} days counts and is not repeated: {}.",
            carried.join("; ")
        )
    }
}

/// Welcomes the person to their first step: an Onramp invitation when they have no
/// password, else a welcome back with a sign-in link that never replaces their password.
/// Marks the request welcomed.
async fn welcome(
    tx: &mut Tx,
    app: &App,
    request: &AccessRequest,
    template: &ProcessTemplate,
    def: &StepDef,
) -> AppResult<()> {
    let person = tx.person_by_id(request.person_id).await?;
    let agency = tx
        .agency_get(request.implementation_id, request.agency_id)
        .await?;
    let request_link = crate::access::request_link(app, request.id);
    let link = step_link(app, request.id, def);
    let mut carried: Vec<String> = tx
        .request_steps(request.id)
        .await?
        .into_iter()
        .filter(|s| StepStatus::parse(&s.status) == Some(StepStatus::Met) && s.done_by.is_none())
        .filter_map(|s| template.step(&s.step_key).map(|d| d.title.clone()))
        .collect();
    // With requirement rules, earlier training counts item by item: name the courses (and
    // other items) completed within the window.
    if request.is_returning && template.carry_over_days > 0 {
        let courses = tx.courses(request.implementation_id).await?;
        for c in tx.completions_of(request.person_id).await? {
            if !onramp_domain::learning::plan::counts_for_plan(
                c.completed_at,
                request.submitted_at,
                template.carry_over_days,
            ) {
                continue;
            }
            let title = courses
                .iter()
                .find(|x| c.item_kind == "course" && x.key == c.item_key)
                .map(|x| x.title.clone())
                .unwrap_or_else(|| c.item_key.replace(['-', '_'], " "));
            if !carried.contains(&title) {
                carried.push(title);
            }
        }
    }
    let carry_over = carry_over_note(template, request, &carried);
    let extra = [
        ("agency", agency.name.as_str()),
        ("request_link", request_link.as_str()),
        ("step", def.title.as_str()),
        ("step_link", link.as_str()),
        ("carry_over", carry_over.as_str()),
    ];
    if auth::has_password(tx, person.id).await? {
        // A reset-style link: it lets them in if they forgot the password, and changes
        // nothing unless they use it.
        auth::issue_link_with(
            tx,
            app,
            person.id,
            "password_reset",
            Some("welcome_back"),
            &extra,
        )
        .await?;
    } else {
        auth::invite_with(tx, app, person.id, Some("welcome"), &extra).await?;
    }
    tx.request_set_welcomed(request.id, app.now()).await?;
    Ok(())
}
