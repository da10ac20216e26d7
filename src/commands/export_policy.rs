//! `lppg export-policy`: the generator's policies merged into one reviewed document.
use super::Ctx;
use crate::cli::GlobalArgs;
use crate::policy::{self, ActionSet, GeneratedActions, Grouping, Policy};
use crate::ui::{print_result, Output};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write the policy to FILE instead of standard output (refuses to overwrite without --force).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Overwrite the --output file.
    #[arg(long)]
    pub force: bool,
    /// Leave out the actions the user started with (unless they were also denied and granted later).
    #[arg(long)]
    pub without_start: bool,
    /// Work on a policy saved earlier (by `lppg down` or `-o`) instead of the stack.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

/// What the generator's policies grant, read from the default version of each.
pub struct Generated {
    pub actions: GeneratedActions,
    /// (policy ARN, version, size in characters) of each generator policy that exists.
    pub policies: Vec<(String, String, usize)>,
}

/// Reads and merges every generator policy's default version.
pub async fn load_generated(ctx: &Ctx) -> Result<Generated> {
    let mut docs = Vec::new();
    let mut policies = Vec::new();
    for arn in ctx.policy_arns() {
        let Some((version, text)) = crate::aws::iam::default_document(&ctx.c, &arn).await? else {
            continue;
        };
        let p = Policy::parse(&text)
            .with_context(|| format!("the document of {arn} {version} is not a valid policy"))?;
        let size = text.chars().filter(|c| !c.is_whitespace()).count();
        policies.push((arn, version, size));
        docs.push(p);
    }
    if policies.is_empty() {
        bail!(
            "none of the generator's policies exist (stack {}): nothing to export",
            ctx.names.stack
        );
    }
    Ok(Generated {
        actions: GeneratedActions::from_documents(docs.iter()),
        policies,
    })
}

/// The merged policy as pretty JSON (what `export-policy` prints and `down` saves).
pub fn render(actions: &ActionSet) -> String {
    policy::to_pretty_json(&policy::render_policy(actions, Grouping::ByService))
}

/// Writes `text` to `path`, refusing to overwrite unless `force`.
pub fn write_new_file(path: &Path, text: &str, force: bool) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists: choose another file or pass --force",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn emit(a: &ExportArgs, out: &Output, text: &str) -> Result<i32> {
    match &a.output {
        Some(path) => {
            write_new_file(path, text, a.force)?;
            out.ok(&format!("policy written to {}", path.display()));
        }
        None => print_result(out, text)?,
    }
    Ok(crate::exit::OK)
}

pub async fn exec(g: &GlobalArgs, a: &ExportArgs, out: &Output) -> Result<i32> {
    let ctx = Ctx::load(g, None).await?;
    ctx.require_stack()?;
    let generated = load_generated(&ctx).await?;
    for s in &generated.actions.skipped {
        out.warn(&format!("not exported: {s}"));
    }
    let set = generated.actions.merged(!a.without_start);
    if set.is_empty() {
        bail!("the policy is empty (no actions granted yet, and --without-start given)");
    }
    emit(a, out, &render(&set))
}

/// `--from FILE`: the same output from a saved policy, with no AWS calls.
pub fn exec_offline(a: &ExportArgs, out: &Output) -> Result<i32> {
    let path = a.from.as_ref().expect("caller checked --from");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let p = Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let generated = GeneratedActions::from_documents([&p]);
    for s in &generated.skipped {
        out.warn(&format!("{}: not exported: {s}", path.display()));
    }
    emit(a, out, &render(&generated.merged(!a.without_start)))
}
