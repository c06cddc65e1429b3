//! `scripts/fuzz vonage_codec SECONDS`: AFL++ over [`ratiba_fuzz::targets::vonage_codec`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::vonage_codec(data));
}
