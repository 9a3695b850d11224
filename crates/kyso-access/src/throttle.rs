//! Login throttling: at most `max` failures per key (an ID number, a username, a client address)
//! in a sliding window; success clears the key. The clock is an argument (seconds).

use std::collections::HashMap;

#[derive(Debug)]
pub struct Throttle {
    max: u32,
    window: u64,
    failures: HashMap<String, Vec<u64>>,
}

impl Throttle {
    pub fn new(max: u32, window_secs: u64) -> Throttle {
        Throttle { max, window: window_secs, failures: HashMap::new() }
    }

    /// `Err(seconds to wait)` if the key has used up its failures in the window.
    pub fn check(&mut self, key: &str, now: u64) -> Result<(), u64> {
        let window = self.window;
        let Some(v) = self.failures.get_mut(key) else { return Ok(()) };
        v.retain(|t| t + window > now);
        if v.len() as u32 >= self.max {
            let oldest = v.iter().min().copied().unwrap_or(now);
            return Err(oldest + window - now);
        }
        Ok(())
    }

    pub fn failed(&mut self, key: &str, now: u64) {
        // Bound memory under a spray of distinct keys: drop expired entries now and then.
        if self.failures.len() > 100_000 {
            let window = self.window;
            self.failures.retain(|_, v| v.iter().any(|t| t + window > now));
        }
        self.failures.entry(key.to_string()).or_default().push(now);
    }

    pub fn succeeded(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let mut t = Throttle::new(3, 60);
        for s in 0..3 {
            assert!(t.check("a", 100 + s).is_ok());
            t.failed("a", 100 + s);
        }
        assert_eq!(t.check("a", 110), Err(50));
        assert!(t.check("b", 110).is_ok(), "keys are independent");
        assert!(t.check("a", 160).is_ok(), "first failure left the window");
        t.succeeded("a");
        assert!(t.check("a", 161).is_ok());
    }
}
