//! Is every part of the generator working? The checks `lppg status` shows, each with what to do when it fails.
use super::Generator;
use crate::aws::{lambda, logs, stack, trail};
use crate::policy::ActionSet;
use anyhow::Result;

/// One health check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What to do when it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(name: &'static str, ok: bool, detail: String, fix: Option<String>) -> Check {
    Check {
        name,
        ok,
        detail,
        fix: if ok { None } else { fix },
    }
}

/// Every check, and what the log and the policies say.
pub struct Health {
    pub checks: Vec<Check>,
    pub last_denied: Option<String>,
    pub actions: usize,
    pub policies: Vec<super::policies::PolicyState>,
    pub budget_used: f64,
    /// Failed batches waiting in the queue; `None` when there is no queue.
    pub failed_batches: Option<u64>,
    /// Delivered, not yet granted: actions of denied calls in the trail's log group that the function has not
    /// granted (yet) ([`Generator::delivered_gap`]).
    pub not_yet_granted: Vec<String>,
}

impl Health {
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

impl Generator {
    /// Runs every check (the stack must exist).
    pub async fn health(&self, now_ms: i64) -> Result<Health> {
        let st = self.require_stack()?;
        let stack_ok = st.status.succeeded();
        let mut checks = vec![check(
            "stack",
            stack_ok,
            st.status.to_string(),
            st.status
                .advice(&self.names.stack)
                .or(Some("run `lppg up`".into())),
        )];
        checks.push(self.trail_check().await?);
        checks.push(self.subscription_check().await?);
        checks.push(self.fast_path_check().await?);
        checks.extend(self.forwarder_checks().await);
        checks.push(self.function_check().await?);
        let (queue_check, failed_batches) = self.queue_check().await?;
        checks.push(queue_check);
        let mut health = Health {
            checks,
            last_denied: None,
            actions: 0,
            policies: Vec::new(),
            budget_used: 0.0,
            failed_batches,
            not_yet_granted: Vec::new(),
        };
        let granted = self.policies_check(&mut health).await;
        // Only a report: a read it cannot make does not fail the status.
        if let Ok(Some(gap)) = self.delivered_gap(&granted).await {
            health.not_yet_granted = gap.missing.keys().map(|a| a.to_string()).collect();
        }
        let (log_check, last_denied) = self.log_check(now_ms, &granted).await?;
        // The log check reads before the policies, as before.
        let at = health.checks.len() - 1;
        health.checks.insert(at, log_check);
        health.last_denied = last_denied;
        Ok(health)
    }

    async fn trail_check(&self) -> Result<Check> {
        let name = self.trail_name();
        let t = trail::is_logging(&self.c, &name).await?;
        Ok(check(
            "trail",
            t == Some(true),
            match t {
                Some(true) => format!("{name} is logging"),
                Some(false) => format!("{name} is not logging"),
                None => format!("{name} does not exist"),
            },
            Some(match t {
                Some(false) => format!("start it: `aws cloudtrail start-logging --name {name}`"),
                _ => "run `lppg up` to restore the stack (or `lppg down` and `lppg up`)".into(),
            }),
        ))
    }

    async fn subscription_check(&self) -> Result<Check> {
        let group = self.trail_log_group();
        let function_arn = self.output_or("FunctionArn", "");
        let filters = logs::subscription_filters(&self.c, &group).await?;
        let ok = filters
            .iter()
            .any(|(_, dest)| !function_arn.is_empty() && dest == &function_arn);
        Ok(check(
            "subscription",
            ok,
            if ok {
                format!("{group} forwards denied calls to the function")
            } else {
                format!("no subscription filter on {group} forwards to the function")
            },
            Some("run `lppg up` to restore the subscription filter".into()),
        ))
    }

    /// The fast path: the stack's EventBridge rule (or that it was turned off with `--no-fast-path`).
    async fn fast_path_check(&self) -> Result<Check> {
        self.require_stack()?;
        if !self.fast_path_on() {
            return Ok(check(
                "fast path",
                true,
                "off (--no-fast-path): denied calls arrive through CloudWatch Logs only".into(),
                None,
            ));
        }
        let resources = match stack::resources(&self.c, &self.names.stack).await {
            Ok(r) => r,
            Err(e) => {
                return Ok(check(
                    "fast path",
                    false,
                    format!("cannot read the stack's resources: {e:#}"),
                    Some("run `lppg status` again once the stack is settled".into()),
                ))
            }
        };
        let rule = resources
            .get("FastPathRule")
            .filter(|(kind, name)| kind == "AWS::Events::Rule" && !name.is_empty());
        let allowed = resources.contains_key("FastPathPermission");
        Ok(check(
            "fast path",
            rule.is_some() && allowed,
            match rule {
                Some((_, name)) if allowed => format!(
                    "EventBridge rule {name} in {} sends denied calls to the function",
                    self.c.region
                ),
                Some((_, name)) => format!("rule {name} exists but may not invoke the function"),
                None => {
                    "no EventBridge rule: denied calls arrive through CloudWatch Logs only".into()
                }
            },
            Some(
                "run `lppg up` to restore the rule (or `lppg up --no-fast-path` to go without)"
                    .into(),
            ),
        ))
    }

    /// One line per forwarder region: its stack's state there.
    async fn forwarder_checks(&self) -> Vec<Check> {
        let name = super::forwarders::stack_name(&self.names.stack);
        let mut out = Vec::new();
        for (region, state) in self.forwarder_states().await {
            let (ok, detail) = match &state {
                Ok(Some(status)) => (
                    status.succeeded(),
                    format!(
                        "{region}: {name} {status} forwards denied calls to {}",
                        self.c.region
                    ),
                ),
                Ok(None) => (false, format!("{region}: no forwarder stack {name}")),
                Err(e) => (false, format!("{region}: cannot read {name}: {e}")),
            };
            out.push(check(
                "forwarder",
                ok,
                detail,
                Some(format!(
                    "run `lppg up` to restore it, or `lppg up --regions ...` without {region}"
                )),
            ));
        }
        out
    }

    async fn function_check(&self) -> Result<Check> {
        let function = self.function_name();
        let f = lambda::state(&self.c, &function).await?;
        let expected_sha = crate::assets::lambda_code_sha256(&crate::assets::function_zip()?);
        let (ok, detail) = match &f {
            None => (false, format!("{function} does not exist")),
            Some(s) => {
                let code = if s.code_sha256 == expected_sha {
                    "code matches this lppg"
                } else {
                    "code differs from this lppg's (run `lppg up` to update)"
                };
                let reason = s
                    .state_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                (
                    s.state == "Active" && s.last_update_status != "Failed",
                    format!(
                        "{function} {} (last update {}), {} {code}{reason}",
                        s.state, s.last_update_status, s.runtime
                    ),
                )
            }
        };
        Ok(check(
            "function",
            ok,
            detail,
            Some("run `lppg up` to restore the function".into()),
        ))
    }

    /// The function's log over the past day: its last error and the last denied call.
    async fn log_check(&self, now_ms: i64, granted: &ActionSet) -> Result<(Check, Option<String>)> {
        let group = self.function_log_group();
        let log = self.recent_log(now_ms - 24 * 3600 * 1000).await?;
        let Some(log) = log else {
            let fix = Some("run `lppg up` to restore the log group".into());
            return Ok((
                check(
                    "function log",
                    false,
                    format!("{group} does not exist"),
                    fix,
                ),
                None,
            ));
        };
        let last_error = log.last_unresolved_error(granted);
        let (detail, fix) = match last_error {
            Some(e) => (
                format!("last error: {e}"),
                crate::decisions::advice_for_error(e).to_string(),
            ),
            None => (
                format!(
                    "{} decisions in the last 24 hours, no errors",
                    log.decisions
                ),
                String::new(),
            ),
        };
        let detail = match log.blocked_note() {
            Some(note) => format!("{detail}; {note}"),
            None => detail,
        };
        let c = check("function log", last_error.is_none(), detail, Some(fix));
        Ok((c, log.last_denied))
    }

    /// Failed batches waiting: denied calls the function gave up on, not granted until they are re-run.
    async fn queue_check(&self) -> Result<(Check, Option<u64>)> {
        let queue = self.failed_queue();
        let n = self.failed_batches().await?;
        let (detail, fix) = match n {
            None => (
                format!("{queue} does not exist: failed batches would be lost"),
                "run `lppg up` to add the queue".to_string(),
            ),
            Some(0) => ("no failed batches waiting".to_string(), String::new()),
            Some(k) => (
                format!(
                    "{k} failed batches waiting in {queue}: their denied calls are not granted"
                ),
                "run `lppg redrive` to re-run them through the function (`--dry-run` lists them)"
                    .into(),
            ),
        };
        Ok((check("failed batches", n == Some(0), detail, Some(fix)), n))
    }

    /// The policies check; returns what they grant (empty when they cannot be read).
    async fn policies_check(&self, health: &mut Health) -> ActionSet {
        let fix = Some("run `lppg up` to restore the generator policies".into());
        let gen = match self.generated().await {
            Ok(gen) => gen,
            Err(e) => {
                health
                    .checks
                    .push(check("policies", false, format!("{e}"), fix));
                return ActionSet::new();
            }
        };
        let in_use = gen.policies.iter().filter(|p| p.in_use()).count();
        let granted = gen.granted();
        health.actions = granted.len();
        health.budget_used = gen.budget_used();
        let detail = format!(
            "{} actions in {in_use} of {} policies, {:.1}% of the size budget",
            health.actions,
            gen.policies.len(),
            health.budget_used * 100.0
        );
        let ok = gen.policies.len() == crate::naming::POLICY_COUNT;
        health.policies = gen.policies;
        health.checks.push(check("policies", ok, detail, fix));
        granted
    }
}
