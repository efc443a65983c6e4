//! Access requests, their steps, message threads, staff verifications and training history;
//! process templates and implementation settings.

use crate::query::{Arg, Filter};
use crate::{
    exec, like_pattern, on_conn, read_all, read_one, AccessRequest, AccessRequestSummary, Page,
    PageRequest, ProcessTemplateRow, Reads, RequestMessage, RequestStep, Result, StaffVerification,
    TrainingRecord, Tx,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::future::Future;

#[derive(Debug, Clone)]
pub struct NewAccessRequest<'a> {
    pub implementation_id: i64,
    pub person_id: i64,
    pub agency_id: i64,
    pub requested_by: i64,
    pub template_id: i64,
    pub is_returning: bool,
    pub access_level: &'a str,
    pub responsibilities: &'a str,
    pub note: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub statuses: Vec<String>,
    pub agency_id: Option<i64>,
    pub only_agencies: Option<Vec<i64>>,
    pub person_id: Option<i64>,
    pub search: Option<String>,
    /// Only requests with an open step past its SLA.
    pub sla_breached: bool,
}

const SUMMARY_SELECT: &str = "SELECT r.id, r.person_id, p.given_name || ' ' || p.family_name AS person_name, p.email AS person_email, r.agency_id, a.name AS agency_name, r.status, r.is_returning, r.access_level, r.submitted_at, r.updated_at, \
    (SELECT MIN(s.sla_due_at) FROM request_steps s WHERE s.request_id = r.id AND s.status = 'open') AS next_sla_due_at, \
    (SELECT MIN(s.due_at) FROM request_steps s WHERE s.request_id = r.id AND s.status = 'open') AS next_due_at, \
    (SELECT COUNT(*) FROM request_steps s WHERE s.request_id = r.id AND s.status = 'open' AND s.sla_breached_at IS NOT NULL) AS sla_breached";
const SUMMARY_FROM: &str = "FROM access_requests r JOIN people p ON p.id = r.person_id JOIN agencies a ON a.id = r.agency_id";

impl Tx {
    // ---- implementation settings ----

    pub async fn setting_get(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> Result<Option<String>> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT value FROM implementation_settings WHERE implementation_id = $1 AND key = $2")
            .bind(implementation_id).bind(key).fetch_optional(c).await)?,
        )
    }

    pub async fn setting_put(
        &mut self,
        implementation_id: i64,
        key: &str,
        value: &str,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("INSERT INTO implementation_settings (implementation_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (implementation_id, key) DO UPDATE SET value = excluded.value")
            .bind(implementation_id).bind(key).bind(value).execute(c).await)?;
        Ok(())
    }

    // ---- process templates ----

    /// Saves a new version of a template; returns (id, version).
    pub async fn template_insert(
        &mut self,
        implementation_id: i64,
        key: &str,
        name: &str,
        body: &str,
        now: DateTime<Utc>,
        by: Option<i64>,
    ) -> Result<(i64, i32)> {
        let current: Option<i32> = on_conn!(self, c => sqlx::query_scalar("SELECT MAX(version) FROM process_templates WHERE implementation_id = $1 AND key = $2")
            .bind(implementation_id).bind(key).fetch_one(c).await)?;
        let version = current.unwrap_or(0) + 1;
        let id: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO process_templates (implementation_id, key, version, name, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(implementation_id).bind(key).bind(version).bind(name).bind(body).bind(now).bind(by).fetch_one(c).await)?;
        Ok((id, version))
    }

    pub async fn template_latest(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> Result<Option<ProcessTemplateRow>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, ProcessTemplateRow>(
            "SELECT * FROM process_templates WHERE implementation_id = $1 AND key = $2 ORDER BY version DESC LIMIT 1")
            .bind(implementation_id).bind(key).fetch_optional(c).await)?)
    }

    /// The latest version of every template, by name.
    pub async fn templates_latest(
        &mut self,
        implementation_id: i64,
    ) -> Result<Vec<ProcessTemplateRow>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, ProcessTemplateRow>(
            "SELECT t.* FROM process_templates t WHERE t.implementation_id = $1 AND t.version = (SELECT MAX(v.version) FROM process_templates v WHERE v.implementation_id = t.implementation_id AND v.key = t.key) ORDER BY t.name, t.key")
            .bind(implementation_id).fetch_all(c).await)?)
    }

    pub async fn template_versions(
        &mut self,
        implementation_id: i64,
        key: &str,
    ) -> Result<Vec<ProcessTemplateRow>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, ProcessTemplateRow>(
            "SELECT * FROM process_templates WHERE implementation_id = $1 AND key = $2 ORDER BY version DESC")
            .bind(implementation_id).bind(key).fetch_all(c).await)?)
    }

    // ---- access requests ----

    pub async fn request_create(
        &mut self,
        r: &NewAccessRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO access_requests (implementation_id, person_id, agency_id, requested_by, template_id, status, is_returning, access_level, responsibilities, note, status_reason, submitted_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, '', $10, $10) RETURNING id")
            .bind(r.implementation_id).bind(r.person_id).bind(r.agency_id).bind(r.requested_by).bind(r.template_id).bind(r.is_returning)
            .bind(r.access_level).bind(r.responsibilities).bind(r.note).bind(now).fetch_one(c).await)?)
    }

    pub async fn request_set_status(
        &mut self,
        id: i64,
        status: &str,
        reason: &str,
        now: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE access_requests SET status = $1, status_reason = $2, updated_at = $3, closed_at = $4 WHERE id = $5")
            .bind(status).bind(reason).bind(now).bind(closed_at).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn request_set_welcomed(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE access_requests SET welcomed_at = $1 WHERE id = $2").bind(now).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn request_touch(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        exec!(self, c => sqlx::query("UPDATE access_requests SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(c).await)?;
        Ok(())
    }

    pub async fn request_projects_set(&mut self, request_id: i64, projects: &[i64]) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM access_request_projects WHERE request_id = $1").bind(request_id).execute(c).await)?;
        for p in projects {
            exec!(self, c => sqlx::query("INSERT INTO access_request_projects (request_id, project_id) VALUES ($1, $2)").bind(request_id).bind(*p).execute(c).await)?;
        }
        Ok(())
    }

    pub async fn request_projects(&mut self, request_id: i64) -> Result<Vec<i64>> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT project_id FROM access_request_projects WHERE request_id = $1 ORDER BY project_id")
            .bind(request_id).fetch_all(c).await)?,
        )
    }

    /// Requests of a person, newest first.
    pub async fn requests_of_person(&mut self, person_id: i64) -> Result<Vec<AccessRequest>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, AccessRequest>("SELECT * FROM access_requests WHERE person_id = $1 ORDER BY submitted_at DESC, id DESC")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    // ---- steps ----

    pub async fn request_step_insert(&mut self, s: &RequestStep) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO request_steps (request_id, step_key, position, status, opened_at, done_at, done_by, note, due_at, sla_due_at, sla_breached_at, warned_at, reminded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
            .bind(s.request_id).bind(&s.step_key).bind(s.position).bind(&s.status).bind(s.opened_at).bind(s.done_at).bind(s.done_by).bind(&s.note)
            .bind(s.due_at).bind(s.sla_due_at).bind(s.sla_breached_at).bind(s.warned_at).bind(s.reminded_at).execute(c).await)?;
        Ok(())
    }

    /// Saves every changeable field of a step.
    pub async fn request_step_save(&mut self, s: &RequestStep) -> Result<()> {
        exec!(self, c => sqlx::query(
            "UPDATE request_steps SET status = $1, opened_at = $2, done_at = $3, done_by = $4, note = $5, due_at = $6, sla_due_at = $7, sla_breached_at = $8, warned_at = $9, reminded_at = $10 WHERE request_id = $11 AND step_key = $12")
            .bind(&s.status).bind(s.opened_at).bind(s.done_at).bind(s.done_by).bind(&s.note).bind(s.due_at).bind(s.sla_due_at)
            .bind(s.sla_breached_at).bind(s.warned_at).bind(s.reminded_at).bind(s.request_id).bind(&s.step_key).execute(c).await)?;
        Ok(())
    }

    /// Ids of open requests (of every implementation) that have an open step, for the sweep.
    pub async fn requests_with_open_steps(&mut self) -> Result<Vec<(i64, i64)>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, (i64, i64)>(
            "SELECT DISTINCT r.implementation_id, r.id FROM access_requests r JOIN request_steps s ON s.request_id = r.id WHERE r.status = 'open' AND s.status = 'open' ORDER BY r.id")
            .fetch_all(c).await)?)
    }

    // ---- messages ----

    pub async fn request_message_add(
        &mut self,
        request_id: i64,
        author_id: Option<i64>,
        author_label: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO request_messages (request_id, author_id, author_label, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(request_id).bind(author_id).bind(author_label).bind(body).bind(now).fetch_one(c).await)?)
    }

    pub async fn request_messages(&mut self, request_id: i64) -> Result<Vec<RequestMessage>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, RequestMessage>("SELECT * FROM request_messages WHERE request_id = $1 ORDER BY id")
            .bind(request_id).fetch_all(c).await)?,
        )
    }

    // ---- staff verification ----

    pub async fn staff_verification_add(
        &mut self,
        request_id: i64,
        person_id: i64,
        attested_by: i64,
        background_check_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO staff_verifications (request_id, person_id, attested_by, background_check_on, attested_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(request_id).bind(person_id).bind(attested_by).bind(background_check_on).bind(now).fetch_one(c).await)?)
    }

    pub async fn staff_verifications_of(
        &mut self,
        request_id: i64,
    ) -> Result<Vec<StaffVerification>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, StaffVerification>("SELECT * FROM staff_verifications WHERE request_id = $1 ORDER BY id")
            .bind(request_id).fetch_all(c).await)?,
        )
    }

    // ---- training history ----

    #[allow(clippy::too_many_arguments)]
    pub async fn training_record_add(
        &mut self,
        person_id: i64,
        kind: &str,
        step_key: &str,
        request_id: Option<i64>,
        completed_at: DateTime<Utc>,
        how: &str,
        note: &str,
    ) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO training_records (person_id, kind, step_key, request_id, completed_at, how, note) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(person_id).bind(kind).bind(step_key).bind(request_id).bind(completed_at).bind(how).bind(note).fetch_one(c).await)?)
    }

    pub async fn training_records_of(&mut self, person_id: i64) -> Result<Vec<TrainingRecord>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, TrainingRecord>("SELECT * FROM training_records WHERE person_id = $1 ORDER BY completed_at DESC, id DESC")
            .bind(person_id).fetch_all(c).await)?,
        )
    }
}

/// The reads of a request and its process that a tracker needs, on a [`Tx`] or a [`crate::Snapshot`].
pub trait AccessReads: Reads {
    fn template_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<ProcessTemplateRow>> + Send {
        async move {
            read_one!(
                self,
                ProcessTemplateRow,
                "SELECT * FROM process_templates WHERE id = $1 AND implementation_id = $2",
                id,
                implementation_id
            )
        }
    }

    fn request_get(
        &mut self,
        implementation_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<AccessRequest>> + Send {
        async move {
            read_one!(
                self,
                AccessRequest,
                "SELECT * FROM access_requests WHERE id = $1 AND implementation_id = $2",
                id,
                implementation_id
            )
        }
    }

    fn requests_list(
        &mut self,
        implementation_id: i64,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<AccessRequestSummary>>> + Send {
        async move {
            let mut f = Filter::new("r.implementation_id = ?", Arg::I64(implementation_id));
            if !filter.statuses.is_empty() {
                f.and_in("r.status", &filter.statuses, Arg::Text);
            }
            f.and_some("r.agency_id = ?", filter.agency_id, Arg::I64);
            if let Some(only) = &filter.only_agencies {
                f.and_in("r.agency_id", only, Arg::I64);
            }
            f.and_some("r.person_id = ?", filter.person_id, Arg::I64).and_some(
                "(LOWER(p.given_name || ' ' || p.family_name) LIKE ? ESCAPE '\\' OR LOWER(p.email) LIKE ? ESCAPE '\\')",
                filter.search.as_deref().map(like_pattern),
                Arg::Text,
            );
            if filter.sla_breached {
                f.and_raw("EXISTS (SELECT 1 FROM request_steps s WHERE s.request_id = r.id AND s.status = 'open' AND s.sla_breached_at IS NOT NULL)");
            }
            crate::query::page_counted(
                self,
                SUMMARY_SELECT,
                SUMMARY_FROM,
                "FROM access_requests r JOIN people p ON p.id = r.person_id",
                &f,
                "r.submitted_at, r.id",
                page,
            )
            .await
        }
    }

    fn request_steps(
        &mut self,
        request_id: i64,
    ) -> impl Future<Output = Result<Vec<RequestStep>>> + Send {
        async move {
            read_all!(
                self,
                RequestStep,
                "SELECT * FROM request_steps WHERE request_id = $1 ORDER BY position",
                request_id
            )
        }
    }
}

impl<R: Reads> AccessReads for R {}
