//! Contacts and their history across channels.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{ApiPath, ApiQuery, TenantCaller};
use super::check;
use super::error::AppError;
use crate::storage::admin::contacts::{self, Contact, ContactDetail, Interaction};

/// A page of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
    /// Rows to skip, default 0.
    pub offset: Option<i64>,
}

impl PageQuery {
    /// (limit, offset), checked.
    pub fn bounds(&self) -> Result<(i64, i64), AppError> {
        let limit = match self.limit {
            None => 50,
            Some(n) if (1..=500).contains(&n) => n,
            Some(_) => return Err(AppError::invalid("limit must be 1 to 500")),
        };
        let offset = match self.offset {
            None => 0,
            Some(n) if (0..=1_000_000).contains(&n) => n,
            Some(_) => return Err(AppError::invalid("offset must be 0 to 1000000")),
        };
        Ok((limit, offset))
    }

    /// The offset of the next page, when this one was full.
    fn next(limit: i64, offset: i64, got: usize) -> Option<i64> {
        (got as i64 == limit).then_some(offset + limit)
    }
}

/// Which contacts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Part of a name (any case) or of a phone number (digits; 0722… finds +254722…).
    pub q: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
    /// Rows to skip, default 0.
    pub offset: Option<i64>,
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<Contact>,
    /// Pass as `offset` for the next page; absent on the last one.
    pub next_offset: Option<i64>,
}

/// A page of a contact's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionPage {
    pub items: Vec<Interaction>,
    /// Pass as `offset` for the next page; absent on the last one.
    pub next_offset: Option<i64>,
}

/// Contacts, newest first, searched by name or phone.
#[utoipa::path(get, path = "/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactPage)))]
pub async fn list_contacts(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> Result<Json<ContactPage>, AppError> {
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    let search = check::optional("q", q.q.as_deref(), 100)?;
    let items = contacts::search(&caller.handle, search, limit, offset).await?;
    Ok(Json(ContactPage {
        next_offset: PageQuery::next(limit, offset, items.len()),
        items,
    }))
}

/// One contact with how they are known on each channel.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts",
    params(("id" = Uuid, Path, description = "contact id")),
    responses((status = 200, body = ContactDetail)))]
pub async fn get_contact(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ContactDetail>, AppError> {
    contacts::get(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// A contact's messages on every channel, newest first.
#[utoipa::path(get, path = "/contacts/{id}/interactions", tag = "contacts",
    params(("id" = Uuid, Path, description = "contact id"), PageQuery),
    responses((status = 200, body = InteractionPage)))]
pub async fn contact_interactions(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<InteractionPage>, AppError> {
    let (limit, offset) = page.bounds()?;
    let items = contacts::interactions(&caller.handle, id, limit, offset)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(InteractionPage {
        next_offset: PageQuery::next(limit, offset, items.len()),
        items,
    }))
}
