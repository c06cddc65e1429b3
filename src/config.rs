//! Settings, loaded from the environment (and an optional file) and validated
//! once at start-up.
