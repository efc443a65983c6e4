//! A person's training as the people who oversee them see it
//! (`/admin/people/{id}/training`): the plan with every item's status, its history, and
//! recorded accommodations. Lead staff waive an item (with the reason), recompute the plan
//! and grant the transcript accommodation here.

use super::training::{plan_lines, PlanLines};
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::pages::list::{saved, unprocessable, SelectOption};
use crate::pages::render;
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::lessons;
use onramp_app::learning::plans::{self, PersonTraining};
use onramp_domain::learning::rules::{ItemKind, PlanSpec};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/people/{id}/training", get(show)),
        Route::post("/admin/people/{id}/training/waive", post(waive)),
        Route::post("/admin/people/{id}/training/recompute", post(recompute)),
        Route::post(
            "/admin/people/{id}/training/accommodation",
            post(accommodation),
        ),
    ]
}

struct HistoryRow {
    version: i32,
    computed: String,
    reason: String,
    rules_version: i32,
    items: String,
    current: bool,
}

struct AccommodationRow {
    course: String,
    reason: String,
    granted: String,
    ended: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaiveForm {
    #[serde(default)]
    item: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RecomputeForm {
    #[serde(default)]
    recompute_reason: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccommodationForm {
    #[serde(default)]
    course: String,
    #[serde(default)]
    accommodation_reason: String,
}

#[derive(Template)]
#[template(path = "learning/person_plan.html")]
struct PersonPlanPage {
    chrome: Chrome,
    person_id: i64,
    name: String,
    plan: Option<PlanLines>,
    history: Vec<HistoryRow>,
    accommodations: Vec<AccommodationRow>,
    may_manage: bool,
    /// Items of the plan not done yet, for the waiver form.
    open_items: Vec<SelectOption>,
    /// Courses for the accommodation form ("every course" first).
    courses: Vec<SelectOption>,
    errors: FormErrors,
    waive: WaiveForm,
    recompute: RecomputeForm,
    accommodation: AccommodationForm,
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

struct Forms {
    errors: FormErrors,
    waive: WaiveForm,
    recompute: RecomputeForm,
    accommodation: AccommodationForm,
}

impl Forms {
    fn empty() -> Self {
        Self {
            errors: FormErrors::default(),
            waive: WaiveForm::default(),
            recompute: RecomputeForm::default(),
            accommodation: AccommodationForm::default(),
        }
    }
}

fn page(v: &Viewer, t: &PersonTraining, forms: Forms) -> PersonPlanPage {
    let name = format!("{} {}", t.person.given_name, t.person.family_name);
    let courses_by_id = t
        .state
        .as_ref()
        .map(|s| s.courses.values().collect::<Vec<_>>())
        .unwrap_or_default();
    let history = t
        .history
        .iter()
        .map(|p| {
            let items = serde_json::from_str::<PlanSpec>(&p.spec)
                .map(|spec| {
                    let courses = t.state.as_ref().map(|s| &s.courses);
                    spec.items()
                        .iter()
                        .map(|i| match courses {
                            Some(c) => plans::item_title(i, c),
                            None => i.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            HistoryRow {
                version: p.version,
                computed: day(p.computed_at),
                reason: p.reason.clone(),
                rules_version: p.rules_version,
                items: if items.is_empty() {
                    "Nothing required".into()
                } else {
                    items
                },
                current: p.superseded_at.is_none(),
            }
        })
        .collect();
    let accommodations = t
        .accommodations
        .iter()
        .map(|a| AccommodationRow {
            course: a
                .course_id
                .and_then(|c| courses_by_id.iter().find(|x| x.id == c))
                .map(|c| c.title.clone())
                .unwrap_or_else(|| {
                    if a.course_id.is_some() {
                        "A course".into()
                    } else {
                        "Every course".into()
                    }
                }),
            reason: a.reason.clone(),
            granted: day(a.granted_at),
            ended: a.ended_at.map(day).unwrap_or_default(),
        })
        .collect();
    let mut open_items = Vec::new();
    let mut courses = vec![SelectOption::new("", "Every video of every course")];
    if let Some(s) = &t.state {
        for g in &s.view.groups {
            for i in &g.items {
                let r = i.item.to_string();
                if !i.status.is_done() && !open_items.iter().any(|o: &SelectOption| o.value == r) {
                    open_items.push(SelectOption::new(r, s.title_of(&i.item)));
                }
                if i.item.kind == ItemKind::Course {
                    if let Some(c) = s.courses.get(i.item.key.as_str()) {
                        let id = c.id.to_string();
                        if !courses.iter().any(|o| o.value == id) {
                            courses.push(SelectOption::new(id, c.title.clone()));
                        }
                    }
                }
            }
        }
    }
    PersonPlanPage {
        chrome: Chrome::for_viewer(v, &format!("Training: {name}"), "/admin/people"),
        person_id: t.person.id,
        name,
        plan: t.state.as_ref().map(|s| plan_lines(s, false)),
        history,
        accommodations,
        may_manage: t.may_manage,
        open_items,
        courses,
        errors: forms.errors,
        waive: forms.waive,
        recompute: forms.recompute,
        accommodation: forms.accommodation,
    }
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let t = plans::person_training(&state.app, &v.ctx, id).await?;
    let mut p = page(&v, &t, Forms::empty());
    let (chrome, jar) = p.chrome.with_flash(&jar);
    p.chrome = chrome;
    Ok((jar, render(&p)?).into_response())
}

/// The page again with a form's field errors (422), nothing changed.
async fn refused(
    state: &AppState,
    v: &Viewer,
    id: i64,
    err: onramp_app::AppError,
    forms: impl FnOnce(FormErrors) -> Forms,
) -> WebResult<Response> {
    let errors = FormErrors::from_app(err)?;
    let t = plans::person_training(&state.app, &v.ctx, id).await?;
    Ok(unprocessable(render(&page(v, &t, forms(errors)))?))
}

async fn waive(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<WaiveForm>,
) -> WebResult<Response> {
    match plans::waive(&state.app, &v.ctx, id, &f.item, &f.reason).await {
        Ok(()) => Ok(saved(
            jar,
            "Item waived. The plan and the request's training step count it as done.",
            &format!("/admin/people/{id}/training"),
        )),
        Err(e) => {
            refused(&state, &v, id, e, |errors| Forms {
                errors,
                waive: f,
                ..Forms::empty()
            })
            .await
        }
    }
}

async fn recompute(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RecomputeForm>,
) -> WebResult<Response> {
    match plans::recompute(&state.app, &v.ctx, id, &f.recompute_reason).await {
        Ok(plan) => Ok(saved(
            jar,
            &format!(
                "Plan recomputed as version {} from the current rules.",
                plan.version
            ),
            &format!("/admin/people/{id}/training"),
        )),
        Err(e) => {
            refused(&state, &v, id, e, |errors| Forms {
                errors: FormErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|mut fe| {
                            if fe.field == "person" {
                                fe.field = "recompute_reason".into();
                            }
                            fe
                        })
                        .collect(),
                ),
                recompute: f,
                ..Forms::empty()
            })
            .await
        }
    }
}

async fn accommodation(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AccommodationForm>,
) -> WebResult<Response> {
    let course = match f.course.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| onramp_app::AppError::field("course", "Choose a course from the list")),
    };
    let result = match course {
        Ok(c) => {
            lessons::grant_transcript_accommodation(
                &state.app,
                &v.ctx,
                id,
                c,
                &f.accommodation_reason,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(saved(
            jar,
            "Accommodation recorded: the person may read and confirm the transcript instead of watching.",
            &format!("/admin/people/{id}/training"),
        )),
        Err(e) => {
            refused(&state, &v, id, e, |errors| Forms {
                errors: FormErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|mut fe| {
                            if fe.field == "reason" {
                                fe.field = "accommodation_reason".into();
                            }
                            fe
                        })
                        .collect(),
                ),
                accommodation: f,
                ..Forms::empty()
            })
            .await
        }
    }
}
