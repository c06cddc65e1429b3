//! `scripts/fuzz twilio_codec SECONDS`: AFL++ over [`ratiba_fuzz::targets::twilio_codec`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::twilio_codec(data));
}
