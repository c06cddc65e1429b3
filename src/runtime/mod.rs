//! The async shell: tasks that own core machines and perform their effects.

pub mod payments;
pub mod reaper;
pub mod server;
pub mod shutdown;
