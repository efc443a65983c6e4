//! Training reports: how far the people of an implementation (or of one agency) have got
//! with each course.

use crate::{on_conn, Result, Tx};
use serde::Serialize;

/// One course's figures: the people it concerns and where they stand. Counts are of
/// people, so a person recorded as met without ever enrolling still counts as completed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct CourseProgressCounts {
    pub course_id: i64,
    /// Enrolled, or with a completion record for the course.
    pub people: i64,
    /// With a completion record for the course (completed, or recorded as met).
    pub completed: i64,
    /// Enrolled, not completed, and with some progress in a lesson.
    pub in_progress: i64,
}

/// `(p.agency_id = $2)` when an agency is named, true when the second parameter is negative.
const AGENCY: &str = "($2 < 0 OR p.agency_id = $2)";

impl Tx {
    /// Per course of an implementation, people enrolled or completed, completed and in
    /// progress; only the people of `agency_id` when it is given.
    pub async fn course_progress_counts(
        &mut self,
        implementation_id: i64,
        agency_id: Option<i64>,
    ) -> Result<Vec<CourseProgressCounts>> {
        let sql = format!(
            "SELECT c.id AS course_id, \
             (SELECT COUNT(*) FROM (SELECT e.person_id FROM enrolments e WHERE e.course_id = c.id \
                UNION SELECT x.person_id FROM completions x WHERE x.implementation_id = c.implementation_id AND x.item_kind = 'course' AND x.item_key = c.key) u \
                JOIN people p ON p.id = u.person_id WHERE {AGENCY}) AS people, \
             (SELECT COUNT(DISTINCT x.person_id) FROM completions x JOIN people p ON p.id = x.person_id \
                WHERE x.implementation_id = c.implementation_id AND x.item_kind = 'course' AND x.item_key = c.key AND {AGENCY}) AS completed, \
             (SELECT COUNT(*) FROM enrolments e JOIN people p ON p.id = e.person_id \
                WHERE e.course_id = c.id AND e.completed_at IS NULL AND {AGENCY} \
                AND EXISTS (SELECT 1 FROM lesson_progress lp WHERE lp.enrolment_id = e.id) \
                AND NOT EXISTS (SELECT 1 FROM completions x WHERE x.person_id = e.person_id AND x.item_kind = 'course' AND x.item_key = c.key)) AS in_progress \
             FROM courses c WHERE c.implementation_id = $1 ORDER BY c.id"
        );
        Ok(
            on_conn!(self, c => sqlx::query_as::<_, CourseProgressCounts>(&sql)
            .bind(implementation_id).bind(agency_id.unwrap_or(-1)).fetch_all(c).await)?,
        )
    }
}
