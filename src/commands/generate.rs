//! `lppg generate`: a least-privilege policy from CloudTrail logs: local files (no AWS call), a trail bucket read in
//! place (s3://), or one Athena query.
//!
//! The scanning and the rules live in [`crate::cloudtrail`]; this file turns arguments into scan options, shows
//! progress, and prints the policy with the same writer as `export-policy`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};

use crate::aws::AwsArgs;
use crate::cloudtrail::athena::{self, QueryOptions};
use crate::cloudtrail::is_valid_action;
use crate::cloudtrail::layout::Selection;
use crate::cloudtrail::scan::{
    scan_remote, ActionTally, Counters, Mode, RemoteSource, ScanOptions, ScanSummary,
};
use crate::exit;
use crate::generator::cloudtrail;
use crate::policy::{self, ActionSet, Grouping};
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

    /// Output format: json (the policy document), cfn (CloudFormation) or terraform
    #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = parse_format)]
    pub format: policy::Format,

    /// Split the policy into documents of at most 6,144 characters (IAM's managed policy limit)
    #[arg(long)]
    pub split: bool,

    /// Print a table of the actions (access level, first seen, how each was derived) instead of the policy
    #[arg(long, conflicts_with = "diff")]
    pub explain: bool,

    /// Compare with a policy FILE instead of printing the policy (exit 1 when they differ)
    #[arg(long, value_name = "FILE")]
    pub diff: Option<PathBuf>,

    /// Resources of the statements: any (`"*"`), observed (exactly the resources each action was seen on, from the
    /// records' error messages, `resources` and request parameters) or scoped (ARNs from the action's resource
    /// types, generated ids and object keys as `*`). --explain says what was chosen and why
    #[arg(long, value_name = "MODE", default_value = "any", value_parser = parse_resources)]
    pub resources: policy::ResourceMode,

    /// With --explain: the table as JSON
    #[arg(long, requires = "explain")]
    pub json: bool,

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

fn parse_format(text: &str) -> Result<policy::Format, String> {
    text.parse()
}

fn parse_resources(text: &str) -> Result<policy::ResourceMode, String> {
    text.parse()
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
pub fn exec(g: &AwsArgs, args: &GenerateArgs, out: &Output) -> anyhow::Result<i32> {
    let options = args.scan_options(SystemTime::now())?;
    if args.paths.iter().filter(|p| *p == "-").count() > 1 {
        bail!("standard input (-) can be read only once");
    }
    let query = args.athena_query(&options)?;
    if let Some(q) = query.as_ref().filter(|_| args.print_sql) {
        print_result(out, &athena::sql(q, &cloudtrail::denied_codes()))?;
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
    if !summary.explicit_denies.is_empty() {
        let names: Vec<&str> = summary.explicit_denies.keys().map(String::as_str).collect();
        out.warn(&format!(
            "refused by an explicit deny, not granted: {}",
            names.join(", ")
        ));
    }
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
    if summary.actions.is_empty() {
        out.info("lppg: no action found: no policy printed");
        return Ok(exit::DIFFERENT);
    }

    if out.verbose {
        report_details(out, &options, &summary);
    }
    print_policy(out, args, &summary.actions)
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
        Some(cloudtrail::Session::connect(g)?)
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
    let session = cloudtrail::Session::connect(g)?;
    let progress = Progress::new(out, "lppg: starting the Athena query");
    let run = cloudtrail::athena_generate(
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

/// Prints the policy (or its explanation, or its diff with a baseline) for the tallied actions.
fn print_policy(
    out: &Output,
    args: &GenerateArgs,
    tallies: &BTreeMap<String, ActionTally>,
) -> anyhow::Result<i32> {
    let names = tallies.keys().filter(|n| is_valid_action(n));
    let set = ActionSet::parse(names).map_err(|e| anyhow::anyhow!("invalid action: {}", e.0))?;
    if let Some(path) = &args.diff {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let baseline =
            policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let diff = policy::diff(&set, &baseline);
        print_result(out, &diff.to_text())?;
        return Ok(if diff.same { exit::OK } else { exit::DIFFERENT });
    }
    let evidence: policy::EvidenceMap = tallies
        .values()
        .filter(|t| !t.evidence.seen.is_empty())
        .map(|t| (t.action.clone(), t.evidence.clone()))
        .collect();
    let choices = policy::resource_data().choose_all(&set, &evidence, args.resources);
    if args.explain {
        return explain(out, args, &set, tallies, &choices);
    }
    let scope = policy::scope_of(&choices);
    let documents = if args.split {
        policy::split_scoped(&set, Grouping::ByService, &scope, policy::MAX_POLICY_SIZE)
            .map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        vec![policy::render_scoped(&set, Grouping::ByService, &scope)]
    };
    let options = policy::FormatOptions::default();
    print_result(
        out,
        &policy::render_documents(args.format, &documents, &options),
    )?;
    crate::ui::review(out, &set);
    Ok(exit::OK)
}

/// `--explain`: one row per action (first seen, derivation, resources, risks), as a table or `--json`.
fn explain(
    out: &Output,
    args: &GenerateArgs,
    set: &ActionSet,
    tallies: &BTreeMap<String, ActionTally>,
    choices: &BTreeMap<policy::Action, policy::ResourceChoice>,
) -> anyhow::Result<i32> {
    let catalogue = policy::catalogue()?;
    let meta: BTreeMap<policy::Action, policy::ActionMeta> = tallies
        .iter()
        .filter_map(|(name, t)| {
            let action = policy::Action::parse(name).ok()?;
            let first = t.first_seen.as_deref().and_then(crate::time::parse_rfc3339);
            let derived_from = Some(if t.from_message > 0 {
                policy::Derivation::Message
            } else {
                policy::Derivation::Event
            });
            let resources = choices.get(&action).cloned();
            Some((
                action,
                policy::ActionMeta {
                    first_denied: first,
                    step: None,
                    derived_from,
                    resources,
                },
            ))
        })
        .collect();
    let rows = policy::explain_rows(set, &meta, catalogue);
    let text = if args.json {
        policy::to_pretty_json(&policy::explain_json(&rows))
    } else {
        policy::explain_table(&rows)
    };
    print_result(out, &text)?;
    crate::ui::review(out, set);
    Ok(exit::OK)
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
