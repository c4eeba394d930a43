//! Commands per second per connection: a token bucket. Over the limit the session waits
//! before it takes the next command instead of being cut off: real clients (a first sync,
//! a burst of pipelined FETCH/STORE) overshoot for a moment, and slowing them is invisible
//! while a disconnect makes them reconnect and start over, which costs more. Not reading
//! also pushes back through TCP onto the sender. Only a client that stays over the limit for
//! `max_throttled` is told so and closed: that is a script hammering us, not a mail client.

use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

/// The rate a session may send commands at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateConfig {
    /// Commands per second in the long run; 0 turns the limit off.
    pub per_second: u32,
    /// Commands a client may send at once after a quiet spell.
    pub burst: u32,
    /// How long a client may stay throttled without a pause before it is closed.
    pub max_throttled: Duration,
}

impl Default for RateConfig {
    /// 50/s with bursts of 200 is far above what any mail client sends (they pipeline a few
    /// dozen commands at most, then wait for the answers), and low enough that one session
    /// can't keep the store busy with nothing but cheap commands.
    fn default() -> Self {
        RateConfig {
            per_second: 50,
            burst: 200,
            max_throttled: Duration::from_secs(30),
        }
    }
}

/// The client kept sending faster than allowed for `max_throttled`.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("commands sent too fast for too long")]
pub struct Throttled;

/// One connection's bucket.
#[derive(Debug)]
pub struct RateLimit {
    config: RateConfig,
    tokens: f64,
    refilled: Instant,
    /// When the current stretch of waiting began; cleared by a command that needs no wait.
    throttled_since: Option<Instant>,
}

impl RateLimit {
    pub fn new(config: RateConfig) -> Self {
        RateLimit {
            config,
            tokens: f64::from(config.burst.max(1)),
            refilled: Instant::now(),
            throttled_since: None,
        }
    }

    /// Takes one command's token, waiting until there is one. Cancel-safe: a token is only
    /// taken once the wait is over.
    pub async fn acquire(&mut self) -> Result<(), Throttled> {
        if self.config.per_second == 0 {
            return Ok(());
        }
        let now = Instant::now();
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.throttled_since = None;
            return Ok(());
        }
        let since = *self.throttled_since.get_or_insert(now);
        if now.duration_since(since) >= self.config.max_throttled {
            return Err(Throttled);
        }
        let missing = 1.0 - self.tokens;
        let wait = Duration::from_secs_f64(missing / f64::from(self.config.per_second));
        tokio::time::sleep(wait).await;
        self.refill(Instant::now());
        self.tokens = (self.tokens - 1.0).max(0.0);
        Ok(())
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        let burst = f64::from(self.config.burst.max(1));
        self.tokens = (self.tokens + elapsed * f64::from(self.config.per_second)).min(burst);
        self.refilled = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_second: u32, burst: u32, max_throttled: u64) -> RateConfig {
        RateConfig {
            per_second,
            burst,
            max_throttled: Duration::from_secs(max_throttled),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn burst_passes_then_commands_are_paced() {
        let mut rate = RateLimit::new(config(10, 5, 60));
        let start = Instant::now();
        for _ in 0..5 {
            rate.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), start, "the burst needs no wait");
        for _ in 0..10 {
            rate.acquire().await.unwrap();
        }
        // Ten more at ten per second take one second of (paused, auto-advanced) time.
        let waited = Instant::now().duration_since(start);
        assert!(
            waited >= Duration::from_millis(990) && waited <= Duration::from_millis(1010),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_refills_the_bucket() {
        let mut rate = RateLimit::new(config(10, 3, 60));
        for _ in 0..3 {
            rate.acquire().await.unwrap();
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        let before = Instant::now();
        for _ in 0..3 {
            rate.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn hammering_for_too_long_is_refused() {
        let mut rate = RateLimit::new(config(10, 1, 2));
        let mut served = 0;
        let outcome = loop {
            match rate.acquire().await {
                Ok(()) => served += 1,
                Err(e) => break e,
            }
            assert!(served < 1000, "never refused");
        };
        assert_eq!(outcome, Throttled);
        // One burst token, then two seconds at ten per second.
        assert!((20..=22).contains(&served), "{served}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_slows_down_is_forgiven() {
        let mut rate = RateLimit::new(config(10, 1, 2));
        for _ in 0..15 {
            rate.acquire().await.unwrap();
        }
        // A pause long enough to earn a token ends the throttled stretch.
        tokio::time::advance(Duration::from_millis(200)).await;
        for _ in 0..15 {
            rate.acquire().await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unlimited() {
        let mut rate = RateLimit::new(config(0, 0, 0));
        let start = Instant::now();
        for _ in 0..10_000 {
            rate.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), start);
    }
}
