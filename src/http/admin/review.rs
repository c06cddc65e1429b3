//! The review queues: payment callbacks that changed nothing and WhatsApp
//! messages to numbers no tenant had. A tenant token sees its own
//! traffic; a platform token sees all of it.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AdminState;
use super::auth::{ApiJson, ApiPath, ApiQuery, Caller};
use super::check;
use super::error::AppError;
use crate::storage::admin::review::{
    self, QuarantinedMessage, ResolvedRow, ReviewState, UnroutedCallback,
};

/// Which rows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// open (default) | reviewed | all
    pub state: Option<ReviewState>,
    /// 1 to 500, default 100.
    pub limit: Option<i64>,
}

impl QueueQuery {
    fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=500).contains(&n) => Ok(n),
            Some(_) => Err(AppError::invalid("limit must be 1 to 500")),
        }
    }
}

/// How a row was resolved.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Resolution {
    /// What was done about it (1 to 2000 characters).
    pub resolution_note: String,
}

/// Payment callbacks that changed nothing (oldest first).
#[utoipa::path(get, path = "/review/payment-callbacks", tag = "review", params(QueueQuery),
    responses((status = 200, body = Vec<UnroutedCallback>)))]
pub async fn list_callbacks(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Vec<UnroutedCallback>>, AppError> {
    let (scope, _) = caller.queue_scope();
    let rows =
        review::callbacks(&state.db, &scope, q.state.unwrap_or_default(), q.limit()?).await?;
    Ok(Json(rows))
}

/// Marks a payment callback reviewed; 409 if it already was.
#[utoipa::path(post, path = "/review/payment-callbacks/{id}/resolve", tag = "review",
    params(("id" = Uuid, Path, description = "row id")), request_body = Resolution,
    responses((status = 200, body = UnroutedCallback)))]
pub async fn resolve_callback(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Resolution>,
) -> Result<Json<UnroutedCallback>, AppError> {
    let note = check::required("resolution_note", &body.resolution_note, 2000)?;
    let (scope, by) = caller.queue_scope();
    let r = review::resolve_callback(&state.db, &scope, id, by, note, Utc::now()).await?;
    resolved(r)
}

/// WhatsApp messages to numbers no tenant had (oldest first).
#[utoipa::path(get, path = "/review/quarantine", tag = "review", params(QueueQuery),
    responses((status = 200, body = Vec<QuarantinedMessage>)))]
pub async fn list_quarantine(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Vec<QuarantinedMessage>>, AppError> {
    let (scope, _) = caller.queue_scope();
    let rows =
        review::quarantine(&state.db, &scope, q.state.unwrap_or_default(), q.limit()?).await?;
    Ok(Json(rows))
}

/// Marks a quarantined message reviewed; 409 if it already was.
#[utoipa::path(post, path = "/review/quarantine/{id}/resolve", tag = "review",
    params(("id" = Uuid, Path, description = "row id")), request_body = Resolution,
    responses((status = 200, body = QuarantinedMessage)))]
pub async fn resolve_quarantined(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Resolution>,
) -> Result<Json<QuarantinedMessage>, AppError> {
    let note = check::required("resolution_note", &body.resolution_note, 2000)?;
    let (scope, by) = caller.queue_scope();
    let r = review::resolve_quarantined(&state.db, &scope, id, by, note, Utc::now()).await?;
    resolved(r)
}

fn resolved<T>(r: ResolvedRow<T>) -> Result<Json<T>, AppError> {
    match r {
        ResolvedRow::Done(row) => Ok(Json(row)),
        ResolvedRow::NotFound => Err(AppError::NotFound),
        ResolvedRow::AlreadyReviewed => Err(AppError::Conflict("already reviewed".into())),
    }
}
