//! Not a command: the policy-output flags `export-policy` and `generate` share ([`PolicyOutputArgs`], flattened
//! into each) and [`write`], which runs the one [`Writer`] they ask for and prints its result. `down` saves
//! through the same [`Writer`] (in the stack layer).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};

use crate::exit;
use crate::files::write_new_file;
use crate::policy::{
    Format, FormatOptions, Oversize, Policy, PolicyError, ResourceMode, WriteOptions, Writer,
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
    /// Output format: json (the policy document), cfn (an AWS::IAM::ManagedPolicy resource in YAML) or
    /// terraform (an aws_iam_policy resource).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Name of the policy in the cfn and terraform resources.
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
    #[arg(long, value_name = "MODE", value_enum, default_value_t = ResourceMode::Any)]
    pub resources: ResourceMode,
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Format] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for ResourceMode {
    fn value_variants<'a>() -> &'a [ResourceMode] {
        &ResourceMode::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
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
/// review line. Returns the exit code.
pub fn write(a: &PolicyOutputArgs, out: &Output, writer: &Writer<'_>) -> Result<i32> {
    if let Some(baseline) = &a.diff {
        return diff(a, out, writer, baseline);
    }
    if a.explain {
        a.emit(out, &writer.explain(a.json)?, "the table")?;
    } else {
        let written = writer.write(&a.write_options())?;
        if let Some(note) = &written.note {
            out.info(note);
        }
        a.emit(out, &written.text, "policy")?;
    }
    crate::ui::review(out, writer.set());
    Ok(exit::OK)
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

/// `--diff BASELINE`: prints the differences; exit 0 same, 1 different.
fn diff(a: &PolicyOutputArgs, out: &Output, writer: &Writer<'_>, baseline: &Path) -> Result<i32> {
    let result = writer.diff(&read_policies(baseline)?);
    let text = if a.json {
        crate::policy::to_pretty_json(&result.to_json())
    } else {
        result.to_text()
    };
    if a.json || !text.is_empty() {
        a.emit(out, &text, "the differences")?;
    }
    if result.same {
        out.ok(&format!(
            "the generated policy grants the same actions as {}",
            baseline.display()
        ));
        Ok(exit::OK)
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
        Ok(exit::DIFFERENT)
    }
}
