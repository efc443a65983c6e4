//! Agencies and their HUD projects.

use serde::{Deserialize, Serialize};

/// HUD project types (HMIS Data Standards 2.02.6), FY2024 list, unchanged in FY2026. Code 5 is unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HudProjectType {
    EmergencyShelterEntryExit,
    EmergencyShelterNightByNight,
    TransitionalHousing,
    PermanentSupportiveHousing,
    StreetOutreach,
    ServicesOnly,
    Other,
    SafeHaven,
    PhHousingOnly,
    PhHousingWithServices,
    DayShelter,
    HomelessnessPrevention,
    RapidReHousing,
    CoordinatedEntry,
}

impl HudProjectType {
    pub const ALL: [HudProjectType; 14] = [
        Self::EmergencyShelterEntryExit,
        Self::EmergencyShelterNightByNight,
        Self::TransitionalHousing,
        Self::PermanentSupportiveHousing,
        Self::StreetOutreach,
        Self::ServicesOnly,
        Self::Other,
        Self::SafeHaven,
        Self::PhHousingOnly,
        Self::PhHousingWithServices,
        Self::DayShelter,
        Self::HomelessnessPrevention,
        Self::RapidReHousing,
        Self::CoordinatedEntry,
    ];

    pub fn code(self) -> i32 {
        match self {
            Self::EmergencyShelterEntryExit => 0,
            Self::EmergencyShelterNightByNight => 1,
            Self::TransitionalHousing => 2,
            Self::PermanentSupportiveHousing => 3,
            Self::StreetOutreach => 4,
            Self::ServicesOnly => 6,
            Self::Other => 7,
            Self::SafeHaven => 8,
            Self::PhHousingOnly => 9,
            Self::PhHousingWithServices => 10,
            Self::DayShelter => 11,
            Self::HomelessnessPrevention => 12,
            Self::RapidReHousing => 13,
            Self::CoordinatedEntry => 14,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Parses a code given as text, as typed in a form or a CSV cell.
    pub fn parse(input: &str) -> Result<Self, String> {
        input
            .trim()
            .parse::<i32>()
            .ok()
            .and_then(Self::from_code)
            .ok_or_else(|| {
                format!(
                    "\u{201c}{}\u{201d} is not a HUD project type: use one of 0\u{2013}4 or 6\u{2013}14",
                    input.trim()
                )
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::EmergencyShelterEntryExit => "Emergency Shelter \u{2013} Entry Exit",
            Self::EmergencyShelterNightByNight => "Emergency Shelter \u{2013} Night-by-Night",
            Self::TransitionalHousing => "Transitional Housing",
            Self::PermanentSupportiveHousing => "PH \u{2013} Permanent Supportive Housing",
            Self::StreetOutreach => "Street Outreach",
            Self::ServicesOnly => "Services Only",
            Self::Other => "Other",
            Self::SafeHaven => "Safe Haven",
            Self::PhHousingOnly => "PH \u{2013} Housing Only",
            Self::PhHousingWithServices => {
                "PH \u{2013} Housing with Services (no disability required for entry)"
            }
            Self::DayShelter => "Day Shelter",
            Self::HomelessnessPrevention => "Homelessness Prevention",
            Self::RapidReHousing => "PH \u{2013} Rapid Re-Housing",
            Self::CoordinatedEntry => "Coordinated Entry",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Self::EmergencyShelterEntryExit => "ES-EE",
            Self::EmergencyShelterNightByNight => "ES-NbN",
            Self::TransitionalHousing => "TH",
            Self::PermanentSupportiveHousing => "PSH",
            Self::StreetOutreach => "SO",
            Self::ServicesOnly => "SSO",
            Self::Other => "Other",
            Self::SafeHaven => "SH",
            Self::PhHousingOnly => "PH-HO",
            Self::PhHousingWithServices => "PH-HwS",
            Self::DayShelter => "DS",
            Self::HomelessnessPrevention => "HP",
            Self::RapidReHousing => "RRH",
            Self::CoordinatedEntry => "CE",
        }
    }
}

/// Whether an agency takes part in the HMIS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl ParticipationStatus {
    pub const ALL: [ParticipationStatus; 4] = [
        Self::Participating,
        Self::Pending,
        Self::Suspended,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participating => "participating",
            Self::Pending => "pending",
            Self::Suspended => "suspended",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Participating => "Participating",
            Self::Pending => "Pending",
            Self::Suspended => "Suspended",
            Self::Withdrawn => "Withdrawn",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| "Choose a participation status".to_string())
    }
    /// Only participating agencies may have staff request HMIS access.
    pub fn may_request_access(self) -> bool {
        matches!(self, Self::Participating)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_type_codes_round_trip_and_skip_five() {
        for t in HudProjectType::ALL {
            assert_eq!(HudProjectType::from_code(t.code()), Some(t));
        }
        assert!(HudProjectType::from_code(5).is_none());
        assert!(HudProjectType::parse("5").is_err());
        assert_eq!(
            HudProjectType::parse(" 13 ").unwrap(),
            HudProjectType::RapidReHousing
        );
        assert!(HudProjectType::parse("x").is_err());
    }

    #[test]
    fn participation_status_parses_its_own_names() {
        for p in ParticipationStatus::ALL {
            assert_eq!(ParticipationStatus::parse(p.as_str()).unwrap(), p);
        }
        assert!(ParticipationStatus::parse("active").is_err());
    }
}
