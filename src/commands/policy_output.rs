//! Not a command: the policy-output flags `export-policy` and `generate` share ([`PolicyOutputArgs`], flattened
//! into each) and [`write`], which runs the one [`Writer`] they ask for and prints its result. `down` saves
//! through the same [`Writer`] (in the stack layer).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;

use serde_json::Value;

use crate::aws::analyzer;
use crate::exit;
use crate::files::write_new_file;
use crate::policy::{
    finding_lines, FindingKind, Format, FormatOptions, Oversize, Policy, PolicyError, ResourceMode,
    WriteOptions, Writer,
};
use crate::ui::{print_result, Output};

/// How lppg writes a policy: format, size, resources, or a diff or a table instead.
#[derive(Args, Debug, Clone)]
pub struct PolicyOutputArgs {
    /// Write the result to FILE instead of standard output (refuses to overwrite without --force).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the --output file.
    #[arg(long)]
    pub force: bool,
    /// Output format: json (the policy document), cfn (an AWS::IAM::ManagedPolicy resource in YAML), terraform
    /// (an aws_iam_policy_document data source and the aws_iam_policy using it), permission-set (an IAM Identity
    /// Center AWS::SSO::PermissionSet with the policy inline) or permission-set-terraform
    /// (aws_ssoadmin_permission_set_inline_policy).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser(), default_value = "json")]
    pub format: Format,
    /// Name of the policy (or permission set) in the cfn, terraform and permission-set resources.
    #[arg(long, value_name = "NAME", default_value = "lppg-generated-policy")]
    pub name: String,
    /// When the policy is over IAM's 6,144-character limit, write several documents that each fit.
    #[arg(long)]
    pub split: bool,
    /// Compare with a policy file (one document or a --split list): `+` added, `-` removed, `~` covered only by
    /// a wildcard. Exit 0 same, 1 different, 2 trouble.
    #[arg(long, value_name = "BASELINE", conflicts_with_all = ["split", "format"])]
    pub diff: Option<PathBuf>,
    /// A table of every action for the reviewer: service, access level, first denied, step, how it was
    /// derived, resources, and a mark on likely console background calls.
    #[arg(long, conflicts_with_all = ["diff", "split", "format"])]
    pub explain: bool,
    /// Machine-readable JSON for --diff and --explain.
    #[arg(long)]
    pub json: bool,
    /// Resources of the statements: any (`"*"`, as always), observed (exactly the resources each action was seen
    /// on) or scoped (ARNs from the action's resource types, generated ids and object keys as `*`). Actions that
    /// accept only `*` or were seen on nothing stay on `*`; --explain says why.
    #[arg(long, value_name = "MODE", value_parser = resource_mode_parser(), default_value = "any")]
    pub resources: ResourceMode,
    /// Do not ask IAM Access Analyzer's ValidatePolicy about the written policy (by default it runs, free, when
    /// AWS is reachable; its findings follow the review line on stderr).
    #[arg(long)]
    pub no_validate: bool,
    /// Exit 1 when ValidatePolicy finds an ERROR (an action or a part of the policy that does not work).
    #[arg(long, conflicts_with = "no_validate")]
    pub strict: bool,
    /// Also ask Access Analyzer's CheckAccessNotGranted whether the policy grants any action of the risk lists
    /// (at most 100 actions per call; AWS charges per call).
    #[arg(long, conflicts_with_all = ["diff", "explain"])]
    pub check_not_granted: bool,
    /// With --diff: also ask Access Analyzer's CheckNoNewAccess whether the new policy grants access the
    /// baseline does not (resources and conditions included; AWS charges per call).
    #[arg(long, requires = "diff")]
    pub semantic: bool,
}

/// Where the written policy can be checked by IAM Access Analyzer.
pub enum Checks<'a> {
    /// AWS is not asked: the reason, for the message saying the checks were skipped.
    Offline(&'static str),
    /// Access Analyzer's client.
    Aws(&'a aws_sdk_accessanalyzer::Client),
}

/// `--format`: one of [`Format::ALL`] by name (clap lists them when the value is wrong).
fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.iter().map(|f| f.name())).map(|name| {
        *Format::ALL
            .iter()
            .find(|f| f.name() == name)
            .expect("a listed name")
    })
}

/// `--resources`: one of [`ResourceMode::ALL`] by name.
fn resource_mode_parser() -> impl TypedValueParser<Value = ResourceMode> {
    PossibleValuesParser::new(ResourceMode::ALL.iter().map(|m| m.name())).map(|name| {
        *ResourceMode::ALL
            .iter()
            .find(|m| m.name() == name)
            .expect("a listed name")
    })
}

impl PolicyOutputArgs {
    /// Flag combinations clap cannot express.
    pub fn check(&self) -> Result<()> {
        if self.json && self.diff.is_none() && !self.explain {
            bail!("--json goes with --diff or --explain (the policy itself is JSON already)");
        }
        Ok(())
    }

    /// What the writer is asked for (format, size rule, names).
    pub fn write_options(&self) -> WriteOptions {
        WriteOptions {
            format: self.format,
            oversize: if self.split {
                Oversize::Split
            } else {
                Oversize::Refuse
            },
            names: FormatOptions {
                name: self.name.clone(),
                ..FormatOptions::default()
            },
        }
    }

    /// Prints `text` to --output or standard output.
    pub fn emit(&self, out: &Output, text: &str, what: &str) -> Result<()> {
        match &self.output {
            Some(path) => {
                write_new_file(path, text, self.force)?;
                out.ok(&format!("{what} written to {}", path.display()));
            }
            None => print_result(out, text)?,
        }
        Ok(())
    }
}

/// Writes what the flags ask for: the diff with --diff, the table with --explain, otherwise the policy; then the
/// review line and Access Analyzer's findings. Returns the exit code.
pub async fn write(
    a: &PolicyOutputArgs,
    out: &Output,
    writer: &Writer<'_>,
    checks: Checks<'_>,
) -> Result<crate::exit::ExitStatus> {
    if let Some(baseline) = &a.diff {
        return diff(a, out, writer, baseline, &checks).await;
    }
    if a.explain {
        a.emit(out, &writer.explain(a.json)?, "the table")?;
        crate::ui::review(out, writer.set());
        return Ok(exit::OK);
    }
    let written = writer.write(&a.write_options())?;
    if let Some(note) = &written.note {
        out.info(note);
    }
    a.emit(out, &written.text, "policy")?;
    crate::ui::review(out, writer.set());
    let errors = if a.no_validate {
        0
    } else {
        validate(out, &written.documents, &checks).await
    };
    if a.check_not_granted {
        check_not_granted(out, &written.documents, &checks).await?;
    }
    Ok(if a.strict && errors > 0 {
        exit::DIFFERENT
    } else {
        exit::OK
    })
}

/// ValidatePolicy on each document; its findings on stderr (after the review line). Returns the number of ERROR
/// findings. A call that fails (no credentials, no network, access denied) is reported and skips the check; it
/// does not fail the run. `down` calls it on the policy it saves.
pub async fn validate(out: &Output, documents: &[Value], checks: &Checks<'_>) -> usize {
    let client = match checks {
        Checks::Offline(why) => {
            out.info(&format!("Access Analyzer's ValidatePolicy skipped: {why}"));
            return 0;
        }
        Checks::Aws(client) => client,
    };
    let mut errors = 0;
    let mut total = 0;
    for (i, document) in documents.iter().enumerate() {
        let part = (documents.len() > 1).then_some(i + 1);
        match analyzer::validate_policy(client, &document.to_string()).await {
            Ok(findings) => {
                errors += findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::Error)
                    .count();
                total += findings.len();
                for line in finding_lines(&findings, document, part) {
                    out.warn(&format!("Access Analyzer: {line}"));
                }
            }
            Err(e) => {
                // The AWS error's own text says what failed and what to do; its SDK source is for `-v`.
                out.warn(&format!(
                    "Access Analyzer's ValidatePolicy was not run (--no-validate skips it): {e}"
                ));
                return 0;
            }
        }
    }
    if total == 0 {
        out.ok("Access Analyzer's ValidatePolicy: no findings");
    }
    errors
}

/// `--check-not-granted`: whether any document grants an action of the risk lists.
async fn check_not_granted(out: &Output, documents: &[Value], checks: &Checks<'_>) -> Result<()> {
    let Checks::Aws(client) = checks else {
        out.info("Access Analyzer's CheckAccessNotGranted skipped: no AWS call for this input");
        return Ok(());
    };
    let actions = crate::policy::risk_actions();
    let mut failed = 0;
    for document in documents {
        for outcome in
            analyzer::check_access_not_granted(client, &document.to_string(), &actions).await?
        {
            if !outcome.passed {
                failed += 1;
                out.warn(&format!(
                    "Access Analyzer's CheckAccessNotGranted: FAIL: {} ({})",
                    outcome.message,
                    outcome.statements.join(", ")
                ));
            }
        }
    }
    if failed == 0 {
        out.ok(&format!(
            "Access Analyzer's CheckAccessNotGranted: none of the {} actions of the risk lists is granted",
            actions.len()
        ));
    }
    Ok(())
}

/// A policy file: one document or a JSON list of documents. Errors name the file, and the line and column
/// or the field.
pub fn read_policies(path: &Path) -> Result<Vec<Policy>> {
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

/// `--semantic`: CheckNoNewAccess of the new policy (one document, whatever its size) against the baseline's
/// statements; true when it passes.
async fn semantic(
    out: &Output,
    writer: &Writer<'_>,
    baseline: &Path,
    checks: &Checks<'_>,
) -> Result<bool> {
    let Checks::Aws(client) = checks else {
        out.info("Access Analyzer's CheckNoNewAccess skipped: no AWS call for this input");
        return Ok(true);
    };
    let (new, _) = writer.documents(Oversize::Keep)?;
    // The baseline's statements as written (read_policies has checked the file), every document's.
    let text = std::fs::read_to_string(baseline)?;
    let value: Value = serde_json::from_str(&text)?;
    let documents = match value {
        Value::Array(list) => list,
        one => vec![one],
    };
    let statements: Vec<Value> = documents
        .iter()
        .flat_map(|d| match &d["Statement"] {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        })
        .collect();
    let existing =
        serde_json::json!({"Version": crate::policy::POLICY_VERSION, "Statement": statements});
    let outcome =
        analyzer::check_no_new_access(client, &new[0].to_string(), &existing.to_string()).await?;
    if outcome.passed {
        out.ok("Access Analyzer's CheckNoNewAccess: the new policy grants no access the baseline does not");
    } else {
        out.warn(&format!(
            "Access Analyzer's CheckNoNewAccess: FAIL: {} ({})",
            outcome.message,
            outcome.statements.join(", ")
        ));
    }
    Ok(outcome.passed)
}

/// `--diff BASELINE`: prints the differences; exit 0 same, 1 different (by actions, or by `--semantic`).
async fn diff(
    a: &PolicyOutputArgs,
    out: &Output,
    writer: &Writer<'_>,
    baseline: &Path,
    checks: &Checks<'_>,
) -> Result<crate::exit::ExitStatus> {
    let baselines = read_policies(baseline)?;
    let no_new_access = if a.semantic {
        semantic(out, writer, baseline, checks).await?
    } else {
        true
    };
    let result = writer.diff(&baselines);
    let text = if a.json {
        crate::policy::to_pretty_json(&result.to_json())
    } else {
        result.to_text()
    };
    if a.json || !text.is_empty() {
        a.emit(out, &text, "the differences")?;
    }
    if result.same && no_new_access {
        out.ok(&format!(
            "the generated policy grants the same actions as {}",
            baseline.display()
        ));
        Ok(exit::OK)
    } else {
        if !a.json {
            out.info(&format!(
                "{} added, {} removed, {} covered only by a wildcard in {}; {} action-resource pair(s) added, \
                 {} removed",
                result.added.len(),
                result.removed.len(),
                result.covered_by_wildcard.len(),
                baseline.display(),
                result.added_resources.len(),
                result.removed_resources.len()
            ));
        }
        Ok(exit::DIFFERENT)
    }
}
