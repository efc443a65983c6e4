//! Completion records, requirement rules, training plans and their waivers, and the funding
//! sources of projects that the rules read.

use crate::{exec, on_conn, read_all, read_optional, Reads, Result, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A quiz's key and title.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct QuizTitle {
    pub key: String,
    pub title: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct CompletionRecord {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub item_kind: String,
    pub item_key: String,
    pub item_version: Option<i32>,
    pub completed_at: DateTime<Utc>,
    pub evidence: String,
    pub recorded_by: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct NewCompletion<'a> {
    pub implementation_id: i64,
    pub person_id: i64,
    pub item_kind: &'a str,
    pub item_key: &'a str,
    pub item_version: Option<i32>,
    pub completed_at: DateTime<Utc>,
    pub evidence: &'a str,
    pub recorded_by: Option<i64>,
    pub reason: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RuleSetVersion {
    pub id: i64,
    pub implementation_id: i64,
    pub version: i32,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct TrainingPlan {
    pub id: i64,
    pub implementation_id: i64,
    pub person_id: i64,
    pub request_id: Option<i64>,
    pub version: i32,
    pub rules_version: i32,
    /// JSON of `PlanFacts`.
    pub facts: String,
    /// JSON of `PlanSpec`.
    pub spec: String,
    pub began_at: DateTime<Utc>,
    pub carry_over_days: i32,
    pub computed_at: DateTime<Utc>,
    pub reason: String,
    pub superseded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewPlan<'a> {
    pub implementation_id: i64,
    pub person_id: i64,
    pub request_id: Option<i64>,
    pub rules_version: i32,
    pub facts: &'a str,
    pub spec: &'a str,
    pub began_at: DateTime<Utc>,
    pub carry_over_days: i32,
    pub reason: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct PlanWaiver {
    pub plan_id: i64,
    pub item: String,
    pub reason: String,
    pub waived_by: i64,
    pub waived_at: DateTime<Utc>,
}

impl Tx {
    // ---- completions ----

    pub async fn completion_add(&mut self, c0: &NewCompletion<'_>) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO completions (implementation_id, person_id, item_kind, item_key, item_version, completed_at, evidence, recorded_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(c0.implementation_id).bind(c0.person_id).bind(c0.item_kind).bind(c0.item_key).bind(c0.item_version).bind(c0.completed_at).bind(c0.evidence).bind(c0.recorded_by).bind(c0.reason)
            .fetch_one(c).await)?)
    }

    // ---- requirement rules ----

    pub async fn rules_save(
        &mut self,
        implementation_id: i64,
        body: &str,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i32> {
        let version: i32 = on_conn!(self, c => sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM requirement_rules WHERE implementation_id = $1")
            .bind(implementation_id).fetch_one(c).await)?;
        exec!(self, c => sqlx::query(
            "INSERT INTO requirement_rules (implementation_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(implementation_id).bind(version).bind(body).bind(now).bind(by).execute(c).await)?;
        Ok(version)
    }

    /// The current rules of an implementation (the latest saved version).
    pub async fn rules_current(
        &mut self,
        implementation_id: i64,
    ) -> Result<Option<RuleSetVersion>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, RuleSetVersion>("SELECT * FROM requirement_rules WHERE implementation_id = $1 ORDER BY version DESC LIMIT 1")
            .bind(implementation_id).fetch_optional(c).await)?,
        )
    }

    pub async fn rules_versions(&mut self, implementation_id: i64) -> Result<Vec<RuleSetVersion>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, RuleSetVersion>("SELECT * FROM requirement_rules WHERE implementation_id = $1 ORDER BY version DESC")
            .bind(implementation_id).fetch_all(c).await)?,
        )
    }

    // ---- training plans ----

    /// Saves a new version of a person's plan; the one before is superseded.
    pub async fn plan_save(&mut self, p: &NewPlan<'_>, now: DateTime<Utc>) -> Result<TrainingPlan> {
        exec!(self, c => sqlx::query("UPDATE training_plans SET superseded_at = $2 WHERE person_id = $1 AND superseded_at IS NULL")
            .bind(p.person_id).bind(now).execute(c).await)?;
        let version: i32 = on_conn!(self, c => sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM training_plans WHERE person_id = $1")
            .bind(p.person_id).fetch_one(c).await)?;
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingPlan>(
            "INSERT INTO training_plans (implementation_id, person_id, request_id, version, rules_version, facts, spec, began_at, carry_over_days, computed_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *")
            .bind(p.implementation_id).bind(p.person_id).bind(p.request_id).bind(version).bind(p.rules_version).bind(p.facts).bind(p.spec).bind(p.began_at).bind(p.carry_over_days).bind(now).bind(p.reason)
            .fetch_one(c).await)?)
    }

    /// Every version of a person's plan, latest first.
    pub async fn plan_history(&mut self, person_id: i64) -> Result<Vec<TrainingPlan>> {
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, TrainingPlan>("SELECT * FROM training_plans WHERE person_id = $1 ORDER BY version DESC")
            .bind(person_id).fetch_all(c).await)?,
        )
    }

    /// Current plans of people in some agencies (or all, with `None`), with the person id.
    pub async fn plans_current_of_agencies(
        &mut self,
        implementation_id: i64,
        agencies: Option<&[i64]>,
    ) -> Result<Vec<TrainingPlan>> {
        match agencies {
            None => Ok(
                on_conn!(self, c => sqlx::query_as::<_, TrainingPlan>("SELECT * FROM training_plans WHERE implementation_id = $1 AND superseded_at IS NULL ORDER BY person_id")
                .bind(implementation_id).fetch_all(c).await)?,
            ),
            Some(list) => {
                let mut out = Vec::new();
                for a in list {
                    let mut rows = on_conn!(self, c => sqlx::query_as::<_, TrainingPlan>("SELECT t.* FROM training_plans t JOIN people p ON p.id = t.person_id WHERE t.implementation_id = $1 AND t.superseded_at IS NULL AND p.agency_id = $2 ORDER BY t.person_id")
                        .bind(implementation_id).bind(a).fetch_all(c).await)?;
                    out.append(&mut rows);
                }
                Ok(out)
            }
        }
    }

    pub async fn plan_waive(
        &mut self,
        plan_id: i64,
        item: &str,
        reason: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        exec!(self, c => sqlx::query(
            "INSERT INTO plan_waivers (plan_id, item, reason, waived_by, waived_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plan_id, item) DO UPDATE SET reason = excluded.reason, waived_by = excluded.waived_by, waived_at = excluded.waived_at")
            .bind(plan_id).bind(item).bind(reason).bind(by).bind(now).execute(c).await)?;
        Ok(())
    }

    // ---- project funders ----

    pub async fn project_funders_set(&mut self, project_id: i64, sources: &[i32]) -> Result<()> {
        exec!(self, c => sqlx::query("DELETE FROM project_funders WHERE project_id = $1").bind(project_id).execute(c).await)?;
        for s in sources {
            exec!(self, c => sqlx::query("INSERT INTO project_funders (project_id, funding_source) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(project_id).bind(s).execute(c).await)?;
        }
        Ok(())
    }

    pub async fn project_funders(&mut self, project_id: i64) -> Result<Vec<i32>> {
        Ok(
            on_conn!(self, c => sqlx::query_scalar("SELECT funding_source FROM project_funders WHERE project_id = $1 ORDER BY funding_source")
            .bind(project_id).fetch_all(c).await)?,
        )
    }
}

/// The reads of a person's plan, on a [`Tx`] or a [`crate::Snapshot`].
pub trait PlanReads: Reads {
    /// A person's completions, latest first.
    fn completions_of(
        &mut self,
        person_id: i64,
    ) -> impl Future<Output = Result<Vec<CompletionRecord>>> + Send {
        async move {
            read_all!(self, CompletionRecord, "SELECT * FROM completions WHERE person_id = $1 ORDER BY completed_at DESC, id DESC", person_id)
        }
    }

    /// A person's current plan.
    fn plan_current(
        &mut self,
        person_id: i64,
    ) -> impl Future<Output = Result<Option<TrainingPlan>>> + Send {
        async move {
            read_optional!(
                self,
                TrainingPlan,
                "SELECT * FROM training_plans WHERE person_id = $1 AND superseded_at IS NULL",
                person_id
            )
        }
    }

    fn plan_waivers(
        &mut self,
        plan_id: i64,
    ) -> impl Future<Output = Result<Vec<PlanWaiver>>> + Send {
        async move {
            read_all!(
                self,
                PlanWaiver,
                "SELECT * FROM plan_waivers WHERE plan_id = $1",
                plan_id
            )
        }
    }

    /// The titles of an implementation's quizzes, for the plan to name its quiz items.
    fn quiz_titles(
        &mut self,
        implementation_id: i64,
    ) -> impl Future<Output = Result<Vec<QuizTitle>>> + Send {
        async move {
            read_all!(
                self,
                QuizTitle,
                "SELECT key, title FROM quizzes WHERE implementation_id = $1",
                implementation_id
            )
        }
    }
}

impl<R: Reads> PlanReads for R {}
