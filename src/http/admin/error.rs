//! The admin API's one error type and its one JSON shape.
//!
//! Every handler returns `Result<_, AppError>`. What the caller did wrong
//! is told to them (`400`/`401`/`403`/`404`/`409`/`422`); what went wrong
//! on our side is logged with its cause and answered with a bare
//! `internal` / `unavailable`, never the database's message.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use crate::storage::StorageError;
use crate::storage::admin::calendar::ChangeError;
use crate::storage::booking::BookingError;

/// What every error response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: bad_request, unauthorized, forbidden, not_found,
    /// method_not_allowed, rate_limited, conflict, invalid, unavailable, internal.
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// Why a request failed.
#[derive(Debug, Error)]
pub enum AppError {
    /// The request could not be read (malformed JSON, path or query).
    #[error("{0}")]
    BadRequest(String),
    /// No valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token may not do this (a platform token on a tenant's data, or
    /// the reverse).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing for this token's tenant.
    #[error("not found")]
    NotFound,
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Too many failed bearer attempts from this address.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    TooManyFailures { retry_after_secs: u64 },
    /// The request clashes with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The values are not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database could not be reached.
    #[error("service unavailable")]
    Unavailable(#[source] StorageError),
    /// Our fault; logged, never sent.
    #[error("internal error")]
    Internal(#[source] StorageError),
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::TooManyFailures { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// An invalid-input error.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(message.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        match &self {
            AppError::Internal(e) => tracing::error!(error = %e, "admin API request failed"),
            AppError::Unavailable(e) => {
                tracing::warn!(error = %e, "admin API: database unavailable")
            }
            _ => {
                tracing::debug!(status = status.as_u16(), error = %self, "admin API request refused")
            }
        }
        let body = ErrorBody {
            error: code.to_owned(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyFailures { retry_after_secs } = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::UnknownTenant(_) => AppError::NotFound,
            StorageError::Conflict { constraint } => {
                AppError::Conflict(format!("already exists ({constraint})"))
            }
            StorageError::Invalid(m) => AppError::Invalid(m),
            StorageError::Parse(p) => AppError::Invalid(p.to_string()),
            StorageError::Unreachable(_) => AppError::Unavailable(e),
            // A value the driver cannot send (out of the type's range).
            StorageError::Database(sqlx::Error::Encode(_)) => {
                AppError::Invalid("a value is out of range".into())
            }
            StorageError::Database(ref db) => match sqlstate_class(db).as_deref() {
                // Data exceptions (a value too long or out of range, a NUL
                // byte) and integrity violations: the caller's values.
                Some("22") => AppError::Invalid("a value is out of range or malformed".into()),
                Some("23") => AppError::Invalid("a value breaks a rule of the data".into()),
                _ if is_unreachable(db) => AppError::Unavailable(e),
                _ => AppError::Internal(e),
            },
            other => AppError::Internal(other),
        }
    }
}

/// The class (first two characters) of a database error's SQLSTATE.
fn sqlstate_class(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.chars().take(2).collect()),
        _ => None,
    }
}

fn is_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

impl From<BookingError> for AppError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::SlotTaken => AppError::Conflict("the time is not free".into()),
            BookingError::NotFound => AppError::NotFound,
            BookingError::Storage(s) => s.into(),
        }
    }
}

impl From<ChangeError> for AppError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound => AppError::NotFound,
            ChangeError::WrongStatus(s) => AppError::Conflict(format!("the appointment is {s}")),
            ChangeError::SlotTaken => AppError::Conflict("the time is not free".into()),
            ChangeError::Invalid(m) => AppError::Invalid(m),
            ChangeError::Storage(s) => s.into(),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => AppError::Invalid(e.body_text()),
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}
