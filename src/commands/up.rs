//! `lppg up`: deploy or update the generator stack, then set the user's console password.
use crate::cli::{GlobalArgs, UpArgs};
use crate::naming::Principal;
use crate::password::PasswordRules;
use crate::stack::deploy::{self, Bundle, Deployed, Settings};
use crate::stack::{Generator, Overrides};
use crate::ui::progress::Progress;
use crate::ui::{prompt, Output, Style};
use anyhow::{bail, Context, Result};
use std::io::Read;

/// Where the console password comes from; decided before anything changes.
enum PasswordSource {
    None,
    Given(String),
    Generate,
}

pub fn settings(a: &UpArgs) -> Settings {
    Settings {
        principal: a.principal.as_deref().and_then(Principal::parse),
        role_name: a.role_name.clone(),
        trust: Default::default(),
        user_name: a.user_name.clone(),
        start_actions: a.start_actions.clone(),
        data_events: a.data_events.clone(),
        log_retention_days: a.log_retention_days,
        allow_role_switch: a.allow_role_switch,
        fast_path: !a.no_fast_path,
        regions: a.regions.clone(),
        enabled_regions: Vec::new(),
    }
}

pub async fn exec(g: &GlobalArgs, a: &UpArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let mut settings = settings(a);
    settings.validate()?;
    let overrides = Overrides {
        user: a.user_name.clone(),
        role: a.role_name.clone(),
    };
    let mut gen = Generator::connect(&g.aws, &g.stack_name, overrides).await?;
    gen = replace_failed_stack(gen, out).await?;
    let mode = gen.mode(&settings);
    check_mode_flags(a, mode)?;
    let endpoint = gen
        .endpoint()
        .map(|e| format!("  endpoint {e}"))
        .unwrap_or_default();
    out.info(&format!(
        "Account {}  region {}  caller {}{endpoint}",
        out.paint(Style::Bold, gen.account()),
        out.paint(Style::Bold, gen.region()),
        gen.caller_arn(),
    ));
    // Check everything, then decide the password, before changing anything: a mistake costs nothing, and no one
    // types a password for a stack that would be refused.
    default_regions(&gen, &mut settings, out).await;
    let plan = gen.plan_up(&mut settings, &a.trust).await?;
    let (rules, source) = match mode {
        Principal::User => password_source(&gen, a, out).await?,
        Principal::Role => (None, PasswordSource::None),
    };
    if plan.up_to_date {
        out.ok(&format!(
            "stack {} is up to date; nothing changed",
            g.stack_name
        ));
        // A forwarder removed by hand comes back; the others are left as they are.
        sync_forwarders(&gen, &gen.forwarder_regions(), out).await?;
    } else {
        if let Some(note) = &plan.cost_note {
            out.warn(note);
        }
        let question = match gen.stack() {
            None => format!(
                "Create generator stack {} in account {} ({})? Use test accounts only.",
                g.stack_name,
                gen.account(),
                gen.region()
            ),
            Some(_) => format!(
                "Update generator stack {} in account {} ({})?",
                g.stack_name,
                gen.account(),
                gen.region()
            ),
        };
        if !prompt::confirm(out, &question, a.yes)? {
            out.info("Nothing changed.");
            return Ok(crate::exit::OK);
        }
        let had = gen.forwarder_regions();
        gen = deploy_bundle(gen, a, out, &plan.bundle).await?;
        sync_forwarders(&gen, &had, out).await?;
        probe(&gen, a, out).await;
    }
    if gen.principal() == Principal::Role {
        return role_next_steps(&gen, g, out);
    }
    set_password(&gen, a, out, rules, source).await?;
    let url = console_url(&gen);
    out.info(&format!(
        "Next: sign in at {url} as {}, follow your procedure, and run `lppg watch` to see the policy grow.",
        gen.user_name()
    ));
    Ok(crate::exit::OK)
}

/// The fast path's default regions, asked only when they decide something (the fast path on, no `--regions`, no
/// list the stack remembers): every region enabled in the account. Refused or unavailable, the default is the home
/// region and us-east-1, said once.
async fn default_regions(gen: &Generator, s: &mut Settings, out: &Output) {
    if !s.fast_path || s.regions.is_some() || gen.remembered_regions().is_some() {
        return;
    }
    match gen.enabled_regions().await {
        Ok(regions) => s.enabled_regions = regions,
        Err(e) => out.warn(&regions_fallback(gen.region(), &e)),
    }
}

/// The one warning when the account's regions cannot be listed: what the fast path covers instead, the missing
/// permission, and `--regions`.
fn regions_fallback(home: &str, e: &anyhow::Error) -> String {
    let global = crate::stack::forwarders::GLOBAL_REGION;
    let covered = if home == global {
        global.to_string()
    } else {
        format!("{home} and {global}")
    };
    let why = format!("{e:#}");
    let why = why.lines().next().unwrap_or_default();
    format!(
        "the fast path covers {covered} only: {why}; allow account:ListRegions, or choose the regions with \
         `lppg up --regions a,b`"
    )
}

/// The fast path's forwarder stacks in step with the generator stack's regions: created or updated in parallel,
/// dropped regions removed; a region that refuses is named and skipped.
async fn sync_forwarders(gen: &Generator, had: &[String], out: &Output) -> Result<()> {
    let want = gen.forwarder_regions();
    if want.is_empty() && had.is_empty() {
        return Ok(());
    }
    let spinner = Progress::new(
        out,
        &format!("fast path: forwarder stacks in {}", want.join(", ")),
    );
    let outcomes = gen.sync_forwarders(&want, had).await?;
    spinner.finish();
    for (region, outcome) in outcomes {
        let text = format!("fast path {region}: {}", outcome.describe());
        match outcome {
            crate::stack::forwarders::Outcome::Skipped(_) => out.warn(&text),
            _ => out.ok(&text),
        }
    }
    Ok(())
}

/// Refuses flags that do not fit the mode, before anything changes.
fn check_mode_flags(a: &UpArgs, mode: Principal) -> Result<()> {
    let role_only = [
        ("--role-name", a.role_name.is_some()),
        ("--trust", !a.trust.is_empty()),
    ];
    let user_only = [
        ("--user-name", a.user_name.is_some()),
        ("--password-stdin", a.password_stdin),
        ("--password-prompt", a.password_prompt),
        ("--reset-password", a.reset_password),
        ("--print-password", a.print_password),
    ];
    let (wrong, why): (&[(&str, bool)], &str) = match mode {
        Principal::Role => (
            &user_only,
            "a generator role has no user and no console password (people switch into the role, tools use \
             `lppg credentials` or `lppg exec`)",
        ),
        Principal::User => (&role_only, "these are for --principal role"),
    };
    let given: Vec<&str> = wrong.iter().filter(|f| f.1).map(|f| f.0).collect();
    if !given.is_empty() {
        bail!(
            "{} cannot be used with --principal {}: {why}",
            given.join(", "),
            mode.as_str()
        );
    }
    Ok(())
}

/// Role mode's next steps: the console's switch-role link and a profile for tools.
fn role_next_steps(
    gen: &Generator,
    g: &GlobalArgs,
    out: &Output,
) -> Result<crate::exit::ExitStatus> {
    let role_arn = gen.role_arn()?;
    let display = format!("lppg {}", gen.stack_name());
    let link = crate::role::switch_role_url(gen.account(), &role_arn, &display);
    let profile = format!("lppg-{}", gen.stack_name());
    let snippet = crate::role::profile_snippet(
        &profile,
        gen.stack_name(),
        gen.region(),
        g.aws.profile.as_deref(),
    );
    out.info(&format!(
        "Generator role {role_arn}\n\nConsole: switch into the role (from a role session, as Identity Center users \
         are, a console role session lasts one hour; an IAM user gets up to the role's 12 hours; switch again when \
         it ends):\n  {link}\n\nTools: add this profile to ~/.aws/config and use AWS_PROFILE={profile}, or run \
         `lppg exec -- CMD ...`:\n\n{snippet}\nThen run `lppg watch` to see the policy grow."
    ));
    Ok(crate::exit::OK)
}

/// After a create or update, proves the pipeline once (unless `--no-probe`); a failure is said plainly but does
/// not undo the deploy.
async fn probe(gen: &Generator, a: &UpArgs, out: &Output) {
    if a.no_probe || gen.stack().is_none() {
        return;
    }
    let progress = Progress::new(out, "probing the pipeline (skip with --no-probe)");
    let steps = gen.probe(a.probe_wait, &progress).await;
    progress.finish();
    out.info("Probe:");
    crate::ui::probe_view::show(out, &steps);
    if crate::probe::exit_code(&steps) != crate::exit::OK {
        out.warn(
            "the stack is deployed, but the probe did not pass: denied calls may not be granted; fix what the \
             arrows say, then run `lppg status --probe`",
        );
    }
}

/// A stack that failed and cannot be updated: explain it, and on a terminal offer to remove it right here.
async fn replace_failed_stack(gen: Generator, out: &Output) -> Result<Generator> {
    let Some(s) = gen.stack() else {
        return Ok(gen);
    };
    let Some(advice) = s.status.advice(gen.stack_name()) else {
        return Ok(gen);
    };
    let removable = s.status.is_failed() && s.status.is_terminal();
    if !(removable && out.stdin_tty && out.stderr_tty) {
        bail!(advice);
    }
    out.warn(&advice);
    let question =
        "Remove it now with `lppg down` (the policy is saved first), then create it again?";
    if !prompt::confirm(out, question, false)? {
        bail!(advice);
    }
    let progress = Progress::new(out, &format!("removing stack {}", gen.stack_name()));
    gen.remove_failed_stack(&progress).await?;
    progress.finish();
    gen.reload().await
}

/// Creates or updates the stack; a create refused only because IAM had not yet propagated a fresh role is
/// retried once, after asking on a terminal or with `--yes`.
async fn deploy_bundle(gen: Generator, a: &UpArgs, out: &Output, b: &Bundle) -> Result<Generator> {
    let name = gen.stack_name().to_string();
    let progress = Progress::new(out, &format!("deploying stack {name}"));
    let result = match gen.deploy(b, &progress).await? {
        Deployed::UpToDate => {
            out.ok(&format!("stack {name} is up to date; nothing changed"));
            return gen.reload().await;
        }
        Deployed::Updated(status, changes) => {
            progress.finish();
            for ch in changes {
                out.info(&format!("  {ch}"));
            }
            out.ok(&format!("stack {name} is {status}"));
            return gen.reload().await;
        }
        Deployed::Created(result) => result,
    };
    let Some(why) = deploy::retry_reason(&result) else {
        deploy::ensure_complete(&name, &result, &progress)?;
        progress.finish();
        out.ok(&format!("stack {name} is {}", result.status));
        return gen.reload().await;
    };
    progress.finish();
    out.warn(&why);
    if !(a.yes || (out.stdin_tty && out.stderr_tty)) {
        bail!("{why}: run `lppg down --yes` and `lppg up` again, or pass --yes to let `lppg up` do it");
    }
    if !prompt::confirm(
        out,
        "Remove the failed stack and create it again (once)?",
        a.yes,
    )? {
        bail!("{why}: run `lppg down` and `lppg up` again when you are ready");
    }
    let progress = Progress::new(out, &format!("creating stack {name} again"));
    let (gen, result) = gen.create_again(b, &progress).await?;
    progress.finish();
    out.ok(&format!("stack {name} is {}", result.status));
    Ok(gen)
}

async fn password_source(
    gen: &Generator,
    a: &UpArgs,
    out: &Output,
) -> Result<(Option<PasswordRules>, PasswordSource)> {
    if a.no_password {
        return Ok((None, PasswordSource::None));
    }
    let rules = gen.password_rules().await?;
    let source = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        let pw = s.trim_end_matches(['\n', '\r']).to_string();
        rules.check(&pw).map_err(|m| {
            anyhow::anyhow!(
                "the password from standard input does not meet the account's password policy: {m}"
            )
        })?;
        PasswordSource::Given(pw)
    } else if a.password_prompt {
        let r = rules.clone();
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
    Ok((Some(rules), source))
}

fn console_url(gen: &Generator) -> String {
    gen.stack()
        .as_ref()
        .and_then(|s| s.output("ConsoleSignInUrl"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{}.signin.aws.amazon.com/console", gen.account()))
}

async fn set_password(
    gen: &Generator,
    a: &UpArgs,
    out: &Output,
    rules: Option<PasswordRules>,
    source: PasswordSource,
) -> Result<()> {
    let (Some(rules), false) = (rules, matches!(source, PasswordSource::None)) else {
        out.info("No console password set (--no-password).");
        return Ok(());
    };
    let (user, url) = (gen.user_name(), console_url(gen));
    let exists = gen.has_console_password(&user).await?;
    let given = matches!(source, PasswordSource::Given(_));
    let password = match source {
        PasswordSource::Given(p) => p,
        PasswordSource::Generate if exists && !a.reset_password => {
            out.info(&format!(
                "User {user} already has a console password; keeping it (--reset-password sets a new one)."
            ));
            return Ok(());
        }
        _ => crate::password::generate(&rules, &mut rand::thread_rng()),
    };
    gen.set_console_password(&user, &password, exists).await?;
    if given {
        // The person chose it: never echo it.
        out.ok(&format!(
            "console password set for {user} (the one you gave); sign in at {url}"
        ));
        return Ok(());
    }
    let block =
        format!("Console sign-in\n  URL:      {url}\n  User:     {user}\n  Password: {password}\n");
    if a.print_password {
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
        let p = settings(&args(&[
            "--data-events",
            "s3,DynamoDB",
            "--start-actions",
            "ec2:DescribeInstances,s3:ListAllMyBuckets",
        ]))
        .parameters("b", "k")
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
        assert_eq!(p["FastPath"], "true");
        let off = settings(&args(&["--no-fast-path"])).parameters("b", "k");
        assert_eq!(off.unwrap()["FastPath"], "false");
    }

    #[test]
    fn bad_flags_are_refused() {
        let check = |extra: &[&str]| settings(&args(extra)).validate();
        assert!(check(&[]).is_ok());
        assert!(check(&["--data-events", "rds"]).is_err());
        assert!(check(&["--start-actions", "DescribeInstances"]).is_err());
        assert!(check(&["--log-retention-days", "8"]).is_err());
        assert!(check(&["--user-name", "bad name"]).is_err());
        assert!(check(&["--principal", "role", "--role-name", &"r".repeat(64)]).is_err());
        assert!(check(&["--principal", "role", "--role-name", &"r".repeat(63)]).is_ok());
    }

    #[test]
    fn role_mode_flags_and_parameters() {
        let refused = |extra: &[&str], mode| {
            check_mode_flags(&args(extra), mode)
                .unwrap_err()
                .to_string()
        };
        let e = refused(&["--password-stdin", "--user-name", "u"], Principal::Role);
        assert!(
            e.starts_with("--user-name, --password-stdin cannot be used with --principal role"),
            "{e}"
        );
        assert!(refused(&["--print-password"], Principal::Role).contains("no console password"));
        let e = refused(
            &["--trust", "arn:aws:iam::123456789012:user/ci"],
            Principal::User,
        );
        assert!(
            e.contains("--trust cannot be used with --principal user"),
            "{e}"
        );
        assert!(check_mode_flags(&args(&["--no-password"]), Principal::Role).is_ok());
        let mut s = settings(&args(&["--principal", "role", "--role-name", "observed"]));
        s.trust.accounts = vec!["arn:aws:iam::123456789012:root".into()];
        s.trust.patterns = vec![
            "arn:aws:iam::123456789012:role/a".into(),
            "arn:aws:iam::123456789012:user/b".into(),
        ];
        let p = s.parameters("b", "k").unwrap();
        assert_eq!(p["Principal"], "role");
        assert_eq!(p["RoleName"], "observed");
        assert_eq!(p["TrustAccounts"], "arn:aws:iam::123456789012:root");
        assert_eq!(
            p["TrustPrincipalArns"],
            "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:user/b"
        );
        let p = settings(&args(&[])).parameters("b", "k").unwrap();
        assert_eq!(
            (p["Principal"].as_str(), p["TrustAccounts"].as_str()),
            ("user", "")
        );
    }
}
