//! The async shell: tasks that own core machines and perform their effects.

pub mod briefing;
pub mod call;
pub mod call_acks;
pub mod call_audio;
pub mod call_dialog;
pub mod call_directory;
pub mod call_payment;
pub mod call_setup;
pub mod call_turns;
pub mod chat_channel;
pub mod chat_intake;
pub mod conversation;
pub mod handoff;
pub mod metrics;
pub mod offline_turn;
pub mod payments;
pub mod reaper;
pub mod reminders;
pub mod server;
pub mod shutdown;
pub mod turn_context;
pub mod web_chat;
pub mod web_identity;
pub mod whatsapp_chat;
pub mod whatsapp_payments;
pub mod writer;
