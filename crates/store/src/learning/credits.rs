//! Training credits: each agency's balance, the movements of its ledger, and the charges
//! to invoice when a paid course is assigned with no credit left.
//!
//! The balance lives in one row per agency. A draw takes from it with a conditional update
//! (`balance = balance - n WHERE balance >= n`) inside the caller's transaction and reads
//! back whether a row changed: on SQLite writers are serialised, on PostgreSQL the update
//! locks the row and re-checks the condition after a concurrent draw commits, so the
//! balance never goes below zero on either.

use crate::{exec, on_conn, Result, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One movement of an agency's ledger, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct CreditMovement {
    pub id: i64,
    pub implementation_id: i64,
    pub agency_id: i64,
    /// `granted`, `bought`, `drawn` or `refunded` (`onramp_domain::learning::credits::MovementKind`).
    pub kind: String,
    /// The signed change to the balance.
    pub credits: i64,
    pub balance_after: i64,
    pub amount_cents: Option<i64>,
    pub reference: String,
    pub reason: String,
    pub person_id: Option<i64>,
    pub course_id: Option<i64>,
    pub request_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A movement with the names a page shows.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CreditMovementLine {
    pub id: i64,
    pub kind: String,
    pub credits: i64,
    pub balance_after: i64,
    pub amount_cents: Option<i64>,
    pub reference: String,
    pub reason: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub course_title: Option<String>,
    pub request_id: Option<i64>,
    pub recorded_by_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A movement to record. `credits` is how many move (never negative): whether they add or
/// take follows from the method called.
#[derive(Debug, Clone)]
pub struct NewMovement<'a> {
    pub implementation_id: i64,
    pub agency_id: i64,
    pub kind: &'a str,
    pub credits: i64,
    pub amount_cents: Option<i64>,
    pub reference: &'a str,
    pub reason: &'a str,
    pub person_id: Option<i64>,
    pub course_id: Option<i64>,
    pub request_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct TrainingCharge {
    pub id: i64,
    pub implementation_id: i64,
    pub agency_id: i64,
    pub person_id: i64,
    pub course_id: i64,
    pub request_id: Option<i64>,
    pub amount_cents: i64,
    /// `open` or `cancelled`.
    pub status: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_reason: Option<String>,
}

/// A charge with the names a page shows.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TrainingChargeLine {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub course_title: String,
    pub request_id: Option<i64>,
    pub amount_cents: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCharge<'a> {
    pub implementation_id: i64,
    pub agency_id: i64,
    pub person_id: i64,
    pub course_id: i64,
    pub request_id: Option<i64>,
    pub amount_cents: i64,
    pub reason: &'a str,
    pub at: DateTime<Utc>,
}

/// An agency's balance, for the Lead's overview.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AgencyBalance {
    pub agency_id: i64,
    pub balance: i64,
}

const LINE_SELECT: &str = "SELECT m.id, m.kind, m.credits, m.balance_after, m.amount_cents, m.reference, m.reason, m.person_id, \
     p.given_name || ' ' || p.family_name AS person_name, c.title AS course_title, m.request_id, \
     b.given_name || ' ' || b.family_name AS recorded_by_name, m.at \
     FROM training_credit_movements m \
     LEFT JOIN people p ON p.id = m.person_id \
     LEFT JOIN courses c ON c.id = m.course_id \
     LEFT JOIN people b ON b.id = m.recorded_by";

impl Tx {
    async fn movement_insert(
        &mut self,
        m: &NewMovement<'_>,
        signed: i64,
        balance_after: i64,
    ) -> Result<CreditMovement> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, CreditMovement>(
            "INSERT INTO training_credit_movements (implementation_id, agency_id, kind, credits, balance_after, amount_cents, reference, reason, person_id, course_id, request_id, recorded_by, at, round) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
               CASE $3 WHEN 'drawn' THEN 1 + (SELECT COUNT(*) FROM training_credit_movements x WHERE x.kind = 'refunded' AND x.request_id = $11 AND x.person_id = $9 AND x.course_id = $10) \
                       WHEN 'refunded' THEN (SELECT COUNT(*) FROM training_credit_movements x WHERE x.kind = 'drawn' AND x.request_id = $11 AND x.person_id = $9 AND x.course_id = $10) \
                       ELSE 1 END) RETURNING *")
            .bind(m.implementation_id).bind(m.agency_id).bind(m.kind).bind(signed).bind(balance_after)
            .bind(m.amount_cents).bind(m.reference).bind(m.reason).bind(m.person_id).bind(m.course_id)
            .bind(m.request_id).bind(m.recorded_by).bind(m.at)
            .fetch_one(c).await)?)
    }

    /// Adds credits to an agency's balance (a grant, a purchase or a refund) and records the
    /// movement. A second refund of the same draw is a `Conflict`.
    pub async fn credit_add(&mut self, m: &NewMovement<'_>) -> Result<CreditMovement> {
        if m.credits < 0 {
            return Err(StoreError::Corrupt(
                "credits to add must not be negative".into(),
            ));
        }
        let balance: i64 = on_conn!(self, c => sqlx::query_scalar(
            "INSERT INTO training_credit_balances (agency_id, implementation_id, balance, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agency_id) DO UPDATE SET balance = training_credit_balances.balance + excluded.balance, updated_at = excluded.updated_at \
             RETURNING balance")
            .bind(m.agency_id).bind(m.implementation_id).bind(m.credits).bind(m.at)
            .fetch_one(c).await)?;
        self.movement_insert(m, m.credits, balance).await
    }

    /// Takes credits from an agency's balance if it holds that many, and records the
    /// movement; None (and nothing written) when it does not. Safe under concurrent draws.
    pub async fn credit_take(&mut self, m: &NewMovement<'_>) -> Result<Option<CreditMovement>> {
        if m.credits < 0 {
            return Err(StoreError::Corrupt(
                "credits to take must not be negative".into(),
            ));
        }
        let balance: Option<i64> = on_conn!(self, c => sqlx::query_scalar(
            "UPDATE training_credit_balances SET balance = balance - $1, updated_at = $3 \
             WHERE agency_id = $2 AND balance >= $1 RETURNING balance")
            .bind(m.credits).bind(m.agency_id).bind(m.at)
            .fetch_optional(c).await)?;
        match balance {
            None => Ok(None),
            Some(b) => Ok(Some(self.movement_insert(m, -m.credits, b).await?)),
        }
    }

    /// An agency's balance (0 before its first movement).
    pub async fn credit_balance(&mut self, agency_id: i64) -> Result<i64> {
        let b: Option<i64> = on_conn!(self, c => sqlx::query_scalar(
            "SELECT balance FROM training_credit_balances WHERE agency_id = $1")
            .bind(agency_id).fetch_optional(c).await)?;
        Ok(b.unwrap_or(0))
    }

    /// The balances of an implementation's agencies that have a ledger.
    pub async fn credit_balances(&mut self, implementation_id: i64) -> Result<Vec<AgencyBalance>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, AgencyBalance>(
            "SELECT agency_id, balance FROM training_credit_balances WHERE implementation_id = $1 ORDER BY agency_id")
            .bind(implementation_id).fetch_all(c).await)?)
    }

    /// The sum of every movement of an agency's ledger (equal to its balance).
    pub async fn credit_ledger_sum(&mut self, agency_id: i64) -> Result<i64> {
        Ok(on_conn!(self, c => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM training_credit_movements WHERE agency_id = $1")
            .bind(agency_id).fetch_one(c).await)?)
    }

    /// An agency's movements, newest first (at most `limit`).
    pub async fn credit_movements(
        &mut self,
        agency_id: i64,
        limit: i64,
    ) -> Result<Vec<CreditMovementLine>> {
        let sql = format!("{LINE_SELECT} WHERE m.agency_id = $1 ORDER BY m.id DESC LIMIT $2");
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, CreditMovementLine>(&sql)
            .bind(agency_id).bind(limit).fetch_all(c).await)?,
        )
    }

    /// The person's course's draw on a request that has not been refunded, if any: whether
    /// the course is paid for with a credit.
    pub async fn credit_draw_live(
        &mut self,
        request_id: i64,
        person_id: i64,
        course_id: i64,
    ) -> Result<Option<CreditMovement>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, CreditMovement>(
            "SELECT m.* FROM training_credit_movements m WHERE m.kind = 'drawn' AND m.request_id = $1 AND m.person_id = $2 AND m.course_id = $3 \
             AND NOT EXISTS (SELECT 1 FROM training_credit_movements r WHERE r.kind = 'refunded' \
               AND r.request_id = m.request_id AND r.person_id = m.person_id AND r.course_id = m.course_id AND r.round = m.round)")
            .bind(request_id).bind(person_id).bind(course_id).fetch_optional(c).await)?)
    }

    /// The credits drawn for a request and not refunded yet.
    pub async fn credit_draws_unrefunded(
        &mut self,
        request_id: i64,
    ) -> Result<Vec<CreditMovement>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, CreditMovement>(
            "SELECT m.* FROM training_credit_movements m WHERE m.request_id = $1 AND m.kind = 'drawn' \
             AND NOT EXISTS (SELECT 1 FROM training_credit_movements r WHERE r.kind = 'refunded' \
               AND r.request_id = m.request_id AND r.person_id = m.person_id AND r.course_id = m.course_id AND r.round = m.round) \
             ORDER BY m.id")
            .bind(request_id).fetch_all(c).await)?)
    }

    // ---- charges ----

    /// Records a charge, unless the person's course on that request has one already: then
    /// nothing is written and None comes back.
    pub async fn charge_insert(&mut self, ch: &NewCharge<'_>) -> Result<Option<TrainingCharge>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingCharge>(
            "INSERT INTO training_charges (implementation_id, agency_id, person_id, course_id, request_id, amount_cents, status, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) \
             ON CONFLICT (request_id, person_id, course_id) DO NOTHING RETURNING *")
            .bind(ch.implementation_id).bind(ch.agency_id).bind(ch.person_id).bind(ch.course_id)
            .bind(ch.request_id).bind(ch.amount_cents).bind(ch.reason).bind(ch.at)
            .fetch_optional(c).await)?)
    }

    /// Opens a cancelled charge again (its course assigned again on the same request), with
    /// the new reason and time. None when it is not cancelled.
    pub async fn charge_reopen(
        &mut self,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TrainingCharge>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingCharge>(
            "UPDATE training_charges SET status = 'open', reason = $2, created_at = $3, cancelled_at = NULL, cancelled_reason = NULL \
             WHERE id = $1 AND status = 'cancelled' RETURNING *")
            .bind(id).bind(reason).bind(now).fetch_optional(c).await)?)
    }

    /// The charge for a person's course on a request, if any.
    pub async fn charge_of(
        &mut self,
        request_id: i64,
        person_id: i64,
        course_id: i64,
    ) -> Result<Option<TrainingCharge>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingCharge>(
            "SELECT * FROM training_charges WHERE request_id = $1 AND person_id = $2 AND course_id = $3")
            .bind(request_id).bind(person_id).bind(course_id).fetch_optional(c).await)?)
    }

    /// A request's open charges.
    pub async fn charges_open_of_request(
        &mut self,
        request_id: i64,
    ) -> Result<Vec<TrainingCharge>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingCharge>(
            "SELECT * FROM training_charges WHERE request_id = $1 AND status = 'open' ORDER BY id")
            .bind(request_id).fetch_all(c).await)?)
    }

    /// Cancels an open charge; false when it was not open.
    pub async fn charge_cancel(
        &mut self,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query(
            "UPDATE training_charges SET status = 'cancelled', cancelled_at = $2, cancelled_reason = $3 WHERE id = $1 AND status = 'open'")
            .bind(id).bind(now).bind(reason).execute(c).await)?;
        Ok(n == 1)
    }

    /// An agency's charges, open ones first, newest first within each.
    pub async fn charges_of_agency(&mut self, agency_id: i64) -> Result<Vec<TrainingChargeLine>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, TrainingChargeLine>(
            "SELECT t.id, t.person_id, p.given_name || ' ' || p.family_name AS person_name, c.title AS course_title, \
             t.request_id, t.amount_cents, t.status, t.created_at, t.cancelled_reason \
             FROM training_charges t JOIN people p ON p.id = t.person_id JOIN courses c ON c.id = t.course_id \
             WHERE t.agency_id = $1 ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, t.id DESC")
            .bind(agency_id).fetch_all(c).await)?)
    }

    /// How many charges of an agency are open, and their total in cents.
    pub async fn charges_open_total(&mut self, agency_id: i64) -> Result<(i64, i64)> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, (i64, i64)>(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM training_charges WHERE agency_id = $1 AND status = 'open'")
            .bind(agency_id).fetch_one(c).await)?)
    }
}
