//! The message catalogue: every sentence the engine says or writes to a
//! customer, in English and Swahili, rendered per language by `text(lang)`.
//! The conversation's fixed sentences ([`Msg`]), the greeting the
//! personality dials shape ([`greeting::greeting`]), hand-offs to a person
//! ([`handoff::HandoffMsg`]), the payment hold on a call
//! ([`hold::Prompt`]), what a call says of its own accord
//! ([`call::CallLine`]), chat payments ([`chat_payment::ChatMessage`]),
//! appointment reminders ([`reminder::Reminder`]) and the admins' daily
//! briefing ([`briefing::Briefing`], English).

pub mod briefing;
pub mod call;
pub mod chat_payment;
pub mod dialog;
pub mod greeting;
pub mod handoff;
pub mod hold;
pub mod reminder;

pub use dialog::Msg;
pub use handoff::HandoffMsg;
