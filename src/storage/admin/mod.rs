//! What the admin API (`/api/v1`, see `crate::http::admin`) reads and
//! writes. Tenant rows are reached only through the caller's
//! [`super::TenantHandle`]: an id from another tenant is simply not there,
//! and the API answers 404. Registry rows (`public.*`) are always filtered
//! by the caller's tenant id.
//!
//! The types here are the API's wire types too (serde + utoipa schema), so
//! the OpenAPI document is generated from what the queries return.

pub mod admins;
pub mod calendar;
pub mod catalogue;
pub mod commissions;
pub mod contacts;
pub mod credentials;
pub mod dials;
pub mod review;
pub mod tokens;

use uuid::Uuid;

/// Who made a change: the admin behind the token (`None` for a platform
/// token or the system).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub admin_id: Option<Uuid>,
}
