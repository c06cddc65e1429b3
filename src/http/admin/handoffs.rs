//! Customers waiting for a person: list, claim, reply, close — the same
//! effects as the WhatsApp admin rail (`crate::runtime::handoff`), with
//! claimed_via 'dashboard'. A reply is recorded in the thread's log and
//! sent to the customer on WhatsApp from the tenant's number.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AdminState;
use super::auth::{ApiJson, ApiPath, TenantCaller};
use super::check;
use super::error::AppError;
use crate::core::ids::ThreadId;
use crate::runtime::handoff::{self, OpenHandoff};

/// An open handed-off conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Handoff {
    pub thread_id: String,
    pub customer_phone: String,
    pub started_at: Option<DateTime<Utc>>,
    pub claimed_by_admin_id: Option<Uuid>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// dashboard | whatsapp
    pub claimed_via: Option<String>,
}

impl From<OpenHandoff> for Handoff {
    fn from(h: OpenHandoff) -> Self {
        Handoff {
            thread_id: h.thread.as_str().to_owned(),
            customer_phone: h.customer_phone,
            started_at: h.started_at,
            claimed_by_admin_id: h.claimed_by,
            claimed_at: h.claimed_at,
            claimed_via: h.claimed_via,
        }
    }
}

/// One line of the conversation since the hand-off.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffMessage {
    /// customer | admin
    pub actor: String,
    pub content: String,
    pub sent_at: Option<DateTime<Utc>>,
}

fn thread_id(raw: &str) -> Result<ThreadId, AppError> {
    let t = check::required("thread_id", raw, 100)?;
    Ok(ThreadId::from_existing(t))
}

async fn open_one(caller: &TenantCaller, thread: &ThreadId) -> Result<OpenHandoff, AppError> {
    handoff::open_handoffs(&caller.handle)
        .await?
        .into_iter()
        .find(|h| &h.thread == thread)
        .ok_or(AppError::NotFound)
}

/// Open handed-off conversations, claimed or not, oldest first.
#[utoipa::path(get, path = "/handoffs", tag = "handoffs",
    responses((status = 200, body = Vec<Handoff>)))]
pub async fn list_handoffs(caller: TenantCaller) -> Result<Json<Vec<Handoff>>, AppError> {
    let rows = handoff::open_handoffs(&caller.handle).await?;
    Ok(Json(rows.into_iter().map(Handoff::from).collect()))
}

/// The conversation's verbatim log.
#[utoipa::path(get, path = "/handoffs/{thread_id}/messages", tag = "handoffs",
    params(("thread_id" = String, Path, description = "thread id")),
    responses((status = 200, body = Vec<HandoffMessage>)))]
pub async fn handoff_messages(
    caller: TenantCaller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Vec<HandoffMessage>>, AppError> {
    let thread = thread_id(&raw)?;
    let lines = handoff::thread_log(&caller.handle, &thread).await?;
    if lines.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(Json(
        lines
            .into_iter()
            .map(|l| HandoffMessage {
                actor: l.actor,
                content: l.content,
                sent_at: l.sent_at,
            })
            .collect(),
    ))
}

/// Takes the conversation (claimed_via 'dashboard'); 409 if another admin
/// has it.
#[utoipa::path(post, path = "/handoffs/{thread_id}/claim", tag = "handoffs",
    params(("thread_id" = String, Path, description = "thread id")),
    responses((status = 200, body = Handoff)))]
pub async fn claim_handoff(
    caller: TenantCaller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Handoff>, AppError> {
    let thread = thread_id(&raw)?;
    let open = open_one(&caller, &thread).await?;
    if open.claimed_by == Some(caller.admin_id) {
        return Ok(Json(open.into()));
    }
    if !handoff::claim(
        &caller.handle,
        &thread,
        caller.admin_id,
        "dashboard",
        Utc::now(),
    )
    .await?
    {
        return Err(AppError::Conflict("another admin has claimed it".into()));
    }
    tracing::info!(tenant = %caller.tenant.slug, thread = %thread, "hand-off claimed on the dashboard");
    Ok(Json(open_one(&caller, &thread).await?.into()))
}

/// Words for the customer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reply {
    /// Sent to the customer as it is (at most 4096 characters).
    pub text: String,
}

/// What became of a reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyOutcome {
    /// Recorded in the thread's log.
    pub recorded: bool,
    /// Handed to WhatsApp for the customer.
    pub delivered: bool,
}

/// Replies to the customer of a conversation this admin claimed.
#[utoipa::path(post, path = "/handoffs/{thread_id}/reply", tag = "handoffs",
    params(("thread_id" = String, Path, description = "thread id")), request_body = Reply,
    responses((status = 200, body = ReplyOutcome)))]
pub async fn reply_handoff(
    State(state): State<AdminState>,
    caller: TenantCaller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<Json<ReplyOutcome>, AppError> {
    let thread = thread_id(&raw)?;
    let said = check::required("text", &body.text, 4096)?;
    let open = open_one(&caller, &thread).await?;
    if open.claimed_by != Some(caller.admin_id) {
        return Err(AppError::Conflict("claim the conversation first".into()));
    }
    let admin_phone = handoff::admin_phone(&state.db, caller.tenant.id, caller.admin_id)
        .await?
        .unwrap_or_default();
    let Some(customer) = handoff::admin_reply(
        &caller.handle,
        &thread,
        &admin_phone,
        said,
        None,
        Utc::now(),
    )
    .await?
    else {
        return Err(AppError::NotFound);
    };
    let delivered = match &state.sender {
        Some(sender) => match sender
            .notify(&caller.tenant, &customer, said.to_owned())
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(tenant = %caller.tenant.slug, thread = %thread, error = %e, "dashboard reply not delivered");
                false
            }
        },
        None => false,
    };
    Ok(Json(ReplyOutcome {
        recorded: true,
        delivered,
    }))
}

/// Hands the customer back to the bot (closed_by_human).
#[utoipa::path(post, path = "/handoffs/{thread_id}/close", tag = "handoffs",
    params(("thread_id" = String, Path, description = "thread id")),
    responses((status = 204, description = "closed")))]
pub async fn close_handoff(
    caller: TenantCaller,
    ApiPath(raw): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let thread = thread_id(&raw)?;
    open_one(&caller, &thread).await?;
    handoff::close(&caller.handle, &caller.tenant, &thread).await?;
    tracing::info!(tenant = %caller.tenant.slug, thread = %thread, "hand-off closed on the dashboard");
    Ok(StatusCode::NO_CONTENT)
}
