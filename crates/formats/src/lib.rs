//! Pure readers and writers of the file formats Onramp exchanges.

pub mod certificate_pdf;
pub mod csv_export;
pub mod markdown;
pub mod process_template;
