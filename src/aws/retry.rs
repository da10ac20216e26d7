//! [`Retry`]: which failed calls are worth another attempt, and the delays between them (the one backoff of
//! [`crate::clock`]).
use super::{AwsError, ErrorKind};
use anyhow::Result;

/// How long to keep retrying a call that failed with a transient error, and on which errors.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Error codes worth retrying (besides throttling, which always is).
    pub codes: &'static [&'static str],
    /// First delay; each next one doubles, up to `max_delay`.
    pub first: std::time::Duration,
    pub max_delay: std::time::Duration,
    /// Give up once this much time has been spent waiting.
    pub budget: std::time::Duration,
}

impl Retry {
    /// Throttling only, for about a minute.
    pub const THROTTLING: Retry = Retry {
        codes: &[],
        first: std::time::Duration::from_millis(500),
        max_delay: std::time::Duration::from_secs(8),
        budget: std::time::Duration::from_secs(60),
    };

    /// IAM right after a create or delete: `EntityTemporarilyUnmodifiable`, a fresh entity not yet visible
    /// (`NoSuchEntity`), and throttling, for a few minutes.
    pub const IAM_SETTLING: Retry = Retry {
        codes: &[
            "EntityTemporarilyUnmodifiable",
            "NoSuchEntity",
            "ConcurrentModification",
        ],
        first: std::time::Duration::from_secs(1),
        max_delay: std::time::Duration::from_secs(15),
        budget: std::time::Duration::from_secs(180),
    };

    /// Whether an error is worth another attempt.
    pub fn retries(&self, e: &anyhow::Error) -> bool {
        let Some(a) = e.chain().find_map(|c| c.downcast_ref::<AwsError>()) else {
            return false;
        };
        a.kind == ErrorKind::Throttled || a.code.as_deref().is_some_and(|c| self.codes.contains(&c))
    }

    /// The delays between attempts, in order, until the budget is spent ([`crate::clock::Backoff`]).
    pub fn delays(&self) -> impl Iterator<Item = std::time::Duration> {
        self.backoff().delays()
    }

    /// The schedule of delays, the one backoff of [`crate::clock`].
    pub fn backoff(&self) -> crate::clock::Backoff {
        crate::clock::Backoff {
            first: self.first,
            max_delay: self.max_delay,
            budget: self.budget,
        }
    }

    /// Runs `op` until it succeeds, fails with an error not worth retrying, or the budget is spent.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut delays = self.delays();
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if self.retries(&e) => match delays.next() {
                    Some(d) => crate::clock::sleep(d).await,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_within_the_budget() {
        let r = Retry {
            codes: &["EntityTemporarilyUnmodifiable"],
            first: std::time::Duration::from_secs(1),
            max_delay: std::time::Duration::from_secs(4),
            budget: std::time::Duration::from_secs(12),
        };
        let secs: Vec<u64> = r.delays().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 4, 1]);
        let aws = |code: &str, kind| {
            anyhow::Error::new(AwsError {
                kind,
                code: Some(code.to_string()),
                text: String::new(),
                source: Box::new(std::io::Error::other("x")),
            })
        };
        assert!(r.retries(&aws("EntityTemporarilyUnmodifiable", ErrorKind::Other)));
        assert!(r.retries(&aws("Throttling", ErrorKind::Throttled)));
        assert!(!r.retries(&aws("ValidationError", ErrorKind::Other)));
        assert!(!r.retries(&anyhow::anyhow!(
            "EntityTemporarilyUnmodifiable in a message"
        )));
    }
}
