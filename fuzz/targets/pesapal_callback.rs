//! `scripts/fuzz pesapal_callback SECONDS`: AFL++ over [`ratiba_fuzz::targets::pesapal_callback`].

fn main() {
    afl::fuzz!(|data: &[u8]| ratiba_fuzz::targets::pesapal_callback(data));
}
