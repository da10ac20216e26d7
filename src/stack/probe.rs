//! `lppg status --probe`: proves the pipeline end to end without waiting for CloudTrail. 1: the trail logs and
//! delivers to CloudWatch Logs (GetTrailStatus); 2: the service itself tests the subscription's pattern against
//! sample records (TestMetricFilter); 3: a probe record written to the trail's log group comes back as a `probe`
//! line of the function; 4 (the fast path, one step per region: home and each forwarder region): EventBridge itself
//! judges the deployed rule's pattern (DescribeRule, then TestEventPattern) against the same samples wrapped as
//! "AWS API Call via CloudTrail" events. Each step is ok, failed (with what to do) or could not run (why); a region
//! that refuses is named in its own step and the other regions are still judged.
use super::{Generator, Report};
use crate::aws::{events, logs, trail, Clients};
use crate::decisions::{parse_line, DecisionKind, Line};
use crate::probe::{self, Outcome, Step};
use std::time::Duration;

/// The stream of the trail's log group that probe records are written to.
const PROBE_STREAM: &str = "lppg-probe";

/// The name of the fast path's EventBridge steps.
pub const EVENTBRIDGE_STEP: &str = "eventbridge";

fn ok(step: &'static str, detail: String) -> Step {
    Step {
        step,
        region: None,
        outcome: Outcome::Ok { detail },
    }
}

fn failed(step: &'static str, detail: String, fix: &str) -> Step {
    Step {
        step,
        region: None,
        outcome: Outcome::Failed {
            detail,
            fix: fix.to_string(),
        },
    }
}

fn could_not_run(step: &'static str, e: &anyhow::Error) -> Step {
    // The first line: what was being done and the service's answer; the hint follows on the next line.
    let detail = format!("{e:#}").replace("\n  hint: ", "; ");
    Step {
        step,
        region: None,
        outcome: Outcome::CouldNotRun { detail },
    }
}

impl Generator {
    /// Runs the steps, each whatever the others gave; `wait` bounds step 3. With the fast path, step 4 judges the
    /// EventBridge rule of every region (home first, then the forwarder regions).
    pub async fn probe(&self, wait: Duration, progress: &dyn Report) -> Vec<Step> {
        let regions = self.fast_path_regions();
        let total = if regions.is_empty() { 3 } else { 4 };
        progress.status(&format!("probe 1/{total}: the trail"));
        let mut steps = vec![self.probe_trail().await];
        progress.status(&format!(
            "probe 2/{total}: the subscription filter's pattern"
        ));
        let (pattern, filter_exists) = self.probe_pattern().await;
        steps.push(pattern);
        if filter_exists {
            progress.status(&format!(
                "probe 3/{total}: a probe record through the function"
            ));
            steps.push(self.probe_round_trip(wait, progress).await);
        } else {
            // Nothing forwards the trail's log group to the function: waiting for a probe line would only time out.
            steps.push(Step {
                step: "round trip",
                region: None,
                outcome: Outcome::CouldNotRun {
                    detail: "no subscription filter forwards the trail's log group to the function, so a probe \
                             record cannot reach it (see step 2)"
                        .into(),
                },
            });
        }
        if !regions.is_empty() {
            progress.status(&format!(
                "probe 4/4: EventBridge judges the fast path's rule in {}",
                regions.join(", ")
            ));
            steps.extend(self.probe_event_rules(&regions).await);
        }
        steps
    }

    /// The regions whose fast-path rule the probe judges: home, then each forwarder region (none without the fast
    /// path).
    fn fast_path_regions(&self) -> Vec<String> {
        if !self.fast_path_on() {
            return Vec::new();
        }
        std::iter::once(self.c.region.clone())
            .chain(self.forwarder_regions())
            .collect()
    }

    /// Step 4: in every region at once, EventBridge judges the deployed rule's pattern against the samples.
    async fn probe_event_rules(&self, regions: &[String]) -> Vec<Step> {
        let now = crate::time::format_secs_ms(crate::time::now_ms());
        let home_rule = self.output_or("FastPathRuleName", &fast_path_rule(&self.names.stack));
        let mut set = tokio::task::JoinSet::new();
        for (i, region) in regions.iter().enumerate() {
            // The home rule is the generator stack's; every forwarder's rule has the same name in its region.
            let rule = if i == 0 {
                home_rule.clone()
            } else {
                fast_path_rule(&self.names.stack)
            };
            let samples = probe::event_samples(&self.user_arn(), &now, region);
            let c = self.c.in_region(region);
            set.spawn(async move { (i, judge_event_rule(&c, &rule, &samples).await) });
        }
        let failed = |why: String| {
            let e = anyhow::anyhow!(why);
            (usize::MAX, could_not_run(EVENTBRIDGE_STEP, &e))
        };
        super::joined(set, failed)
            .await
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    /// The observed principal: the generator user, or in role mode the generator role.
    fn user_arn(&self) -> String {
        self.principal_arn()
    }

    async fn probe_trail(&self) -> Step {
        const STEP: &str = "trail";
        let name = self.trail_name();
        let restore = "run `lppg up` to restore the stack";
        match trail::cwl_status(&self.c, &name).await {
            Err(e) => could_not_run(STEP, &e),
            Ok(None) => failed(STEP, format!("trail {name} does not exist"), restore),
            Ok(Some(s)) if !s.is_logging => failed(
                STEP,
                format!("trail {name} is not logging"),
                &format!("start it: `aws cloudtrail start-logging --name {name}`"),
            ),
            Ok(Some(s)) => {
                let last = s
                    .latest_delivery_ms
                    .map_or("none yet".to_string(), crate::time::format_secs_ms);
                match s.latest_delivery_error {
                    Some(err) => failed(
                        STEP,
                        format!("{name} logs, but its last delivery to CloudWatch Logs failed: {err} (last delivery {last})"),
                        "the trail's role or log group is broken: run `lppg up` to restore them",
                    ),
                    None => ok(
                        STEP,
                        format!("{name} is logging; last delivery to CloudWatch Logs: {last}, no delivery error"),
                    ),
                }
            }
        }
    }

    /// Step 2, and whether the subscription filter exists at all (step 3 needs it).
    async fn probe_pattern(&self) -> (Step, bool) {
        const STEP: &str = "pattern";
        let group = self.trail_log_group();
        let filter = self.output_or("SubscriptionFilterName", &self.names.subscription_filter);
        let pattern = match logs::subscription_pattern(&self.c, &group, &filter).await {
            Err(e) => return (could_not_run(STEP, &e), true),
            Ok(None) => {
                let detail = format!("{group} has no subscription filter {filter}");
                let fix = "run `lppg up` to restore the subscription filter";
                return (failed(STEP, detail, fix), false);
            }
            Ok(Some(p)) => p,
        };
        (self.judge_pattern(STEP, &filter, &pattern).await, true)
    }

    async fn judge_pattern(&self, step: &'static str, filter: &str, pattern: &str) -> Step {
        let now = crate::time::format_secs_ms(crate::time::now_ms());
        let samples = probe::samples(&self.user_arn(), &now);
        let messages: Vec<String> = samples.iter().map(|s| s.1.clone()).collect();
        match logs::test_pattern(&self.c, pattern, &messages).await {
            Err(e) => could_not_run(step, &e),
            Ok(matched) => match probe::judge_pattern(&samples, &matched) {
                Ok(()) => ok(
                    step,
                    "CloudWatch Logs matches a denial of the observed user, and not another principal's denial, a \
                     throttling error or a successful call"
                        .into(),
                ),
                Err(wrong) => failed(
                    step,
                    format!("{wrong} ({filter})"),
                    "run `lppg up` to restore the subscription filter's pattern",
                ),
            },
        }
    }

    async fn probe_round_trip(&self, wait: Duration, progress: &dyn Report) -> Step {
        const STEP: &str = "round trip";
        let id = format!("lppg-probe-{:016x}", rand::random::<u64>());
        let (group, start) = (self.trail_log_group(), crate::time::now_ms());
        let rec = probe::probe_record(&self.user_arn(), &id, &crate::time::format_secs_ms(start));
        if let Err(e) = logs::put_line(&self.c, &group, PROBE_STREAM, start, &rec).await {
            return could_not_run(STEP, &e);
        }
        let clock = crate::clock::system();
        let t0 = clock.now_ms();
        let elapsed = || Duration::from_millis((clock.now_ms() - t0).max(0) as u64);
        loop {
            match self.probe_came_back(&id, start - 60_000).await {
                Err(e) => return could_not_run(STEP, &e),
                Ok(true) => {
                    let secs = elapsed().as_secs_f64();
                    return ok(
                        STEP,
                        format!("the function answered probe {id} after {secs:.1} s, granting nothing"),
                    );
                }
                Ok(false) if elapsed() >= wait => {
                    return failed(
                        STEP,
                        format!("no probe line from the function within {} s of writing {id} to {group}", wait.as_secs()),
                        "check the steps above, then the function (`lppg status`: its state and last error); \
                         `lppg up` restores the subscription and the function",
                    )
                }
                Ok(false) => {}
            }
            progress.status(&format!(
                "probe 3/3: waiting for the function's answer ({} s)",
                elapsed().as_secs()
            ));
            clock.sleep(Duration::from_secs(2).min(wait)).await;
        }
    }

    /// Whether the function's log holds the `probe` line of probe `id`.
    async fn probe_came_back(&self, id: &str, from_ms: i64) -> anyhow::Result<bool> {
        let poll = logs::poll_events(&self.c, &self.function_log_group(), from_ms, 5).await?;
        Ok(poll.events.unwrap_or_default().iter().any(|l| {
            matches!(parse_line(&l.message), Line::Decision(d)
                if d.decision == DecisionKind::Probe && d.event_id.as_deref() == Some(id))
        }))
    }
}

/// The fast path's rule name: `<stack>-fast-path` in the home region and in every forwarder region.
fn fast_path_rule(stack: &str) -> String {
    format!("{stack}-fast-path")
}

/// One region's step 4: the rule's pattern (DescribeRule) judged by TestEventPattern on each sample.
async fn judge_event_rule(
    c: &Clients,
    rule: &str,
    samples: &[(&'static str, String, bool)],
) -> Step {
    let region = c.region.clone();
    let in_region = |mut s: Step| {
        s.region = Some(region.clone());
        s
    };
    let pattern = match events::rule_pattern(c, rule).await {
        Err(e) => return in_region(could_not_run(EVENTBRIDGE_STEP, &e)),
        Ok(None) => {
            return in_region(failed(
                EVENTBRIDGE_STEP,
                format!("no EventBridge rule {rule} on the default bus"),
                "run `lppg up` to restore the fast path's rules",
            ))
        }
        Ok(Some(p)) => p,
    };
    let events: Vec<String> = samples.iter().map(|s| s.1.clone()).collect();
    in_region(match events::test_pattern(c, &pattern, &events).await {
        Err(e) => could_not_run(EVENTBRIDGE_STEP, &e),
        Ok(results) => match probe::judge_event_pattern(samples, &results) {
            Ok(()) => ok(
                EVENTBRIDGE_STEP,
                format!(
                    "EventBridge matches rule {rule} to a denial of the observed principal, and not to another \
                     principal's denial, a throttling error or a successful call"
                ),
            ),
            Err(wrong) => failed(
                EVENTBRIDGE_STEP,
                format!("{wrong} (rule {rule})"),
                "run `lppg up` to restore the fast path's rule pattern",
            ),
        },
    })
}
