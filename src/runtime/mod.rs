//! The async shell: tasks that own core machines and perform their effects.
pub mod conversation;
