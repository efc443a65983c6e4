//! An implementation's course catalogue, read once for each change of its courses: every
//! trainee's plan page needs every course (titles, prerequisites), and courses change
//! rarely.

use crate::AppResult;
use onramp_store::learning::courses::Course;
use onramp_store::reads::*;
use onramp_store::Reads;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// An implementation's courses, by key.
pub type Courses = BTreeMap<String, Course>;

/// The latest catalogue read of each implementation, with its `catalogue_version`.
#[derive(Default)]
pub struct CourseCatalogues(RwLock<HashMap<i64, (i64, Arc<Courses>)>>);

impl CourseCatalogues {
    /// The implementation's courses as `r` sees them. `r` must read committed data (a
    /// snapshot or a reading transaction), never a writing transaction's own changes:
    /// what is kept here is shared by every request.
    pub async fn courses<R: Reads>(
        &self,
        r: &mut R,
        implementation_id: i64,
    ) -> AppResult<Arc<Courses>> {
        let version = r.catalogue_version(implementation_id).await?;
        let kept = self.0.read().ok().and_then(|m| {
            m.get(&implementation_id)
                .filter(|(v, _)| *v == version)
                .map(|(_, c)| c.clone())
        });
        if let Some(courses) = kept {
            return Ok(courses);
        }
        let courses = Arc::new(by_key(r.courses(implementation_id).await?));
        if let Ok(mut m) = self.0.write() {
            // An older snapshot never replaces a newer catalogue.
            if m.get(&implementation_id).is_none_or(|(v, _)| *v < version) {
                m.insert(implementation_id, (version, courses.clone()));
            }
        }
        Ok(courses)
    }
}

/// Courses by key.
pub fn by_key(courses: Vec<Course>) -> Courses {
    courses.into_iter().map(|c| (c.key.clone(), c)).collect()
}
