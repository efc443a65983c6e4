//! People: list with search, filters, pages and CSV export; add, edit, invite, and grant
//! or remove roles.

use super::list::{self, SelectOption};
use super::render;
use crate::chrome::Chrome;
use crate::error::WebResult;
use crate::forms::{checkbox, CsrfForm, FormErrors};
use crate::session::Viewer;
use crate::{AppState, Route};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use onramp_app::people::{self, PersonDetail, PersonInput};
use onramp_app::AppError;
use onramp_domain::authz::Permission;
use onramp_domain::{AgencyRole, FieldError, ImplementationRole};
use onramp_store::people::PeopleFilter;
use onramp_store::{Page, Person};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/people", get(list_page)),
        Route::get("/admin/people.csv", get(export)),
        Route::get("/admin/people/new", get(new_form)),
        Route::post("/admin/people/new", post(create)),
        Route::get("/admin/people/{id}", get(person_view)),
        Route::post("/admin/people/{id}", post(update)),
        Route::post("/admin/people/{id}/invite", post(invite)),
        Route::post("/admin/people/{id}/roles", post(set_role)),
        Route::post("/admin/people/{id}/agency-roles", post(set_agency_role)),
    ]
}

// ---------------------------------------------------------------- list

/// Filters of the people list, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    agency: String,
    /// An implementation or agency role, by its stored name.
    #[serde(default)]
    role: String,
    #[serde(default)]
    show: String,
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> PeopleFilter {
        let role = ImplementationRole::parse(&self.role)
            .map(|r| r.as_str())
            .or_else(|_| AgencyRole::parse(&self.role).map(|r| r.as_str()))
            .ok()
            .map(str::to_string);
        PeopleFilter {
            search: list::search_text(&self.q),
            agency_id: list::parse_id(&self.agency),
            active: list::show_filter(&self.show),
            role,
            only_agencies: None,
        }
    }
    fn base(&self, path: &str) -> String {
        list::query_base(
            path,
            &[
                ("q", &self.q),
                ("agency", &self.agency),
                ("role", &self.role),
                ("show", &self.show),
            ],
        )
    }
}

fn implementation_role_options() -> Vec<SelectOption> {
    ImplementationRole::ALL
        .iter()
        .map(|r| SelectOption::new(r.as_str(), r.label()))
        .collect()
}

fn agency_role_options() -> Vec<SelectOption> {
    AgencyRole::ALL
        .iter()
        .map(|r| SelectOption::new(r.as_str(), r.label()))
        .collect()
}

#[derive(Template)]
#[template(path = "people.html")]
struct ListPage {
    chrome: Chrome,
    page: Page<Person>,
    q: ListQuery,
    base: String,
    csv: String,
    agencies: Vec<SelectOption>,
    implementation_roles: Vec<SelectOption>,
    agency_roles: Vec<SelectOption>,
    shows: Vec<SelectOption>,
    can_add: bool,
}

/// Whether the viewer may add people to at least one agency (or to none).
fn may_add_people(v: &Viewer) -> bool {
    let a = &v.ctx.actor;
    a.may(Permission::ManagePeopleOf(None)) || !a.administered_agencies().is_empty()
}

async fn list_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
    jar: CookieJar,
) -> WebResult<Response> {
    let page = people::list(&state.app, &v.ctx, q.filter(), list::page_request(q.page)).await?;
    let agencies =
        list::agency_options(&state, &v.ctx, Some(SelectOption::new("", "Any agency"))).await?;
    let (chrome, jar) = Chrome::for_viewer(&v, "People", "/admin/people").with_flash(&jar);
    let base = q.base("/admin/people");
    let csv = q.base("/admin/people.csv");
    let page = ListPage {
        chrome,
        page,
        q,
        base,
        csv,
        agencies,
        implementation_roles: implementation_role_options(),
        agency_roles: agency_role_options(),
        shows: list::show_options(),
        can_add: may_add_people(&v),
    };
    Ok((jar, render(&page)?).into_response())
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let csv = people::csv(&state.app, &v.ctx, q.filter()).await?;
    Ok(list::csv_download("people.csv", csv))
}

// ---------------------------------------------------------------- add

/// The person form's fields as typed.
#[derive(Debug, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default, deserialize_with = "checkbox")]
    active: bool,
    /// Only on the "add" form.
    #[serde(default, deserialize_with = "checkbox")]
    invite: bool,
}

impl PersonForm {
    fn input(&self) -> PersonInput {
        PersonInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            email: self.email.clone(),
            agency_id: self.agency_id.clone(),
            active: self.active,
        }
    }
    fn from_person(p: &Person) -> Self {
        Self {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            email: p.email.clone(),
            agency_id: p.agency_id.map(|a| a.to_string()).unwrap_or_default(),
            active: p.active,
            invite: false,
        }
    }
}

/// The agencies the viewer may place a person in ("no agency" first when they may manage
/// HMIS Lead staff), out of `visible` (every agency the viewer sees). `keep` is the value
/// the form holds, always listed so that a read-only form shows it.
fn person_agency_options(
    v: &Viewer,
    visible: &[SelectOption],
    keep: Option<&str>,
) -> Vec<SelectOption> {
    let a = &v.ctx.actor;
    let kept = |value: &str| keep == Some(value);
    let none = (kept("") || a.may(Permission::ManagePeopleOf(None)))
        .then(|| SelectOption::new("", "No agency (HMIS Lead staff)"));
    none.into_iter()
        .chain(
            visible
                .iter()
                .filter(|o| {
                    kept(&o.value)
                        || list::parse_id(&o.value)
                            .is_some_and(|id| a.may(Permission::ManagePeopleOf(Some(id))))
                })
                .cloned(),
        )
        .collect()
}

#[derive(Template)]
#[template(path = "person_new.html")]
struct NewPage {
    chrome: Chrome,
    errors: FormErrors,
    form: PersonForm,
    agencies: Vec<SelectOption>,
}

async fn new_page(
    state: &AppState,
    v: &Viewer,
    errors: FormErrors,
    form: PersonForm,
) -> WebResult<NewPage> {
    let visible = list::agency_options(state, &v.ctx, None).await?;
    let agencies = person_agency_options(v, &visible, None);
    Ok(NewPage {
        chrome: Chrome::for_viewer(v, "Add a person", "/admin/people"),
        errors,
        form,
        agencies,
    })
}

async fn new_form(
    State(state): State<AppState>,
    v: Viewer,
    Query(pre): Query<NewQuery>,
) -> WebResult<Response> {
    if !may_add_people(&v) {
        return Err(AppError::Forbidden.into());
    }
    let form = PersonForm {
        agency_id: pre.agency,
        active: true,
        invite: true,
        ..Default::default()
    };
    Ok(render(&new_page(&state, &v, FormErrors::default(), form).await?)?.into_response())
}

/// `/admin/people/new?agency=ID` preselects the agency.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    agency: String,
}

async fn create(
    State(state): State<AppState>,
    v: Viewer,
    jar: CookieJar,
    CsrfForm(mut f): CsrfForm<PersonForm>,
) -> WebResult<Response> {
    f.active = true;
    match people::create(&state.app, &v.ctx, &f.input(), f.invite).await {
        Ok(id) => {
            let message = if f.invite {
                "Person added and invitation sent."
            } else {
                "Person added."
            };
            Ok(list::saved(jar, message, &format!("/admin/people/{id}")))
        }
        Err(e) => Ok(list::unprocessable(render(
            &new_page(&state, &v, FormErrors::from_app(e)?, f).await?,
        )?)),
    }
}

// ---------------------------------------------------------------- one person

/// One implementation role, held or not.
pub struct RoleRow {
    pub value: &'static str,
    pub label: &'static str,
    pub held: bool,
}

/// One role the person holds in an agency.
pub struct AgencyRoleRow {
    pub agency_id: i64,
    pub agency: String,
    pub value: &'static str,
    pub label: &'static str,
    pub can_remove: bool,
}

/// The "grant an agency role" form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct AgencyRoleForm {
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    granted: String,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    errors: FormErrors,
    detail: PersonDetail,
    form: PersonForm,
    agencies: Vec<SelectOption>,
    can_manage: bool,
    can_manage_roles: bool,
    roles: Vec<RoleRow>,
    agency_roles: Vec<AgencyRoleRow>,
    /// Agencies in which the viewer may grant roles.
    grant_agencies: Vec<SelectOption>,
    agency_role_options: Vec<SelectOption>,
    ar_form: AgencyRoleForm,
}

/// Errors of the role forms, renamed so that they point at their own controls.
fn renamed(errors: FormErrors, names: &[(&str, &str)]) -> FormErrors {
    FormErrors(
        errors
            .0
            .into_iter()
            .map(|e| match names.iter().find(|(from, _)| *from == e.field) {
                Some((_, to)) => FieldError::new(*to, e.message),
                None => e,
            })
            .collect(),
    )
}

async fn person_page(
    state: &AppState,
    v: &Viewer,
    id: i64,
    errors: FormErrors,
    form: Option<PersonForm>,
    ar_form: AgencyRoleForm,
) -> WebResult<PersonPage> {
    let detail = people::get(&state.app, &v.ctx, id).await?;
    let a = &v.ctx.actor;
    let visible = list::agency_options(state, &v.ctx, None).await?;
    let form = form.unwrap_or_else(|| PersonForm::from_person(&detail.person));
    let agencies = person_agency_options(v, &visible, Some(&form.agency_id));
    let agency_name = |id: i64| {
        let key = id.to_string();
        visible
            .iter()
            .find(|o| o.value == key)
            .map(|o| o.label.clone())
            .unwrap_or_else(|| format!("Agency {id}"))
    };
    let roles = ImplementationRole::ALL
        .iter()
        .map(|r| RoleRow {
            value: r.as_str(),
            label: r.label(),
            held: detail.implementation_roles.contains(r),
        })
        .collect();
    // Pages only hide what the people service refuses anyway (see onramp_domain::standing).
    let stands_high_enough = a.may_manage(&onramp_domain::standing::Holding::new(
        &detail.implementation_roles,
        &detail
            .agency_roles
            .iter()
            .map(|(_, r)| *r)
            .collect::<Vec<_>>(),
    ));
    let agency_roles = detail
        .agency_roles
        .iter()
        .map(|(ag, r)| AgencyRoleRow {
            agency_id: *ag,
            agency: agency_name(*ag),
            value: r.as_str(),
            label: r.label(),
            can_remove: stands_high_enough && a.may(Permission::ManageAgencyRoles(*ag)),
        })
        .collect();
    let grant_agencies: Vec<SelectOption> =
        std::iter::once(SelectOption::new("", "Choose an agency"))
            .chain(
                visible
                    .iter()
                    .filter(|o| {
                        list::parse_id(&o.value)
                            .is_some_and(|ag| a.may(Permission::ManageAgencyRoles(ag)))
                    })
                    .cloned(),
            )
            .collect();
    let title = detail.person.display_name();
    Ok(PersonPage {
        chrome: Chrome::for_viewer(v, &title, "/admin/people"),
        errors,
        form,
        can_manage: stands_high_enough
            && a.may(Permission::ManagePeopleOf(detail.person.agency_id)),
        can_manage_roles: stands_high_enough && a.may(Permission::ManageImplementationRoles),
        roles,
        agency_roles,
        grant_agencies: if grant_agencies.len() > 1 {
            grant_agencies
        } else {
            Vec::new()
        },
        agency_role_options: std::iter::once(SelectOption::new("", "Choose a role"))
            .chain(agency_role_options())
            .collect(),
        ar_form,
        agencies,
        detail,
    })
}

async fn person_view(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> WebResult<Response> {
    let mut page = person_page(
        &state,
        &v,
        id,
        FormErrors::default(),
        None,
        AgencyRoleForm::default(),
    )
    .await?;
    let (chrome, jar) = page.chrome.with_flash(&jar);
    page.chrome = chrome;
    Ok((jar, render(&page)?).into_response())
}

async fn update(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<PersonForm>,
) -> WebResult<Response> {
    match people::update(&state.app, &v.ctx, id, &f.input()).await {
        Ok(()) => Ok(list::saved(
            jar,
            "Person saved.",
            &format!("/admin/people/{id}"),
        )),
        Err(e) => Ok(list::unprocessable(render(
            &person_page(
                &state,
                &v,
                id,
                FormErrors::from_app(e)?,
                Some(f),
                AgencyRoleForm::default(),
            )
            .await?,
        )?)),
    }
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct EmptyForm {}

async fn invite(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> WebResult<Response> {
    match people::invite(&state.app, &v.ctx, id).await {
        Ok(people::Invited::Invitation) => Ok(list::saved(
            jar,
            "Invitation sent.",
            &format!("/admin/people/{id}"),
        )),
        Ok(people::Invited::PasswordReset) => Ok(list::saved(
            jar,
            "They already have a password, which stays as it is: a password-reset link was sent instead of an invitation.",
            &format!("/admin/people/{id}"),
        )),
        // Inviting a deactivated person: say why next to the button.
        Err(AppError::Conflict(m)) => {
            let errors = FormErrors(vec![FieldError::new("invite", m)]);
            Ok(list::unprocessable(render(
                &person_page(&state, &v, id, errors, None, AgencyRoleForm::default()).await?,
            )?))
        }
        Err(e) => Err(e.into()),
    }
}

/// The grant/remove buttons of implementation roles.
#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    granted: String,
}

async fn set_role(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<RoleForm>,
) -> WebResult<Response> {
    let granted = f.granted == "true";
    match people::set_implementation_role(&state.app, &v.ctx, id, &f.role, granted).await {
        Ok(()) => Ok(list::saved(
            jar,
            if granted {
                "Role granted."
            } else {
                "Role removed."
            },
            &format!("/admin/people/{id}"),
        )),
        Err(e) => {
            let errors = renamed(FormErrors::from_app(e)?, &[("role", "impl_role")]);
            Ok(list::unprocessable(render(
                &person_page(&state, &v, id, errors, None, AgencyRoleForm::default()).await?,
            )?))
        }
    }
}

async fn set_agency_role(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<AgencyRoleForm>,
) -> WebResult<Response> {
    let granted = f.granted == "true";
    let mut missing = Vec::new();
    if list::parse_id(&f.agency_id).is_none() {
        missing.push(FieldError::new("agency_id", "Choose an agency"));
    }
    if f.role.trim().is_empty() {
        missing.push(FieldError::new("role", "Choose a role"));
    }
    let result = match list::parse_id(&f.agency_id) {
        Some(agency_id) if missing.is_empty() => {
            people::set_agency_role(&state.app, &v.ctx, id, agency_id, &f.role, granted).await
        }
        _ => Err(AppError::Invalid(missing)),
    };
    match result {
        Ok(()) => Ok(list::saved(
            jar,
            if granted {
                "Agency role granted."
            } else {
                "Agency role removed."
            },
            &format!("/admin/people/{id}"),
        )),
        Err(e) => {
            let errors = renamed(
                FormErrors::from_app(e)?,
                &[("role", "ar_role"), ("agency_id", "ar_agency_id")],
            );
            let ar_form = if granted {
                f
            } else {
                AgencyRoleForm::default()
            };
            Ok(list::unprocessable(render(
                &person_page(&state, &v, id, errors, None, ar_form).await?,
            )?))
        }
    }
}
