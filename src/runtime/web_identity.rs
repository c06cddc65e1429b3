//! Who a web customer is, beyond their cookie: the SMS phone check
//! (tenants.phone_otp_required), the number claimed until an M-Pesa
//! prompt to it is paid (STK as oracle), and the "continue on WhatsApp"
//! hand-off token (tenants.channel_steering_enabled). Performed inside
//! the turn's transaction ([`crate::runtime::conversation`]); the SMS
//! itself is sent by the shell after the turn commits
//! ([`crate::runtime::web_chat`]), never while the transaction is held.

use chrono::{DateTime, Utc};

use crate::core::dialog::Input;
use crate::core::ids::{ChannelIdentity, PhoneNumber, Pii, ThreadId, WebSessionId};
use crate::core::phone_check::{self, CodeRefused, StoredCode};
use crate::storage::conversation as conv;
use crate::storage::web;
use crate::storage::{StorageError, TenantTx};

/// A code to send by SMS once the turn has committed. Its `Debug` shows
/// neither the number nor the code.
#[derive(Debug, Clone)]
pub struct CodeToSend {
    pub to: PhoneNumber,
    pub code: Pii<String>,
}

/// [`crate::core::dialog::Action::SendPhoneCode`]: a fresh code stored
/// (hashed) for the session when the rules allow one now; the code to
/// send.
pub(crate) async fn send_code(
    tx: &mut TenantTx,
    customer: &ChannelIdentity,
    phone: &PhoneNumber,
    can_send: bool,
    now: DateTime<Utc>,
) -> Result<(Input, Option<CodeToSend>), StorageError> {
    let ChannelIdentity::WebCookie(session) = customer else {
        return Ok((Input::CodeSent(Err(CodeRefused::Unavailable)), None));
    };
    if !can_send {
        return Ok((Input::CodeSent(Err(CodeRefused::Unavailable)), None));
    }
    let stored = web::phone_code(tx, session).await?;
    let (sends, window_started_at) = match phone_check::may_send(stored.as_ref(), now) {
        Ok(counters) => counters,
        Err(refused) => return Ok((Input::CodeSent(Err(refused)), None)),
    };
    let code = phone_check::format_code(rand::random_range(0..1_000_000));
    web::store_phone_code(
        tx,
        session,
        &StoredCode {
            phone: phone.clone(),
            code_hash: phone_check::hash_code(session.expose(), &code),
            attempts: 0,
            expires_at: phone_check::expires(now),
            sent_at: now,
            sends,
            window_started_at,
        },
    )
    .await?;
    Ok((
        Input::CodeSent(Ok(())),
        Some(CodeToSend {
            to: phone.clone(),
            code: Pii(code),
        }),
    ))
}

/// [`crate::core::dialog::Action::CheckPhoneCode`]: the typed code judged
/// against the stored one (a wrong try is counted).
pub(crate) async fn check_code(
    tx: &mut TenantTx,
    customer: &ChannelIdentity,
    phone: &PhoneNumber,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Input, StorageError> {
    let ChannelIdentity::WebCookie(session) = customer else {
        return Ok(Input::CodeChecked(phone_check::CodeCheck::Expired));
    };
    // A code sent to another number than the one being checked does not count.
    let stored = web::phone_code(tx, session)
        .await?
        .filter(|s| &s.phone == phone);
    let (verdict, attempts) = phone_check::check(stored.as_ref(), session.expose(), code, now);
    if stored.as_ref().is_some_and(|s| s.attempts != attempts) {
        web::set_code_attempts(tx, session, attempts).await?;
    }
    tracing::info!(verdict = ?verdict, "web phone code checked");
    Ok(Input::CodeChecked(verdict))
}

/// [`crate::core::dialog::Action::RememberPhone`] for a web session: with
/// the phone check on, the number was just proven (the session is
/// promoted and verified); without it, the number is only claimed until
/// an M-Pesa prompt to it is paid. Returns whether it was promoted.
pub(crate) async fn remember_phone(
    tx: &mut TenantTx,
    customer: &ChannelIdentity,
    phone: &PhoneNumber,
    proven: bool,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    match customer {
        ChannelIdentity::WebCookie(session) if !proven => {
            web::claim_phone(tx, session, phone).await?;
            tracing::info!("web session claimed a number; unverified until paid");
            Ok(false)
        }
        ChannelIdentity::WebCookie(session) => {
            conv::promote_identity(tx, customer, phone, now).await?;
            web::mark_verified(tx, session).await?;
            tracing::info!("web session promoted: its number was proven by an SMS code");
            Ok(true)
        }
        // Instagram and Messenger customers give their number as on the
        // web before the phone check: it joins them to that customer.
        ChannelIdentity::WhatsApp(_)
        | ChannelIdentity::Voice(_)
        | ChannelIdentity::Instagram(_)
        | ChannelIdentity::Messenger(_) => {
            conv::promote_identity(tx, customer, phone, now).await?;
            Ok(true)
        }
    }
}

/// A hand-off token in a message: `RB-` and twelve letters or digits.
pub fn token_in(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    upper.match_indices("RB-").find_map(|(at, _)| {
        let tail: String = upper[at + 3..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        (tail.len() == TOKEN_CHARS).then(|| format!("RB-{tail}"))
    })
}

const TOKEN_CHARS: usize = 12;
/// Letters and digits that cannot be misread for each other.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh hand-off token (about 59 bits).
pub fn fresh_token() -> String {
    let tail: String = (0..TOKEN_CHARS)
        .map(|_| TOKEN_ALPHABET[rand::random_range(0..TOKEN_ALPHABET.len())] as char)
        .collect();
    format!("RB-{tail}")
}

/// The web session a WhatsApp message's hand-off token joins, if the
/// message carries a good one (spent here): the session's identity joins
/// the WhatsApp customer (the number is proven by WhatsApp), and the
/// session's open thread becomes theirs, with its checkpoint (the pending
/// step) and history. Returns the thread now theirs.
pub(crate) async fn join_by_token(
    tx: &mut TenantTx,
    text: &str,
    whatsapp: &ChannelIdentity,
    now: DateTime<Utc>,
) -> Result<Option<ThreadId>, StorageError> {
    let (Some(token), Some(phone)) = (token_in(text), whatsapp.phone()) else {
        return Ok(None);
    };
    let Some(session) = web::redeem_handoff_token(tx, &token, now).await? else {
        tracing::info!("hand-off token not good (expired, used or unknown); answered as usual");
        return Ok(None);
    };
    let web_identity = ChannelIdentity::WebCookie(session.clone());
    // The web chat's turns wait while its thread moves.
    conv::lock_customer(tx, &web_identity.thread_key()).await?;
    conv::promote_identity(tx, &web_identity, phone, now).await?;
    web::mark_verified(tx, &session).await?;
    let thread = conv::adopt_thread(tx, &web_identity.thread_key(), &whatsapp.thread_key()).await?;
    tracing::info!(
        joined_thread = thread.is_some(),
        "web chat continued on WhatsApp"
    );
    Ok(thread)
}

/// The session id of a web identity.
pub fn web_session(customer: &ChannelIdentity) -> Option<&WebSessionId> {
    match customer {
        ChannelIdentity::WebCookie(s) => Some(s),
        ChannelIdentity::WhatsApp(_)
        | ChannelIdentity::Voice(_)
        | ChannelIdentity::Instagram(_)
        | ChannelIdentity::Messenger(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_messages_and_fresh_ones_read_back() {
        let t = fresh_token();
        assert_eq!(t.len(), 15);
        assert_eq!(
            token_in(&format!("Hi, continuing my chat ({t})")).as_deref(),
            Some(t.as_str())
        );
        assert_eq!(token_in(&t.to_lowercase()).as_deref(), Some(t.as_str()));
        assert_eq!(token_in("RB-SHORT"), None);
        assert_eq!(token_in("book a haircut"), None);
        assert_ne!(fresh_token(), fresh_token());
    }
}
