//! `scripts/fuzz exotel_codec SECONDS`: AFL++ over [`ratiba_fuzz::targets::exotel_codec`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::exotel_codec(data));
}
