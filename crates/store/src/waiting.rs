//! Open steps of open requests, for the home pages: what waits for whom.

use crate::query::{Arg, Filter};
use crate::{Reads, Result, Tx};
use chrono::{DateTime, Utc};
use std::future::Future;

/// An open step of an open request, with the names a home page shows.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct OpenStep {
    pub request_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub template_id: i64,
    pub step_key: String,
    pub due_at: Option<DateTime<Utc>>,
    pub sla_due_at: Option<DateTime<Utc>>,
}

/// Whose requests' open steps to read.
#[derive(Debug, Clone)]
pub enum OpenStepsOf {
    /// Every request of the implementation.
    All,
    /// The requests of these agencies.
    Agencies(Vec<i64>),
    /// The requests for this person.
    Person(i64),
}

const SELECT: &str = "SELECT r.id AS request_id, r.person_id, p.given_name || ' ' || p.family_name AS person_name, r.agency_id, a.name AS agency_name, r.template_id, s.step_key, s.due_at, s.sla_due_at";
const FROM: &str = "FROM request_steps s JOIN access_requests r ON r.id = s.request_id JOIN people p ON p.id = r.person_id JOIN agencies a ON a.id = r.agency_id";

impl Tx {}

/// What waits for whom, on a [`Tx`] or a [`crate::Snapshot`].
pub trait WaitingReads: Reads {
    /// Open steps of the implementation's open requests, in the order the requests were
    /// submitted and then the order of their steps.
    fn open_steps(
        &mut self,
        implementation_id: i64,
        of: &OpenStepsOf,
    ) -> impl Future<Output = Result<Vec<OpenStep>>> + Send {
        async move {
            let mut f = Filter::new("r.implementation_id = ?", Arg::I64(implementation_id));
            f.and_raw("r.status = 'open' AND s.status = 'open'");
            match of {
                OpenStepsOf::All => {}
                OpenStepsOf::Agencies(ids) => {
                    f.and_in("r.agency_id", ids, Arg::I64);
                }
                OpenStepsOf::Person(id) => {
                    f.and("r.person_id = ?", Arg::I64(*id));
                }
            }
            crate::query::all_of(self, SELECT, FROM, &f, "r.submitted_at, r.id, s.position").await
        }
    }
}

impl<R: Reads> WaitingReads for R {}
