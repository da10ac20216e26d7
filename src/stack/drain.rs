//! Before a teardown: every denied call CloudTrail delivers must reach the saved policy. CloudTrail delivers to
//! CloudWatch Logs about 5 minutes after a call, "not guaranteed" (CloudTrail User Guide, "Getting and viewing your
//! CloudTrail log files"), per region, and keeps delivering after StopLogging; the function then runs
//! asynchronously, with Lambda's retries and its on-failure queue. So `down` stops the trail (once), waits until
//! every region with a stream in the trail's log group has a delivery after the stop (capped at 15 minutes), and
//! then reads the trail's log group itself and reconciles it with the function's decisions ([`crate::reconcile`]):
//! what the function has not granted yet is added to the saved file. Lambda's timing no longer matters.
use super::{Generator, Report};
use crate::clock::{Backoff, Clock};
use crate::reconcile::{Gap, Judge};
use anyhow::{bail, Result};
use std::time::Duration;

/// The longest the wait lasts after StopLogging (CloudTrail's delivery tail).
pub const CAP: Duration = Duration::from_secs(15 * 60);
/// A region's delivery counts only this long after StopLogging: a call made just before the stop reaches the
/// region's next delivery after CloudTrail has processed it, so a file delivered in the first seconds after the
/// stop may not hold it. (An assumption: CloudTrail documents only the ~5 minute average from call to delivery;
/// the simulation in `drain_sim.rs` states it as the bound of its processing lag.)
pub const SETTLE: Duration = Duration::from_secs(60);
/// How often the streams are read while waiting.
pub const POLL: Duration = Duration::from_secs(15);

/// How the wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drain {
    /// The trail was not logging and stopped long ago (or there is no trail): nothing to wait for.
    NotNeeded,
    /// Every region with a stream delivered after the stop.
    Delivered { regions: Vec<String> },
    /// The cap was reached: these regions had no delivery after the stop.
    GaveUp { regions: Vec<String> },
}

/// The region of a CloudTrail stream in a log group: `account_ID_CloudTrail_region`, or with a number when the
/// volume needs several streams, `account_ID_CloudTrail_region_number` (CloudTrail User Guide, "CloudWatch log group
/// and log stream naming for CloudTrail"); `None` for other streams (lppg's probe stream).
pub fn region_of_stream(stream: &str) -> Option<&str> {
    let (_, rest) = stream.split_once("_CloudTrail_")?;
    let region = match rest.rsplit_once('_') {
        Some((r, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => r,
        _ => rest,
    };
    Some(region).filter(|r| !r.is_empty())
}

/// The regions (sorted, once each) whose streams have not delivered at or after `stopped_ms` + [`SETTLE`].
pub fn pending_regions(streams: &[(String, Option<i64>)], stopped_ms: i64) -> Vec<String> {
    let settled = stopped_ms + SETTLE.as_millis() as i64;
    let mut all = std::collections::BTreeMap::<&str, bool>::new();
    for (name, last) in streams {
        if let Some(r) = region_of_stream(name) {
            let done = last.is_some_and(|t| t >= settled);
            *all.entry(r).or_default() |= done;
        }
    }
    all.into_iter()
        .filter(|(_, done)| !done)
        .map(|(r, _)| r.to_string())
        .collect()
}

/// Where the trail's streams and their last ingestion times come from (CloudWatch Logs, or a simulation).
pub trait Streams {
    fn streams(&mut self) -> impl std::future::Future<Output = Result<Vec<(String, Option<i64>)>>>;
}

/// Waits on `clock` until every region with a stream has delivered after `stopped_ms` (see [`pending_regions`]),
/// or [`CAP`] after the stop; says on `progress` which regions it waits for.
pub async fn wait_delivered<S: Streams>(
    src: &mut S,
    clock: &dyn Clock,
    stopped_ms: i64,
    progress: &dyn Report,
) -> Result<Drain> {
    let mut said = false;
    let left = (stopped_ms + CAP.as_millis() as i64 - clock.now_ms()).max(0) as u64;
    let mut polls = Backoff::steady(POLL, Duration::from_millis(left)).start(clock);
    let mut regions: Vec<String> = Vec::new();
    loop {
        let streams = src.streams().await?;
        for (s, _) in &streams {
            if let Some(r) = region_of_stream(s) {
                if !regions.iter().any(|x| x == r) {
                    regions.push(r.to_string());
                }
            }
        }
        let pending = pending_regions(&streams, stopped_ms);
        if pending.is_empty() {
            regions.sort();
            return Ok(Drain::Delivered { regions });
        }
        let why = format!(
            "waiting for CloudTrail's delivery after the stop in {} ({}s of at most {}s; CloudTrail delivers about 5 \
             minutes after a call; Ctrl-C stops waiting and deletes nothing)",
            pending.join(", "),
            (clock.now_ms() - stopped_ms).max(0) / 1000,
            CAP.as_secs()
        );
        if !said {
            progress.line(&why);
            said = true;
        }
        progress.status(&why);
        if !polls.wait().await {
            return Ok(Drain::GaveUp { regions: pending });
        }
    }
}

/// The trail's log group as [`Streams`].
struct TrailStreams<'g>(&'g Generator);

impl Streams for TrailStreams<'_> {
    async fn streams(&mut self) -> Result<Vec<(String, Option<i64>)>> {
        let g = self.0;
        Ok(
            crate::aws::logs::stream_ingestion(&g.c, &g.trail_log_group())
                .await?
                .unwrap_or_default(),
        )
    }
}

impl Generator {
    /// Stops the trail when it is logging (once: a stopped trail is not stopped again) and returns the stop time
    /// when a wait is due: the trail logged when `down` started, or it stopped less than [`CAP`] ago (a second
    /// `down` after Ctrl-C). `None`: no trail, or stopped long ago.
    pub async fn stop_for_save(&self, clock: &dyn Clock) -> Result<Option<i64>> {
        let trail = self.trail_name();
        match crate::aws::trail::is_logging(&self.c, &trail).await? {
            None => Ok(None),
            Some(true) => {
                crate::aws::trail::stop(&self.c, &trail).await?;
                Ok(Some(clock.now_ms()))
            }
            Some(false) => {
                let stopped = crate::aws::trail::delivery(&self.c, &trail)
                    .await?
                    .and_then(|(stopped, _)| stopped);
                Ok(stopped.filter(|t| clock.now_ms() - t < CAP.as_millis() as i64))
            }
        }
    }

    /// Stops the trail and waits for CloudTrail's deliveries (see [`wait_delivered`]). Ctrl-C stops waiting with an
    /// error that says nothing was deleted.
    pub async fn drain(&self, progress: &dyn Report) -> Result<Drain> {
        let clock = crate::clock::system();
        let Some(stopped) = self.stop_for_save(clock).await? else {
            return Ok(Drain::NotNeeded);
        };
        let mut src = TrailStreams(self);
        tokio::select! {
            r = wait_delivered(&mut src, clock, stopped, progress) => r,
            _ = tokio::signal::ctrl_c() => bail!(
                "interrupted while waiting for CloudTrail's last deliveries: nothing was deleted and the policy was \
                 not saved; the trail is stopped. Run `lppg down` again to finish (it waits only what is left of the \
                 15 minutes), or `lppg down --no-wait`"
            ),
        }
    }

    /// What the trail's log group holds that the generator's policies (`granted`) do not: its records read with the
    /// deployed subscription's filter pattern, decided with the function's principal and guard (read from the
    /// deployed function), reconciled by event ID with the function's decision lines. `None` when there is no
    /// trail log group or function to read.
    pub async fn delivered_gap(&self, granted: &crate::policy::ActionSet) -> Result<Option<Gap>> {
        let Some(env) = crate::aws::lambda::environment(&self.c, &self.function_name()).await?
        else {
            return Ok(None);
        };
        let principal = env
            .get("LPPG_USER_ARN")
            .cloned()
            .unwrap_or_else(|| self.principal_arn());
        let guard = match env.get("LPPG_GUARD").map(|g| serde_json::from_str(g)) {
            Some(Ok(v)) => Some(
                crate::cloudtrail::engine::Guard::from_value(&v)
                    .map_err(|e| anyhow::anyhow!("the function's LPPG_GUARD: {e}"))?,
            ),
            Some(Err(e)) => bail!("the function's LPPG_GUARD is not JSON: {e}"),
            None => None,
        };
        let group = self.trail_log_group();
        let filter = format!("{}-denied-calls", self.names.stack);
        let pattern = crate::aws::logs::subscription_pattern(&self.c, &group, &filter).await?;
        let Some(records) =
            crate::aws::logs::read_matching(&self.c, &group, 0, pattern.as_deref(), 1_000_000)
                .await?
        else {
            return Ok(None);
        };
        let lines =
            crate::aws::logs::read_events(&self.c, &self.function_log_group(), 0, 1_000_000)
                .await?
                .unwrap_or_default();
        let decided = crate::reconcile::decided_events(lines.iter().map(|l| l.message.as_str()));
        let judge = Judge {
            principal: &principal,
            guard: guard.as_ref(),
            catalogue: crate::policy::catalogue()?,
        };
        Ok(Some(judge.gap(
            records.iter().map(|r| r.message.as_str()),
            &decided,
            granted,
        )))
    }
}

#[cfg(test)]
#[path = "drain_sim.rs"]
mod sim;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Virtual;
    use std::cell::RefCell;

    const STOP: i64 = 1_767_261_600_000;
    const MIN: i64 = 60_000;

    fn s(name: &str, t: Option<i64>) -> (String, Option<i64>) {
        (name.to_string(), t)
    }

    #[test]
    fn streams_name_their_regions() {
        assert_eq!(
            region_of_stream("111122223333_CloudTrail_eu-west-1"),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_stream("o-abc_111122223333_CloudTrail_us-east-1"),
            Some("us-east-1")
        );
        assert_eq!(
            region_of_stream("111122223333_CloudTrail_eu-west-1_2"),
            Some("eu-west-1")
        );
        assert_eq!(region_of_stream("lppg-probe"), None);
    }

    /// Defect 1 and 3: one delivery in the home region says nothing of another region's file, and a delivery right
    /// at the stop may not hold the calls made just before it.
    #[test]
    fn every_region_needs_its_own_delivery_after_the_stop() {
        let streams = [
            s("1_CloudTrail_us-east-1", Some(STOP + 3 * MIN)),
            // A second stream of a busy region: one delivery after the stop in the region is enough.
            s("1_CloudTrail_us-east-1_2", Some(STOP - MIN)),
            s("1_CloudTrail_eu-west-1", Some(STOP - 20 * MIN)),
            s("1_CloudTrail_ap-south-1", Some(STOP + 30_000)),
            s("1_CloudTrail_sa-east-1", None),
            s("lppg-probe", Some(STOP - MIN)),
        ];
        assert_eq!(
            pending_regions(&streams, STOP),
            ["ap-south-1", "eu-west-1", "sa-east-1"]
        );
        assert!(pending_regions(&streams[..1], STOP).is_empty());
    }

    type StreamList = Vec<(String, Option<i64>)>;

    struct Script<'c> {
        clock: &'c Virtual,
        /// (from this time on, these streams)
        steps: Vec<(i64, StreamList)>,
        reads: usize,
    }

    impl Streams for Script<'_> {
        async fn streams(&mut self) -> Result<Vec<(String, Option<i64>)>> {
            self.reads += 1;
            let now = self.clock.now_ms();
            Ok(self
                .steps
                .iter()
                .rev()
                .find(|(t, _)| *t <= now)
                .map(|(_, v)| v.clone())
                .unwrap_or_default())
        }
    }

    #[derive(Default)]
    struct Said(RefCell<Vec<String>>);
    impl Report for Said {
        fn line(&self, t: &str) {
            self.0.borrow_mut().push(t.to_string());
        }
        fn status(&self, _: &str) {}
    }

    /// Defect 2: a user who paused 20 minutes and ran the last step a minute before `down` is waited for, however
    /// old the function's last line: the wait depends on the trail's deliveries only.
    #[tokio::test]
    async fn waits_on_the_virtual_clock_until_each_region_delivered() {
        let clock = Virtual::at(STOP);
        let before = vec![
            s("1_CloudTrail_us-east-1", Some(STOP - 21 * MIN)),
            s("1_CloudTrail_eu-west-1", Some(STOP - 22 * MIN)),
        ];
        let mut one = before.clone();
        one[0].1 = Some(STOP + 4 * MIN);
        let mut both = one.clone();
        both[1].1 = Some(STOP + 7 * MIN);
        let mut src = Script {
            clock: &clock,
            steps: vec![
                (STOP, before),
                (STOP + 4 * MIN, one),
                (STOP + 7 * MIN, both),
            ],
            reads: 0,
        };
        let said = Said::default();
        let real = std::time::Instant::now();
        let d = wait_delivered(&mut src, &clock, STOP, &said).await.unwrap();
        assert_eq!(
            d,
            Drain::Delivered {
                regions: vec!["eu-west-1".into(), "us-east-1".into()]
            }
        );
        assert_eq!(clock.now_ms(), STOP + 7 * MIN);
        assert!(
            said.0.borrow()[0].contains("eu-west-1, us-east-1"),
            "{:?}",
            said.0
        );
        assert!(real.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn gives_up_at_the_cap_naming_the_silent_regions() {
        let clock = Virtual::at(STOP + 5 * MIN);
        let mut src = Script {
            clock: &clock,
            steps: vec![(0, vec![s("1_CloudTrail_eu-west-1", Some(STOP - MIN))])],
            reads: 0,
        };
        let d = wait_delivered(&mut src, &clock, STOP, &Said::default())
            .await
            .unwrap();
        assert_eq!(
            d,
            Drain::GaveUp {
                regions: vec!["eu-west-1".into()]
            }
        );
        // Only what was left of the 15 minutes (a second `down` after Ctrl-C does not start again).
        assert_eq!(clock.now_ms(), STOP + 15 * MIN);
        assert_eq!(src.reads, 41);
    }
}
