//! `scripts/fuzz telnyx_codec SECONDS`: AFL++ over [`ratiba_fuzz::targets::telnyx_codec`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::telnyx_codec(data));
}
