//! Schemas of the API's small values, built from the domain's own limits
//! (`onramp_domain::values`), so that the document states exactly what the services accept.
//! Fields use them with `#[schema(value_type = …)]`; each appears once under
//! `components/schemas`.

use onramp_domain::process::{StepKind, StepStatus};
use onramp_domain::request::RequestStatus;
use onramp_domain::values::{
    EMAIL_MAX, EMAIL_PATTERN, ORGANISATION_NAME_MAX, PERSON_NAME_MAX, REQUEST_NOTE_MAX,
    REQUIRED_TEXT_PATTERN, SLUG_MAX,
};
use onramp_domain::{AgencyRole, HudProjectType, ImplementationRole};
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

fn required_text(max: usize, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(REQUIRED_TEXT_PATTERN))
        .description(Some(format!(
            "{description} 1 to {max} characters, not only white space, without control characters (line breaks, tabs); leading and trailing spaces are removed."
        )))
        .into()
}

macro_rules! value_schema {
    ($name:ident, $doc:literal, $schema:expr) => {
        #[doc = $doc]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

value_schema!(
    PersonName,
    "A given or family name.",
    required_text(PERSON_NAME_MAX, "A given or family name:")
);

value_schema!(
    OrganisationName,
    "The name of an agency or a project.",
    required_text(ORGANISATION_NAME_MAX, "A name:")
);

value_schema!(
    EmailAddress,
    "An email address.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(EMAIL_MAX))
        .pattern(Some(EMAIL_PATTERN))
        .description(Some(format!(
            "An email address: a dot-atom before the `@` (at most 64 characters), a domain of two or more labels (letters, digits, inner hyphens; at most 63 characters each), at most {EMAIL_MAX} characters in all. Letter case does not matter: it is stored in lower case."
        )))
        .examples([serde_json::json!("sam.ortiz@harbor.example.org")])
        .into()
);

value_schema!(
    RequestNote,
    "A free-text note.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(REQUEST_NOTE_MAX))
        .description(Some(format!(
            "Free text for the HMIS Lead, at most {REQUEST_NOTE_MAX} characters; leading and trailing spaces are removed."
        )))
        .into()
);

value_schema!(
    HudProjectTypeCode,
    "A HUD project type code.",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .enum_values(Some(HudProjectType::ALL.iter().map(|t| t.code())))
        .description(Some(format!(
            "HUD project type code (HMIS Data Standards 2.02.6): {}.",
            HudProjectType::ALL
                .iter()
                .map(|t| format!("{} {}", t.code(), t.label()))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .examples([serde_json::json!(13)])
        .into()
);

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(str::to_string)))
        .description(Some(description.to_string()))
        .into()
}

value_schema!(
    RequestStatusName,
    "The status of an access request.",
    string_enum(
        RequestStatus::ALL.iter().map(|s| s.as_str()),
        "open (in progress), on_hold, completed, withdrawn, rejected or expired."
    )
);

value_schema!(
    StepStatusName,
    "The status of a step of an access request.",
    string_enum(
        [
            StepStatus::Waiting,
            StepStatus::Open,
            StepStatus::Done,
            StepStatus::Met,
            StepStatus::NotApplicable,
        ]
        .iter()
        .map(|s| s.as_str()),
        "waiting (for earlier steps), open (ready for its actor), done, met (recorded as met, or carried over) or not_applicable."
    )
);

value_schema!(
    StepKindName,
    "The kind of a step of an access request.",
    string_enum(
        StepKind::ALL.iter().map(|k| k.as_str()),
        "What the step is: a Lead review, staff verification, agreement signing, training, provisioning…"
    )
);

value_schema!(
    HeldRoleName,
    "A role a person holds, across the implementation or in an agency.",
    string_enum(
        ImplementationRole::ALL
            .iter()
            .map(|r| r.as_str())
            .chain(AgencyRole::ALL.iter().map(|r| r.as_str())),
        "An implementation role (lead_admin, training_coordinator, proctor, auditor) or an agency role (executive_director, agency_administrator, security_officer, supervisor)."
    )
);

/// What a catalogue code may hold (the domain's `Slug`, already lower case).
pub const CATALOGUE_CODE_PATTERN: &str = "^[a-z0-9_-]+$";

value_schema!(
    CatalogueCode,
    "The code of a catalogue entry (an access level, a responsibility).",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(SLUG_MAX))
        .pattern(Some(CATALOGUE_CODE_PATTERN))
        .description(Some(format!(
            "A catalogue code: 1 to {SLUG_MAX} lower-case letters, digits, hyphens and underscores, e.g. end_user. The codes in use are listed by /api/v1/access-levels and /api/v1/responsibilities."
        )))
        .into()
);

value_schema!(
    RecordId,
    "The id of a stored record.",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .description(Some("The id of a stored record (ids start at 1)."))
        .into()
);
