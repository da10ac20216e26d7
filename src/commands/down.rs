//! `lppg down`: save the final policy, remove what CloudFormation cannot, delete the stack, then check every
//! service and remove stragglers. Idempotent.
use super::Ctx;
use crate::aws::{iam, lambda, logs, ownership, s3, stack, trail};
use crate::cli::{DownArgs, GlobalArgs};
use crate::naming::Names;
use crate::ui::progress::Progress;
use crate::ui::{prompt, Output, Style};
use anyhow::{bail, Result};
use std::collections::HashSet;

/// Everything a generator may leave behind, as (kind, name) pairs, for listing and verification.
fn inventory(n: &Names, policy_arns: &[String]) -> Vec<(&'static str, String)> {
    let mut v = vec![("user", n.user.clone())];
    for p in policy_arns {
        v.push(("policy", p.clone()));
    }
    v.push(("policy", n.policy_arn(&n.guard_policy)));
    v.push(("role", n.function_role.clone()));
    v.push(("role", n.trail_role.clone()));
    v.push(("function", n.function.clone()));
    v.push(("log group", n.function_log_group.clone()));
    v.push(("log group", n.trail_log_group.clone()));
    v.push(("trail", n.trail.clone()));
    v.push(("bucket", n.trail_bucket.clone()));
    v.push(("bucket", n.artifact_bucket.clone()));
    v
}

async fn exists(ctx: &Ctx, kind: &str, name: &str) -> Result<bool> {
    let c = &ctx.c;
    Ok(match kind {
        "user" => iam::user_exists(c, name).await?,
        "policy" => iam::policy_exists(c, name).await?,
        "role" => iam::role_exists(c, name).await?,
        "function" => lambda::state(c, name).await?.is_some(),
        "log group" => logs::group_exists(c, name).await?,
        "trail" => trail::is_logging(c, name).await?.is_some(),
        "bucket" => s3::bucket_state(c, name).await? == Some(true),
        _ => false,
    })
}

async fn remove(ctx: &Ctx, kind: &str, name: &str, warnings: &mut Vec<String>) -> Result<bool> {
    let c = &ctx.c;
    match kind {
        "user" => iam::delete_user(c, name, warnings).await,
        "policy" => iam::delete_policy(c, name).await,
        "role" => iam::delete_role(c, name).await,
        "function" => lambda::delete(c, name).await,
        "log group" => logs::delete_group(c, name).await,
        "trail" => trail::delete(c, name).await,
        "bucket" => s3::delete_bucket(c, name).await,
        _ => Ok(false),
    }
}

pub async fn exec(g: &GlobalArgs, a: &DownArgs, out: &Output) -> Result<i32> {
    let ctx = Ctx::load(g, a.user_name.as_deref()).await?;
    let c = &ctx.c;
    let n = ctx.names.clone();
    let policy_arns = ctx.policy_arns();
    let items = inventory(&n, &policy_arns);

    // What is provably the generator's: the stack's own resources (read now, before anything is deleted), or
    // resources that carry lppg's mark. A resource that only has a matching name is left alone.
    let mut owned: HashSet<(&'static str, String)> = HashSet::new();
    if ctx.stack.is_some() {
        if let Ok(res) = stack::resources(c, &g.stack_name).await {
            for (rtype, physical) in res.values() {
                if let Some(kind) = kind_of(rtype) {
                    owned.insert((kind, physical.clone()));
                }
            }
        }
    }
    let mut present = Vec::new();
    let mut foreign = Vec::new();
    for (kind, name) in &items {
        if exists(&ctx, kind, name).await? {
            let ours = owned.contains(&(*kind, name.clone()))
                || ownership::is_marked(
                    c,
                    kind,
                    name,
                    &g.stack_name,
                    &ctx.id.account,
                    &ctx.id.partition,
                )
                .await?;
            if ours {
                present.push((*kind, name.clone()));
            } else {
                foreign.push((*kind, name.clone()));
            }
        }
    }
    for (kind, name) in &foreign {
        out.warn(&format!(
            "{kind} {name} has a generator's name but was not created by stack {} (no {} tag): left alone",
            g.stack_name,
            ownership::TAG_KEY
        ));
    }
    let items: Vec<(&'static str, String)> = items
        .into_iter()
        .filter(|(k, n)| !foreign.iter().any(|(fk, fname)| fk == k && fname == n))
        .collect();
    if ctx.stack.is_none() && present.is_empty() {
        out.ok(&format!(
            "no generator stack named {} in {} (account {}) and nothing left behind: nothing to do",
            g.stack_name, c.region, ctx.id.account
        ));
        return Ok(crate::exit::OK);
    }

    out.info(&format!(
        "Account {}  region {}  caller {}",
        out.paint(Style::Bold, &ctx.id.account),
        out.paint(Style::Bold, &c.region),
        ctx.id.arn
    ));
    match &ctx.stack {
        Some(s) => out.info(&format!("Stack {} ({}) and:", g.stack_name, s.status)),
        None => out.info(&format!(
            "Stack {} is gone, but these remain:",
            g.stack_name
        )),
    }
    for (kind, name) in &present {
        out.info(&format!("  {kind:<10} {name}"));
    }
    let question = format!("Delete all of this from account {}?", ctx.id.account);
    if !prompt::confirm(out, &question, a.yes)? {
        out.info("Nothing deleted.");
        return Ok(crate::exit::OK);
    }

    // 1. Save the policy first: nothing is deleted unless it is safe on disk (or --no-save).
    let ours = |kind: &str, name: &str| present.iter().any(|(k, x)| *k == kind && x == name);
    let any_policy = policy_arns.iter().any(|a| ours("policy", a));
    if !a.no_save && any_policy {
        let generated = super::export_policy::load_generated(&ctx).await.map_err(|e| {
            e.context("could not read the generated policy, so nothing was deleted; fix the cause or pass --no-save")
        })?;
        let merged = generated.actions.merged(true);
        let text = super::export_policy::render(&merged)?;
        let path = a.output.clone().unwrap_or_else(|| {
            crate::naming::saved_policy_file_name(&g.stack_name, std::time::SystemTime::now())
                .into()
        });
        super::export_policy::write_new_file(&path, &text, false)
            .map_err(|e| e.context("the policy was not saved, so nothing was deleted"))?;
        out.ok(&format!(
            "saved the final policy ({} actions) to {}",
            merged.len(),
            path.display()
        ));
    }

    // 2. What CloudFormation cannot remove.
    let mut removed: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    if ours("trail", &n.trail) && trail::stop(c, &n.trail).await? {
        removed.push(format!("stopped trail {}", n.trail));
    }
    if ours("user", &n.user) {
        for r in iam::remove_user_credentials(c, &n.user, &mut warnings).await? {
            removed.push(r);
        }
    }
    for arn in policy_arns.iter().filter(|a| ours("policy", a)) {
        let k = iam::delete_non_default_versions(c, arn).await?;
        if k > 0 {
            removed.push(format!("{k} old versions of {arn}"));
        }
    }
    if ours("bucket", &n.trail_bucket) {
        let k = s3::empty_bucket(c, &n.trail_bucket).await?;
        if k > 0 {
            removed.push(format!("{k} objects in {}", n.trail_bucket));
        }
    }

    // 3. The stack.
    if let Some(st) = &ctx.stack {
        let mut seen = HashSet::new();
        match stack::delete(c, &g.stack_name).await {
            Ok(()) => {
                let progress = Progress::new(out, &format!("deleting stack {}", g.stack_name));
                let res = stack::wait(c, &st.id, &progress, &mut seen).await?;
                progress.finish();
                if res.status == "DELETE_COMPLETE" {
                    removed.push(format!("stack {}", g.stack_name));
                } else {
                    for f in &res.failures {
                        warnings.push(format!(
                            "CloudFormation could not delete {} ({}): {}",
                            f.logical_id,
                            f.resource_type,
                            f.reason.as_deref().unwrap_or("no reason given")
                        ));
                    }
                    warnings.push(format!(
                        "stack ended in {}; removing what blocks it",
                        res.status
                    ));
                }
            }
            Err(e) => warnings.push(format!("{e}; removing what blocks it")),
        }
    }

    // 4. Check every service for what the generator created, and remove stragglers.
    for (kind, name) in &items {
        if remove(&ctx, kind, name, &mut warnings).await? {
            removed.push(format!("{kind} {name} (left behind)"));
        }
    }
    // A stack whose delete failed can be deleted now that its resources are gone.
    if let Some(st) = stack::describe(c, &g.stack_name).await? {
        stack::delete(c, &g.stack_name).await?;
        let progress = Progress::new(out, &format!("deleting stack {} again", g.stack_name));
        let res = stack::wait(c, &st.id, &progress, &mut HashSet::new()).await?;
        progress.finish();
        if res.status != "DELETE_COMPLETE" {
            bail!(
                "stack {} is still {} after its resources were removed: delete it in the CloudFormation console \
                 with 'retain resources', then run `lppg down` again",
                g.stack_name,
                res.status
            );
        }
        removed.push(format!("stack {}", g.stack_name));
    }

    for w in &warnings {
        out.warn(w);
    }
    let mut remaining = Vec::new();
    for (kind, name) in &items {
        if exists(&ctx, kind, name).await? {
            remaining.push(format!("{kind} {name}"));
        }
    }
    out.info("Removed:");
    for r in &removed {
        out.info(&format!("  {r}"));
    }
    if !remaining.is_empty() {
        bail!(
            "these still exist: {}; run `lppg down` again, or remove them by hand",
            remaining.join(", ")
        );
    }
    out.ok(&format!(
        "nothing of generator {} remains (checked IAM, Lambda, CloudWatch Logs, CloudTrail, S3, CloudFormation)",
        g.stack_name
    ));
    Ok(crate::exit::OK)
}

/// The kind of resource, as `down` lists them, of a CloudFormation resource type.
pub fn kind_of(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        "AWS::IAM::User" => "user",
        "AWS::IAM::ManagedPolicy" => "policy",
        "AWS::IAM::Role" => "role",
        "AWS::Lambda::Function" => "function",
        "AWS::Logs::LogGroup" => "log group",
        "AWS::CloudTrail::Trail" => "trail",
        "AWS::S3::Bucket" => "bucket",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_kinds() {
        assert_eq!(kind_of("AWS::IAM::ManagedPolicy"), Some("policy"));
        assert_eq!(kind_of("AWS::Logs::LogGroup"), Some("log group"));
        assert_eq!(kind_of("AWS::Lambda::Permission"), None);
        let n = Names::new("s", "aws", "1", "r", None);
        let inv = inventory(&n, &n.policy_arns());
        assert!(inv.contains(&("bucket", n.artifact_bucket.clone())));
        assert_eq!(
            inv.iter().filter(|(k, _)| *k == "policy").count(),
            crate::naming::POLICY_COUNT + 1
        );
    }
}
