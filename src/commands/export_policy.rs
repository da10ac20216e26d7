//! `lppg export-policy`: the generator's policies merged into one reviewed document, its diff against a baseline,
//! and the reviewer's table.
//!
//! Two entry points: [`exec`] reads the stack (generator policies, the function's log for steps, first-denied
//! times and errors); [`exec_offline`] (`--from FILE`) reads a saved export and makes no AWS call. Both end in
//! [`produce`], which holds the flag logic; the policy work itself is in [`crate::policy`].
use crate::cli::GlobalArgs;
use crate::files::write_new_file;
use crate::generator::log::LogFacts;
use crate::generator::Generator;
use crate::policy::{
    self, Action, ActionMeta, ActionSet, Format, FormatOptions, GeneratedActions, Grouping, Policy,
    PolicyError, ResourceChoice, ResourceMode, Scope, Step, MAX_POLICY_SIZE, PLACEHOLDER_SID,
    START_SID,
};
use crate::ui::{print_result, prompt, Output};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write the result to FILE instead of standard output (refuses to overwrite without --force).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the --output file.
    #[arg(long)]
    pub force: bool,
    /// Leave out the actions the user started with (unless they were also denied and granted later).
    #[arg(long)]
    pub without_start: bool,
    /// Work on a policy saved earlier (by `lppg down` or `-o`, one document or a --split list) instead of the
    /// stack: no AWS calls.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// One statement per step recorded with `lppg mark`, each action in the step during which it was first
    /// denied (by the call's event time); actions outside every step go to `Unassigned`.
    #[arg(long)]
    pub by_step: bool,
    /// Output format: json (the policy document), cfn (an AWS::IAM::ManagedPolicy resource in YAML) or
    /// terraform (an aws_iam_policy resource).
    #[arg(long, value_name = "FORMAT", default_value_t = Format::Json)]
    pub format: Format,
    /// Name of the policy in the cfn and terraform resources.
    #[arg(long, value_name = "NAME", default_value = "lppg-generated-policy")]
    pub name: String,
    /// When the policy is over IAM's 6,144-character limit, write several documents that each fit.
    #[arg(long)]
    pub split: bool,
    /// Compare with a policy file: `+` added, `-` removed, `~` covered only by a wildcard. Exit 0 same,
    /// 1 different, 2 trouble.
    #[arg(long, value_name = "BASELINE", conflicts_with_all = ["split", "format", "by_step"])]
    pub diff: Option<PathBuf>,
    /// A table of every action for the reviewer: service, access level, first denied, step, how it was
    /// derived, and a mark on likely console background calls.
    #[arg(long, conflicts_with_all = ["diff", "split", "format"])]
    pub explain: bool,
    /// Machine-readable JSON for --diff and --explain.
    #[arg(long)]
    pub json: bool,
    /// Resources of the statements: any (`"*"`, as always), observed (exactly the resources each action was seen
    /// on) or scoped (ARNs from the action's resource types, generated ids and object keys as `*`). Actions that
    /// accept only `*` or were seen on nothing stay on `*`; --explain says why.
    #[arg(long, value_name = "MODE", default_value_t = ResourceMode::Any)]
    pub resources: ResourceMode,
    /// Untick actions in a list (needs a terminal) and write the pruned policy.
    #[arg(long, conflicts_with_all = ["diff", "explain", "json"])]
    pub interactive: bool,
}

fn emit(a: &ExportArgs, out: &Output, text: &str, what: &str) -> Result<()> {
    match &a.output {
        Some(path) => {
            write_new_file(path, text, a.force)?;
            out.ok(&format!("{what} written to {}", path.display()));
        }
        None => print_result(out, text)?,
    }
    Ok(())
}

/// Everything [`produce`] works from, online or offline.
struct Input {
    generated: GeneratedActions,
    /// Where the actions came from, for messages.
    source: String,
    /// The steps for `--by-step`, in order.
    steps: Vec<Step>,
    /// First-denied times and derivations, for `--explain`.
    facts: LogFacts,
}

pub async fn exec(g: &GlobalArgs, a: &ExportArgs, out: &Output) -> Result<i32> {
    check_args(a)?;
    let gen = Generator::connect(&g.aws, &g.stack_name, None).await?;
    if gen.stack.is_none() {
        bail!(
            "{}: run `lppg up` to create one (or pass --stack-name / --region for the one you created), or pass \
             --from FILE to work on a policy saved earlier by `lppg down` or `lppg export-policy -o`",
            gen.missing()
        );
    }
    let generated = gen.generated().await?;
    let group = gen.function_log_group();
    let facts = match gen.log_facts().await? {
        Some(facts) => facts,
        None => {
            if a.by_step || a.explain || a.interactive {
                out.warn(&format!(
                    "the function's log group {group} does not exist: no steps or first-denied times to show"
                ));
            }
            LogFacts::default()
        }
    };
    warn_about_log(out, &group, &facts, &generated.granted(), a);
    match gen.delivered_gap(&generated.granted()).await {
        Ok(Some(gap)) => warn_about_gap(out, &gap, a.explain),
        Ok(None) => {}
        // Only a report: the export does not depend on it.
        Err(e) => out.warn(&format!(
            "could not compare the trail's log group with the policies (delivered, not yet granted): {e:#}"
        )),
    }
    let steps = policy::steps_from_markers(&facts.markers, &facts.first_denied());
    let input = Input {
        generated: generated.actions,
        source: format!("stack {}", gen.names.stack),
        steps,
        facts,
    };
    produce(a, out, input)
}

/// Delivered, not yet granted: denied calls in the trail's log group the function has not granted (yet).
fn warn_about_gap(out: &Output, gap: &crate::reconcile::Gap, explain: bool) {
    if gap.missing.is_empty() {
        return;
    }
    out.warn(&format!(
        "delivered, not yet granted: {} actions from {} denied calls CloudTrail delivered that the function has not \
         granted (yet); they are not in this export, and `lppg down` adds them to the policy it saves{}",
        gap.missing.len(),
        gap.undecided_calls,
        if explain { ":" } else { " (--explain lists them)" }
    ));
    if explain {
        for (action, time) in &gap.missing {
            out.warn(&format!("  {action} (denied {time})"));
        }
    }
}

/// Unreadable lines, and errors about actions that were not granted after all.
fn warn_about_log(
    out: &Output,
    group: &str,
    facts: &LogFacts,
    granted: &ActionSet,
    a: &ExportArgs,
) {
    if facts.unreadable > 0 {
        out.warn(&format!(
            "{} line(s) of {group} looked like lppg's but could not be read; they were left out",
            facts.unreadable
        ));
    }
    let errors: Vec<&str> = crate::generator::log::unresolved(&facts.errors, granted).collect();
    if !errors.is_empty() {
        let shown: Vec<&str> = errors.iter().take(5).copied().collect();
        let more = errors.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        out.warn(&format!(
            "the function logged {} error decision(s): the policy may be incomplete ({}{more}); see {group}",
            errors.len(),
            shown.join("; "),
        ));
    }
    if a.by_step && facts.markers.is_empty() {
        out.warn(
            "no steps were marked with `lppg mark`: every action goes to the Unassigned statement",
        );
    }
}

/// `--from FILE`: the same output from a saved policy, with no AWS calls.
pub fn exec_offline(a: &ExportArgs, out: &Output) -> Result<i32> {
    check_args(a)?;
    let path = a.from.as_ref().expect("caller checked --from");
    let policies = read_policies(path)?;
    // With --by-step, the saved statements are the steps (their Sids the labels): a --by-step export keeps
    // its steps. Without it, a saved file knows no steps.
    let steps = policies
        .iter()
        .filter(|_| a.by_step)
        .flat_map(|p| &p.statements)
        .filter_map(|s| {
            let sid = s.sid.clone().unwrap_or_default();
            if [START_SID, PLACEHOLDER_SID, "Unassigned"].contains(&sid.as_str()) {
                return None;
            }
            let policy::ActionClause::Action(list) = &s.actions else {
                return None;
            };
            let actions = list.iter().filter_map(|t| Action::parse(t).ok()).collect();
            Some(Step {
                label: sid,
                actions,
            })
        })
        .collect();
    let generated = GeneratedActions::from_documents(&policies);
    let input = Input {
        generated,
        source: path.display().to_string(),
        steps,
        facts: LogFacts::default(),
    };
    produce(a, out, input)
}

/// Flag combinations clap cannot express.
fn check_args(a: &ExportArgs) -> Result<()> {
    if a.json && a.diff.is_none() && !a.explain {
        bail!("--json goes with --diff or --explain (the policy itself is JSON already)");
    }
    Ok(())
}

/// A policy file: one document or a JSON list of documents. Errors name the file, and the line and column
/// or the field.
fn read_policies(path: &Path) -> Result<Vec<Policy>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Policy::parse_documents(&text).map_err(|e| policy_file_error(path, &e))
}

fn policy_file_error(path: &Path, e: &PolicyError) -> anyhow::Error {
    match e {
        PolicyError::Json {
            line,
            column,
            message,
        } => anyhow::anyhow!("{}:{line}:{column}: not JSON: {message}", path.display()),
        other => anyhow::anyhow!("{}: {other}", path.display()),
    }
}

fn produce(a: &ExportArgs, out: &Output, input: Input) -> Result<i32> {
    for s in &input.generated.skipped {
        out.warn(&format!("{}: not exported: {s}", input.source));
    }
    let set = input
        .generated
        .merged(!a.without_start)
        .canonicalize(policy::catalogue()?);

    if let Some(baseline) = &a.diff {
        return diff(a, out, &set, baseline);
    }
    if set.is_empty() {
        bail!(
            "the policy of {} is empty (no actions granted yet{}): nothing to export",
            input.source,
            if a.without_start {
                ", and --without-start given"
            } else {
                ""
            }
        );
    }

    let choices = policy::resource_data().choose_all(&set, &input.facts.evidence, a.resources);
    let meta = action_meta(&set, &input.steps, &input.facts, &choices);
    if a.explain {
        let rows = policy::explain_rows(&set, &meta, policy::catalogue()?);
        let text = if a.json {
            policy::to_pretty_json(&policy::explain_json(&rows))
        } else {
            policy::explain_table(&rows)
        };
        emit(a, out, &text, "the table")?;
        crate::ui::review(out, &set);
        return Ok(crate::exit::OK);
    }

    let set = if a.interactive {
        let rows = policy::explain_rows(&set, &meta, policy::catalogue()?);
        prune_interactively(out, &set, &rows)?
    } else {
        set
    };

    let grouping = if a.by_step {
        Grouping::ByStep(&input.steps)
    } else {
        Grouping::ByService
    };
    let scope = policy::scope_of(&choices);
    let documents = documents(a, out, &set, grouping, &scope)?;
    let options = FormatOptions {
        name: a.name.clone(),
        ..FormatOptions::default()
    };
    let text = policy::render_documents(a.format, &documents, &options);
    emit(a, out, &text, "policy")?;
    crate::ui::review(out, &set);
    Ok(crate::exit::OK)
}

/// The policy as one document, or several with `--split` when it is over IAM's limit; each one validated.
fn documents(
    a: &ExportArgs,
    out: &Output,
    set: &ActionSet,
    grouping: Grouping<'_>,
    scope: &Scope,
) -> Result<Vec<serde_json::Value>> {
    let whole = policy::render_scoped(set, grouping, scope);
    let size = policy::policy_size(&whole);
    let documents = if size <= MAX_POLICY_SIZE {
        vec![whole]
    } else if a.split {
        let documents = policy::split_scoped(set, grouping, scope, MAX_POLICY_SIZE)?;
        out.info(&format!(
            "the policy has {} characters: split into {} documents of at most {} characters each",
            thousands(size),
            documents.len(),
            thousands(MAX_POLICY_SIZE)
        ));
        documents
    } else {
        bail!(
            "the policy has {} characters (whitespace not counted), more than IAM's limit of {} for a managed \
             policy: pass --split to write it as several documents that each fit, or prune it (--explain, \
             --interactive)",
            thousands(size),
            thousands(MAX_POLICY_SIZE)
        );
    };
    for (i, document) in documents.iter().enumerate() {
        if let Err(problems) = policy::validate_policy(document) {
            bail!(
                "the generated document {} is not a valid IAM policy: {}",
                i + 1,
                problems.join("; ")
            );
        }
    }
    Ok(documents)
}

/// What is known about each action of the set: first denied, step, derivation, resources.
fn action_meta(
    set: &ActionSet,
    steps: &[Step],
    facts: &LogFacts,
    choices: &BTreeMap<Action, ResourceChoice>,
) -> BTreeMap<Action, ActionMeta> {
    set.iter()
        .map(|action| {
            let first = facts.first.get(action);
            let step = steps
                .iter()
                .find(|s| s.actions.contains(action))
                .map(|s| s.label.clone());
            let meta = ActionMeta {
                first_denied: first.map(|(time, _)| *time),
                step,
                derived_from: first.and_then(|(_, d)| *d),
                resources: choices.get(action).cloned(),
            };
            (action.clone(), meta)
        })
        .collect()
}

/// `--diff BASELINE`: prints the differences; exit 0 same, 1 different.
fn diff(a: &ExportArgs, out: &Output, set: &ActionSet, baseline: &Path) -> Result<i32> {
    let policies = read_policies(baseline)?;
    let merged = Policy {
        version: policies.first().and_then(|p| p.version.clone()),
        statements: policies.into_iter().flat_map(|p| p.statements).collect(),
    };
    let result = policy::diff(set, &merged);
    let text = if a.json {
        policy::to_pretty_json(&result.to_json())
    } else {
        result.to_text()
    };
    if a.json || !text.is_empty() {
        emit(a, out, &text, "the differences")?;
    }
    if result.same {
        out.ok(&format!(
            "the generated policy grants the same actions as {}",
            baseline.display()
        ));
        Ok(crate::exit::OK)
    } else {
        if !a.json {
            out.info(&format!(
                "{} added, {} removed, {} covered only by a wildcard in {}",
                result.added.len(),
                result.removed.len(),
                result.covered_by_wildcard.len(),
                baseline.display()
            ));
        }
        Ok(crate::exit::DIFFERENT)
    }
}

/// `--interactive`: a list of every action, all ticked; the reviewer unticks what to leave out.
fn prune_interactively(
    out: &Output,
    set: &ActionSet,
    rows: &[policy::ExplainRow],
) -> Result<ActionSet> {
    let labels = choice_labels(rows);
    let prompt_text = "Untick the actions to leave out (space toggles, enter accepts)";
    let chosen = prompt::untick(out, prompt_text, &labels)?;
    let actions: Vec<&Action> = set.iter().collect();
    let kept = keep(&actions, &chosen);
    if kept.is_empty() {
        bail!("every action was unticked: nothing to export");
    }
    out.info(&format!("{} of {} actions kept", kept.len(), actions.len()));
    Ok(kept)
}

/// The actions at the chosen positions.
fn keep(actions: &[&Action], chosen: &[usize]) -> ActionSet {
    chosen
        .iter()
        .filter_map(|&i| actions.get(i).map(|a| (*a).clone()))
        .collect()
}

/// One line per row for the selection list: action, access level, step, background mark.
fn choice_labels(rows: &[policy::ExplainRow]) -> Vec<String> {
    let width = rows.iter().map(|r| r.action.len()).max().unwrap_or(0);
    rows.iter()
        .map(|r| {
            let mut label = format!(
                "{:width$}  {}",
                r.action,
                r.access_level.map(|l| l.name()).unwrap_or("-")
            );
            if let Some(step) = &r.step {
                label.push_str(&format!("  step: {step}"));
            }
            if r.background {
                label.push_str("  (console background call?)");
            }
            label
        })
        .collect()
}

/// `6144` → `6,144`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_chosen_actions() {
        let set = ActionSet::parse(["s3:A", "s3:B", "ec2:C"]).unwrap();
        let actions: Vec<&Action> = set.iter().collect();
        let kept = keep(&actions, &[0, 2, 7]);
        let names: Vec<String> = kept.iter().map(Action::to_string).collect();
        assert_eq!(names, ["ec2:C", "s3:B"]);
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(6144), "6,144");
        assert_eq!(thousands(123), "123");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
