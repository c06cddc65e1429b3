//! `scripts/fuzz daraja_callback SECONDS`: AFL++ over [`ratiba_fuzz::targets::daraja_callback`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::daraja_callback(data));
}
