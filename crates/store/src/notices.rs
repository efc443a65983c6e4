//! Step notices: which turns of a request's steps their actors were told about, so that
//! each turn is announced once however often the engine runs.

use crate::{exec, on_conn, Result, Tx};
use chrono::{DateTime, Utc};

impl Tx {
    /// Records that a turn of a step was announced to `recipients` people. Returns false,
    /// and records nothing, when that turn was announced already.
    pub async fn step_notice_add(
        &mut self,
        request_id: i64,
        step_key: &str,
        turn: &str,
        recipients: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = exec!(self, c => sqlx::query("INSERT INTO step_notices (request_id, step_key, turn, recipients, sent_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, step_key, turn) DO NOTHING")
            .bind(request_id).bind(step_key).bind(turn).bind(recipients).bind(now).execute(c).await)?;
        Ok(n == 1)
    }

    /// The (step key, turn) pairs of a request that were announced.
    pub async fn step_notices_of(&mut self, request_id: i64) -> Result<Vec<(String, String)>> {
        Ok(on_conn!(self, c => sqlx::query_as::<_, (String, String)>(
            "SELECT step_key, turn FROM step_notices WHERE request_id = $1 ORDER BY sent_at, step_key, turn")
            .bind(request_id).fetch_all(c).await)?)
    }
}
