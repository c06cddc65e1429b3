//! `scripts/fuzz plivo_codec SECONDS`: AFL++ over [`ratiba_fuzz::targets::plivo_codec`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::plivo_codec(data));
}
