//! One bot utterance on its way to the caller, sans-IO: the sentences still
//! to synthesize, the wire audio synthesized so far, what has been sent and
//! what the caller has heard.
//!
//! Audio is sent as it is synthesized, with a marker every
//! `mark_every_bytes`; the provider echoes a marker once everything before it
//! has played, which moves "heard". A pause (the caller started talking over
//! the bot) clears the provider's buffer: "sent" falls back to "heard", so a
//! resume replays exactly the unheard rest, and an interrupted utterance
//! counts as heard up to the cut. Markers from before a clear (which the
//! provider returns as flushed) carry an older epoch and are ignored.
//!
//! The driver does the I/O: it synthesizes [`Utterance::next_sentence`],
//! appends the wire bytes to [`Utterance::audio_mut`], sends what
//! [`Utterance::pump`] hands it, clears the provider when
//! [`Utterance::pause`] or [`Utterance::cut`] say so, and reports echoed
//! markers to [`Utterance::marker_heard`].
//!
//! [`Voice`] is what the bot says on a call around that: one line at a
//! time, the lines waiting behind it (a hold's prompts, "are you still
//! there?"), the line replaced by the dialog's answer or cut by the caller,
//! what each line's record says was heard, the caller's silences and the
//! hold's prompts heard. The call's task feeds it and performs its
//! [`VoiceOut`]s (synthesis, the provider's clear, the turn engine's cues,
//! rows, ending the call).

mod utterance;
mod voice;

pub use utterance::{Send, Utterance};
pub use voice::{HOLD_PROMPT, Line, NO_INPUT, Spoken, Voice, VoiceOut};
