//! One error type for every service, mapped by the web layer to safe responses.

use onramp_domain::FieldError;
use onramp_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the sign-in is no longer valid.
    #[error("sign in to continue")]
    Unauthenticated,
    /// Signed in, but not allowed. Also used for things outside the actor's scope.
    #[error("you do not have permission to do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Input problems, each tied to a field.
    #[error("the input has problems")]
    Invalid(Vec<FieldError>),
    /// The request conflicts with what is stored (e.g. a duplicate name).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again later.
    #[error("too many attempts: try again in a few minutes")]
    RateLimited,
    #[error("internal error")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            // The constraint's name is for the log; the person reads what already exists.
            StoreError::Conflict(detail) => {
                tracing::info!(constraint = %detail, "uniqueness conflict");
                AppError::Conflict(onramp_store::conflict_message(&detail).to_string())
            }
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Internal(other.to_string())
            }
        }
    }
}

/// Collects field errors while parsing a form.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn check_str<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        self.check(r.map_err(|m| FieldError::new(field, m)))
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
