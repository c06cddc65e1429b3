//! Audio primitives under the turn engine: G.711 codecs, L16, streaming
//! resampling, fixed framing and per-frame level features.
//!
//! Everything here is allocation-free per frame: buffers are sized when a
//! call starts (resampler, framer) and then reused. The inbound path of a
//! call is `decode (g711/pcm) -> framer -> resampler -> vad -> turn`; see
//! [`crate::core::turn`] for the engine and [`crate::core::vad`] for the
//! voice activity detector.

pub mod features;
pub mod framer;
pub mod g711;
pub mod pcm;
pub mod resample;
pub mod wav;

pub use features::{FrameLevel, frame_level};
pub use framer::Framer;
pub use pcm::Endian;
pub use resample::{ResampleError, StreamResampler, resample_all};
