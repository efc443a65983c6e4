//! The API's names for roles and statuses: mirrors of the domain's enums with OpenAPI
//! schemas (the domain stays free of API concerns). The matches are exhaustive, so a new
//! domain variant fails to compile until the API names it.

use onramp_domain::{AgencyRole, ImplementationRole, Role};
use serde::Serialize;
use utoipa::ToSchema;

/// A product role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    LeadAdmin,
    TrainingCoordinator,
    Proctor,
    AgencyAdministrator,
    ExecutiveDirector,
    Trainee,
    Auditor,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::LeadAdmin => Self::LeadAdmin,
            Role::TrainingCoordinator => Self::TrainingCoordinator,
            Role::Proctor => Self::Proctor,
            Role::AgencyAdministrator => Self::AgencyAdministrator,
            Role::ExecutiveDirector => Self::ExecutiveDirector,
            Role::Trainee => Self::Trainee,
            Role::Auditor => Self::Auditor,
        }
    }
}

/// A role held across the whole implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImplementationRoleName {
    LeadAdmin,
    TrainingCoordinator,
    Proctor,
    Auditor,
}

impl From<ImplementationRole> for ImplementationRoleName {
    fn from(r: ImplementationRole) -> Self {
        match r {
            ImplementationRole::LeadAdmin => Self::LeadAdmin,
            ImplementationRole::TrainingCoordinator => Self::TrainingCoordinator,
            ImplementationRole::Proctor => Self::Proctor,
            ImplementationRole::Auditor => Self::Auditor,
        }
    }
}

/// A role within one agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgencyRoleName {
    ExecutiveDirector,
    AgencyAdministrator,
    SecurityOfficer,
    Supervisor,
}

impl From<AgencyRole> for AgencyRoleName {
    fn from(r: AgencyRole) -> Self {
        match r {
            AgencyRole::ExecutiveDirector => Self::ExecutiveDirector,
            AgencyRole::AgencyAdministrator => Self::AgencyAdministrator,
            AgencyRole::SecurityOfficer => Self::SecurityOfficer,
            AgencyRole::Supervisor => Self::Supervisor,
        }
    }
}

/// A role held in one agency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyRoleGrant {
    pub agency_id: i64,
    pub role: AgencyRoleName,
}

/// Whether an agency takes part in the HMIS (documentation of the accepted values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationStatus {
    /// Signed the participation agreement and enters data.
    Participating,
    /// Joining: agreement not yet in force.
    Pending,
    /// Access paused by the HMIS Lead.
    Suspended,
    /// No longer takes part.
    Withdrawn,
}

impl From<onramp_domain::ParticipationStatus> for ParticipationStatus {
    fn from(s: onramp_domain::ParticipationStatus) -> Self {
        use onramp_domain::ParticipationStatus as P;
        match s {
            P::Participating => Self::Participating,
            P::Pending => Self::Pending,
            P::Suspended => Self::Suspended,
            P::Withdrawn => Self::Withdrawn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The API's names are the domain's stored names.
    #[test]
    fn names_match_the_domain() {
        for r in Role::ALL {
            assert_eq!(name(RoleName::from(r)), r.as_str());
        }
        for r in ImplementationRole::ALL {
            assert_eq!(name(ImplementationRoleName::from(r)), r.as_str());
        }
        for r in AgencyRole::ALL {
            assert_eq!(name(AgencyRoleName::from(r)), r.as_str());
        }
        for s in onramp_domain::ParticipationStatus::ALL {
            assert_eq!(name(ParticipationStatus::from(s)), s.as_str());
        }
    }
}
