//! `scripts/fuzz whatsapp_webhook SECONDS`: AFL++ over [`ratiba_fuzz::targets::whatsapp_webhook`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::whatsapp_webhook(data));
}
