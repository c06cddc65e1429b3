//! `scripts/fuzz meta_webhook SECONDS`: AFL++ over [`ratiba_fuzz::targets::meta_webhook`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::meta_webhook(data));
}
