//! STUB (replaced by the intents branch)
use super::text::Tokens;
pub fn stated_name(_tokens: &Tokens, _text: &str) -> Option<String> {
    None
}
pub fn party_size(_tokens: &Tokens) -> u8 {
    1
}
