//! Implementations, their CoCs, agencies, projects and catalogues.

use crate::query::{Arg, Filter};
use crate::{
    exec, like_pattern, on_conn, Agency, CatalogueEntry, Implementation, Page, PageRequest,
    Project, Result, Tx,
};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone)]
pub struct NewAgency<'a> {
    pub implementation_id: i64,
    pub name: &'a str,
    pub participation_status: &'a str,
    pub participation_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct AgencyFilter {
    pub search: Option<String>,
    pub status: Option<String>,
    pub active: Option<bool>,
    /// Only these agencies (for people who see some agencies only).
    pub only: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub search: Option<String>,
    pub agency_id: Option<i64>,
    pub project_type: Option<i32>,
    pub active: Option<bool>,
    pub only_agencies: Option<Vec<i64>>,
}

/// Which catalogue an entry lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    AccessLevels,
    Responsibilities,
}

impl Catalogue {
    fn table(self) -> &'static str {
        match self {
            Catalogue::AccessLevels => "access_levels",
            Catalogue::Responsibilities => "responsibilities",
        }
    }
}

const AGENCY_COLS: &str =
    "id, implementation_id, name, participation_status, participation_date, active, created_at, updated_at";
const PROJECT_SELECT: &str = "SELECT p.id, p.implementation_id, p.agency_id, a.name AS agency_name, p.name, p.hud_project_type, p.active, p.created_at, p.updated_at";
const PROJECT_FROM: &str = "FROM projects p JOIN agencies a ON a.id = p.agency_id";

impl Tx {
    // ---- implementations ----

    pub async fn implementation_create(
        &mut self,
        slug: &str,
        name: &str,
        lead: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO implementations (slug, name, hmis_lead_name, active, created_at, updated_at) VALUES ($1, $2, $3, TRUE, $4, $4) RETURNING id")
            .bind(slug).bind(name).bind(lead).bind(now).fetch_one(c).await)?;
        Ok(id)
    }

    pub async fn implementation_update(
        &mut self,
        id: i64,
        name: &str,
        lead: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE implementations SET name = $1, hmis_lead_name = $2, updated_at = $3 WHERE id = $4")
            .bind(name).bind(lead).bind(now).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn implementation_get(&mut self, id: i64) -> Result<Implementation> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Implementation>("SELECT * FROM implementations WHERE id = $1")
            .bind(id).fetch_one(c).await)?,
        )
    }

    pub async fn implementation_by_slug(&mut self, slug: &str) -> Result<Option<Implementation>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Implementation>("SELECT * FROM implementations WHERE slug = $1")
            .bind(slug).fetch_optional(c).await)?,
        )
    }

    pub async fn implementations_all(&mut self) -> Result<Vec<Implementation>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Implementation>("SELECT * FROM implementations ORDER BY name")
            .fetch_all(c).await)?,
        )
    }

    pub async fn cocs_of(&mut self, implementation_id: i64) -> Result<Vec<String>> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT coc_code FROM implementation_cocs WHERE implementation_id = $1 ORDER BY coc_code")
            .bind(implementation_id).fetch_all(c).await)?,
        )
    }

    pub async fn cocs_replace(&mut self, implementation_id: i64, codes: &[String]) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM implementation_cocs WHERE implementation_id = $1")
            .bind(implementation_id).execute(c).await)?;
        for code in codes {
            exec!(self, c => sqlx::query("INSERT INTO implementation_cocs (implementation_id, coc_code) VALUES ($1, $2)")
                .bind(implementation_id).bind(code).execute(c).await)?;
        }
        Ok(())
    }

    // ---- agencies ----

    pub async fn agency_create(&mut self, a: &NewAgency<'_>, now: DateTime<Utc>) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO agencies (implementation_id, name, participation_status, participation_date, active, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING id")
            .bind(a.implementation_id).bind(a.name).bind(a.participation_status).bind(a.participation_date).bind(now)
            .fetch_one(c).await)?)
    }

    pub async fn agency_update(
        &mut self,
        id: i64,
        a: &NewAgency<'_>,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE agencies SET name = $1, participation_status = $2, participation_date = $3, active = $4, updated_at = $5 WHERE id = $6 AND implementation_id = $7")
            .bind(a.name).bind(a.participation_status).bind(a.participation_date).bind(active).bind(now).bind(id).bind(a.implementation_id)
            .execute(c).await)?;
        Ok(())
    }

    pub async fn agency_get(&mut self, implementation_id: i64, id: i64) -> Result<Agency> {
        let sql =
            format!("SELECT {AGENCY_COLS} FROM agencies WHERE id = $1 AND implementation_id = $2");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Agency>(&sql).bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn agencies_list(
        &mut self,
        implementation_id: i64,
        filter: &AgencyFilter,
        page: PageRequest,
    ) -> Result<Page<Agency>> {
        let mut f = Filter::new("implementation_id = ?", Arg::I64(implementation_id));
        f.and_some(
            "LOWER(name) LIKE ? ESCAPE '\\'",
            filter.search.as_deref().map(like_pattern),
            Arg::Text,
        )
        .and_some("participation_status = ?", filter.status.clone(), Arg::Text)
        .and_some("active = ?", filter.active, Arg::Bool);
        if let Some(only) = &filter.only {
            f.and_in("id", only, Arg::I64);
        }
        crate::query::page_of(
            self,
            &format!("SELECT {AGENCY_COLS}"),
            "FROM agencies",
            &f,
            "name, id",
            page,
        )
        .await
    }

    // ---- projects ----

    pub async fn project_create(
        &mut self,
        implementation_id: i64,
        agency_id: i64,
        name: &str,
        project_type: i32,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO projects (implementation_id, agency_id, name, hud_project_type, active, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING id")
            .bind(implementation_id).bind(agency_id).bind(name).bind(project_type).bind(now).fetch_one(c).await)?)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn project_update(
        &mut self,
        implementation_id: i64,
        id: i64,
        agency_id: i64,
        name: &str,
        project_type: i32,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE projects SET agency_id = $1, name = $2, hud_project_type = $3, active = $4, updated_at = $5 WHERE id = $6 AND implementation_id = $7")
            .bind(agency_id).bind(name).bind(project_type).bind(active).bind(now).bind(id).bind(implementation_id).execute(c).await)?;
        Ok(())
    }

    pub async fn project_get(&mut self, implementation_id: i64, id: i64) -> Result<Project> {
        let sql =
            format!("{PROJECT_SELECT} {PROJECT_FROM} WHERE p.id = $1 AND p.implementation_id = $2");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, Project>(&sql).bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn projects_list(
        &mut self,
        implementation_id: i64,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>> {
        let mut f = Filter::new("p.implementation_id = ?", Arg::I64(implementation_id));
        f.and_some(
            "LOWER(p.name) LIKE ? ESCAPE '\\'",
            filter.search.as_deref().map(like_pattern),
            Arg::Text,
        )
        .and_some("p.agency_id = ?", filter.agency_id, Arg::I64)
        .and_some("p.hud_project_type = ?", filter.project_type, Arg::I32)
        .and_some("p.active = ?", filter.active, Arg::Bool);
        if let Some(only) = &filter.only_agencies {
            f.and_in("p.agency_id", only, Arg::I64);
        }
        crate::query::page_counted(
            self,
            PROJECT_SELECT,
            PROJECT_FROM,
            "FROM projects p",
            &f,
            "a.name, p.name, p.id",
            page,
        )
        .await
    }

    // ---- catalogues ----

    pub async fn catalogue_create(
        &mut self,
        cat: Catalogue,
        implementation_id: i64,
        code: &str,
        name: &str,
        description: &str,
    ) -> Result<i64> {
        let sql = format!("INSERT INTO {} (implementation_id, code, name, description, active) VALUES ($1, $2, $3, $4, TRUE) RETURNING id", cat.table());
        Ok(
            on_conn!(self, c => sqlx::query_scalar(&sql).bind(implementation_id).bind(code).bind(name).bind(description).fetch_one(c).await)?,
        )
    }

    pub async fn catalogue_update(
        &mut self,
        cat: Catalogue,
        implementation_id: i64,
        id: i64,
        name: &str,
        description: &str,
        active: bool,
    ) -> Result<()> {
        let sql = format!("UPDATE {} SET name = $1, description = $2, active = $3 WHERE id = $4 AND implementation_id = $5", cat.table());
        exec!(self, c => sqlx::query(&sql).bind(name).bind(description).bind(active).bind(id).bind(implementation_id).execute(c).await)?;
        Ok(())
    }

    pub async fn catalogue_get(
        &mut self,
        cat: Catalogue,
        implementation_id: i64,
        id: i64,
    ) -> Result<CatalogueEntry> {
        let sql = format!(
            "SELECT * FROM {} WHERE id = $1 AND implementation_id = $2",
            cat.table()
        );
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, CatalogueEntry>(&sql).bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn catalogue_list(
        &mut self,
        cat: Catalogue,
        implementation_id: i64,
        search: Option<&str>,
        active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<CatalogueEntry>> {
        let mut f = Filter::new("implementation_id = ?", Arg::I64(implementation_id));
        f.and_some(
            "(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(code) LIKE ? ESCAPE '\\')",
            search.map(like_pattern),
            Arg::Text,
        )
        .and_some("active = ?", active, Arg::Bool);
        crate::query::page_of(
            self,
            "SELECT *",
            &format!("FROM {}", cat.table()),
            &f,
            "name, id",
            page,
        )
        .await
    }
}
