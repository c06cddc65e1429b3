//! How a caller who asks for a person reaches one: put through to the
//! business's number by the telephony provider, or — where the tenant has
//! no such number or the provider cannot transfer — a promise (the team
//! calls back on this number or writes on WhatsApp) and a polite hang-up.
//!
//! Pure: the call runtime supplies what the tenant and the provider can do,
//! the dialog says the matching sentence, the runtime performs it.

use serde::{Deserialize, Serialize};

use crate::core::ids::PhoneNumber;

/// What a call does when the dialog hands it to a person.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "route", rename_all = "snake_case")]
pub enum CallHandoff {
    /// "I'll put you through now", then the provider connects the caller
    /// to this number.
    Transfer { to: PhoneNumber },
    /// "They will call you back on this number, or write on WhatsApp",
    /// then the provider hangs up once that has been heard.
    #[default]
    Promise,
}

impl CallHandoff {
    /// The name recorded in handoff_log (`transfer` / `promise`).
    pub fn route(&self) -> &'static str {
        match self {
            CallHandoff::Transfer { .. } => "transfer",
            CallHandoff::Promise => "promise",
        }
    }
}

/// What is known about one call when it starts.
#[derive(Debug, Clone, Copy)]
pub struct HandoffFacts<'a> {
    /// The tenant's number for putting callers through to a person
    /// (tenants.voice_transfer_number).
    pub transfer_number: Option<&'a PhoneNumber>,
    /// The call's provider can transfer a live call (its call control is
    /// configured).
    pub provider_transfers: bool,
    /// The number the caller dialled (the bot's own).
    pub dialled: Option<&'a PhoneNumber>,
    /// The caller's number.
    pub caller: Option<&'a PhoneNumber>,
}

/// Transfer when the tenant has a number and the provider can put the call
/// through to it; a number that is the bot's own (the call would come back
/// to the bot) or the caller's (they would ring themselves) is not one.
pub fn plan_call_handoff(facts: HandoffFacts<'_>) -> CallHandoff {
    let Some(to) = facts.transfer_number else {
        return CallHandoff::Promise;
    };
    if !facts.provider_transfers
        || facts.dialled.is_some_and(|d| d == to)
        || facts.caller.is_some_and(|c| c == to)
    {
        return CallHandoff::Promise;
    }
    CallHandoff::Transfer { to: to.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s).unwrap()
    }

    #[test]
    fn transfer_only_with_a_number_a_capable_provider_and_no_loop() {
        let business = n("+254700123456");
        let bot = n("+254711000100");
        let caller = n("+254722000111");
        let facts = HandoffFacts {
            transfer_number: Some(&business),
            provider_transfers: true,
            dialled: Some(&bot),
            caller: Some(&caller),
        };
        assert_eq!(
            plan_call_handoff(facts),
            CallHandoff::Transfer {
                to: business.clone()
            }
        );
        assert_eq!(
            plan_call_handoff(HandoffFacts {
                transfer_number: None,
                ..facts
            }),
            CallHandoff::Promise
        );
        assert_eq!(
            plan_call_handoff(HandoffFacts {
                provider_transfers: false,
                ..facts
            }),
            CallHandoff::Promise
        );
        // The bot's own number would ring the bot again.
        assert_eq!(
            plan_call_handoff(HandoffFacts {
                transfer_number: Some(&bot),
                ..facts
            }),
            CallHandoff::Promise
        );
        assert_eq!(
            plan_call_handoff(HandoffFacts {
                transfer_number: Some(&caller),
                ..facts
            }),
            CallHandoff::Promise
        );
    }

    #[test]
    fn the_route_is_recorded_by_name() {
        assert_eq!(CallHandoff::Promise.route(), "promise");
        let t = CallHandoff::Transfer {
            to: n("+254700123456"),
        };
        assert_eq!(t.route(), "transfer");
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"route": "transfer", "to": "+254700123456"})
        );
    }
}
