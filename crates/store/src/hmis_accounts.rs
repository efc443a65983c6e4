//! HMIS accounts and their status history.

use crate::query::{Arg, Filter};
use crate::{
    exec, like_pattern, on_conn, HmisAccount, HmisAccountEvent, Page, PageRequest, Result, Tx,
};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewHmisAccount<'a> {
    pub implementation_id: i64,
    pub person_id: i64,
    pub request_id: Option<i64>,
    pub username: &'a str,
    pub access_level: &'a str,
    pub agency_id: i64,
    pub projects: &'a str,
    pub status: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct HmisAccountFilter {
    pub status: Option<String>,
    pub agency_id: Option<i64>,
    pub only_agencies: Option<Vec<i64>>,
    pub search: Option<String>,
}

impl Tx {
    pub async fn hmis_account_create(
        &mut self,
        a: &NewHmisAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO hmis_accounts (implementation_id, person_id, request_id, username, access_level, agency_id, projects, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id")
            .bind(a.implementation_id).bind(a.person_id).bind(a.request_id).bind(a.username).bind(a.access_level).bind(a.agency_id).bind(a.projects).bind(a.status).bind(now)
            .fetch_one(c).await)?)
    }

    pub async fn hmis_account_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> Result<HmisAccount> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, HmisAccount>("SELECT * FROM hmis_accounts WHERE id = $1 AND implementation_id = $2")
            .bind(id).bind(implementation_id).fetch_one(c).await)?,
        )
    }

    pub async fn hmis_accounts_of_person(&mut self, person_id: i64) -> Result<Vec<HmisAccount>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, HmisAccount>("SELECT * FROM hmis_accounts WHERE person_id = $1 ORDER BY id DESC")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    pub async fn hmis_account_of_request(
        &mut self,
        request_id: i64,
    ) -> Result<Option<HmisAccount>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, HmisAccount>("SELECT * FROM hmis_accounts WHERE request_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(request_id).fetch_optional(c).await)?,
        )
    }

    pub async fn hmis_username_taken(
        &mut self,
        implementation_id: i64,
        username: &str,
    ) -> Result<bool> {
        let n: i64 = on_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM hmis_accounts WHERE implementation_id = $1 AND LOWER(username) = LOWER($2)")
            .bind(implementation_id).bind(username).fetch_one(c).await)?;
        Ok(n > 0)
    }

    /// Usernames of the implementation starting with `prefix` (to propose a free one).
    pub async fn hmis_usernames_like(
        &mut self,
        implementation_id: i64,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let pattern = format!(
            "{}%",
            like_pattern(prefix)
                .trim_start_matches('%')
                .trim_end_matches('%')
        );
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT LOWER(username) FROM hmis_accounts WHERE implementation_id = $1 AND LOWER(username) LIKE $2 ESCAPE '\\'")
            .bind(implementation_id).bind(pattern).fetch_all(c).await)?,
        )
    }

    /// Saves an account's changeable fields (username, access level, projects, status, first sign-in).
    pub async fn hmis_account_save(&mut self, a: &HmisAccount, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE hmis_accounts SET username = $1, access_level = $2, projects = $3, status = $4, first_sign_in_at = $5, updated_at = $6 WHERE id = $7")
            .bind(&a.username).bind(&a.access_level).bind(&a.projects).bind(&a.status).bind(a.first_sign_in_at).bind(now).bind(a.id).execute(c).await)?;
        Ok(())
    }

    /// Points an account at the request now provisioning it (a returning person's account).
    pub async fn hmis_account_set_request(
        &mut self,
        id: i64,
        request_id: i64,
        agency_id: i64,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE hmis_accounts SET request_id = $1, agency_id = $2 WHERE id = $3").bind(request_id).bind(agency_id).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn hmis_account_event_add(
        &mut self,
        account_id: i64,
        status: &str,
        at: DateTime<Utc>,
        actor_id: Option<i64>,
        note: &str,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO hmis_account_events (account_id, status, at, actor_id, note) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(account_id).bind(status).bind(at).bind(actor_id).bind(note).fetch_one(c).await)?)
    }

    pub async fn hmis_account_events(&mut self, account_id: i64) -> Result<Vec<HmisAccountEvent>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, HmisAccountEvent>("SELECT * FROM hmis_account_events WHERE account_id = $1 ORDER BY id")
            .bind(account_id).fetch_all(c).await)?,
        )
    }

    pub async fn hmis_accounts_list(
        &mut self,
        implementation_id: i64,
        filter: &HmisAccountFilter,
        page: PageRequest,
    ) -> Result<Page<HmisAccount>> {
        let mut f = Filter::new("implementation_id = ?", Arg::I64(implementation_id));
        f.and_some("status = ?", filter.status.clone(), Arg::Text)
            .and_some("agency_id = ?", filter.agency_id, Arg::I64);
        if let Some(only) = &filter.only_agencies {
            f.and_in("agency_id", only, Arg::I64);
        }
        f.and_some(
            "LOWER(username) LIKE ? ESCAPE '\\'",
            filter.search.as_deref().map(like_pattern),
            Arg::Text,
        );
        crate::query::page_of(
            self,
            "SELECT *",
            "FROM hmis_accounts",
            &f,
            "username, id",
            page,
        )
        .await
    }
}
