//! Who someone is in an implementation.

use serde::{Deserialize, Serialize};

/// Roles held across a whole implementation (granted by a Lead admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ImplementationRole {
    LeadAdmin,
    TrainingCoordinator,
    Proctor,
    Auditor,
}

impl ImplementationRole {
    pub const ALL: [ImplementationRole; 4] = [
        Self::LeadAdmin,
        Self::TrainingCoordinator,
        Self::Proctor,
        Self::Auditor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadAdmin => "lead_admin",
            Self::TrainingCoordinator => "training_coordinator",
            Self::Proctor => "proctor",
            Self::Auditor => "auditor",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::LeadAdmin => "Lead admin",
            Self::TrainingCoordinator => "Training coordinator",
            Self::Proctor => "Proctor",
            Self::Auditor => "Auditor (read-only)",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("\u{201c}{}\u{201d} is not an implementation role", s.trim()))
    }
}

/// A person's role in one agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AgencyRole {
    ExecutiveDirector,
    AgencyAdministrator,
    SecurityOfficer,
    Supervisor,
}

impl AgencyRole {
    pub const ALL: [AgencyRole; 4] = [
        Self::ExecutiveDirector,
        Self::AgencyAdministrator,
        Self::SecurityOfficer,
        Self::Supervisor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExecutiveDirector => "executive_director",
            Self::AgencyAdministrator => "agency_administrator",
            Self::SecurityOfficer => "security_officer",
            Self::Supervisor => "supervisor",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::ExecutiveDirector => "Executive director",
            Self::AgencyAdministrator => "Agency administrator",
            Self::SecurityOfficer => "Security officer",
            Self::Supervisor => "Supervisor",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("\u{201c}{}\u{201d} is not an agency role", s.trim()))
    }
}

/// The roles the product speaks of, as a person sees them in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    LeadAdmin,
    TrainingCoordinator,
    Proctor,
    AgencyAdministrator,
    ExecutiveDirector,
    Trainee,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::LeadAdmin,
        Self::TrainingCoordinator,
        Self::Proctor,
        Self::AgencyAdministrator,
        Self::ExecutiveDirector,
        Self::Trainee,
        Self::Auditor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadAdmin => "lead_admin",
            Self::TrainingCoordinator => "training_coordinator",
            Self::Proctor => "proctor",
            Self::AgencyAdministrator => "agency_administrator",
            Self::ExecutiveDirector => "executive_director",
            Self::Trainee => "trainee",
            Self::Auditor => "auditor",
        }
    }
}
