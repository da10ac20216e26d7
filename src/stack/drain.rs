//! Before a teardown: the last denied calls must reach the policy. CloudTrail delivers about 5 minutes after a
//! call (not guaranteed) and keeps delivering for a while after StopLogging, and Lambda's asynchronous retries add
//! minutes; saving the policy right after the last step would lose those calls. So `down` stops the trail first
//! and, when the last activity is recent, waits until the function has gone quiet.
use super::{Generator, Report};
use crate::decisions::Line;
use anyhow::{bail, Result};
use std::time::Duration;

/// Activity older than this needs no wait.
pub const RECENT: Duration = Duration::from_secs(15 * 60);
/// How long the trail may take to flush after StopLogging before that condition is given up.
const FLUSH_CAP_MS: i64 = 15 * 60 * 1000;

/// What the pipeline looks like at one moment (times in ms since the epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// The newest line the function wrote (a decision or a batch summary).
    pub last_line_ms: Option<i64>,
    /// The newest denied call's event time among its decisions.
    pub last_denied_ms: Option<i64>,
    /// The trail's StopLogging time and its latest delivery to CloudWatch Logs, when a trail reports them.
    pub stopped_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
}

/// Whether to keep waiting, and what for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drain {
    /// Nothing recent: no need to wait.
    Idle,
    /// Quiet long enough (and the trail flushed): go on.
    Quiet,
    /// Keep waiting; the text says for what.
    Waiting(String),
}

/// Decides whether the pipeline has drained, `quiet_ms` being the silence required of the function.
pub fn drain_state(a: &Activity, now_ms: i64, quiet_ms: i64, started_ms: i64) -> Drain {
    let recent = RECENT.as_millis() as i64;
    let newest = a.last_line_ms.max(a.last_denied_ms);
    if newest.is_none_or(|t| now_ms - t > recent) {
        return Drain::Idle;
    }
    let since_line = now_ms - a.last_line_ms.unwrap_or(started_ms).max(started_ms);
    if since_line < quiet_ms {
        return Drain::Waiting(format!(
            "waiting for the last denied calls to arrive: the function has been quiet for {}s of {}s \
             (CloudTrail delivers about 5 minutes after a call; Ctrl-C stops waiting and deletes nothing)",
            since_line / 1000,
            quiet_ms / 1000
        ));
    }
    if let (Some(stop), Some(delivered)) = (a.stopped_ms, a.delivered_ms) {
        if delivered <= stop && now_ms - stop < FLUSH_CAP_MS {
            return Drain::Waiting(
                "waiting for the trail's last delivery to CloudWatch Logs after it stopped logging (Ctrl-C stops \
                 waiting and deletes nothing)"
                    .to_string(),
            );
        }
    }
    Drain::Quiet
}

impl Generator {
    /// The function's activity from `since_ms` on, added to what `before` already saw, and the trail's delivery
    /// times.
    pub async fn activity(&self, before: Activity, since_ms: i64) -> Result<Activity> {
        let mut a = before;
        let group = self.function_log_group();
        if let Some(lines) =
            crate::aws::logs::read_events(&self.c, &group, since_ms, 50_000).await?
        {
            for l in lines {
                match crate::decisions::parse_line(&l.message) {
                    Line::Decision(d) => {
                        a.last_line_ms = a.last_line_ms.max(Some(l.timestamp_ms));
                        let t = d
                            .event_time
                            .as_deref()
                            .and_then(crate::time::parse_rfc3339_ms);
                        a.last_denied_ms = a.last_denied_ms.max(t);
                    }
                    Line::Batch(_) => a.last_line_ms = a.last_line_ms.max(Some(l.timestamp_ms)),
                    _ => {}
                }
            }
        }
        if let Some((stopped, delivered)) =
            crate::aws::trail::delivery(&self.c, &self.trail_name()).await?
        {
            a.stopped_ms = stopped;
            a.delivered_ms = delivered;
        }
        Ok(a)
    }

    /// Stops the trail, then waits until the pipeline has drained (see [`drain_state`]). Ctrl-C stops waiting with
    /// an error that says nothing was deleted.
    pub async fn drain(&self, quiet: Duration, progress: &dyn Report) -> Result<Drain> {
        crate::aws::trail::stop(&self.c, &self.trail_name()).await?;
        let started = crate::time::now_ms();
        // The first read covers the recent window; later ones only a look-back (late-ingested lines keep their
        // earlier timestamps), added to what was seen.
        let mut since = started - RECENT.as_millis() as i64;
        let mut seen = Activity::default();
        let mut waited = false;
        loop {
            let now = crate::time::now_ms();
            seen = self.activity(seen, since).await?;
            since = now - super::follow::LOOKBACK_MS;
            let state = drain_state(&seen, now, quiet.as_millis() as i64, started);
            let Drain::Waiting(why) = &state else {
                return Ok(if waited { Drain::Quiet } else { state });
            };
            if !waited {
                // Said once as a line (it stays when there is no terminal), then kept current on the spinner.
                progress.line(why);
                waited = true;
            }
            progress.status(why);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5).min(quiet)) => {}
                _ = tokio::signal::ctrl_c() => bail!(
                    "interrupted while waiting for the last denied calls: nothing was deleted and the policy was not \
                     saved; the trail is stopped. Run `lppg down` again to finish (or `lppg down --no-wait`)"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_261_600_000;

    #[test]
    fn old_activity_needs_no_wait() {
        let a = Activity {
            last_line_ms: Some(NOW - 20 * 60_000),
            ..Activity::default()
        };
        assert_eq!(drain_state(&a, NOW, 120_000, NOW), Drain::Idle);
        assert_eq!(
            drain_state(&Activity::default(), NOW, 120_000, NOW),
            Drain::Idle
        );
    }

    #[test]
    fn recent_activity_waits_for_quiet() {
        let a = Activity {
            last_line_ms: Some(NOW - 30_000),
            last_denied_ms: Some(NOW - 300_000),
            ..Activity::default()
        };
        // The quiet period counts from the start of the wait at the earliest.
        assert!(matches!(
            drain_state(&a, NOW, 120_000, NOW),
            Drain::Waiting(_)
        ));
        assert!(matches!(
            drain_state(&a, NOW + 60_000, 120_000, NOW),
            Drain::Waiting(_)
        ));
        assert_eq!(drain_state(&a, NOW + 120_000, 120_000, NOW), Drain::Quiet);
        // A new line restarts the quiet period.
        let b = Activity {
            last_line_ms: Some(NOW + 100_000),
            ..a
        };
        assert!(matches!(
            drain_state(&b, NOW + 120_000, 120_000, NOW),
            Drain::Waiting(_)
        ));
    }

    #[test]
    fn a_real_trail_must_have_flushed() {
        let a = Activity {
            last_line_ms: Some(NOW - 200_000),
            stopped_ms: Some(NOW - 180_000),
            delivered_ms: Some(NOW - 190_000),
            ..Activity::default()
        };
        let w = drain_state(&a, NOW, 120_000, NOW - 180_000);
        assert!(
            matches!(&w, Drain::Waiting(t) if t.contains("last delivery")),
            "{w:?}"
        );
        let flushed = Activity {
            delivered_ms: Some(NOW - 10_000),
            ..a
        };
        assert_eq!(
            drain_state(&flushed, NOW, 120_000, NOW - 180_000),
            Drain::Quiet
        );
        // A trail that never delivers again is not waited on for ever.
        let late = NOW + FLUSH_CAP_MS;
        assert!(!matches!(
            drain_state(&a, late, 120_000, NOW - 180_000),
            Drain::Waiting(_)
        ));
    }
}
