//! Newtypes for the identifiers and values that cross layers. Parse once at
//! the edge; once parsed, trusted.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// Why a value from outside was refused. The caller supplied it, so it is the
/// caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseIdError {
    #[error("tenant slug must be 1..={max} characters of [a-z0-9_], starting with a letter or digit: {0:?}", max = TenantSlug::MAX_LEN)]
    Slug(String),
    #[error("phone number is not a valid E.164 number (+ and 8..=15 digits)")]
    Phone,
    #[error("amount is not a valid money amount: {0:?}")]
    Money(String),
    #[error("currency must be three upper-case letters: {0:?}")]
    Currency(String),
    #[error("web session id must be 32 lower-case hex characters")]
    WebSession,
    #[error("Instagram / Messenger user id must be 1..=64 ASCII letters, digits, '_' or '-'")]
    MetaUser,
}

/// A tenant's slug: `[a-z0-9_]`, at most [`TenantSlug::MAX_LEN`] characters,
/// so that `tenant_<slug>` is always a valid, unquoted Postgres identifier
/// (63 bytes at most) and can never carry SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub const MAX_LEN: usize = 48;

    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !raw.starts_with('_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseIdError::Slug(raw.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema name, `tenant_<slug>`. Safe to splice into SQL as
    /// an identifier because the slug was validated.
    pub fn schema_name(&self) -> String {
        format!("tenant_{}", self.0)
    }

    /// The tenant's database role, `ratiba_tenant_<slug>` (at most 62
    /// characters, under Postgres's 63): tenant transactions run as it, and
    /// it may use this tenant's schema only.
    pub fn role_name(&self) -> String {
        format!("ratiba_tenant_{}", self.0)
    }
}

impl<'de> Deserialize<'de> for TenantSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        TenantSlug::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantSlug {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

uuid_id!(
    /// One phone call, from the provider's connect to its stop.
    CallId
);
uuid_id!(
    /// A tenant's registry id (public.tenants.id).
    TenantId
);

/// A conversation thread id (conversation_threads.thread_id, VARCHAR(100)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadId(String);

impl ThreadId {
    /// A fresh, time-ordered thread id.
    pub fn new() -> Self {
        Self(Uuid::now_v7().simple().to_string())
    }

    pub fn from_existing(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ThreadId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form (`+` then 8 to 15 digits). Personal data:
/// its `Debug` and `Display` are redacted; use [`PhoneNumber::expose`] where
/// the number itself is needed (SQL, provider requests, DEBUG logs).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+2547…`, `2547…`, `07…` (Kenyan national form) and spaces or
    /// dashes between digits.
    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(ParseIdError::Phone),
            }
        }
        if !plus && digits.len() == 10 && digits.starts_with('0') {
            // Kenyan national format: 07XX… / 01XX…
            digits = format!("254{}", &digits[1..]);
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(ParseIdError::Phone);
        }
        Ok(Self(format!("+{digits}")))
    }

    /// The number in E.164 form.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digits without the leading `+` (the form Daraja wants).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({self})")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep the last two digits so that logs can still tell calls apart.
        let tail = &self.0[self.0.len().saturating_sub(2)..];
        write!(f, "+***{tail}")
    }
}

/// A web chat's session id: 128 random bits as 32 lower-case hex
/// characters, kept in the widget's cookie. It is the browser's credential
/// for its conversation, so `Debug` and `Display` show only its start.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebSessionId(String);

impl WebSessionId {
    pub const LEN: usize = 32;

    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let ok = raw.len() == Self::LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseIdError::WebSession)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The customer_sessions row's id (the same 128 bits).
    pub fn as_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.0).unwrap_or_default()
    }
}

impl Default for WebSessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WebSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebSessionId({self})")
    }
}

impl fmt::Display for WebSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", &self.0[..6])
    }
}

/// A customer's page-scoped id on Instagram (IGSID) or Messenger (PSID):
/// numeric in practice, taken as 1..=64 ASCII letters, digits, `_` or `-`
/// so nothing else reaches a key. It identifies a person, so `Display`
/// shows only its end.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetaUserId(String);

impl MetaUserId {
    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseIdError::MetaUser)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `prefix` and the id, within a thread key's 20 characters: the id
    /// itself when it fits (IGSIDs and PSIDs have 16 or 17 digits), else
    /// a 64-bit FNV-1a digest of it.
    fn key(&self, prefix: &str) -> String {
        if prefix.len() + self.0.len() <= 20 {
            return format!("{prefix}{}", self.0);
        }
        let digest = self.0.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("{prefix}{digest:016x}")
    }
}

impl fmt::Debug for MetaUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetaUserId({self})")
    }
}

impl fmt::Display for MetaUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = &self.0[self.0.len().saturating_sub(3)..];
        write!(f, "***{tail}")
    }
}

/// Who a customer is on the channel they wrote on. A WhatsApp or phone
/// customer is their number; a web chat starts as a cookie, Instagram and
/// Messenger as the customer's scoped id, and each learns the number later
/// (COLLECT_PHONE). Threads, the per-customer turn lock and
/// customer_identities rows are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelIdentity {
    WhatsApp(PhoneNumber),
    Voice(PhoneNumber),
    WebCookie(WebSessionId),
    /// The IGSID.
    Instagram(MetaUserId),
    /// The PSID.
    Messenger(MetaUserId),
}

impl ChannelIdentity {
    /// customer_identities.provider.
    pub fn provider(&self) -> &'static str {
        match self {
            ChannelIdentity::WhatsApp(_) => "whatsapp",
            ChannelIdentity::Voice(_) => "voice",
            ChannelIdentity::WebCookie(_) => "web_cookie",
            ChannelIdentity::Instagram(_) => "instagram",
            ChannelIdentity::Messenger(_) => "messenger",
        }
    }

    /// customer_identities.external_id: the WhatsApp wa_id (digits), the
    /// caller's E.164 number, the web session id, the IGSID or PSID.
    pub fn external_id(&self) -> &str {
        match self {
            ChannelIdentity::WhatsApp(p) => p.digits(),
            ChannelIdentity::Voice(p) => p.expose(),
            ChannelIdentity::WebCookie(id) => id.expose(),
            ChannelIdentity::Instagram(id) | ChannelIdentity::Messenger(id) => id.expose(),
        }
    }

    /// The number the channel itself proves (none for a web cookie, an
    /// Instagram or a Messenger id).
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            ChannelIdentity::WhatsApp(p) | ChannelIdentity::Voice(p) => Some(p),
            ChannelIdentity::WebCookie(_)
            | ChannelIdentity::Instagram(_)
            | ChannelIdentity::Messenger(_) => None,
        }
    }

    /// The key of the customer's threads (conversation_threads.customer_phone,
    /// at most 20 characters) and of their turn lock: the E.164 number for
    /// phone channels, so a WhatsApp chat and a call share a thread as
    /// before; `web:` and the session id's first 16 characters for a web
    /// chat; `ig:` / `fb:` and the scoped id for Instagram / Messenger.
    pub fn thread_key(&self) -> String {
        match self {
            ChannelIdentity::WhatsApp(p) | ChannelIdentity::Voice(p) => p.expose().to_owned(),
            ChannelIdentity::WebCookie(id) => format!("web:{}", &id.expose()[..16]),
            ChannelIdentity::Instagram(id) => id.key("ig:"),
            ChannelIdentity::Messenger(id) => id.key("fb:"),
        }
    }
}

impl fmt::Display for ChannelIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelIdentity::WhatsApp(p) | ChannelIdentity::Voice(p) => write!(f, "{p}"),
            ChannelIdentity::WebCookie(id) => write!(f, "web:{id}"),
            ChannelIdentity::Instagram(id) => write!(f, "ig:{id}"),
            ChannelIdentity::Messenger(id) => write!(f, "fb:{id}"),
        }
    }
}

/// Personal data (names, transcripts, message text) that must not reach logs
/// above DEBUG. `Debug` and `Display` print `<redacted>`; [`Pii::expose`]
/// gives the value.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pii<T>(pub T);

impl<T> Pii<T> {
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const KES: Currency = Currency(*b"KES");

    pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
        let b = raw.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err(ParseIdError::Currency(raw.chars().take(8).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Money in integer minor units (cents), never floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn kes(minor: i64) -> Self {
        Self::new(minor, Currency::KES)
    }

    /// Parses a decimal amount such as `"1500"`, `"1500.5"` or `"1500.50"`.
    pub fn parse_decimal(raw: &str, currency: Currency) -> Result<Self, ParseIdError> {
        let err = || ParseIdError::Money(raw.chars().take(32).collect());
        let raw = raw.trim();
        let (neg, body) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
        if whole.is_empty() || frac.len() > 2 {
            return Err(err());
        }
        if !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let whole: i64 = whole.parse().map_err(|_| err())?;
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let minor = whole
            .checked_mul(100)
            .and_then(|m| m.checked_add(frac))
            .ok_or_else(err)?;
        Ok(Self::new(if neg { -minor } else { minor }, currency))
    }

    /// Whole major units, rounded down (M-Pesa takes whole shillings).
    pub fn whole_major(&self) -> i64 {
        self.minor.div_euclid(100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{} {sign}{}.{:02}", self.currency, abs / 100, abs % 100)
    }
}

/// A language we answer in (the one language type: dialog, calls, payments, storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Sw,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sw => "sw",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" | "eng" | "english" => Some(Lang::En),
            "sw" | "swa" | "swahili" | "kiswahili" => Some(Lang::Sw),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_user_ids_key_threads_within_20_characters() {
        let igsid = MetaUserId::parse("17841400000000123").unwrap();
        let ig = ChannelIdentity::Instagram(igsid.clone());
        assert_eq!(ig.thread_key(), "ig:17841400000000123");
        assert_eq!(ig.provider(), "instagram");
        assert_eq!(ig.phone(), None);
        assert_eq!(ig.to_string(), "ig:***123");
        let long = ChannelIdentity::Messenger(MetaUserId::parse(&"9".repeat(40)).unwrap());
        assert_eq!(long.thread_key().len(), 19);
        assert_ne!(
            long.thread_key(),
            ChannelIdentity::Messenger(MetaUserId::parse(&"8".repeat(40)).unwrap()).thread_key()
        );
        assert!(MetaUserId::parse("").is_err());
        assert!(MetaUserId::parse("12 34").is_err());
        assert!(MetaUserId::parse(&"1".repeat(65)).is_err());
    }

    #[test]
    fn slugs_are_validated() {
        assert!(TenantSlug::parse("demo_salon1").is_ok());
        for bad in [
            "",
            "Demo",
            "a-b",
            "a;drop",
            "_x",
            &"a".repeat(49),
            "tenant x",
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            TenantSlug::parse("demo").unwrap().schema_name(),
            "tenant_demo"
        );
    }

    #[test]
    fn phone_numbers_normalise_and_redact() {
        let p = PhoneNumber::parse("0712 345 678").unwrap();
        assert_eq!(p.expose(), "+254712345678");
        assert_eq!(p.digits(), "254712345678");
        assert_eq!(p.to_string(), "+***78");
        assert!(!format!("{p:?}").contains("712"));
        assert_eq!(
            PhoneNumber::parse("+254712345678").unwrap(),
            PhoneNumber::parse("254712345678").unwrap()
        );
        for bad in ["", "+", "12ab", "+0123456789", "+1234567"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn money_parses_in_minor_units() {
        assert_eq!(
            Money::parse_decimal("1500", Currency::KES).unwrap().minor,
            150_000
        );
        assert_eq!(
            Money::parse_decimal("1500.5", Currency::KES).unwrap().minor,
            150_050
        );
        assert_eq!(
            Money::parse_decimal("0.07", Currency::KES).unwrap().minor,
            7
        );
        assert!(Money::parse_decimal("1.234", Currency::KES).is_err());
        assert!(Money::parse_decimal("abc", Currency::KES).is_err());
        assert!(Money::parse_decimal("99999999999999999999", Currency::KES).is_err());
        assert_eq!(Money::kes(150_050).to_string(), "KES 1500.50");
        assert_eq!(Money::kes(-5).to_string(), "KES -0.05");
    }

    #[test]
    fn pii_is_redacted() {
        let p = Pii("Wanjiku".to_string());
        assert_eq!(format!("{p} {p:?}"), "<redacted> <redacted>");
        assert_eq!(p.expose(), "Wanjiku");
    }
}
