//! People, and the roles they hold.

use crate::query::{Arg, Filter};
use crate::{exec, like_pattern, on_conn, Page, PageRequest, Person, Result, Tx};
use chrono::{DateTime, Utc};

const PERSON_SELECT: &str = "SELECT p.id, p.implementation_id, p.given_name, p.family_name, p.email, p.agency_id, a.name AS agency_name, p.active, p.created_at, p.updated_at";
/// Role holders, once each.
const HOLDER_SELECT: &str = "SELECT DISTINCT p.id, p.email, p.given_name";
const PERSON_FROM: &str = "FROM people p LEFT JOIN agencies a ON a.id = p.agency_id";

#[derive(Debug, Clone)]
pub struct PersonFields<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub agency_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    pub search: Option<String>,
    pub agency_id: Option<i64>,
    pub active: Option<bool>,
    /// Holders of this implementation role or agency role (by its stored name).
    pub role: Option<String>,
    /// Only people of these agencies.
    pub only_agencies: Option<Vec<i64>>,
}

impl Tx {
    pub async fn person_create(
        &mut self,
        implementation_id: i64,
        p: &PersonFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO people (implementation_id, given_name, family_name, email, agency_id, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id")
            .bind(implementation_id).bind(p.given_name).bind(p.family_name).bind(p.email).bind(p.agency_id).bind(now)
            .fetch_one(c).await)?)
    }

    pub async fn person_update(
        &mut self,
        implementation_id: i64,
        id: i64,
        p: &PersonFields<'_>,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE people SET given_name = $1, family_name = $2, email = $3, agency_id = $4, active = $5, updated_at = $6 WHERE id = $7 AND implementation_id = $8")
            .bind(p.given_name).bind(p.family_name).bind(p.email).bind(p.agency_id).bind(active).bind(now).bind(id).bind(implementation_id)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn person_get(&mut self, implementation_id: i64, id: i64) -> Result<Person> {
        let sql =
            format!("{PERSON_SELECT} {PERSON_FROM} WHERE p.id = $1 AND p.implementation_id = $2");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Person>(&sql).bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    /// A person in any implementation (for sign-in, which starts from an account).
    pub async fn person_by_id(&mut self, id: i64) -> Result<Person> {
        let sql = format!("{PERSON_SELECT} {PERSON_FROM} WHERE p.id = $1");
        Ok(on_conn!(self, c => sqlx::query_as::<_, Person>(&sql).bind(id).fetch_one(c).await)?)
    }

    pub async fn person_by_email(
        &mut self,
        implementation_id: i64,
        email: &str,
    ) -> Result<Option<Person>> {
        let sql = format!(
            "{PERSON_SELECT} {PERSON_FROM} WHERE p.implementation_id = $1 AND p.email = $2"
        );
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Person>(&sql).bind(implementation_id).bind(email).fetch_optional(c).await)?,
        )
    }

    pub async fn people_list(
        &mut self,
        implementation_id: i64,
        filter: &PeopleFilter,
        page: PageRequest,
    ) -> Result<Page<Person>> {
        let mut f = Filter::new("p.implementation_id = ?", Arg::I64(implementation_id));
        f.and_some(
            "(LOWER(p.given_name || ' ' || p.family_name) LIKE ? ESCAPE '\\' OR LOWER(p.email) LIKE ? ESCAPE '\\')",
            filter.search.as_deref().map(like_pattern),
            Arg::Text,
        )
        .and_some("p.agency_id = ?", filter.agency_id, Arg::I64)
        .and_some("p.active = ?", filter.active, Arg::Bool)
        .and_some(
            "(EXISTS (SELECT 1 FROM implementation_roles r WHERE r.person_id = p.id AND r.role = ?) OR EXISTS (SELECT 1 FROM agency_roles g WHERE g.person_id = p.id AND g.role = ?))",
            filter.role.clone(),
            Arg::Text,
        );
        if let Some(only) = &filter.only_agencies {
            f.and_in("p.agency_id", only, Arg::I64);
        }
        crate::query::page_counted(
            self,
            PERSON_SELECT,
            PERSON_FROM,
            "FROM people p",
            &f,
            "p.family_name, p.given_name, p.id",
            page,
        )
        .await
    }

    // ---- roles ----

    pub async fn implementation_roles_of(&mut self, person_id: i64) -> Result<Vec<String>> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT role FROM implementation_roles WHERE person_id = $1 ORDER BY role")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    pub async fn implementation_role_set(
        &mut self,
        person_id: i64,
        role: &str,
        granted: bool,
    ) -> Result<()> {
        if granted {
            exec!(self, c => sqlx::query("INSERT INTO implementation_roles (person_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(person_id).bind(role).execute(c).await)?;
        } else {
            exec!(self, c => sqlx::query("DELETE FROM implementation_roles WHERE person_id = $1 AND role = $2")
                .bind(person_id).bind(role).execute(c).await)?;
        }
        Ok(())
    }

    /// (agency id, role) pairs.
    /// Both kinds of role in one read: (None, role) for an implementation role, (Some(agency),
    /// role) for an agency role; implementation roles first, each kind in
    /// [`Self::implementation_roles_of`] / [`Self::agency_roles_of`] order.
    pub async fn roles_of(&mut self, person_id: i64) -> Result<Vec<(Option<i64>, String)>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, (Option<i64>, String)>(
            "SELECT agency_id, role FROM (\
             SELECT 0 AS kind, CAST(NULL AS BIGINT) AS agency_id, role FROM implementation_roles WHERE person_id = $1 \
             UNION ALL SELECT 1 AS kind, agency_id, role FROM agency_roles WHERE person_id = $1) r \
             ORDER BY kind, agency_id, role")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    pub async fn agency_roles_of(&mut self, person_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, (i64, String)>("SELECT agency_id, role FROM agency_roles WHERE person_id = $1 ORDER BY agency_id, role")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    pub async fn agency_role_set(
        &mut self,
        person_id: i64,
        agency_id: i64,
        role: &str,
        granted: bool,
    ) -> Result<()> {
        if granted {
            exec!(self, c => sqlx::query("INSERT INTO agency_roles (person_id, agency_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(person_id).bind(agency_id).bind(role).execute(c).await)?;
        } else {
            exec!(self, c => sqlx::query("DELETE FROM agency_roles WHERE person_id = $1 AND agency_id = $2 AND role = $3")
                .bind(person_id).bind(agency_id).bind(role).execute(c).await)?;
        }
        Ok(())
    }

    /// Active people holding one of `roles` in an agency: (person id, email, given name).
    pub async fn agency_role_holders(
        &mut self,
        agency_id: i64,
        roles: &[&str],
    ) -> Result<Vec<(i64, String, String)>> {
        let mut f = Filter::new("g.agency_id = ?", Arg::I64(agency_id));
        f.and_raw("p.active = TRUE")
            .and_in("g.role", roles, |r| Arg::Text(r.to_string()));
        crate::query::all_of(
            self,
            HOLDER_SELECT,
            "FROM people p JOIN agency_roles g ON g.person_id = p.id",
            &f,
            "p.id",
        )
        .await
    }

    /// Active people holding one of `roles` across an implementation: (person id, email, given name).
    pub async fn implementation_role_holders(
        &mut self,
        implementation_id: i64,
        roles: &[&str],
    ) -> Result<Vec<(i64, String, String)>> {
        let mut f = Filter::new("p.implementation_id = ?", Arg::I64(implementation_id));
        f.and_raw("p.active = TRUE")
            .and_in("g.role", roles, |r| Arg::Text(r.to_string()));
        crate::query::all_of(
            self,
            HOLDER_SELECT,
            "FROM people p JOIN implementation_roles g ON g.person_id = p.id",
            &f,
            "p.id",
        )
        .await
    }

    /// People of an agency whose name matches (case-insensitive), for spotting a returning person.
    pub async fn people_named(
        &mut self,
        implementation_id: i64,
        given: &str,
        family: &str,
    ) -> Result<Vec<Person>> {
        let sql = format!("{PERSON_SELECT} {PERSON_FROM} WHERE p.implementation_id = $1 AND LOWER(p.given_name) = LOWER($2) AND LOWER(p.family_name) = LOWER($3) ORDER BY p.id");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Person>(&sql).bind(implementation_id).bind(given.trim()).bind(family.trim()).fetch_all(c).await)?,
        )
    }

    /// Moves a person to another agency (their history stays with them).
    pub async fn person_set_agency(
        &mut self,
        person_id: i64,
        agency_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE people SET agency_id = $1, updated_at = $2 WHERE id = $3").bind(agency_id).bind(now).bind(person_id).execute(c).await)?;
        Ok(())
    }
}
