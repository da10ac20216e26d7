//! `lppg up`: deploy or update the generator stack, then set the user's console password.
use super::Ctx;
use crate::aws::{iam, s3, stack};
use crate::cli::{GlobalArgs, UpArgs};
use crate::policy::Action;
use crate::ui::progress::Progress;
use crate::ui::{prompt, Output, Style};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashSet};
use std::io::Read;

/// Where the console password comes from; decided before anything changes.
enum PasswordSource {
    None,
    Given(String),
    Generate,
}

const RETENTION_DAYS: [u32; 12] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365];

/// The stack's parameters for these arguments.
pub fn parameters(
    a: &UpArgs,
    code_bucket: &str,
    code_key: &str,
) -> Result<BTreeMap<String, String>> {
    let mut p = BTreeMap::new();
    p.insert("UserName".into(), a.user_name.clone().unwrap_or_default());
    p.insert("StartActions".into(), a.start_actions.join(","));
    p.insert("CodeBucket".into(), code_bucket.into());
    p.insert("CodeKey".into(), code_key.into());
    p.insert("LogRetentionDays".into(), a.log_retention_days.to_string());
    p.insert("TrailObjectExpirationDays".into(), "30".into());
    for (svc, key) in [
        ("s3", "DataEventsS3"),
        ("lambda", "DataEventsLambda"),
        ("dynamodb", "DataEventsDynamoDB"),
    ] {
        let on = a.data_events.iter().any(|d| d.eq_ignore_ascii_case(svc));
        p.insert(key.into(), on.to_string());
    }
    p.insert(
        "DeniedErrorCodesPattern".into(),
        crate::assets::error_code_clause(crate::assets::MAPPING_JSON)?,
    );
    Ok(p)
}

/// Checks the arguments before any AWS call.
pub fn validate(a: &UpArgs) -> Result<()> {
    for d in &a.data_events {
        if !["s3", "lambda", "dynamodb"].contains(&d.to_ascii_lowercase().as_str()) {
            bail!("--data-events takes s3, lambda and dynamodb (comma-separated), not {d:?}");
        }
    }
    if a.start_actions.is_empty() {
        bail!("--start-actions needs at least one action, e.g. ec2:DescribeInstances");
    }
    for s in &a.start_actions {
        Action::parse(s).map_err(|_| {
            anyhow::anyhow!("--start-actions: {s:?} is not an IAM action (service:Action, e.g. ec2:DescribeInstances)")
        })?;
    }
    if !RETENTION_DAYS.contains(&a.log_retention_days) {
        bail!("--log-retention-days must be one of {RETENTION_DAYS:?}");
    }
    if let Some(u) = &a.user_name {
        let ok = !u.is_empty()
            && u.len() <= 64
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !ok {
            bail!("--user-name {u:?} is not a valid IAM user name (1-64 of letters, digits and +=,.@_-)");
        }
    }
    Ok(())
}

pub async fn exec(g: &GlobalArgs, a: &UpArgs, out: &Output) -> Result<i32> {
    validate(a)?;
    let mut ctx = Ctx::load(g, a.user_name.as_deref()).await?;
    // A stack that failed and cannot be updated: explain it, and on a terminal offer the way out right here.
    if let Some(s) = &ctx.stack {
        if let Some(advice) = stack::advice_for_status(&g.stack_name, &s.status) {
            let removable = stack::is_failed(&s.status) && stack::is_terminal(&s.status);
            if !(removable && out.stdin_tty && out.stderr_tty) {
                bail!(advice);
            }
            out.warn(&advice);
            let question =
                "Remove it now with `lppg down` (the policy is saved first), then create it again?";
            if !prompt::confirm(out, question, false)? {
                bail!(advice);
            }
            let down_args = crate::cli::DownArgs {
                yes: true,
                no_save: false,
                output: None,
                user_name: a.user_name.clone(),
            };
            super::down::exec(g, &down_args, out).await?;
            ctx = Ctx::load(g, a.user_name.as_deref()).await?;
        }
    }
    let c = &ctx.c;
    out.info(&format!(
        "Account {}  region {}  caller {}{}",
        out.paint(Style::Bold, &ctx.id.account),
        out.paint(Style::Bold, &c.region),
        ctx.id.arn,
        c.endpoint
            .as_ref()
            .map(|e| format!("  endpoint {e}"))
            .unwrap_or_default()
    ));
    if let Some(s) = &ctx.stack {
        if let Some(advice) = stack::advice_for_status(&g.stack_name, &s.status) {
            bail!(advice);
        }
        if let (Some(old), Some(new)) = (s.output("UserName"), a.user_name.as_deref()) {
            if old != new {
                bail!("stack {} already has generator user {old}; to use {new}, run `lppg down` first or choose another --stack-name", g.stack_name);
            }
        }
    }

    // Decide the password before changing anything, so a bad one costs nothing.
    let rules = if a.no_password {
        None
    } else {
        Some(iam::password_rules(c).await?)
    };
    let source = if a.no_password {
        PasswordSource::None
    } else if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        let pw = s.trim_end_matches(['\n', '\r']).to_string();
        if let Some(r) = &rules {
            r.check(&pw).map_err(|m| anyhow::anyhow!("the password from standard input does not meet the account's password policy: {m}"))?;
        }
        PasswordSource::Given(pw)
    } else if a.password_prompt {
        let r = rules.clone().expect("rules read above");
        PasswordSource::Given(prompt::password(out, move |p| r.check(p))?)
    } else {
        if !out.stderr_tty && !a.print_password {
            bail!(
                "no terminal to show the generated console password on: pass --password-stdin to choose one, \
                 --print-password to print it on standard output, or --no-password"
            );
        }
        PasswordSource::Generate
    };

    // Name collisions with things this stack does not own.
    if ctx.stack.is_none() {
        if iam::user_exists(c, &ctx.names.user).await? {
            bail!(
                "an IAM user named {} already exists and is not part of stack {}: choose another --stack-name \
                 or --user-name (or remove the user)",
                ctx.names.user,
                g.stack_name
            );
        }
        if s3::bucket_state(c, &ctx.names.trail_bucket)
            .await?
            .is_some()
        {
            bail!(
                "bucket {} already exists: a previous generator left it behind (run `lppg down`) or the name is \
                 taken; choose another --stack-name",
                ctx.names.trail_bucket
            );
        }
    }

    // CloudTrail's quota and cost, read before anything is created.
    let mut cost_note = None;
    if ctx.stack.is_none() {
        let trails = crate::aws::trail::list(c).await?;
        crate::preflight::trail_room(&trails, &c.region, &ctx.id.account)
            .map_err(anyhow::Error::msg)?;
        cost_note = crate::preflight::second_copy_note(&trails, &ctx.names.trail);
    }

    let template = crate::assets::render_template()?;
    let zip = crate::assets::function_zip()?;
    let key = crate::assets::function_key(&zip);
    let params = parameters(a, &ctx.names.artifact_bucket, &key)?;

    if let Some(s) = &ctx.stack {
        let old = s
            .parameters
            .get("StartActions")
            .map(String::as_str)
            .unwrap_or("");
        if !old.is_empty() && old != params["StartActions"] {
            bail!(
                "stack {} started with {old}; changing --start-actions would rewrite the first generator policy \
                 and lose what was granted: save the policy (`lppg export-policy -o policy.json`), then \
                 `lppg down` and `lppg up --start-actions ...`",
                g.stack_name
            );
        }
    }

    let up_to_date = match &ctx.stack {
        Some(s) => {
            let same_params = s.parameters == params;
            same_params
                && stack::current_template(c, &g.stack_name).await?.trim() == template.trim()
        }
        None => false,
    };

    if !up_to_date {
        let question = match &ctx.stack {
            None => format!(
                "Create generator stack {} in account {} ({})? Use test accounts only.",
                g.stack_name, ctx.id.account, c.region
            ),
            Some(_) => format!(
                "Update generator stack {} in account {} ({})?",
                g.stack_name, ctx.id.account, c.region
            ),
        };
        if let Some(note) = &cost_note {
            out.warn(note);
        }
        if !prompt::confirm(out, &question, a.yes)? {
            out.info("Nothing changed.");
            return Ok(crate::exit::OK);
        }
        if s3::ensure_artifact_bucket(c, &ctx.names.artifact_bucket).await? {
            out.ok(&format!(
                "created artifact bucket {}",
                ctx.names.artifact_bucket
            ));
        }
        crate::aws::ownership::mark_bucket(c, &ctx.names.artifact_bucket, &g.stack_name).await?;
        if s3::upload_if_missing(c, &ctx.names.artifact_bucket, &key, zip.clone()).await? {
            out.ok(&format!(
                "uploaded the function ({} bytes) to s3://{}/{key}",
                zip.len(),
                ctx.names.artifact_bucket
            ));
        }
        let mut seen = HashSet::new();
        let mut wait_needed = true;
        let stack_id = match &ctx.stack {
            None => {
                let id = stack::create(c, &g.stack_name, &template, &params).await?;
                out.info(&format!("Creating stack {}…", g.stack_name));
                id
            }
            Some(s) => {
                // Events from before this update are not news.
                seen = stack::event_ids(c, &s.id).await?;
                let protected: Vec<String> = (1..=crate::naming::POLICY_COUNT)
                    .map(|i| format!("Policy{i}"))
                    .chain(["User".to_string(), "GuardPolicy".to_string()])
                    .collect();
                let protected: Vec<&str> = protected.iter().map(String::as_str).collect();
                match stack::update(c, &g.stack_name, &template, &params, &protected).await? {
                    stack::UpdateOutcome::Refused(ids) => bail!(
                        "this update would rewrite or replace {} and lose the actions granted so far, so nothing \
                         was changed: save the policy (`lppg export-policy -o policy.json`), then `lppg down` and \
                         `lppg up` with the new settings",
                        ids.join(", ")
                    ),
                    stack::UpdateOutcome::UpToDate => {
                        wait_needed = false;
                        s.id.clone()
                    }
                    stack::UpdateOutcome::Started(changes) => {
                        out.info(&format!("Updating stack {}:", g.stack_name));
                        for ch in changes {
                            out.info(&format!("  {ch}"));
                        }
                        s.id.clone()
                    }
                }
            }
        };
        if !wait_needed {
            out.ok(&format!(
                "stack {} is up to date; nothing changed",
                g.stack_name
            ));
        } else {
            let progress = Progress::new(out, &format!("waiting for stack {}", g.stack_name));
            let mut result = stack::wait(c, &stack_id, &progress, &mut seen).await?;
            progress.finish();
            let reasons = result.failures.iter().filter_map(|f| f.reason.as_deref());
            if let Some(why) = crate::preflight::propagation_failure(reasons)
                .filter(|_| ctx.stack.is_none() && stack::is_failed(&result.status))
            {
                result = retry_create(g, a, out, &why, &template, &params).await?;
            }
            if stack::is_failed(&result.status) || !result.status.ends_with("_COMPLETE") {
                for f in &result.failures {
                    out.info(&format!(
                        "  {} ({}) {}: {}",
                        f.logical_id,
                        f.resource_type,
                        f.status,
                        f.reason.as_deref().unwrap_or("no reason given")
                    ));
                }
                let first = result
                    .failures
                    .first()
                    .map(|f| {
                        format!(
                            ": {} failed: {}",
                            f.logical_id,
                            f.reason.as_deref().unwrap_or("no reason given")
                        )
                    })
                    .unwrap_or_default();
                bail!(
                    "stack {} ended in {}{first}\n  hint: {}",
                    g.stack_name,
                    result.status,
                    stack::advice_for_status(&g.stack_name, &result.status)
                        .unwrap_or_else(|| "fix the cause, then run `lppg up` again".into())
                );
            }
            out.ok(&format!("stack {} is {}", g.stack_name, result.status));
        }
    } else {
        out.ok(&format!(
            "stack {} is up to date; nothing changed",
            g.stack_name
        ));
    }

    let info = stack::describe(c, &g.stack_name)
        .await?
        .context("the stack disappeared after it was deployed")?;
    let user = info
        .output("UserName")
        .unwrap_or(&ctx.names.user)
        .to_string();
    let url = info
        .output("ConsoleSignInUrl")
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{}.signin.aws.amazon.com/console", ctx.id.account));

    match source {
        PasswordSource::None => out.info("No console password set (--no-password)."),
        source => {
            let exists = iam::has_login_profile(c, &user).await?;
            let given = matches!(source, PasswordSource::Given(_));
            let password = match source {
                PasswordSource::Given(p) => Some(p),
                PasswordSource::Generate if exists && !a.reset_password => None,
                _ => {
                    let r = rules.as_ref().expect("rules read above");
                    Some(crate::password::generate(r, &mut rand::thread_rng()))
                }
            };
            match password {
                None => out.info(&format!(
                    "User {user} already has a console password; keeping it (--reset-password sets a new one)."
                )),
                Some(pw) => {
                    iam::set_password(c, &user, &pw, exists).await?;
                    if given {
                        // The person chose it: never echo it.
                        out.ok(&format!("console password set for {user} (the one you gave); sign in at {url}"));
                    } else {
                        show_credentials(out, &url, &user, &pw, a.print_password)?;
                    }
                }
            }
        }
    }
    out.info(&format!(
        "Next: sign in at {url} as {user}, follow your procedure, and run `lppg watch` to see the policy grow."
    ));
    Ok(crate::exit::OK)
}

/// Once, after a create that failed only because IAM had not yet propagated a fresh role: removes the failed
/// stack (saving any policy first, as `down` does) and creates it again, after asking on a terminal or with `--yes`.
async fn retry_create(
    g: &GlobalArgs,
    a: &UpArgs,
    out: &Output,
    why: &str,
    template: &str,
    params: &BTreeMap<String, String>,
) -> Result<stack::WaitResult> {
    out.warn(why);
    let can_ask = out.stdin_tty && out.stderr_tty;
    if !a.yes && !can_ask {
        bail!("{why}: run `lppg down --yes` and `lppg up` again, or pass --yes to let `lppg up` do it");
    }
    if !prompt::confirm(
        out,
        "Remove the failed stack and create it again (once)?",
        a.yes,
    )? {
        bail!("{why}: run `lppg down` and `lppg up` again when you are ready");
    }
    let down_args = crate::cli::DownArgs {
        yes: true,
        no_save: false,
        output: None,
        user_name: a.user_name.clone(),
    };
    super::down::exec(g, &down_args, out).await?;
    let ctx = Ctx::load(g, a.user_name.as_deref()).await?;
    let id = stack::create(&ctx.c, &g.stack_name, template, params).await?;
    out.info(&format!("Creating stack {} again…", g.stack_name));
    let progress = Progress::new(out, &format!("waiting for stack {}", g.stack_name));
    let result = stack::wait(&ctx.c, &id, &progress, &mut HashSet::new()).await?;
    progress.finish();
    Ok(result)
}

/// Shows the console credentials once: on the terminal (stderr), or on stdout with `--print-password`.
fn show_credentials(out: &Output, url: &str, user: &str, pw: &str, to_stdout: bool) -> Result<()> {
    let block =
        format!("Console sign-in\n  URL:      {url}\n  User:     {user}\n  Password: {pw}\n");
    if to_stdout {
        crate::ui::print_result(out, &block)
    } else {
        out.info(&out.paint(Style::Bold, &block));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> UpArgs {
        let mut v = vec!["lppg", "up"];
        v.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(v).command {
            crate::cli::Command::Up(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn parameters_follow_the_flags() {
        let p = parameters(
            &args(&[
                "--data-events",
                "s3,DynamoDB",
                "--start-actions",
                "ec2:DescribeInstances,s3:ListAllMyBuckets",
            ]),
            "b",
            "k",
        )
        .unwrap();
        assert_eq!(p["DataEventsS3"], "true");
        assert_eq!(p["DataEventsLambda"], "false");
        assert_eq!(p["DataEventsDynamoDB"], "true");
        assert_eq!(
            p["StartActions"],
            "ec2:DescribeInstances,s3:ListAllMyBuckets"
        );
        assert_eq!(p["UserName"], "");
        assert!(p["DeniedErrorCodesPattern"].contains("AccessDenied"));
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(validate(&args(&[])).is_ok());
        assert!(validate(&args(&["--data-events", "rds"])).is_err());
        assert!(validate(&args(&["--start-actions", "DescribeInstances"])).is_err());
        assert!(validate(&args(&["--log-retention-days", "8"])).is_err());
        assert!(validate(&args(&["--user-name", "bad name"])).is_err());
    }
}
