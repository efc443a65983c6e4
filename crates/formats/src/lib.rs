//! Pure readers and writers of the file formats Onramp exchanges.

pub mod certificate_pdf;
pub mod course_package;
pub mod csv_export;
pub mod markdown;
pub mod media;
pub mod process_template;
pub mod quiz;
