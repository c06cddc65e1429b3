//! Catalogue import: a price list pasted as text or uploaded as CSV is
//! read into a preview (per line, per field confidence; nothing changes),
//! then committed (services created or updated, audited with source
//! 'import') and, within 7 days, rolled back. Images and PDFs come later.

use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{ApiJson, ApiPath, TenantCaller};
use super::error::AppError;
use crate::core::catalog_import;
use crate::core::price_list::Format;
use crate::storage::admin::catalogue::{
    self as cat,
    imports::{self, Import, ImportError, Modality},
};

/// Longest price list taken, in characters.
pub const MAX_PRICE_LIST_CHARS: usize = 100_000;
/// Most lines in a price list.
pub const MAX_PRICE_LIST_LINES: usize = 2_000;

/// How the price list is written.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceListFormat {
    /// As typed or pasted: "Box braids 4500 4hrs", one service a line.
    Text,
    /// Comma- or semicolon-separated, with or without a header row
    /// (name, price, duration, category).
    Csv,
}

/// A price list to read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportInput {
    pub format: PriceListFormat,
    /// The list itself, at most 100000 characters and 2000 lines.
    #[schema(
        example = "Box braids 4500 4hrs\nKusuka mabutu - 1,200/= (1.5 hrs)\nManicure 800 45min"
    )]
    pub content: String,
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::NotFound => AppError::NotFound,
            ImportError::AlreadyCommitted(_)
            | ImportError::NotCommitted
            | ImportError::AlreadyRolledBack(_)
            | ImportError::WindowClosed { .. } => AppError::Conflict(e.to_string()),
            ImportError::Storage(s) => s.into(),
        }
    }
}

/// Reads a price list into a preview: what each line gives, with a
/// confidence per field, and what committing would do. Changes nothing.
#[utoipa::path(post, path = "/catalog/imports", tag = "catalogue", request_body = ImportInput,
    responses((status = 201, body = Import)))]
pub async fn create_import(
    caller: TenantCaller,
    ApiJson(body): ApiJson<ImportInput>,
) -> Result<(StatusCode, Json<Import>), AppError> {
    let content = body.content.as_str();
    if content.trim().is_empty() {
        return Err(AppError::invalid("content must not be empty"));
    }
    if content.contains('\0') {
        return Err(AppError::invalid("content must not contain NUL"));
    }
    if content.chars().count() > MAX_PRICE_LIST_CHARS {
        return Err(AppError::invalid(format!(
            "content must be at most {MAX_PRICE_LIST_CHARS} characters"
        )));
    }
    if content.lines().count() > MAX_PRICE_LIST_LINES {
        return Err(AppError::invalid(format!(
            "content must be at most {MAX_PRICE_LIST_LINES} lines"
        )));
    }
    let (format, modality) = match body.format {
        PriceListFormat::Text => (Format::Text, Modality::Text),
        PriceListFormat::Csv => (Format::Csv, Modality::Csv),
    };
    let services = cat::services(&caller.handle).await?;
    let preview = catalog_import::preview(content, format, &imports::current(&services));
    let row = imports::save_preview(
        &caller.handle,
        modality,
        &preview,
        &services,
        caller.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// The newest imports (at most 50).
#[utoipa::path(get, path = "/catalog/imports", tag = "catalogue",
    responses((status = 200, body = Vec<Import>)))]
pub async fn list_imports(caller: TenantCaller) -> Result<Json<Vec<Import>>, AppError> {
    Ok(Json(imports::imports(&caller.handle, 50).await?))
}

/// One import: its lines, status and what it did.
#[utoipa::path(get, path = "/catalog/imports/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "import id")),
    responses((status = 200, body = Import)))]
pub async fn get_import(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Import>, AppError> {
    imports::import(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Commits a preview: services created or updated (each in the catalogue
/// audit, source 'import'); rejected lines are skipped. A second commit
/// is refused (409).
#[utoipa::path(post, path = "/catalog/imports/{id}/commit", tag = "catalogue",
    params(("id" = Uuid, Path, description = "import id")),
    responses((status = 200, body = Import)))]
pub async fn commit_import(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Import>, AppError> {
    Ok(Json(
        imports::commit(&caller.handle, id, &caller.tenant.currency, caller.actor()).await?,
    ))
}

/// Rolls a commit back, within 7 days of it: the services it changed are
/// put back as they were, the ones it created removed (withdrawn if booked
/// since). Refused (409) for a preview, a second time, or after 7 days.
#[utoipa::path(post, path = "/catalog/imports/{id}/rollback", tag = "catalogue",
    params(("id" = Uuid, Path, description = "import id")),
    responses((status = 200, body = Import)))]
pub async fn rollback_import(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Import>, AppError> {
    Ok(Json(
        imports::rollback(&caller.handle, id, caller.actor()).await?,
    ))
}
