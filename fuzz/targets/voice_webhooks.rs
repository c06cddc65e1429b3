//! `scripts/fuzz voice_webhooks SECONDS`: AFL++ over [`ratiba_fuzz::targets::voice_webhooks`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::voice_webhooks(data));
}
