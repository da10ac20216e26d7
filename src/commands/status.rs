//! `lppg status`: is every part of the generator working, and how full are its policies?
use super::Ctx;
use crate::aws::{lambda, logs, stack, trail};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::decisions::{parse_line, Line};
use crate::ui::{print_result, Output, Style};
use anyhow::Result;
use serde_json::json;

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

pub async fn exec(g: &GlobalArgs, a: &StatusArgs, out: &Output) -> Result<i32> {
    let ctx = Ctx::load(g, None).await?;
    let c = &ctx.c;
    let Some(st) = ctx.stack.clone() else {
        let msg = format!(
            "no generator stack named {} in {} (account {})",
            g.stack_name, c.region, ctx.id.account
        );
        if a.json {
            print_result(
                out,
                &json!({"stack": g.stack_name, "exists": false, "healthy": false, "message": msg})
                    .to_string(),
            )?;
        } else {
            out.info(&format!("{msg}: run `lppg up` to create it"));
        }
        return Ok(crate::exit::DIFFERENT);
    };
    let n = &ctx.names;
    let mut checks = Vec::new();
    let stack_ok = st.status.ends_with("_COMPLETE") && !stack::is_failed(&st.status);
    checks.push(check(
        "stack",
        stack_ok,
        st.status.clone(),
        stack::advice_for_status(&g.stack_name, &st.status).or(Some("run `lppg up`".into())),
    ));

    let trail_name = st.output("TrailName").unwrap_or(&n.trail).to_string();
    let t = trail::is_logging(c, &trail_name).await?;
    checks.push(check(
        "trail",
        t == Some(true),
        match t {
            Some(true) => format!("{trail_name} is logging"),
            Some(false) => format!("{trail_name} is not logging"),
            None => format!("{trail_name} does not exist"),
        },
        Some(match t {
            Some(false) => format!("start it: `aws cloudtrail start-logging --name {trail_name}`"),
            _ => "run `lppg up` to restore the stack (or `lppg down` and `lppg up`)".into(),
        }),
    ));

    let trail_group = st
        .output("TrailLogGroupName")
        .unwrap_or(&n.trail_log_group)
        .to_string();
    let function_arn = st.output("FunctionArn").unwrap_or_default().to_string();
    let filters = logs::subscription_filters(c, &trail_group).await?;
    let sub_ok = filters
        .iter()
        .any(|(_, dest)| !function_arn.is_empty() && dest == &function_arn);
    checks.push(check(
        "subscription",
        sub_ok,
        if sub_ok {
            format!("{trail_group} forwards denied calls to the function")
        } else {
            format!("no subscription filter on {trail_group} forwards to the function")
        },
        Some("run `lppg up` to restore the subscription filter".into()),
    ));

    let function = st.output("FunctionName").unwrap_or(&n.function).to_string();
    let f = lambda::state(c, &function).await?;
    let expected_sha = crate::assets::lambda_code_sha256(&crate::assets::function_zip()?);
    let (f_ok, f_detail) = match &f {
        None => (false, format!("{function} does not exist")),
        Some(s) => {
            let active = s.state == "Active" && s.last_update_status != "Failed";
            let current = s.code_sha256 == expected_sha;
            (
                active,
                format!(
                    "{function} {} (last update {}), {} {}{}",
                    s.state,
                    s.last_update_status,
                    s.runtime,
                    if current {
                        "code matches this lppg"
                    } else {
                        "code differs from this lppg's (run `lppg up` to update)"
                    },
                    s.state_reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            )
        }
    };
    checks.push(check(
        "function",
        f_ok,
        f_detail,
        Some("run `lppg up` to restore the function".into()),
    ));

    // The function's log: last error and last decision over the past day.
    let group = st
        .output("FunctionLogGroupName")
        .unwrap_or(&n.function_log_group)
        .to_string();
    let since = now_ms() - 24 * 3600 * 1000;
    let lines = logs::read_events(c, &group, since, 20_000).await?;
    let mut last_error: Option<String> = None;
    let mut last_denied: Option<String> = None;
    let mut decisions = 0usize;
    if let Some(lines) = &lines {
        for l in lines {
            match parse_line(&l.message) {
                Line::Decision(d) => {
                    decisions += 1;
                    if let Some(t) = d.event_time.clone() {
                        if last_denied.as_ref().is_none_or(|x| &t > x) {
                            last_denied = Some(t);
                        }
                    }
                    if d.decision == "error" {
                        last_error = Some(d.reason.unwrap_or_else(|| "error".into()));
                    }
                }
                Line::RuntimeError(e) => last_error = Some(e),
                _ => {}
            }
        }
    }
    checks.push(check(
        "function log",
        lines.is_some() && last_error.is_none(),
        match (&lines, &last_error) {
            (None, _) => format!("{group} does not exist"),
            (Some(_), Some(e)) => format!("last error: {e}"),
            (Some(_), None) => format!("{decisions} decisions in the last 24 hours, no errors"),
        },
        Some(match (&lines, &last_error) {
            (None, _) => "run `lppg up` to restore the log group".into(),
            (_, Some(e)) => crate::decisions::advice_for_error(e).to_string(),
            _ => String::new(),
        }),
    ));

    // Policies.
    let generated = super::export_policy::load_generated(&ctx).await;
    let (actions, policies_json, budget, p_ok, p_detail) = match &generated {
        Ok(gen) => {
            let set = gen.actions.merged(true);
            let total: usize = gen.policies.iter().map(|p| p.2).sum();
            let budget = total as f64
                / (crate::naming::POLICY_COUNT * crate::policy::MAX_POLICY_SIZE) as f64;
            let in_use = gen
                .policies
                .iter()
                .filter(|p| p.1 != "v1" || p.0.ends_with("-policy-1"))
                .count();
            let pj: Vec<_> = gen
                .policies
                .iter()
                .map(|(arn, v, size)| json!({"arn": arn, "version": v, "size": size, "limit": crate::policy::MAX_POLICY_SIZE}))
                .collect();
            let all_present = gen.policies.len() == crate::naming::POLICY_COUNT;
            (
                set.len(),
                pj,
                budget,
                all_present,
                format!(
                    "{} actions in {} of {} policies, {:.1}% of the size budget",
                    set.len(),
                    in_use,
                    gen.policies.len(),
                    budget * 100.0
                ),
            )
        }
        Err(e) => (0, vec![], 0.0, false, format!("{e}")),
    };
    checks.push(check(
        "policies",
        p_ok,
        p_detail,
        Some("run `lppg up` to restore the generator policies".into()),
    ));

    let healthy = checks.iter().all(|c| c.ok);
    if a.json {
        let v = json!({
            "stack": g.stack_name,
            "exists": true,
            "status": st.status,
            "account": ctx.id.account,
            "region": c.region,
            "user": st.output("UserName"),
            "healthy": healthy,
            "checks": checks,
            "actions": actions,
            "policies": policies_json,
            "budget_used": (budget * 1000.0).round() / 1000.0,
            "last_denied_call": last_denied,
        });
        print_result(out, &serde_json::to_string_pretty(&v)?)?;
    } else {
        out.info(&format!(
            "Stack {} in account {} ({}), user {}",
            out.paint(Style::Bold, &g.stack_name),
            ctx.id.account,
            c.region,
            st.output("UserName").unwrap_or("?")
        ));
        for ch in &checks {
            let mark = if ch.ok {
                out.paint(Style::Green, "ok  ")
            } else {
                out.paint(Style::Red, "FAIL")
            };
            out.info(&format!("  {mark} {:<13} {}", ch.name, ch.detail));
            if let Some(f) = &ch.fix {
                if !f.is_empty() {
                    out.info(&format!("       {:<13} → {f}", ""));
                }
            }
        }
        out.info(&format!(
            "  last denied call seen: {}",
            last_denied.as_deref().unwrap_or("none yet")
        ));
        if healthy {
            out.ok("the generator is healthy");
        } else {
            out.info(&out.paint(
                Style::Red,
                "the generator is not healthy: see the arrows above",
            ));
        }
    }
    Ok(if healthy {
        crate::exit::OK
    } else {
        crate::exit::DIFFERENT
    })
}

pub fn now_ms() -> i64 {
    crate::time::now_ms()
}
