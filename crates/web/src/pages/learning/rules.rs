//! The requirement-rule editor (`/training-rules`): the rules' TOML, saved as a new version,
//! and a preview that shows the plan a person would get for an access level,
//! responsibilities, projects and process. The preview is a GET form, so that a preview can
//! be linked to and shared.

use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{CsrfForm, FormErrors};
use crate::pages::list::{saved, unprocessable, SelectOption};
use crate::pages::render;
use crate::pages::requests::{Choice, ProjectGroup};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::learning::plans::{self, FactsInput, RuleEditor};
use onramp_domain::authz::Permission;
use onramp_domain::learning::rules::{GroupMode, PlanFacts, PlanSpec};
use onramp_domain::HudProjectType;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/training-rules", get(show)),
        Route::post("/training-rules", post(save)),
    ]
}

/// One group of a previewed plan.
pub struct PreviewGroup {
    pub part: String,
    pub mode: &'static str,
    pub because: String,
    /// (item reference, title)
    pub items: Vec<(String, String)>,
}

/// A previewed plan as the page shows it.
pub struct Preview {
    pub groups: Vec<PreviewGroup>,
    /// (title of the replaced item, the rule that replaced it)
    pub replaced: Vec<(String, String)>,
    pub project_types: String,
    pub funders: String,
}

fn preview_lines(e: &RuleEditor, facts: &PlanFacts, spec: &PlanSpec) -> Preview {
    let list = |v: &[i32], name: &dyn Fn(i32) -> String| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter().map(|c| name(*c)).collect::<Vec<_>>().join(", ")
        }
    };
    Preview {
        groups: spec
            .groups
            .iter()
            .map(|g| PreviewGroup {
                part: g.part.clone(),
                mode: match g.mode {
                    GroupMode::AllOf => "All of",
                    GroupMode::OneOf => "One of",
                },
                because: g.because.title.clone(),
                items: g
                    .items
                    .iter()
                    .map(|i| (i.to_string(), plans::item_title(i, &e.courses)))
                    .collect(),
            })
            .collect(),
        replaced: spec
            .replaced
            .iter()
            .map(|(i, b)| (plans::item_title(i, &e.courses), b.title.clone()))
            .collect(),
        project_types: list(&facts.project_types, &|c| {
            HudProjectType::from_code(c)
                .map(|t| format!("{} ({c})", t.label()))
                .unwrap_or_else(|| c.to_string())
        }),
        funders: list(&facts.funders, &|c| c.to_string()),
    }
}

/// The preview's choices, as the GET form sends them.
#[derive(Debug, Default, Clone)]
pub struct PreviewForm {
    pub process: String,
    pub access_level: String,
    pub responsibilities: Vec<String>,
    pub projects: Vec<String>,
    pub returning: bool,
    /// Whether the form was sent (a preview was asked for).
    pub asked: bool,
}

impl PreviewForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "process" => f.process = v.clone(),
                "access_level" => f.access_level = v.clone(),
                "responsibilities" => f.responsibilities.push(v.clone()),
                "projects" => f.projects.push(v.clone()),
                "returning" => f.returning = !v.is_empty(),
                "preview" => f.asked = true,
                _ => {}
            }
        }
        f
    }
}

#[derive(Template)]
#[template(path = "learning/rules.html")]
struct RulesPage {
    chrome: Chrome,
    version: i32,
    saved_at: String,
    may_edit: bool,
    text: String,
    errors: FormErrors,
    preview_errors: FormErrors,
    processes: Vec<SelectOption>,
    access_levels: Vec<SelectOption>,
    responsibilities: Vec<Choice>,
    project_groups: Vec<ProjectGroup>,
    form: PreviewForm,
    preview: Option<Preview>,
}

fn page(
    v: &Viewer,
    e: &RuleEditor,
    form: PreviewForm,
    preview: Option<Preview>,
    preview_errors: FormErrors,
    text: Option<String>,
    errors: FormErrors,
) -> RulesPage {
    let mut project_groups: Vec<ProjectGroup> = Vec::new();
    for p in &e.projects {
        let choice = Choice {
            value: p.id.to_string(),
            label: p.name.clone(),
            hint: HudProjectType::from_code(p.hud_project_type)
                .map(|t| t.label().to_string())
                .unwrap_or_default(),
            checked: form.projects.contains(&p.id.to_string()),
        };
        match project_groups
            .iter_mut()
            .find(|g| g.agency == p.agency_name)
        {
            Some(g) => g.projects.push(choice),
            None => project_groups.push(ProjectGroup {
                agency: p.agency_name.clone(),
                projects: vec![choice],
            }),
        }
    }
    RulesPage {
        chrome: Chrome::for_viewer(v, "Training requirement rules", "/courses"),
        version: e.version,
        saved_at: e
            .saved_at
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        may_edit: v.ctx.actor.may(Permission::ManageCourses),
        text: text.unwrap_or_else(|| e.text.clone()),
        errors,
        preview_errors,
        processes: e
            .processes
            .iter()
            .map(|(k, n)| SelectOption::new(k.clone(), n.clone()))
            .collect(),
        access_levels: e
            .access_levels
            .iter()
            .map(|(k, n)| SelectOption::new(k.clone(), n.clone()))
            .collect(),
        responsibilities: e
            .responsibilities
            .iter()
            .map(|(k, n)| Choice {
                value: k.clone(),
                label: n.clone(),
                hint: String::new(),
                checked: form.responsibilities.contains(k),
            })
            .collect(),
        project_groups,
        form,
        preview,
    }
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    Query(pairs): Query<Vec<(String, String)>>,
) -> WebResult<Response> {
    let e = plans::rule_editor(&state.app, &v.ctx).await?;
    let form = PreviewForm::from_pairs(&pairs);
    let mut preview = None;
    let mut preview_errors = FormErrors::default();
    if form.asked {
        let mut project_ids = Vec::new();
        for p in &form.projects {
            match p.parse::<i64>() {
                Ok(id) => project_ids.push(id),
                Err(_) => {
                    preview_errors.0.push(onramp_domain::FieldError::new(
                        "project",
                        "Choose projects from the list",
                    ));
                    break;
                }
            }
        }
        if preview_errors.0.is_empty() {
            match plans::preview_for(
                &state.app,
                &v.ctx,
                FactsInput {
                    process: form.process.clone(),
                    access_level: form.access_level.clone(),
                    responsibilities: form.responsibilities.clone(),
                    project_ids,
                    returning: form.returning,
                },
            )
            .await
            {
                Ok((facts, spec)) => preview = Some(preview_lines(&e, &facts, &spec)),
                Err(err) => preview_errors = FormErrors::from_app(err)?,
            }
        }
    }
    let invalid = !preview_errors.0.is_empty();
    let mut p = page(
        &v,
        &e,
        form,
        preview,
        preview_errors,
        None,
        FormErrors::default(),
    );
    let (chrome, jar) = p.chrome.with_flash(&jar);
    p.chrome = chrome;
    let html = render(&p)?;
    Ok(if invalid {
        unprocessable(html)
    } else {
        (jar, html).into_response()
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    rules: String,
}

async fn save(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<SaveForm>,
) -> WebResult<Response> {
    match plans::save_rules(&state.app, &v.ctx, &f.rules).await {
        Ok(version) => Ok(saved(
            jar,
            &format!("Rules saved as version {version}. Plans computed from now on use them; recompute a person's plan to apply them to it."),
            "/training-rules",
        )),
        Err(err) => {
            let errors = FormErrors::from_app(err)?;
            let e = plans::rule_editor(&state.app, &v.ctx).await?;
            Ok(unprocessable(render(&page(
                &v,
                &e,
                PreviewForm::default(),
                None,
                FormErrors::default(),
                Some(f.rules),
                errors,
            ))?))
        }
    }
}
