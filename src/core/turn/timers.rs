//! The engine's named timer table: one optional deadline per reason.

/// Why a deadline exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Silence long enough (for what the words say) to end the caller's turn.
    EndOfTurn,
    /// A tentative pause not confirmed by then resumes the bot.
    BargeInWindow,
    /// A short pause in a long caller turn: time for a soft "mm-hmm".
    ListeningAck,
    /// Nobody has spoken for a long time after the bot finished.
    NoInput,
}

impl Timer {
    pub const ALL: [Timer; 4] = [
        Timer::EndOfTurn,
        Timer::BargeInWindow,
        Timer::ListeningAck,
        Timer::NoInput,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Stable name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Timer::EndOfTurn => "end_of_turn",
            Timer::BargeInWindow => "barge_in_window",
            Timer::ListeningAck => "listening_ack",
            Timer::NoInput => "no_input",
        }
    }
}

/// Deadlines in engine milliseconds. An expired or cleared timer is `None`;
/// firing a timer that is not due is a no-op.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    at: [Option<i64>; Timer::ALL.len()],
}

impl Timers {
    pub fn set(&mut self, t: Timer, at_ms: i64) {
        self.at[t.index()] = Some(at_ms);
    }

    pub fn clear(&mut self, t: Timer) {
        self.at[t.index()] = None;
    }

    pub fn get(&self, t: Timer) -> Option<i64> {
        self.at[t.index()]
    }

    /// The earliest deadline and its reason.
    pub fn next(&self) -> Option<(i64, Timer)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|a| (a, t)))
            .min_by_key(|&(a, t)| (a, t))
    }

    /// Take the earliest timer due at or before `now_ms`.
    pub fn pop_due(&mut self, now_ms: i64) -> Option<(i64, Timer)> {
        let (at, t) = self.next()?;
        if at > now_ms {
            return None;
        }
        self.clear(t);
        Some((at, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_only_when_due() {
        let mut t = Timers::default();
        t.set(Timer::NoInput, 500);
        t.set(Timer::EndOfTurn, 300);
        assert_eq!(t.next(), Some((300, Timer::EndOfTurn)));
        assert_eq!(t.pop_due(299), None);
        assert_eq!(t.pop_due(400), Some((300, Timer::EndOfTurn)));
        assert_eq!(t.pop_due(400), None);
        t.clear(Timer::NoInput);
        assert_eq!(t.next(), None);
    }
}
