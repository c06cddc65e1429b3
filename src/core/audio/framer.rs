//! Turns arbitrary chunk sizes into fixed frames.
//!
//! Providers send whatever they like (Twilio 20 ms, Telnyx 20-30 ms, Vonage
//! 20 ms of L16, a WAV reader whatever it read); the VAD and the turn engine
//! want fixed 10 or 20 ms frames. The framer is a ring buffer (ringbuf, sized
//! once) between the two. When the buffer is full the newest samples are
//! dropped and counted: a stalled consumer must not grow memory.

use ringbuf::LocalRb;
use ringbuf::storage::Heap;
use ringbuf::traits::Observer;

/// Fixed-size framing of a mono i16 stream.
pub struct Framer {
    rb: LocalRb<Heap<i16>>,
    frame_len: usize,
    dropped: u64,
    frames_out: u64,
}

impl std::fmt::Debug for Framer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framer")
            .field("frame_len", &self.frame_len)
            .field("buffered", &self.rb.occupied_len())
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl Framer {
    /// Frames of `frame_ms` (10 or 20 are usual) at `rate_hz`, buffering at
    /// most `max_buffer_ms` of audio.
    pub fn new(rate_hz: u32, frame_ms: u32, max_buffer_ms: u32) -> Self {
        let frame_len = ((rate_hz as usize * frame_ms as usize) / 1000).max(1);
        let cap = ((rate_hz as usize * max_buffer_ms as usize) / 1000).max(frame_len * 2);
        Self {
            rb: LocalRb::new(cap),
            frame_len,
            dropped: 0,
            frames_out: 0,
        }
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Append a chunk of any size. Returns how many samples were kept.
    pub fn push(&mut self, samples: &[i16]) -> usize {
        let kept = self.rb.push_slice(samples);
        self.dropped += (samples.len() - kept) as u64;
        kept
    }

    /// Take the next full frame into `out` (at least [`Self::frame_len`]
    /// long). Returns false, leaving `out` alone, when less than a frame is
    /// buffered.
    pub fn pop_frame(&mut self, out: &mut [i16]) -> bool {
        if self.rb.occupied_len() < self.frame_len || out.len() < self.frame_len {
            return false;
        }
        let got = self.rb.pop_slice(&mut out[..self.frame_len]);
        debug_assert_eq!(got, self.frame_len);
        self.frames_out += 1;
        true
    }

    /// Samples waiting for a full frame.
    pub fn buffered(&self) -> usize {
        self.rb.occupied_len()
    }

    /// Samples dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Frames handed out so far (frame index of the next frame).
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbitrary_chunks_become_ordered_fixed_frames() {
        let mut f = Framer::new(8000, 20, 1000);
        assert_eq!(f.frame_len(), 160);
        let data: Vec<i16> = (0..1000).map(|i| i as i16).collect();
        let mut frames = Vec::new();
        let mut out = [0i16; 160];
        let mut pos = 0;
        for size in [1usize, 7, 159, 160, 161, 0, 300, 212] {
            f.push(&data[pos..pos + size]);
            pos += size;
            while f.pop_frame(&mut out) {
                frames.extend_from_slice(&out);
            }
        }
        assert_eq!(pos, 1000);
        assert_eq!(frames.len(), 960);
        assert_eq!(f.buffered(), 40);
        assert!(frames.iter().enumerate().all(|(i, &s)| s == i as i16));
        assert_eq!(f.frames_out(), 6);
    }

    #[test]
    fn overflow_drops_the_newest_and_counts_them() {
        let mut f = Framer::new(8000, 10, 20);
        assert_eq!(f.push(&[1; 500]), 160);
        assert_eq!(f.dropped(), 340);
        let mut small = [0i16; 10];
        assert!(!f.pop_frame(&mut small), "output shorter than a frame");
    }
}
