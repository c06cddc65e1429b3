//! The pure core: no I/O, no clocks, no async. Everything here can be driven
//! from a test with plain data and a virtual clock.

pub mod audio;
pub mod booking;
pub mod catalog_import;
pub mod commission;
pub mod dialog;
pub mod ids;
pub mod messages;
pub mod payment;
pub mod phone_check;
pub mod playback;
pub mod price_list;
pub mod tenancy;
pub mod throttle;
pub mod turn;
pub mod vad;
