//! The fuzz targets: each a function from bytes to nothing that calls the
//! library's own parsers and panics when an invariant breaks. The AFL++
//! binaries in `targets/` run them under the fuzzer (`scripts/fuzz`); the
//! main crate's `tests/telephony_codecs.rs` includes `targets.rs` by path
//! and replays every seed and regression input through the same functions
//! in `cargo test`.

pub mod targets;
