//! `lppg generate`: a least-privilege policy from CloudTrail logs: local files (no AWS call but Access Analyzer's
//! check of the result, when a region is configured), a trail bucket read in place (s3://), or one Athena query.
//!
//! The scanning and the rules live in [`crate::cloudtrail`]; this file turns arguments into scan options, shows
//! progress, and writes the policy with the same [`Writer`] and flags as `export-policy`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use anyhow::bail;

use super::policy_output::{self, Checks, PolicyOutputArgs};
use crate::aws::{AwsArgs, Clients};
use crate::cloudtrail::athena::{self, QueryOptions};
use crate::cloudtrail::is_valid_action;
use crate::cloudtrail::layout::Selection;
use crate::cloudtrail::scan::{
    scan_remote, ActionTally, Counters, Mode, RemoteSource, ScanOptions, ScanSummary,
};
use crate::exit;
mod sources;
use crate::policy::{self, ActionSet, Writer};
use crate::ui::progress::Progress;
use crate::ui::{print_result, Output};

/// Arguments of `lppg generate`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Exit status: 0 policy printed, 1 no action found, 2 error (including a --principal that \
                        matches no record, or no input that could be read)."
)]
pub struct GenerateArgs {
    /// CloudTrail log files or directories of them (.json.gz, .json, JSON lines, CloudWatch Logs exports), or a
    /// trail bucket's logs as s3://BUCKET/PREFIX (read in place); `-` reads standard input
    #[arg(
        value_name = "PATH",
        required_unless_present = "athena",
        conflicts_with = "athena"
    )]
    pub paths: Vec<String>,

    /// Only calls made by this principal (IAM user or role ARN; a role matches its sessions). Repeatable. Default:
    /// every principal
    #[arg(long = "principal", value_name = "ARN")]
    pub principals: Vec<String>,

    /// Collect the refused calls (what the generator function would grant) instead of the successful ones
    #[arg(long)]
    pub denied: bool,

    /// Only events at or after T: RFC 3339 (2024-03-01T12:00:00Z), a date (2024-03-01) or an age (7d, 12h)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Only events before T (same forms as --since)
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// Exit 0 even when inputs could not be read and were skipped (the default exit is 2, so a script that writes
    /// the policy to a file cannot miss the hole)
    #[arg(long)]
    pub allow_partial: bool,

    #[command(flatten)]
    pub policy: PolicyOutputArgs,

    /// s3:// and --athena: only the logs of this account (repeatable). Default: every account
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,

    /// s3:// and --athena: only the logs of this region (repeatable; the global --region chooses the AWS endpoint).
    /// Default: every region
    #[arg(long = "trail-region", value_name = "REGION")]
    pub trail_regions: Vec<String>,

    /// Let Athena scan the trail: one query on this table (DATABASE.TABLE, made with the README's DDL)
    #[arg(long, value_name = "DATABASE.TABLE")]
    pub athena: Option<String>,

    /// --athena: the workgroup to run the query in (default: primary)
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub workgroup: Option<String>,

    /// --athena: where Athena writes the results (s3://...; default: the workgroup's setting)
    #[arg(long, value_name = "S3_URL", requires = "athena")]
    pub output_location: Option<String>,

    /// --athena: print the query and exit, without calling AWS
    #[arg(long, requires = "athena")]
    pub print_sql: bool,

    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N", default_value_t = 0, hide_short_help = true)]
    pub threads: usize,
}

/// Parses a `--since`/`--until` value (`crate::time`'s one grammar) into CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` form.
pub fn parse_time(flag: &str, text: &str, now: SystemTime) -> anyhow::Result<String> {
    crate::time::parse_since_flag(flag, text, now).map(crate::time::format_secs)
}

impl GenerateArgs {
    /// The scan options these arguments ask for.
    pub fn scan_options(&self, now: SystemTime) -> anyhow::Result<ScanOptions> {
        let since = self
            .since
            .as_deref()
            .map(|t| parse_time("--since", t, now))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| parse_time("--until", t, now))
            .transpose()?;
        if let (Some(s), Some(u)) = (&since, &until) {
            if s >= u {
                bail!("--since ({s}) must be before --until ({u})");
            }
        }
        Ok(ScanOptions {
            mode: if self.denied {
                Mode::Denied
            } else {
                Mode::Used
            },
            principals: self.principals.clone(),
            since,
            until,
            threads: self.threads,
            catalogue: policy::catalogue()?,
        })
    }
}

impl GenerateArgs {
    /// The accounts, regions and time window to read.
    fn selection(&self, options: &ScanOptions) -> Selection {
        Selection {
            accounts: self.accounts.clone(),
            regions: self.trail_regions.clone(),
            since: options.since.clone(),
            until: options.until.clone(),
        }
    }

    /// `--athena`: the query to run. Checks that `--account`/`--trail-region` have something to select.
    fn athena_query(&self, options: &ScanOptions) -> anyhow::Result<Option<QueryOptions>> {
        let remote = self.athena.is_some() || self.paths.iter().any(|p| p.starts_with("s3://"));
        if !remote && (!self.accounts.is_empty() || !self.trail_regions.is_empty()) {
            bail!("--account and --trail-region select folders of s3:// inputs or partitions for --athena: give one");
        }
        let Some(table) = &self.athena else {
            return Ok(None);
        };
        Ok(Some(QueryOptions {
            table: athena::table_name(table).map_err(anyhow::Error::msg)?,
            mode: options.mode,
            principals: options.principals.clone(),
            selection: self.selection(options),
        }))
    }
}

/// Runs `lppg generate` and returns the exit code. Messages go through `out` (`--no-color`, `-v`).
pub fn exec(
    g: &AwsArgs,
    args: &GenerateArgs,
    out: &Output,
) -> anyhow::Result<crate::exit::ExitStatus> {
    args.policy.check()?;
    let options = args.scan_options(SystemTime::now())?;
    if args.paths.iter().filter(|p| *p == "-").count() > 1 {
        bail!("standard input (-) can be read only once");
    }
    let query = args.athena_query(&options)?;
    if let Some(q) = query.as_ref().filter(|_| args.print_sql) {
        print_result(out, &athena::sql(q, &sources::denied_codes()))?;
        return Ok(exit::OK);
    }
    if options.principals.is_empty() {
        out.info("lppg: no --principal given: using the calls of every principal in the logs");
    }

    let started = Instant::now();
    let summary = match &query {
        Some(q) => run_athena(g, args, out, q, &options)?,
        None => run_scan(g, args, out, &options, started)?,
    };
    let elapsed = started.elapsed();

    report_problems(out, &summary);
    if !summary.any_read() {
        bail!("no input could be read");
    }
    if !options.principals.is_empty() && summary.principals_matched() == 0 {
        let busiest = summary.busiest_principals(10);
        let mut text = format!(
            "no record of {} in {} records",
            options.principals.join(", "),
            summary.records
        );
        if busiest.is_empty() {
            text.push_str(" (no record names a principal)");
        } else {
            text.push_str("; the busiest principals found:");
            for (p, n) in busiest {
                text.push_str(&format!("\n  {n:>10}  {p}"));
            }
        }
        bail!(text);
    }

    out.info(&format!(
        "lppg: {} files, {} records ({:.1} MB) in {:.2}s: {} records selected, {} actions{}",
        summary.files,
        summary.records,
        summary.bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        summary.selected,
        summary.actions.len(),
        if options.mode == Mode::Denied {
            " to grant"
        } else {
            " used"
        },
    ));
    warn_not_granted(out, &summary);
    warn_unverified(out, &summary);
    let refused = summary.refused_rows();
    let nothing_to_explain = !args.policy.explain || refused.is_empty();
    if summary.actions.is_empty() && nothing_to_explain {
        out.info("lppg: no action found: no policy printed");
        return Ok(exit::DIFFERENT);
    }

    if out.verbose {
        report_details(out, &options, &summary);
    }
    let code = print_policy(g, out, args, &summary.actions, &refused)?;
    Ok(partial_exit(out, args, summary.problems.len(), code))
}

/// Actions the catalogue does not know, on stderr.
fn warn_unverified(out: &Output, summary: &ScanSummary) {
    let unverified: Vec<&str> = summary
        .actions
        .values()
        .filter(|t| !t.action.is_verified())
        .map(|t| t.action.as_str())
        .collect();
    if !unverified.is_empty() {
        out.warn(&format!(
            "not in the IAM action catalogue (check them): {}",
            unverified.join(", ")
        ));
    }
}

/// Skipped inputs make the exit 2 (the policy printed may lack actions), unless `--allow-partial`.
fn partial_exit(
    out: &Output,
    args: &GenerateArgs,
    skipped: usize,
    code: crate::exit::ExitStatus,
) -> crate::exit::ExitStatus {
    if skipped == 0 {
        return code;
    }
    if args.allow_partial {
        out.warn(&format!(
            "--allow-partial: the policy above leaves out what the {skipped} skipped input(s) hold"
        ));
        return code;
    }
    out.warn(&format!(
        "{skipped} input(s) were skipped, so the policy above may lack actions: exit 2 (pass --allow-partial to \
         accept a partial policy)"
    ));
    exit::ERROR
}

/// `--denied`: the actions refused by an explicit deny, and those another kind of policy blocked (each with that
/// policy), on stderr: none of them is granted.
fn warn_not_granted(out: &Output, summary: &ScanSummary) {
    if !summary.explicit_denies.is_empty() {
        let names: Vec<&str> = summary.explicit_denies.keys().map(String::as_str).collect();
        out.warn(&format!(
            "refused by an explicit deny, not granted: {}",
            names.join(", ")
        ));
    }
    let blocked: Vec<String> = summary
        .refused
        .keys()
        .filter(|(_, refusal)| refusal.blocks())
        .map(|(action, refusal)| format!("{action} ({refusal})"))
        .collect();
    if !blocked.is_empty() {
        out.warn(&format!(
            "blocked by another policy, not granted (an identity policy cannot fix them; --explain says what \
             would): {}",
            blocked.join(", ")
        ));
    }
}

/// Scans the paths (local and s3://) with a progress line.
fn run_scan(
    g: &AwsArgs,
    args: &GenerateArgs,
    out: &Output,
    options: &ScanOptions,
    started: Instant,
) -> anyhow::Result<ScanSummary> {
    let session = if args.paths.iter().any(|p| p.starts_with("s3://")) {
        Some(sources::Session::connect(g)?)
    } else {
        None
    };
    let source = session
        .as_ref()
        .map(|s| s.s3_source(args.selection(options)));
    let remote = source.as_ref().map(|s| s as &dyn RemoteSource);
    let counters = Counters::default();
    let unit = if remote.is_some() { "objects" } else { "files" };
    let summary = with_progress(out, &counters, started, unit, || {
        scan_remote(&args.paths, remote, options, &counters)
    });
    if let Some(s) = &source {
        if out.verbose {
            out.info(&format!(
                "lppg: {} S3 folders listed",
                s.listings.load(std::sync::atomic::Ordering::Relaxed)
            ));
        }
    }
    Ok(summary)
}

/// `--athena`: runs the query with a spinner and maps its rows.
fn run_athena(
    g: &AwsArgs,
    args: &GenerateArgs,
    out: &Output,
    query: &QueryOptions,
    options: &ScanOptions,
) -> anyhow::Result<ScanSummary> {
    let session = sources::Session::connect(g)?;
    let progress = Progress::new(out, "lppg: starting the Athena query");
    let run = sources::athena_generate(
        &session,
        query,
        options,
        args.workgroup.as_deref(),
        args.output_location.as_deref(),
        &progress,
    )?;
    progress.finish();
    out.info(&format!(
        "lppg: Athena scanned {:.1} MB (about ${:.4} at $5 per TB); {} result rows",
        run.scanned_bytes as f64 / 1e6,
        run.scanned_bytes as f64 / 1e12 * 5.0,
        run.rows
    ));
    let mut summary = run.summary;
    summary.files = 1;
    Ok(summary)
}

/// Writes the policy (or its explanation, or its diff with a baseline) for the tallied actions.
fn print_policy(
    g: &AwsArgs,
    out: &Output,
    args: &GenerateArgs,
    tallies: &BTreeMap<String, ActionTally>,
    refused: &[policy::RefusedRow],
) -> anyhow::Result<crate::exit::ExitStatus> {
    let names = tallies.keys().filter(|n| is_valid_action(n));
    let set = ActionSet::parse(names).map_err(|e| anyhow::anyhow!("invalid action: {}", e.0))?;
    let evidence: policy::EvidenceMap = tallies
        .values()
        .filter(|t| !t.evidence.seen.is_empty())
        .map(|t| (t.action.clone(), t.evidence.clone()))
        .collect();
    let writer = Writer::new(set)
        .evidence(&evidence, args.policy.resources)
        .metadata(action_meta(tallies))
        .refused(refused.to_vec());
    let p = &args.policy;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clients = if p.no_validate && !p.semantic && !p.check_not_granted {
        None
    } else {
        // Local files need no AWS; the checks run when a region and credentials are configured.
        rt.block_on(Clients::connect(g)).ok()
    };
    let checks = match &clients {
        Some(c) => Checks::Aws(&c.analyzer),
        None => Checks::Offline("no AWS region configured (--region, AWS_REGION or a profile)"),
    };
    rt.block_on(policy_output::write(p, out, &writer, checks))
}

/// What the records say of each action: first seen, derivation.
fn action_meta(
    tallies: &BTreeMap<String, ActionTally>,
) -> BTreeMap<policy::Action, policy::ActionMeta> {
    tallies
        .iter()
        .filter_map(|(name, t)| {
            let action = policy::Action::parse(name).ok()?;
            let first = t.first_seen.as_deref().and_then(crate::time::parse_rfc3339);
            let derived_from = Some(if t.from_message > 0 {
                policy::Derivation::Message
            } else {
                policy::Derivation::Event
            });
            let meta = policy::ActionMeta {
                first_denied: first,
                step: None,
                derived_from,
                resources: None,
            };
            Some((action, meta))
        })
        .collect()
}

/// Runs `work` with a progress line on stderr when stderr is a terminal.
fn with_progress<T: Send>(
    out: &Output,
    counters: &Counters,
    started: Instant,
    unit: &str,
    work: impl FnOnce() -> T + Send,
) -> T {
    if !out.stderr_tty {
        return work();
    }
    let bar = crate::ui::progress::Progress::status_line(true);
    std::thread::scope(|scope| {
        let handle = scope.spawn(work);
        while !handle.is_finished() {
            let (files, records, bytes) = counters.snapshot();
            let secs = started.elapsed().as_secs_f64().max(0.001);
            bar.set_message(&format!(
                "{files} {unit}, {records} records, {:.0} MB read ({:.0} records/s, {:.0} MB/s)",
                bytes as f64 / 1e6,
                records as f64 / secs,
                bytes as f64 / 1e6 / secs
            ));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish();
        handle.join().expect("scan thread")
    })
}

/// `-v`: the window and what the selected records were besides the actions.
fn report_details(out: &Output, options: &ScanOptions, summary: &ScanSummary) {
    let bound = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".to_owned());
    out.info(&format!(
        "lppg: window {} .. {}; {} records of the selected principals, {} in the window, {} needing no permission",
        bound(&options.since),
        bound(&options.until),
        summary.matched,
        summary.selected,
        summary.not_permission,
    ));
}

fn report_problems(out: &Output, summary: &ScanSummary) {
    if summary.problems.is_empty() {
        return;
    }
    out.warn(&format!(
        "{} input(s) could not be read completely and were skipped:",
        summary.problems.len()
    ));
    for p in &summary.problems {
        out.info(&format!("  {}: {}", p.input, p.message));
    }
}
