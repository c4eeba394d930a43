//! When a deferred recipient is tried again, and when it gives up.

/// Waits after the 1st, 2nd, … temporary failure: quick retries for brief outages (greylisting
/// typically wants 1–15 minutes), then longer ones (RFC 5321 §4.5.4.1 asks for at least 30
/// minutes between retries of a persistent failure, which the tail respects).
const DELAYS: [i64; 6] = [60, 5 * 60, 15 * 60, 30 * 60, 60 * 60, 2 * 60 * 60];
/// Then every four hours until the message is too old.
const LATER: i64 = 4 * 60 * 60;

/// The wait after a temporary failure, given how many attempts came before this one.
pub fn retry_delay(previous_attempts: u32) -> i64 {
    usize::try_from(previous_attempts)
        .ok()
        .and_then(|i| DELAYS.get(i).copied())
        .unwrap_or(LATER)
}

/// What becomes of a recipient after a temporary failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// Try again at this time.
    RetryAt(i64),
    /// It has been queued for `max_age`: give up and bounce (RFC 5321 §4.5.4.1: give up after
    /// at least 4–5 days).
    Expired,
}

/// Schedules the next try, never later than the expiry, so the final attempt happens right at
/// `created_at + max_age` and its failure is the last.
pub fn after_temp_failure(
    now: i64,
    created_at: i64,
    previous_attempts: u32,
    max_age: i64,
) -> Deferral {
    let expires = created_at.saturating_add(max_age);
    if now >= expires {
        return Deferral::Expired;
    }
    Deferral::RetryAt(
        now.saturating_add(retry_delay(previous_attempts))
            .min(expires),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_stays_at_four_hours() {
        let delays: Vec<i64> = (0..8).map(retry_delay).collect();
        assert_eq!(delays, vec![60, 300, 900, 1800, 3600, 7200, 14400, 14400]);
        assert_eq!(retry_delay(u32::MAX), LATER);
    }

    #[test]
    fn expiry_caps_the_schedule() {
        let day = 86_400;
        assert_eq!(
            after_temp_failure(100, 100, 0, 5 * day),
            Deferral::RetryAt(160)
        );
        // Near the end, the next try is at the expiry itself …
        let created = 0;
        let now = 5 * day - 100;
        assert_eq!(
            after_temp_failure(now, created, 20, 5 * day),
            Deferral::RetryAt(5 * day)
        );
        // … and a failure then is final.
        assert_eq!(
            after_temp_failure(5 * day, created, 21, 5 * day),
            Deferral::Expired
        );
    }
}
