//! `lppg status`: is every part of the generator working, and how full are its policies?
use crate::cli::{GlobalArgs, StatusArgs};
use crate::stack::health::Health;
use crate::stack::Generator;
use crate::ui::progress::Progress;
use crate::ui::{print_result, probe_view, Output, Style};
use anyhow::Result;
use serde_json::json;

pub async fn exec(g: &GlobalArgs, a: &StatusArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let gen = Generator::connect(&g.aws, &g.stack_name, Default::default()).await?;
    let Some(st) = gen.stack() else {
        let msg = gen.missing();
        if a.json {
            let v =
                json!({"stack": g.stack_name, "exists": false, "healthy": false, "message": msg});
            print_result(out, &v.to_string())?;
        } else {
            out.info(&format!("{msg}: run `lppg up` to create it"));
        }
        return Ok(crate::exit::DIFFERENT);
    };
    if a.probe {
        return probe(&gen, a, out).await;
    }
    let health = gen.health(crate::time::now_ms()).await?;
    if a.json {
        let policies: Vec<_> = health
            .policies
            .iter()
            .map(|p| json!({"arn": p.arn, "version": p.version, "size": p.size, "limit": crate::policy::MAX_POLICY_SIZE}))
            .collect();
        let v = json!({
            "stack": g.stack_name,
            "exists": true,
            "status": st.status.as_str(),
            "account": gen.account(),
            "region": gen.region(),
            "user": st.output("UserName"),
            "principal": gen.principal().as_str(),
            "principal_arn": gen.principal_arn(),
            "healthy": health.healthy(),
            "checks": health.checks,
            "actions": health.actions,
            "policies": policies,
            "budget_used": (health.budget_used * 1000.0).round() / 1000.0,
            "last_denied_call": health.last_denied,
            "failed_batches": health.failed_batches,
            "delivered_not_granted": health.not_yet_granted,
        });
        print_result(out, &serde_json::to_string_pretty(&v)?)?;
    } else {
        show(out, &gen, &health);
    }
    Ok(if health.healthy() {
        crate::exit::OK
    } else {
        crate::exit::DIFFERENT
    })
}

/// `--probe`: the three steps, shown or as JSON; exit 0 all passed, 1 any failed, 2 none could run.
async fn probe(gen: &Generator, a: &StatusArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let progress = Progress::new(out, &format!("probing generator {}", gen.stack_name()));
    let steps = gen.probe(a.probe_wait, &progress).await;
    progress.finish();
    let code = crate::probe::exit_code(&steps);
    if a.json {
        let v =
            json!({"stack": gen.stack_name(), "probe": steps, "passed": code == crate::exit::OK});
        print_result(out, &serde_json::to_string_pretty(&v)?)?;
    } else {
        out.info(&format!(
            "Probing generator {} in {}:",
            gen.stack_name(),
            gen.region()
        ));
        probe_view::show(out, &steps);
    }
    Ok(code)
}

fn show(out: &Output, gen: &Generator, health: &Health) {
    let principal = format!("{} {}", gen.principal().as_str(), gen.principal_arn());
    out.info(&format!(
        "Stack {} in account {} ({}), {principal}",
        out.paint(Style::Bold, gen.stack_name()),
        gen.account(),
        gen.region(),
    ));
    for ch in &health.checks {
        let mark = if ch.ok {
            out.paint(Style::Green, "ok  ")
        } else {
            out.paint(Style::Red, "FAIL")
        };
        out.info(&format!("  {mark} {:<14} {}", ch.name, ch.detail));
        if let Some(f) = ch.fix.as_deref().filter(|f| !f.is_empty()) {
            out.info(&format!("       {:<14} → {f}", ""));
        }
    }
    out.info(&format!(
        "  last denied call seen: {}",
        health.last_denied.as_deref().unwrap_or("none yet")
    ));
    if !health.not_yet_granted.is_empty() {
        out.info(&format!(
            "  delivered, not yet granted: {} (CloudTrail delivered these denied calls; the function has not granted \
             them yet; `lppg down` saves them)",
            health.not_yet_granted.join(", ")
        ));
    }
    if health.healthy() {
        out.ok("the generator is healthy");
    } else {
        out.info(&out.paint(
            Style::Red,
            "the generator is not healthy: see the arrows above",
        ));
    }
}
