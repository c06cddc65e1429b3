//! The web chat's phone check (tenants.phone_otp_required): a 6-digit code
//! by SMS before a web session books or pays. Pure rules: what a stored
//! code allows, how a submitted code is judged, how codes are hashed.
//! The shell stores the [`StoredCode`] (storage/web.rs), draws the code and
//! sends the SMS; the dialog ([`crate::core::dialog`]) asks for it.
//!
//! * A code lives [`CODE_TTL_MIN`] minutes and takes [`MAX_ATTEMPTS`]
//!   wrong tries; after that it is locked (even the right code fails).
//! * A new code (resend) no sooner than [`RESEND_AFTER_SEC`] seconds after
//!   the last, and at most [`MAX_SENDS_PER_HOUR`] per hour per session.
//! * Only a salted SHA-256 of the code is stored (salt: the session id).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::ids::PhoneNumber;

/// How long a code is good for.
pub const CODE_TTL_MIN: i64 = 10;
/// Wrong tries a code takes before it is locked.
pub const MAX_ATTEMPTS: i32 = 5;
/// The least time between two codes for one session.
pub const RESEND_AFTER_SEC: i64 = 60;
/// Codes one session may be sent in an hour.
pub const MAX_SENDS_PER_HOUR: i32 = 5;
/// Digits in a code.
pub const CODE_DIGITS: usize = 6;

/// A session's current code, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub phone: PhoneNumber,
    pub code_hash: String,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    /// Codes sent since `window_started_at` (an hour's window).
    pub sends: i32,
    pub window_started_at: DateTime<Utc>,
}

/// Why no new code is sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeRefused {
    /// The last code went out less than a minute ago.
    TooSoon,
    /// Too many codes this hour.
    TooMany,
    /// No SMS provider is configured.
    Unavailable,
}

/// How a submitted code was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeCheck {
    Verified,
    /// Wrong; this many tries are left.
    Wrong {
        left: i32,
    },
    /// Past its ten minutes (or never sent).
    Expired,
    /// Too many wrong tries: a new code is needed.
    Locked,
}

/// Whether a new code may be sent now; the send counters it leaves
/// (`sends`, `window_started_at`).
pub fn may_send(
    stored: Option<&StoredCode>,
    now: DateTime<Utc>,
) -> Result<(i32, DateTime<Utc>), CodeRefused> {
    let Some(s) = stored else {
        return Ok((1, now));
    };
    if now < s.sent_at + Duration::seconds(RESEND_AFTER_SEC) {
        return Err(CodeRefused::TooSoon);
    }
    if now >= s.window_started_at + Duration::hours(1) {
        return Ok((1, now));
    }
    if s.sends >= MAX_SENDS_PER_HOUR {
        return Err(CodeRefused::TooMany);
    }
    Ok((s.sends + 1, s.window_started_at))
}

/// Judges `submitted` against the stored code; the attempts count to
/// store afterwards.
pub fn check(
    stored: Option<&StoredCode>,
    salt: &str,
    submitted: &str,
    now: DateTime<Utc>,
) -> (CodeCheck, i32) {
    let Some(s) = stored else {
        return (CodeCheck::Expired, 0);
    };
    if s.attempts >= MAX_ATTEMPTS {
        return (CodeCheck::Locked, s.attempts);
    }
    if now >= s.expires_at {
        return (CodeCheck::Expired, s.attempts);
    }
    if constant_time_eq(
        hash_code(salt, submitted).as_bytes(),
        s.code_hash.as_bytes(),
    ) {
        return (CodeCheck::Verified, s.attempts);
    }
    let attempts = s.attempts + 1;
    if attempts >= MAX_ATTEMPTS {
        (CodeCheck::Locked, attempts)
    } else {
        (
            CodeCheck::Wrong {
                left: MAX_ATTEMPTS - attempts,
            },
            attempts,
        )
    }
}

/// When a code sent at `now` stops working.
pub fn expires(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(CODE_TTL_MIN)
}

/// The stored form of a code: hex SHA-256 of the salt and the code.
pub fn hash_code(salt: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ratiba-phone-code\0");
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(code.as_bytes());
    hex::encode(h.finalize())
}

/// A code from `0..1_000_000` written as six digits.
pub fn format_code(n: u32) -> String {
    format!("{:06}", n % 1_000_000)
}

/// The 6-digit code in a message ("123456", "my code is 123 456"): the
/// message's digits when there are exactly six of them.
pub fn code_in(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == CODE_DIGITS).then_some(digits)
}

/// The number as the customer sees it in "sent to the number ending …":
/// its last three digits only.
pub fn last_three(phone: &PhoneNumber) -> &str {
    let d = phone.digits();
    &d[d.len().saturating_sub(3)..]
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn stored(code: &str, sent: i64) -> StoredCode {
        StoredCode {
            phone: PhoneNumber::parse("0712345678").unwrap(),
            code_hash: hash_code("s1", code),
            attempts: 0,
            expires_at: expires(at(sent)),
            sent_at: at(sent),
            sends: 1,
            window_started_at: at(sent),
        }
    }

    #[test]
    fn the_right_code_verifies_and_five_wrong_ones_lock() {
        let mut s = stored("123456", 0);
        assert_eq!(
            check(Some(&s), "s1", "123456", at(1)).0,
            CodeCheck::Verified
        );
        assert_eq!(
            check(Some(&s), "other-session", "123456", at(1)).0,
            CodeCheck::Wrong { left: 4 },
            "the hash is salted by the session"
        );
        for left in (1..5).rev() {
            let (verdict, attempts) = check(Some(&s), "s1", "000000", at(1));
            assert_eq!(verdict, CodeCheck::Wrong { left });
            s.attempts = attempts;
        }
        let (verdict, attempts) = check(Some(&s), "s1", "000000", at(1));
        assert_eq!((verdict, attempts), (CodeCheck::Locked, 5));
        s.attempts = attempts;
        assert_eq!(check(Some(&s), "s1", "123456", at(1)).0, CodeCheck::Locked);
    }

    #[test]
    fn codes_expire_after_ten_minutes() {
        let s = stored("123456", 0);
        assert_eq!(
            check(Some(&s), "s1", "123456", at(9)).0,
            CodeCheck::Verified
        );
        assert_eq!(
            check(Some(&s), "s1", "123456", at(10)).0,
            CodeCheck::Expired
        );
        assert_eq!(check(None, "s1", "123456", at(0)).0, CodeCheck::Expired);
    }

    #[test]
    fn resends_wait_a_minute_and_are_capped_per_hour() {
        assert_eq!(may_send(None, at(0)), Ok((1, at(0))));
        let mut s = stored("123456", 0);
        assert_eq!(may_send(Some(&s), at(0)), Err(CodeRefused::TooSoon));
        assert_eq!(may_send(Some(&s), at(1)), Ok((2, at(0))));
        s.sends = MAX_SENDS_PER_HOUR;
        s.sent_at = at(30);
        assert_eq!(may_send(Some(&s), at(40)), Err(CodeRefused::TooMany));
        assert_eq!(may_send(Some(&s), at(61)), Ok((1, at(61))));
    }

    #[test]
    fn codes_are_read_from_messages_and_numbers_masked() {
        assert_eq!(code_in("123456").as_deref(), Some("123456"));
        assert_eq!(code_in("my code is 123 456").as_deref(), Some("123456"));
        assert_eq!(code_in("0712 345 678"), None);
        assert_eq!(code_in("yes"), None);
        assert_eq!(format_code(42), "000042");
        assert_eq!(
            last_three(&PhoneNumber::parse("0712345678").unwrap()),
            "678"
        );
        assert_ne!(hash_code("s1", "123456"), "123456");
    }
}
