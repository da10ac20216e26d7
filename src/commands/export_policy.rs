//! `lppg export-policy`: the generator's policies merged into one reviewed document, its diff against a baseline,
//! and the reviewer's table.
//!
//! Two entry points: [`exec`] reads the stack (generator policies, the function's log for steps, first-denied
//! times and errors); [`exec_offline`] (`--from FILE`) reads a saved export and makes no AWS call. Both end in
//! [`produce`], which builds the one [`Writer`] and hands it to [`policy_output::write`].
use super::policy_output::{self, read_policies, Checks, PolicyOutputArgs};
use crate::cli::GlobalArgs;
use crate::policy::{
    self, Action, ActionMeta, ActionSet, GeneratedActions, Step, Writer, PLACEHOLDER_SID, START_SID,
};
use crate::stack::log::LogFacts;
use crate::stack::Generator;
use crate::ui::{prompt, Output};
use anyhow::{bail, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Leave out the actions the user started with (unless they were also denied and granted later).
    #[arg(long)]
    pub without_start: bool,
    /// Work on a policy saved earlier (by `lppg down` or `-o`, one document or a --split list) instead of the
    /// stack: no AWS calls.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// One statement per step recorded with `lppg mark`, each action in the step during which it was first
    /// denied (by the call's event time); actions outside every step go to `Unassigned`.
    #[arg(long, conflicts_with = "diff")]
    pub by_step: bool,
    #[command(flatten)]
    pub policy: PolicyOutputArgs,
    /// Untick actions in a list (needs a terminal) and write the pruned policy.
    #[arg(long, conflicts_with_all = ["diff", "explain", "json"])]
    pub interactive: bool,
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
    /// Resources read back from a saved policy (`--from`); empty for the stack.
    scope: policy::Scope,
}

pub async fn exec(g: &GlobalArgs, a: &ExportArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    a.policy.check()?;
    let gen = Generator::connect(&g.aws, &g.stack_name, Default::default()).await?;
    if gen.stack().is_none() {
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
            if a.by_step || a.policy.explain || a.interactive {
                out.warn(&format!(
                    "the function's log group {group} does not exist: no steps or first-denied times to show"
                ));
            }
            LogFacts::default()
        }
    };
    warn_about_log(out, &group, &facts, &generated.granted(), a);
    match gen.delivered_gap(&generated.granted()).await {
        Ok(Some(gap)) => warn_about_gap(out, &gap, a.policy.explain),
        Ok(None) => {}
        // Only a report: the export does not depend on it.
        Err(e) => out.warn(&format!(
            "could not compare the trail's log group with the policies (delivered, not yet granted): {e:#}"
        )),
    }
    let steps = policy::steps_from_markers(&facts.markers, &facts.first_denied());
    let input = Input {
        generated: generated.actions,
        source: format!("stack {}", gen.stack_name()),
        steps,
        facts,
        scope: policy::Scope::new(),
    };
    produce(a, out, input, Checks::Aws(gen.analyzer())).await
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
    let errors: Vec<&str> = crate::stack::log::unresolved(&facts.errors, granted).collect();
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
pub fn exec_offline(a: &ExportArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    a.policy.check()?;
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
    let (generated, scope) = GeneratedActions::read_back(&policies);
    let input = Input {
        generated,
        scope,
        source: path.display().to_string(),
        steps,
        facts: LogFacts::default(),
    };
    let checks = Checks::Offline("--from reads a saved file and makes no AWS call");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(produce(a, out, input, checks))
}

async fn produce(
    a: &ExportArgs,
    out: &Output,
    input: Input,
    checks: Checks<'_>,
) -> Result<crate::exit::ExitStatus> {
    for s in &input.generated.skipped {
        out.warn(&format!("{}: not exported: {s}", input.source));
    }
    let set = input
        .generated
        .merged(!a.without_start)
        .canonicalize(policy::catalogue()?);
    let p = &a.policy;
    if set.is_empty() && p.diff.is_none() {
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
    let meta = action_meta(&set, &input.steps, &input.facts);
    let mut writer = Writer::new(set)
        .evidence(&input.facts.evidence, p.resources)
        .scope(input.scope.clone())
        .metadata(meta)
        .refused(input.facts.refused_rows());
    if a.by_step {
        writer = writer.by_step(&input.steps);
    }
    if a.interactive {
        let kept = prune_interactively(out, writer.set(), &writer.explain_rows()?)?;
        writer = writer.retain(kept);
    }
    policy_output::write(p, out, &writer, checks).await
}

/// What is known about each action of the set: first denied, step, derivation.
fn action_meta(set: &ActionSet, steps: &[Step], facts: &LogFacts) -> BTreeMap<Action, ActionMeta> {
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
                resources: None,
            };
            (action.clone(), meta)
        })
        .collect()
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
}
