//! Onramp's domain: the words of the product as types, and the rules over them.
//!
//! Nothing here does IO or is async. Values are parsed at the edges ("parse, don't
//! validate"): once a [`Email`] or a [`CocCode`] exists, it is valid.

pub mod agreement;
pub mod audit;
pub mod authz;
pub mod clock;
pub mod hmis_account;
pub mod learning;
pub mod links;
pub mod organisation;
pub mod password;
pub mod process;
pub mod request;
pub mod role;
pub mod standing;
pub mod username;
pub mod values;
pub mod webhook;

pub use organisation::{HudProjectType, ParticipationStatus};
pub use role::{AgencyRole, ImplementationRole, Role};
pub use values::{CocCode, Email, FieldError, Slug};
