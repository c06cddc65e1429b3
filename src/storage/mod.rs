//! Postgres access. Every tenant query goes through a tenant handle.
