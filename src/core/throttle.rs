//! Failed attempts per key (a client address), counted in fixed windows:
//! after `limit` failures within one window the key is refused until the
//! window ends. Successes are not counted. Memory is bounded: at most
//! `capacity` keys are tracked; when full, expired windows are dropped
//! first, then the oldest window.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Counts failures per key; time is an argument.
#[derive(Debug)]
pub struct FailureLimiter<K> {
    limit: u32,
    window: Duration,
    capacity: usize,
    keys: HashMap<K, (Instant, u32)>,
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// `limit` failures per `window`, tracking at most `capacity` keys.
    pub fn new(limit: u32, window: Duration, capacity: usize) -> Self {
        Self {
            limit: limit.max(1),
            window,
            capacity: capacity.max(1),
            keys: HashMap::new(),
        }
    }

    /// `Err(retry_after)` when `key` has used up its failures in the
    /// current window.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.keys.get(key) {
            Some((start, n)) if *n >= self.limit => {
                let ends = *start + self.window;
                if ends > now { Err(ends - now) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure of `key`.
    pub fn failed(&mut self, key: &K, now: Instant) {
        if let Some((start, n)) = self.keys.get_mut(key) {
            if now.saturating_duration_since(*start) >= self.window {
                *start = now;
                *n = 1;
            } else {
                *n = n.saturating_add(1);
            }
            return;
        }
        if self.keys.len() >= self.capacity {
            let window = self.window;
            self.keys
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        if self.keys.len() >= self.capacity {
            let oldest = self
                .keys
                .iter()
                .min_by_key(|(_, (start, _))| *start)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.keys.remove(&k);
            }
        }
        self.keys.insert(key.clone(), (now, 1));
    }

    /// How many keys are tracked.
    pub fn tracked(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn refuses_after_the_limit_until_the_window_ends() {
        let t0 = Instant::now();
        let mut l = FailureLimiter::new(3, MIN, 10);
        for _ in 0..2 {
            l.failed(&"a", t0);
        }
        assert_eq!(l.check(&"a", t0), Ok(()));
        l.failed(&"a", t0 + Duration::from_secs(10));
        assert_eq!(
            l.check(&"a", t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert_eq!(l.check(&"b", t0), Ok(()), "other keys unaffected");
        assert_eq!(l.check(&"a", t0 + MIN), Ok(()));
        // A new window starts counting from one.
        l.failed(&"a", t0 + MIN);
        assert_eq!(l.check(&"a", t0 + MIN), Ok(()));
    }

    #[test]
    fn memory_stays_bounded() {
        let t0 = Instant::now();
        let mut l = FailureLimiter::new(2, MIN, 100);
        for i in 0..10_000u32 {
            l.failed(&i, t0 + Duration::from_millis(u64::from(i)));
        }
        assert!(l.tracked() <= 100);
        // The newest keys are still counted.
        l.failed(&9_999, t0 + Duration::from_secs(10));
        assert!(l.check(&9_999, t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn expired_windows_make_room_first() {
        let t0 = Instant::now();
        let mut l = FailureLimiter::new(1, MIN, 2);
        l.failed(&"old", t0);
        l.failed(&"hot", t0 + Duration::from_secs(50));
        l.failed(&"new", t0 + Duration::from_secs(70));
        assert!(l.check(&"hot", t0 + Duration::from_secs(70)).is_err());
        assert_eq!(l.tracked(), 2);
    }
}
