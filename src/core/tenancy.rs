//! Whether a tenant is served at all: the one rule every channel applies
//! (calls, WhatsApp, the sweeps that write to customers and admins).
//!
//! A tenant is served while it is `active`, or on `trial` before its
//! `trial_ends_at`, and not deleted (`deleted_at` set or status `deleted`).
//! An unset status counts as `active` (the column's default).

use chrono::{DateTime, Utc};

/// Where a tenant stands, at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// `active`, or a trial that has not ended: the bot answers.
    Served,
    /// `suspended` (or a status this engine does not know).
    Suspended,
    /// `trial` whose `trial_ends_at` has passed.
    TrialEnded,
    /// `deleted_at` set, or status `deleted`.
    Deleted,
}

impl Standing {
    /// The standing at `now` from the tenant's registry columns.
    pub fn of(
        status: Option<&str>,
        trial_ends_at: Option<DateTime<Utc>>,
        deleted_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Standing {
        if deleted_at.is_some() {
            return Standing::Deleted;
        }
        match status.unwrap_or("active") {
            "active" => Standing::Served,
            "trial" => match trial_ends_at {
                Some(end) if end <= now => Standing::TrialEnded,
                _ => Standing::Served,
            },
            "deleted" => Standing::Deleted,
            _ => Standing::Suspended,
        }
    }

    /// Whether the bot answers this tenant's customers.
    pub fn serves(self) -> bool {
        match self {
            Standing::Served => true,
            Standing::Suspended | Standing::TrialEnded | Standing::Deleted => false,
        }
    }

    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Served => "served",
            Standing::Suspended => "suspended",
            Standing::TrialEnded => "trial_ended",
            Standing::Deleted => "deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Standing;
    use chrono::{Duration, Utc};

    #[test]
    fn active_and_running_trials_are_served_the_rest_are_not() {
        let now = Utc::now();
        let past = Some(now - Duration::hours(1));
        let future = Some(now + Duration::hours(1));
        assert_eq!(
            Standing::of(Some("active"), None, None, now),
            Standing::Served
        );
        assert_eq!(Standing::of(None, None, None, now), Standing::Served);
        assert_eq!(
            Standing::of(Some("trial"), future, None, now),
            Standing::Served
        );
        assert_eq!(
            Standing::of(Some("trial"), None, None, now),
            Standing::Served
        );
        assert_eq!(
            Standing::of(Some("trial"), past, None, now),
            Standing::TrialEnded
        );
        assert_eq!(
            Standing::of(Some("suspended"), None, None, now),
            Standing::Suspended
        );
        assert_eq!(
            Standing::of(Some("deleted"), None, None, now),
            Standing::Deleted
        );
        assert_eq!(
            Standing::of(Some("active"), None, past, now),
            Standing::Deleted
        );
        // An active tenant's stale trial date does not matter.
        assert!(Standing::of(Some("active"), past, None, now).serves());
        assert!(!Standing::of(Some("trial"), past, None, now).serves());
    }
}
