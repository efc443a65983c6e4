//! Requirement rules and the training plans they build.
//!
//! A person's plan is computed from their request's facts by the implementation's rules
//! (the same function as the rule preview), when the request is accepted (its Lead review
//! approved, or its first training step opening). Every computation is a new version of
//! the plan; the earlier ones are kept. Each item's status is worked out when it is read,
//! from the person's completion records, enrolments and waivers, so that a completion
//! anywhere shows everywhere at once.

use super::catalogue::{self, CourseCatalogues, Courses};
use super::courses::prerequisites_of;
use crate::audit::record;
use crate::{App, AppError, AppResult, Ctx};
use chrono::{DateTime, Utc};
use onramp_domain::authz::Permission;
use onramp_domain::learning::course::{gate, Gate, Prerequisites};
use onramp_domain::learning::plan::{counts_for_plan, ItemStatus, PlanView};
use onramp_domain::learning::rules::{
    compute_plan, Catalogue, ItemKind, ItemRef, PlanFacts, PlanSpec, RuleSet,
};
use onramp_domain::process::ProcessTemplate;
use onramp_domain::{FieldError, Slug};
use onramp_store::learning::courses::{Course, Enrolment, Lesson, LessonProgress};
use onramp_store::learning::plans::{CompletionRecord, NewCompletion, NewPlan, TrainingPlan};
use onramp_store::reads::*;
use onramp_store::Reads;
use onramp_store::{AccessRequest, Tx};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The form field that problems of the rules' text are reported on.
pub const RULES_FIELD: &str = "rules";

/// Longest rules text accepted, in bytes.
pub const MAX_RULES_BYTES: usize = 200_000;

/// The implementation's current rules and their version (0: none saved yet).
pub async fn rules_in(tx: &mut Tx, implementation_id: i64) -> AppResult<(RuleSet, i32)> {
    match tx.rules_current(implementation_id).await? {
        None => Ok((RuleSet::default(), 0)),
        Some(r) => {
            let set: RuleSet = toml::from_str(&r.body)
                .map_err(|e| AppError::Internal(format!("stored rules do not parse: {e}")))?;
            Ok((set, r.version))
        }
    }
}

/// What exists in an implementation, for checking rules.
pub async fn catalogue_in(tx: &mut Tx, implementation_id: i64) -> AppResult<Catalogue> {
    let mut cat = Catalogue::default();
    cat.checked_kinds.insert(ItemKind::Course);
    cat.checked_kinds.insert(ItemKind::Agreement);
    cat.checked_kinds.insert(ItemKind::Quiz);
    for q in tx.quizzes(implementation_id).await? {
        if let Ok(k) = Slug::parse(&q.key) {
            cat.items.insert(ItemRef {
                kind: ItemKind::Quiz,
                key: k,
            });
        }
    }
    for c in tx.courses(implementation_id).await? {
        if let Ok(k) = Slug::parse(&c.key) {
            cat.items.insert(ItemRef::course(k));
        }
    }
    for a in tx.agreements_list(implementation_id).await? {
        if let Ok(k) = Slug::parse(&a.key) {
            cat.items.insert(ItemRef {
                kind: ItemKind::Agreement,
                key: k,
            });
        }
    }
    for t in tx.templates_latest(implementation_id).await? {
        cat.processes.insert(t.key);
    }
    use onramp_store::organisation::Catalogue as Codes;
    for (codes, into) in [
        (Codes::AccessLevels, &mut cat.access_levels),
        (Codes::Responsibilities, &mut cat.responsibilities),
    ] {
        for e in tx
            .catalogue_list(
                codes,
                implementation_id,
                None,
                None,
                onramp_store::PageRequest::ALL,
            )
            .await?
            .items
        {
            into.insert(e.code);
        }
    }
    Ok(cat)
}

/// Parses and checks rules as TOML, each problem as a field error on [`RULES_FIELD`].
pub async fn parse_rules_in(tx: &mut Tx, implementation_id: i64, text: &str) -> AppResult<RuleSet> {
    if text.len() > MAX_RULES_BYTES {
        return Err(AppError::field(RULES_FIELD, "The rules are too long"));
    }
    let set: RuleSet = toml::from_str(text).map_err(|e| {
        AppError::field(
            RULES_FIELD,
            format!("The rules could not be read: {}", e.message()),
        )
    })?;
    let cat = catalogue_in(tx, implementation_id).await?;
    set.validate(&cat).map_err(|problems| {
        AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldError::new(RULES_FIELD, p.to_string()))
                .collect(),
        )
    })?;
    Ok(set)
}

/// Saves a new version of the rules. Plans already computed keep the version they were built from.
pub async fn save_rules(app: &App, ctx: &Ctx, text: &str) -> AppResult<i32> {
    ctx.require(Permission::ManageCourses)?;
    let mut tx = app.store.begin().await?;
    let set = parse_rules_in(&mut tx, ctx.implementation_id(), text).await?;
    // Kept as written, comments and all, so that the editor shows the Lead's own text.
    let by = (ctx.actor.person_id > 0).then_some(ctx.actor.person_id);
    let version = tx
        .rules_save(ctx.implementation_id(), text, by, app.now())
        .await?;
    record(
        &mut tx,
        app,
        ctx,
        "rules.save",
        "implementation",
        Some(ctx.implementation_id()),
        json!({"version": version, "rules": set.rules.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// What the rule editor shows: the current rules' text and version, and the choices its
/// preview offers (processes, access levels, responsibilities, projects).
#[derive(Debug, Clone)]
pub struct RuleEditor {
    /// The saved rules as TOML (empty when none are saved yet).
    pub text: String,
    pub version: i32,
    pub saved_at: Option<DateTime<Utc>>,
    /// (key, name) of each process template.
    pub processes: Vec<(String, String)>,
    /// (code, name) of each active access level.
    pub access_levels: Vec<(String, String)>,
    /// (code, name) of each active responsibility.
    pub responsibilities: Vec<(String, String)>,
    pub projects: Vec<onramp_store::Project>,
    /// Courses by key, for naming a plan's items.
    pub courses: BTreeMap<String, Course>,
}

/// The rule editor's contents (course writers and readers of training reports).
pub async fn rule_editor(app: &App, ctx: &Ctx) -> AppResult<RuleEditor> {
    if !ctx.actor.may(Permission::ManageCourses) {
        ctx.require(Permission::ViewTrainingReports)?;
    }
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let current = tx.rules_current(imp).await?;
    let processes = tx
        .templates_latest(imp)
        .await?
        .into_iter()
        .map(|t| (t.key, t.name))
        .collect();
    use onramp_store::organisation::Catalogue as Codes;
    let mut lists = Vec::new();
    for codes in [Codes::AccessLevels, Codes::Responsibilities] {
        lists.push(
            tx.catalogue_list(codes, imp, None, Some(true), onramp_store::PageRequest::ALL)
                .await?
                .items
                .into_iter()
                .map(|e| (e.code, e.name))
                .collect::<Vec<_>>(),
        );
    }
    let responsibilities = lists.pop().unwrap_or_default();
    let access_levels = lists.pop().unwrap_or_default();
    let projects = tx
        .projects_list(
            imp,
            &onramp_store::organisation::ProjectFilter {
                active: Some(true),
                ..Default::default()
            },
            onramp_store::PageRequest::ALL,
        )
        .await?
        .items;
    let courses = tx
        .courses(imp)
        .await?
        .into_iter()
        .map(|c| (c.key.clone(), c))
        .collect();
    Ok(RuleEditor {
        courses,
        text: current.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
        version: current.as_ref().map(|r| r.version).unwrap_or(0),
        saved_at: current.map(|r| r.created_at),
        processes,
        access_levels,
        responsibilities,
        projects,
    })
}

/// The prerequisites of every course of an implementation, by key.
async fn prerequisite_map(
    tx: &mut Tx,
    implementation_id: i64,
) -> AppResult<BTreeMap<String, Prerequisites>> {
    Ok(tx
        .courses(implementation_id)
        .await?
        .iter()
        .map(|c| (c.key.clone(), prerequisites_of(c)))
        .collect())
}

/// The plan that the current rules give these facts: the rule preview. The same function
/// builds real plans.
pub async fn preview(app: &App, ctx: &Ctx, facts: &PlanFacts) -> AppResult<PlanSpec> {
    if !ctx.actor.may(Permission::ManageCourses) {
        ctx.require(Permission::ViewTrainingReports)?;
    }
    let mut tx = app.store.read().await?;
    let (rules, _) = rules_in(&mut tx, ctx.implementation_id()).await?;
    let prereqs = prerequisite_map(&mut tx, ctx.implementation_id()).await?;
    Ok(compute_plan(&rules, facts, |k| {
        prereqs.get(k.as_str()).cloned()
    }))
}

/// What a request looks like to the rules: its process, access level, responsibilities,
/// and its projects' HUD project types and funding sources.
pub async fn facts_in(
    tx: &mut Tx,
    request: &AccessRequest,
    template: &ProcessTemplate,
) -> AppResult<PlanFacts> {
    let projects = tx.request_projects(request.id).await?;
    facts_of(
        tx,
        request.implementation_id,
        FactsInput {
            process: template.key.clone(),
            access_level: request.access_level.clone(),
            responsibilities: request
                .responsibilities
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            project_ids: projects,
            returning: request.is_returning,
        },
    )
    .await
}

/// What the rules are asked about: a request's choices, or the rule preview's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsInput {
    /// The process template's key.
    pub process: String,
    pub access_level: String,
    pub responsibilities: Vec<String>,
    /// Projects of the implementation; their HUD project types and funders count.
    pub project_ids: Vec<i64>,
    pub returning: bool,
}

/// The facts the rules read, from a request's (or the preview's) choices. The one way
/// both real plans and the preview see projects.
pub async fn facts_of(
    tx: &mut Tx,
    implementation_id: i64,
    input: FactsInput,
) -> AppResult<PlanFacts> {
    let mut project_types = Vec::new();
    let mut funders = Vec::new();
    for p in &input.project_ids {
        let project = tx.project_get(implementation_id, *p).await?;
        if !project_types.contains(&project.hud_project_type) {
            project_types.push(project.hud_project_type);
        }
        for f in tx.project_funders(*p).await? {
            if !funders.contains(&f) {
                funders.push(f);
            }
        }
    }
    Ok(PlanFacts {
        process: input.process,
        access_level: input.access_level,
        responsibilities: input.responsibilities,
        project_types,
        funders,
        returning: input.returning,
    })
}

/// The rule preview for a person's choices as a request form makes them: the facts they
/// give and the plan the current rules build from them. Names that do not exist in the
/// implementation are field errors.
pub async fn preview_for(
    app: &App,
    ctx: &Ctx,
    input: FactsInput,
) -> AppResult<(PlanFacts, PlanSpec)> {
    if !ctx.actor.may(Permission::ManageCourses) {
        ctx.require(Permission::ViewTrainingReports)?;
    }
    let imp = ctx.implementation_id();
    let mut tx = app.store.read().await?;
    let cat = catalogue_in(&mut tx, imp).await?;
    let mut problems = Vec::new();
    if !cat.processes.contains(&input.process) {
        problems.push(FieldError::new("process", "Choose a process"));
    }
    if !cat.access_levels.contains(&input.access_level) {
        problems.push(FieldError::new("access_level", "Choose an access level"));
    }
    if input
        .responsibilities
        .iter()
        .any(|r| !cat.responsibilities.contains(r))
    {
        problems.push(FieldError::new(
            "responsibility",
            "Choose responsibilities from the list",
        ));
    }
    for p in &input.project_ids {
        if tx.project_get(imp, *p).await.is_err() {
            problems.push(FieldError::new("project", "Choose projects from the list"));
            break;
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let facts = facts_of(&mut tx, imp, input).await?;
    let (rules, _) = rules_in(&mut tx, imp).await?;
    let prereqs = prerequisite_map(&mut tx, imp).await?;
    let spec = compute_plan(&rules, &facts, |k| prereqs.get(k.as_str()).cloned());
    Ok((facts, spec))
}

fn to_json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// Computes the person's plan for a request unless their current plan already belongs to
/// it; enrols them in its courses. Gives the current plan.
pub async fn ensure_plan_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
) -> AppResult<TrainingPlan> {
    if let Some(p) = tx.plan_current(request.person_id).await? {
        if p.request_id == Some(request.id) {
            return Ok(p);
        }
    }
    compute_in(tx, app, ctx, request, template, "The request was accepted").await
}

/// Computes a new version of the person's plan for a request, whatever they had.
pub async fn compute_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    request: &AccessRequest,
    template: &ProcessTemplate,
    reason: &str,
) -> AppResult<TrainingPlan> {
    let imp = request.implementation_id;
    let facts = facts_in(tx, request, template).await?;
    let (rules, rules_version) = rules_in(tx, imp).await?;
    let prereqs = prerequisite_map(tx, imp).await?;
    let spec = compute_plan(&rules, &facts, |k| prereqs.get(k.as_str()).cloned());
    let now = app.now();
    let previous = tx.plan_current(request.person_id).await?;
    let plan = tx
        .plan_save(
            &NewPlan {
                implementation_id: imp,
                person_id: request.person_id,
                request_id: Some(request.id),
                rules_version,
                facts: &to_json(&facts)?,
                spec: &to_json(&spec)?,
                // A recomputation for the same request keeps the plan's start, so that what
                // counted before still counts.
                began_at: previous
                    .as_ref()
                    .filter(|p| p.request_id == Some(request.id))
                    .map(|p| p.began_at)
                    .unwrap_or(request.submitted_at),
                carry_over_days: i32::try_from(template.carry_over_days).unwrap_or(i32::MAX),
                reason,
            },
            now,
        )
        .await?;
    // Enrol in the plan's published courses.
    let mut enrolled = Vec::new();
    let paid = super::credits::paid_when_computed(&spec);
    for item in spec.items() {
        if item.kind != ItemKind::Course {
            continue;
        }
        let Some(course) = tx.course_by_key(imp, item.key.as_str()).await? else {
            continue;
        };
        if let Some(e) = enrol_in(tx, &course, request.person_id, now).await? {
            if e {
                enrolled.push(course.key.clone());
            }
            // A paid course that the plan requires is paid for once per request: a credit
            // of the requesting agency, or a charge to invoice.
            if paid.contains(&item) {
                super::credits::assign_in(tx, app, ctx, request, &plan, &course).await?;
            }
        }
    }
    // Recomputed for the same request: paid courses that left the plan, not started, are
    // given back.
    if previous
        .as_ref()
        .is_some_and(|p| p.request_id == Some(request.id))
    {
        super::credits::release_dropped_in(tx, app, ctx, request, &spec).await?;
    }
    record(
        tx,
        app,
        ctx,
        "training_plan.compute",
        "person",
        Some(request.person_id),
        json!({"request_id": request.id, "version": plan.version, "rules_version": rules_version, "items": spec.items().iter().map(|i| i.to_string()).collect::<Vec<_>>(), "enrolled": enrolled, "reason": reason}),
    )
    .await?;
    Ok(plan)
}

/// Enrols a person in a course's published version (once). `None` when the course has no
/// published version yet; `Some(true)` when the enrolment is new.
pub async fn enrol_in(
    tx: &mut Tx,
    course: &Course,
    person_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<bool>> {
    let Some(v) = course.published_version else {
        return Ok(None);
    };
    let Some(version) = tx
        .course_versions(course.id)
        .await?
        .into_iter()
        .find(|x| x.version == v)
    else {
        return Ok(None);
    };
    let (_, new) = tx
        .enrolment_ensure(
            course.implementation_id,
            person_id,
            course.id,
            version.id,
            now,
        )
        .await?;
    Ok(Some(new))
}

/// Everything needed to say where a person's plan stands.
pub struct PlanState {
    pub plan: TrainingPlan,
    pub spec: PlanSpec,
    pub view: PlanView,
    /// Courses of the implementation, by key.
    pub courses: Arc<Courses>,
    pub enrolments: Vec<Enrolment>,
    pub completions: Vec<CompletionRecord>,
    /// Titles of the quizzes the plan asks for, by key.
    pub quiz_titles: BTreeMap<String, String>,
}

impl PlanState {
    /// What the plan's pages call an item: a course's or quiz's title.
    pub fn title_of(&self, item: &ItemRef) -> String {
        match item.kind {
            ItemKind::Quiz => self
                .quiz_titles
                .get(item.key.as_str())
                .cloned()
                .unwrap_or_else(|| item_title(item, &self.courses)),
            _ => item_title(item, &self.courses),
        }
    }
}

/// Works out each item's status for a person's current plan.
pub async fn state_in<R: Reads>(tx: &mut R, person_id: i64) -> AppResult<Option<PlanState>> {
    state_with(tx, person_id, None).await
}

/// [`state_in`], with the courses from `catalogue` when given: only where `tx` reads
/// committed data (see [`CourseCatalogues::courses`]).
async fn state_with<R: Reads>(
    tx: &mut R,
    person_id: i64,
    catalogue: Option<&CourseCatalogues>,
) -> AppResult<Option<PlanState>> {
    let Some(plan) = tx.plan_current(person_id).await? else {
        return Ok(None);
    };
    let spec: PlanSpec = serde_json::from_str(&plan.spec)
        .map_err(|e| AppError::Internal(format!("stored plan does not parse: {e}")))?;
    let completions = tx.completions_of(person_id).await?;
    let waivers = tx.plan_waivers(plan.id).await?;
    let enrolments = tx.enrolments_of_person(person_id).await?;
    let progress = if enrolments.iter().any(|e| e.completed_at.is_none()) {
        tx.lesson_progress_of_person(person_id).await?
    } else {
        Vec::new()
    };
    let mut lessons: BTreeMap<i64, Vec<Lesson>> = BTreeMap::new();
    if enrolments.iter().any(|e| e.completed_at.is_none()) {
        for l in tx.lesson_outlines_of_open_enrolments(person_id).await? {
            lessons.entry(l.version_id).or_default().push(l);
        }
    }
    let courses = match catalogue {
        Some(c) => c.courses(tx, plan.implementation_id).await?,
        None => Arc::new(catalogue::by_key(tx.courses(plan.implementation_id).await?)),
    };
    let carry = u32::try_from(plan.carry_over_days).unwrap_or(0);
    let counted = |item: &ItemRef| -> Option<&CompletionRecord> {
        completions.iter().find(|c| {
            c.item_kind == item.kind.as_str()
                && c.item_key == item.key.as_str()
                && counts_for_plan(c.completed_at, plan.began_at, carry)
        })
    };
    let status = |item: &ItemRef| -> ItemStatus {
        let s = item.to_string();
        if let Some(w) = waivers.iter().find(|w| w.item == s) {
            return ItemStatus::Waived {
                reason: w.reason.clone(),
            };
        }
        if let Some(c) = counted(item) {
            return ItemStatus::Complete {
                at: c.completed_at,
                evidence: c.evidence.clone(),
                carried_over: c.completed_at < plan.began_at,
            };
        }
        if item.kind != ItemKind::Course {
            return ItemStatus::Available;
        }
        let Some(course) = courses.get(item.key.as_str()) else {
            return ItemStatus::Restricted {
                reason: "This course is not available yet; the HMIS Lead has been told".into(),
            };
        };
        if let Gate::Restricted { missing, any } = gate(&prerequisites_of(course), |k| {
            counted(&ItemRef::course(k.clone())).is_some()
        }) {
            let names: Vec<String> = missing
                .iter()
                .map(|k| {
                    courses
                        .get(k.as_str())
                        .map(|c| c.title.clone())
                        .unwrap_or_else(|| k.as_str().to_string())
                })
                .collect();
            let reason = if any {
                format!("Complete one of these first: {}", names.join("; "))
            } else {
                format!("Complete {} first", names.join(" and "))
            };
            return ItemStatus::Restricted { reason };
        }
        let Some(e) = enrolments.iter().find(|e| e.course_id == course.id) else {
            return ItemStatus::Available;
        };
        let share = course_share_of(
            e,
            lessons.get(&e.version_id).map(Vec::as_slice).unwrap_or(&[]),
            &progress,
        );
        if share > 0.0 {
            ItemStatus::InProgress { share }
        } else {
            ItemStatus::Available
        }
    };
    let view = PlanView::new(&spec, status);
    let quiz_titles = if spec.items().iter().any(|i| i.kind == ItemKind::Quiz) {
        tx.quiz_titles(plan.implementation_id)
            .await?
            .into_iter()
            .map(|q| (q.key, q.title))
            .collect()
    } else {
        BTreeMap::new()
    };
    Ok(Some(PlanState {
        plan,
        spec,
        view,
        courses,
        enrolments,
        completions,
        quiz_titles,
    }))
}

/// The share of an enrolment done, from its lessons' progress rows.
pub fn course_share_of(e: &Enrolment, lessons: &[Lesson], progress: &[LessonProgress]) -> f64 {
    if e.completed_at.is_some() {
        return 1.0;
    }
    if lessons.is_empty() {
        return 0.0;
    }
    let sum: f64 = lessons
        .iter()
        .map(|l| {
            progress
                .iter()
                .find(|p| p.enrolment_id == e.id && p.lesson_id == l.id)
                .map(|p| lesson_share(p, l))
                .unwrap_or(0.0)
        })
        .sum();
    (sum / lessons.len() as f64).min(0.999)
}

/// A lesson's share done: 1 when complete; for a video, the share of its duration covered.
pub fn lesson_share(p: &LessonProgress, lesson: &Lesson) -> f64 {
    if p.completed_at.is_some() {
        return 1.0;
    }
    match lesson.duration_ms {
        Some(d) if d > 0 && lesson.kind == "video" => {
            (p.covered_ms as f64 / d as f64).clamp(0.0, 0.999)
        }
        _ => 0.0,
    }
}

/// Whether a training step waiting for these parts of the person's current plan is done:
/// the parts hold at least one item and every group in them is complete. A step whose parts
/// hold nothing waits to be recorded as met (training done elsewhere).
pub async fn step_complete_in(tx: &mut Tx, person_id: i64, parts: &[String]) -> AppResult<bool> {
    Ok(state_in(tx, person_id)
        .await?
        .is_some_and(|s| s.view.has_groups(parts) && s.view.is_complete(parts)))
}

/// Records that a person completed an item, and moves on their open requests whose training
/// steps that completes.
#[allow(clippy::too_many_arguments)]
pub async fn complete_item_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    item: &ItemRef,
    version: Option<i32>,
    evidence: &str,
    recorded_by: Option<i64>,
    reason: &str,
) -> AppResult<i64> {
    let now = app.now();
    let id = tx
        .completion_add(&NewCompletion {
            implementation_id: ctx.implementation_id(),
            person_id,
            item_kind: item.kind.as_str(),
            item_key: item.key.as_str(),
            item_version: version,
            completed_at: now,
            evidence,
            recorded_by,
            reason,
        })
        .await?;
    record(
        tx,
        app,
        ctx,
        "training.complete",
        "person",
        Some(person_id),
        json!({"item": item.to_string(), "version": version, "evidence": evidence, "reason": reason}),
    )
    .await?;
    // A whole plan complete earns its own certificate.
    if let Some(state) = state_in(tx, person_id).await? {
        if state.view.has_groups(&[]) && state.view.is_complete(&[]) {
            super::certificates::issue_in(
                tx,
                app,
                ctx,
                person_id,
                &onramp_domain::learning::certificate::CertificateSubject::Plan { part: None },
                "HMIS training plan",
                now,
                None,
            )
            .await?;
        }
    }
    progressed_in(tx, app, ctx, person_id).await?;
    Ok(id)
}

/// Records the incomplete items of the named parts of a person's plan as met (training
/// done elsewhere), each as a completion record with the reason and who recorded it. Does
/// not move requests on: the caller settles the step.
pub async fn record_met_in(
    tx: &mut Tx,
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    parts: &[String],
    reason: &str,
) -> AppResult<usize> {
    let Some(state) = state_in(tx, person_id).await? else {
        return Ok(0);
    };
    let mut n = 0;
    for g in state
        .view
        .groups
        .iter()
        .filter(|g| parts.is_empty() || parts.contains(&g.part))
        .filter(|g| !g.done)
    {
        // A choice is met by its first item; "all of" by each.
        let items: Vec<&ItemRef> = match g.mode {
            onramp_domain::learning::rules::GroupMode::AllOf => g
                .items
                .iter()
                .filter(|i| !i.status.is_done())
                .map(|i| &i.item)
                .collect(),
            onramp_domain::learning::rules::GroupMode::OneOf => {
                g.items.first().map(|i| &i.item).into_iter().collect()
            }
        };
        for item in items {
            tx.completion_add(&NewCompletion {
                implementation_id: ctx.implementation_id(),
                person_id,
                item_kind: item.kind.as_str(),
                item_key: item.key.as_str(),
                item_version: None,
                completed_at: app.now(),
                evidence: &format!("Recorded as met by {}", ctx.actor.display_name),
                recorded_by: Some(ctx.actor.person_id),
                reason,
            })
            .await?;
            record(
                tx,
                app,
                ctx,
                "training.record_met",
                "person",
                Some(person_id),
                json!({"item": item.to_string(), "reason": reason}),
            )
            .await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Moves on the person's open requests (a training step may now be complete).
pub async fn progressed_in(tx: &mut Tx, app: &App, ctx: &Ctx, person_id: i64) -> AppResult<()> {
    for r in tx.requests_of_person(person_id).await? {
        if onramp_domain::request::RequestStatus::parse(&r.status)
            == Some(onramp_domain::request::RequestStatus::Open)
        {
            let template = crate::processes::load(tx, r.implementation_id, r.template_id).await?;
            crate::access::advance(tx, app, ctx, &r, &template).await?;
        }
    }
    Ok(())
}

/// Who may see a person's plan: the person, Lead staff and readers, and the people who
/// oversee their agency.
async fn may_view_person(
    tx: &mut Tx,
    ctx: &Ctx,
    person_id: i64,
) -> AppResult<onramp_store::Person> {
    let person = tx.person_by_id(person_id).await?;
    if person.implementation_id != ctx.implementation_id() {
        return Err(AppError::NotFound);
    }
    ctx.require(Permission::ViewPerson {
        person_id,
        agency_id: person.agency_id,
    })?;
    Ok(person)
}

/// A person's plan, with every item's status, for them or whoever oversees them.
pub async fn person_plan(app: &App, ctx: &Ctx, person_id: i64) -> AppResult<Option<PlanState>> {
    if person_id != ctx.actor.person_id {
        let mut tx = app.store.read().await?;
        may_view_person(&mut tx, ctx, person_id).await?;
        return state_with(&mut tx, person_id, Some(&app.catalogue)).await;
    }
    // Everyone sees their own plan: their home page asks on every visit, on a snapshot.
    state_with(
        &mut app.store.snapshot().await?,
        person_id,
        Some(&app.catalogue),
    )
    .await
}

/// Everything the page of a person's training shows their overseers.
pub struct PersonTraining {
    pub person: onramp_store::Person,
    pub state: Option<PlanState>,
    /// Every version of the plan, latest first.
    pub history: Vec<TrainingPlan>,
    pub accommodations: Vec<onramp_store::learning::courses::Accommodation>,
    /// Whether the viewer may waive, recompute and grant accommodations.
    pub may_manage: bool,
}

/// A person's plan, its history and their accommodations, for whoever oversees them.
pub async fn person_training(app: &App, ctx: &Ctx, person_id: i64) -> AppResult<PersonTraining> {
    let mut tx = app.store.read().await?;
    let person = may_view_person(&mut tx, ctx, person_id).await?;
    let state = state_with(&mut tx, person.id, Some(&app.catalogue)).await?;
    let history = tx.plan_history(person.id).await?;
    let accommodations = tx.accommodations_of(person.id).await?;
    Ok(PersonTraining {
        person,
        state,
        history,
        accommodations,
        may_manage: ctx.actor.may(Permission::ManageTrainingPlans),
    })
}

/// Every version of a person's plan, latest first.
pub async fn history(app: &App, ctx: &Ctx, person_id: i64) -> AppResult<Vec<TrainingPlan>> {
    let mut tx = app.store.read().await?;
    may_view_person(&mut tx, ctx, person_id).await?;
    Ok(tx.plan_history(person_id).await?)
}

/// Waives an item of a person's current plan, with the reason (Lead staff).
pub async fn waive(
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    item: &str,
    reason: &str,
) -> AppResult<()> {
    ctx.require(Permission::ManageTrainingPlans)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field("reason", "Say why this item is waived"));
    }
    let item = ItemRef::parse(item).map_err(|m| AppError::field("item", m))?;
    let mut tx = app.store.begin().await?;
    let person = may_view_person(&mut tx, ctx, person_id).await?;
    let plan = tx
        .plan_current(person.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let spec: PlanSpec =
        serde_json::from_str(&plan.spec).map_err(|e| AppError::Internal(e.to_string()))?;
    if !spec.items().contains(&&item) {
        return Err(AppError::field(
            "item",
            "This item is not in the person's plan",
        ));
    }
    tx.plan_waive(
        plan.id,
        &item.to_string(),
        reason,
        ctx.actor.person_id,
        app.now(),
    )
    .await?;
    record(
        &mut tx,
        app,
        ctx,
        "training_plan.waive",
        "person",
        Some(person.id),
        json!({"plan_version": plan.version, "item": item.to_string(), "reason": reason}),
    )
    .await?;
    progressed_in(&mut tx, app, ctx, person.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Computes a new version of the person's plan from their latest open request (Lead staff),
/// for example after the rules or the request's projects changed.
pub async fn recompute(
    app: &App,
    ctx: &Ctx,
    person_id: i64,
    reason: &str,
) -> AppResult<TrainingPlan> {
    ctx.require(Permission::ManageTrainingPlans)?;
    let mut tx = app.store.begin().await?;
    let person = may_view_person(&mut tx, ctx, person_id).await?;
    let request = tx
        .requests_of_person(person.id)
        .await?
        .into_iter()
        .find(|r| r.implementation_id == ctx.implementation_id())
        .ok_or_else(|| {
            AppError::field(
                "person",
                "This person has no access request to build a plan from",
            )
        })?;
    let template =
        crate::processes::load(&mut tx, request.implementation_id, request.template_id).await?;
    let reason = if reason.trim().is_empty() {
        "Recomputed by the HMIS Lead"
    } else {
        reason.trim()
    };
    let plan = compute_in(&mut tx, app, ctx, &request, &template, reason).await?;
    progressed_in(&mut tx, app, ctx, person.id).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Item titles for pages: a course's title, or the item's key in words.
pub fn item_title(item: &ItemRef, courses: &BTreeMap<String, Course>) -> String {
    match item.kind {
        ItemKind::Course => courses
            .get(item.key.as_str())
            .map(|c| c.title.clone())
            .unwrap_or_else(|| item.key.as_str().to_string()),
        k => format!(
            "{}: {}",
            k.label(),
            item.key.as_str().replace(['-', '_'], " ")
        ),
    }
}
