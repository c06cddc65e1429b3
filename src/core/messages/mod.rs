//! The message catalogue: every sentence the engine says or writes to a
//! customer, in English and Swahili, rendered per language by `text(lang)`.
//! The conversation's fixed sentences ([`Msg`]), the payment hold on a call
//! ([`hold::Prompt`]) and chat payments ([`chat_payment::ChatMessage`]).

pub mod chat_payment;
pub mod dialog;
pub mod hold;

pub use dialog::Msg;
