//! One clock and one backoff: every wait and every retry of lppg goes through here.
//!
//! A [`Clock`] gives the time and waits; code that waits takes one
//! (`&dyn Clock`), lppg runs on [`system`]'s, and tests hand it a [`Virtual`] clock that moves only when slept on,
//! so no test waits on a real delay (an injected clock rather than tokio's `test-util`, which would rebuild every
//! crate that depends on tokio for the tests). [`Backoff`] is the one schedule of retry delays (double
//! each time, up to a cap, within a budget); `aws::Retry` and the stack, drain, probe, redrive and Athena waits
//! take their delays from it.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// A source of time that can wait. [`system`] is the one lppg runs on; tests hand a [`Virtual`] clock to the code
/// under test, so waits of minutes take no real time.
pub trait Clock: Send + Sync {
    /// Now, in ms since the epoch.
    fn now_ms(&self) -> i64;
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real clock: the wall clock and tokio's sleep.
pub struct Wall;

impl Clock for Wall {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that only moves when something sleeps on it: a sleep returns at once, the time advanced by its length.
pub struct Virtual {
    now: AtomicI64,
}

impl Virtual {
    pub fn at(ms: i64) -> Virtual {
        Virtual {
            now: AtomicI64::new(ms),
        }
    }
    /// Moves the time on without anyone sleeping (something else took time).
    pub fn advance(&self, d: Duration) {
        self.now.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for Virtual {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.advance(d);
        Box::pin(tokio::task::yield_now())
    }
}

/// Whether lppg runs on a [`Virtual`] clock (`LPPG_VIRTUAL_CLOCK=1`).
pub fn is_virtual() -> bool {
    std::env::var("LPPG_VIRTUAL_CLOCK").as_deref() == Ok("1")
}

/// The clock lppg runs on: the wall clock, or a [`Virtual`] one starting at the wall clock's time when
/// `LPPG_VIRTUAL_CLOCK=1` is set (for the integration tests, which run the binary against an emulator that answers
/// at once: their retries and polls then take no real time).
pub fn system() -> &'static dyn Clock {
    static CLOCK: OnceLock<Box<dyn Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| match is_virtual() {
            true => Box::new(Virtual::at(Wall.now_ms())),
            false => Box::new(Wall),
        })
        .as_ref()
}

/// Now on [`system`]'s clock, in ms since the epoch.
pub fn now_ms() -> i64 {
    system().now_ms()
}

/// Waits `d` on [`system`]'s clock.
pub async fn sleep(d: Duration) {
    system().sleep(d).await
}

/// Delays between attempts: `first`, then doubled each time up to `max_delay`, until `budget` is spent (the last
/// delay is cut to what is left of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max_delay: Duration,
    pub budget: Duration,
}

impl Backoff {
    /// Polling at a steady `every` for at most `budget`.
    pub const fn steady(every: Duration, budget: Duration) -> Backoff {
        Backoff {
            first: every,
            max_delay: every,
            budget,
        }
    }

    /// Polling that starts at `first` and doubles up to `max_delay`, with no budget (the caller decides when to stop).
    pub const fn unbounded(first: Duration, max_delay: Duration) -> Backoff {
        Backoff {
            first,
            max_delay,
            budget: Duration::MAX,
        }
    }

    /// The delays, in order.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        let (mut next, mut spent, me) = (self.first, Duration::ZERO, *self);
        std::iter::from_fn(move || {
            if spent >= me.budget || next.is_zero() {
                return None;
            }
            let d = next.min(me.budget - spent);
            spent += d;
            next = (next * 2).min(me.max_delay);
            Some(d)
        })
    }

    /// A running schedule: [`Waiter::wait`] sleeps the next delay, or answers `false` once the budget is spent.
    pub fn start<'c>(&self, clock: &'c dyn Clock) -> Waiter<'c> {
        Waiter {
            delays: Box::new(self.delays()),
            clock,
        }
    }
}

/// One use of a [`Backoff`].
pub struct Waiter<'c> {
    delays: Box<dyn Iterator<Item = Duration> + Send>,
    clock: &'c dyn Clock,
}

impl Waiter<'_> {
    /// Sleeps the next delay; `false` (without sleeping) when the budget is spent.
    pub async fn wait(&mut self) -> bool {
        match self.delays.next() {
            Some(d) => {
                self.clock.sleep(d).await;
                true
            }
            None => false,
        }
    }

    /// The next delay without sleeping (a caller that sleeps in a `select!`).
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.delays.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_within_the_budget() {
        let b = Backoff {
            first: Duration::from_secs(1),
            max_delay: Duration::from_secs(4),
            budget: Duration::from_secs(12),
        };
        let d: Vec<u64> = b.delays().map(|d| d.as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 4, 1]);
        let steady = Backoff::steady(Duration::from_secs(5), Duration::from_secs(12));
        assert_eq!(
            steady.delays().map(|d| d.as_secs()).collect::<Vec<_>>(),
            vec![5, 5, 2]
        );
    }

    #[tokio::test]
    async fn a_virtual_clock_moves_when_slept_on_not_with_the_wall() {
        let real = std::time::Instant::now();
        let clock = Virtual::at(1_000);
        let before = clock.now_ms();
        let mut w =
            Backoff::steady(Duration::from_secs(60), Duration::from_secs(600)).start(&clock);
        let mut n = 0;
        while w.wait().await {
            n += 1;
        }
        assert_eq!(n, 10);
        assert_eq!(clock.now_ms() - before, 600_000);
        assert!(real.elapsed() < Duration::from_secs(5), "a real wait");
    }
}
