//! Question banks in the formats Leads already keep them in.

pub mod gift;
