//! `lppg down`: save the final policy, then remove the stack and everything the generator created. Idempotent.
use crate::cli::{DownArgs, GlobalArgs};
use crate::naming::ResourceKind;
use crate::stack::drain::Drain;
use crate::stack::policies::SavedPolicy;
use crate::stack::teardown::{unlisted_notes, Mark, TeardownPlan, TeardownReport, TAG_KEY};
use crate::stack::{Generator, Overrides};
use crate::ui::progress::Progress;
use crate::ui::{prompt, Output, Style};
use anyhow::Result;

pub async fn exec(g: &GlobalArgs, a: &DownArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let overrides = Overrides {
        user: a.user_name.clone(),
        role: a.role_name.clone(),
    };
    let gen = Generator::connect(&g.aws, &g.stack_name, overrides).await?;
    let plan = gen.plan_teardown().await?;
    warn_foreign(out, &g.stack_name, &plan.foreign);
    let left = left_forwarders(&gen, out).await;
    if plan.is_empty(gen.stack().is_some()) && left.is_empty() {
        out.ok(&format!(
            "{} and nothing left behind: nothing to do",
            gen.missing()
        ));
        return Ok(crate::exit::OK);
    }
    show_plan(out, &gen, &plan).await?;
    if !left.is_empty() {
        let name = crate::stack::forwarders::stack_name(&g.stack_name);
        out.info(&format!(
            "  {:<10} {name} in {}",
            "forwarder",
            left.join(", ")
        ));
    }
    let question = format!("Delete all of this from account {}?", gen.account());
    if !prompt::confirm(out, &question, a.yes)? {
        out.info("Nothing deleted.");
        return Ok(crate::exit::OK);
    }
    gen.refuse_protected()?;
    let trail = plan.has(ResourceKind::Trail, &gen.trail_name());
    if trail || gen.stack().is_some() {
        drain(&gen, a, out).await?;
    }
    // The policy first: nothing is deleted unless it is safe on disk (or --no-save).
    let mut saved = None;
    if !a.no_save && gen.removes_policies(&plan) {
        saved = Some(save(&gen, a, out, trail).await?);
    }
    let regions = match gen.stack() {
        Some(_) => gen.forwarder_regions(),
        None => left,
    };
    let stuck = remove_forwarders(&gen, out, &regions).await;
    let progress = Progress::new(out, &format!("removing generator {}", g.stack_name));
    let result = gen.teardown(&plan, &progress).await;
    progress.finish();
    show_report(out, &g.stack_name, &result?);
    if !stuck.is_empty() {
        anyhow::bail!(
            "the fast path's forwarder could not be removed in {}: run `lppg down` again, or delete stack {} there",
            stuck.join(", "),
            crate::stack::forwarders::stack_name(&g.stack_name)
        );
    }
    if let Some(saved) = &saved {
        crate::ui::review(out, &saved.actions);
        let checks = super::policy_output::Checks::Aws(gen.analyzer());
        super::policy_output::validate(out, std::slice::from_ref(&saved.document), &checks).await;
    }
    Ok(crate::exit::OK)
}

/// Without the home stack (deleted by hand, or a `down` interrupted after deleting it), nothing remembers the
/// forwarder regions: every region enabled in the account (and us-east-1) is searched for this generator's
/// forwarder, and those that carry its mark are the ones to remove. The others are named and left alone; the
/// regions could not be listed: us-east-1 alone is searched, said once.
async fn left_forwarders(gen: &Generator, out: &Output) -> Vec<String> {
    use crate::stack::forwarders::{choose, stack_name, Found, GLOBAL_REGION};
    if gen.stack().is_some() {
        return Vec::new();
    }
    let name = stack_name(gen.stack_name());
    let enabled = gen.enabled_regions().await.unwrap_or_else(|e| {
        let why = format!("{e:#}");
        out.warn(&format!(
            "the home stack is gone, so only {GLOBAL_REGION} is searched for forwarder stack {name}: {}; \
             allow account:ListRegions, or delete any left in other regions with `aws cloudformation \
             delete-stack --stack-name {name} --region REGION`",
            why.lines().next().unwrap_or_default()
        ));
        Vec::new()
    });
    // The regions a new stack's fast path would have had: every enabled region and us-east-1, home left out.
    let regions = match choose(None, None, &enabled, gen.region()) {
        Ok(r) => r,
        Err(e) => {
            out.warn(&format!("could not look for forwarder stack {name}: {e:#}"));
            return Vec::new();
        }
    };
    if regions.is_empty() {
        return Vec::new();
    }
    let progress = Progress::new(
        out,
        &format!(
            "looking for forwarder stack {name} in {} regions",
            regions.len()
        ),
    );
    let found = gen.find_forwarders(&regions).await;
    progress.finish();
    let mut ours = Vec::new();
    for (region, f) in found {
        match f {
            Found::Ours => ours.push(region),
            Found::NotOurs(why) => out.warn(&format!(
                "stack {name} in {region} is not the forwarder of generator {} in {} ({why}): left alone",
                gen.stack_name(), gen.region()
            )),
            Found::Unreadable(why) => out.warn(&format!(
                "could not look for forwarder stack {name} in {region}: {why}"
            )),
        }
    }
    ours
}

/// The fast path's forwarder stacks, in every region in parallel, each checked gone; the regions where one stays.
async fn remove_forwarders(gen: &Generator, out: &Output, regions: &[String]) -> Vec<String> {
    if regions.is_empty() {
        return Vec::new();
    }
    let progress = Progress::new(
        out,
        &format!(
            "removing the fast path's forwarders in {}",
            regions.join(", ")
        ),
    );
    let outcomes = gen.remove_forwarders(regions).await;
    progress.finish();
    let mut stuck = Vec::new();
    for (region, outcome) in outcomes {
        let text = format!("fast path {region}: {}", outcome.describe());
        if let crate::stack::forwarders::Outcome::Skipped(_) = outcome {
            out.warn(&text);
            stuck.push(region);
        } else {
            out.ok(&text);
        }
    }
    stuck
}

/// Resources with a generator's name that are left alone, and why.
fn warn_foreign(out: &Output, stack: &str, foreign: &[(ResourceKind, String, Mark)]) {
    for (kind, name, mark) in foreign {
        out.warn(&match mark {
            Mark::OtherRegion(region) => format!(
                "{kind} {name} belongs to generator {} in {region} (IAM is global): left alone; run `lppg down \
                 --region {region}` to remove that generator",
                stack
            ),
            Mark::NoRegion => format!(
                "{kind} {name} carries an older lppg mark that does not say which region's generator {} it belongs \
                 to: left alone; remove it by hand if no generator of that name runs in another region",
                stack
            ),
            _ => format!(
                "{kind} {name} has a generator's name but was not created by stack {} (no {TAG_KEY} tag): left alone",
                stack
            ),
        });
    }
}

/// Stops the trail and lets CloudTrail's last deliveries arrive before the policy is saved.
async fn drain(gen: &Generator, a: &DownArgs, out: &Output) -> Result<()> {
    if a.no_wait {
        gen.stop_for_save(crate::clock::system()).await?;
        out.warn(
            "--no-wait: denied calls of the last minutes may not be delivered by CloudTrail yet (about 5 minutes \
             after a call, per region); the saved policy holds what is delivered now",
        );
        return Ok(());
    }
    let progress = Progress::new(out, "stopping the trail");
    let drained = gen.drain(&progress).await;
    progress.finish();
    match drained? {
        Drain::NotNeeded => {}
        Drain::Delivered { regions } => out.ok(&format!(
            "CloudTrail delivered after the stop in every region with a stream ({})",
            regions.join(", ")
        )),
        Drain::GaveUp { regions } => out.warn(&format!(
            "no delivery after the stop in {} within {} minutes: saving what CloudTrail delivered",
            regions.join(", "),
            crate::stack::drain::CAP.as_secs() / 60
        )),
    }
    // A batch may have failed during the wait: counted again, and reconciled with the rest.
    if let Some(n) = gen.failed_batches().await?.filter(|n| *n > 0) {
        out.warn(&format!(
            "{n} failed batches are still in {}: their denied calls are read from the trail's log group and saved \
             with the rest; the queue is removed with the stack",
            gen.failed_queue()
        ));
    }
    Ok(())
}

/// Saves the final policy, saying how many actions came from delivered calls the function had not granted.
async fn save(gen: &Generator, a: &DownArgs, out: &Output, trail: bool) -> Result<SavedPolicy> {
    let saved = gen.save_policy(a.output.as_deref()).await.map_err(|e| {
        let stopped = if trail {
            " The trail is stopped (nothing more is recorded); run `lppg down` again once the cause is fixed (it \
             does not wait again), or `lppg up` to resume logging"
        } else {
            ""
        };
        e.context(format!(
            "the policy was not saved, so nothing was deleted; fix the cause or pass --no-save.{stopped}"
        ))
    })?;
    out.ok(&format!(
        "saved the final policy ({} actions) to {}",
        saved.actions.len(),
        saved.path.display()
    ));
    let gap = &saved.gap;
    if !gap.missing.is_empty() {
        out.info(&format!(
            "added {} actions the function had not granted yet, from {} delivered denied calls: {}",
            gap.missing.len(),
            gap.undecided_calls,
            gap.missing
                .keys()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(saved)
}

/// What is about to be deleted, and failed batches that would be lost with the queue.
async fn show_plan(out: &Output, gen: &Generator, plan: &TeardownPlan) -> Result<()> {
    out.info(&format!(
        "Account {}  region {}  caller {}",
        out.paint(Style::Bold, gen.account()),
        out.paint(Style::Bold, gen.region()),
        gen.caller_arn()
    ));
    match gen.stack() {
        Some(s) => out.info(&format!("Stack {} ({}) and:", gen.stack_name(), s.status)),
        None => out.info(&format!(
            "Stack {} is gone, but these remain:",
            gen.stack_name()
        )),
    }
    for (kind, name) in &plan.present {
        out.info(&format!("  {kind:<10} {name}"));
    }
    if let Some(n) = gen.failed_batches().await?.filter(|n| *n > 0) {
        out.warn(&format!(
            "{n} failed batches wait in {}: their denied calls are not in the policy, and removing the queue \
             loses them; answer no and run `lppg redrive` first to keep them",
            gen.failed_queue()
        ));
    }
    Ok(())
}

/// What the teardown removed, and what it could not look at.
fn show_report(out: &Output, stack: &str, report: &TeardownReport) {
    for w in report
        .warnings
        .iter()
        .chain(&unlisted_notes(&report.unlisted))
    {
        out.warn(w);
    }
    out.info("Removed:");
    for r in &report.removed {
        out.info(&format!("  {r}"));
    }
    out.ok(&format!(
        "nothing of generator {} remains (checked IAM, Lambda, CloudWatch Logs, CloudTrail, S3, CloudFormation)",
        stack
    ));
}
