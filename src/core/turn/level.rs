//! How loud the caller speaks, from the voiced frames of their own turns.
//!
//! People who talk over someone to take the turn do it at full voice;
//! acknowledgements ("mm-hmm", "ndiyo") come softer than the listener's own
//! speech. So a sound over the bot that is as loud as the caller's turns is
//! taken for speech sooner. The reference is a histogram of frame levels
//! (1 dB bins): fixed size, no allocation, a quantile in one pass.

const MIN_DB: f32 = -90.0;
const BINS: usize = 90;

/// Levels (dBFS) of the caller's voiced frames in their turns.
#[derive(Debug, Clone)]
pub struct CallerLevel {
    bins: [u32; BINS],
    frames: u32,
}

impl Default for CallerLevel {
    fn default() -> Self {
        Self {
            bins: [0; BINS],
            frames: 0,
        }
    }
}

impl CallerLevel {
    /// One voiced frame of a caller turn.
    pub fn observe(&mut self, level_db: f32) {
        if !level_db.is_finite() {
            return;
        }
        let bin = ((level_db - MIN_DB).floor().max(0.0) as usize).min(BINS - 1);
        self.bins[bin] = self.bins[bin].saturating_add(1);
        self.frames = self.frames.saturating_add(1);
    }

    /// The level that a fraction `q` of the frames stay at or below (upper
    /// edge of its bin), once at least `min_frames` were seen.
    pub fn quantile(&self, q: f32, min_frames: u32) -> Option<f32> {
        if self.frames < min_frames.max(1) {
            return None;
        }
        let target = (q.clamp(0.0, 1.0) * self.frames as f32).ceil().max(1.0) as u32;
        let mut seen = 0u32;
        for (i, &n) in self.bins.iter().enumerate() {
            seen = seen.saturating_add(n);
            if seen >= target {
                return Some(MIN_DB + i as f32 + 1.0);
            }
        }
        Some(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::CallerLevel;

    #[test]
    fn quantiles_need_enough_frames_and_ignore_garbage() {
        let mut l = CallerLevel::default();
        assert_eq!(l.quantile(0.8, 1), None);
        l.observe(f32::NAN);
        l.observe(f32::NEG_INFINITY);
        assert_eq!(l.quantile(0.8, 1), None);
        for db in [-40.0, -30.0, -30.0, -25.0, -20.0] {
            l.observe(db);
        }
        assert_eq!(l.quantile(0.8, 10), None);
        // 4 of 5 frames are at or below -25 dB (its bin's upper edge -24).
        assert_eq!(l.quantile(0.8, 5), Some(-24.0));
        assert_eq!(l.quantile(1.0, 5), Some(-19.0));
        // Out-of-range levels land in the edge bins.
        l.observe(-200.0);
        l.observe(30.0);
        assert_eq!(l.quantile(0.0, 1), Some(-89.0));
        assert_eq!(l.quantile(1.0, 1), Some(0.0));
    }
}
