//! `lppg redrive [--dry-run]`: re-runs every failed batch waiting in the stack's queue through the deployed
//! function; a batch leaves the queue only after its re-run succeeded. Reports per batch.
use crate::cli::{GlobalArgs, RedriveArgs};
use crate::stack::failed::{BatchOutcome, Rerun};
use crate::stack::Generator;
use crate::ui::progress::Progress;
use crate::ui::{Output, Style};
use anyhow::Result;

pub async fn exec(
    g: &GlobalArgs,
    a: &RedriveArgs,
    out: &Output,
) -> Result<crate::exit::ExitStatus> {
    let gen = Generator::connect(&g.aws, &g.stack_name, Default::default()).await?;
    gen.require_stack()?;
    let what = if a.dry_run { "reading" } else { "re-running" };
    let progress = Progress::new(
        out,
        &format!("{what} the failed batches of {}", g.stack_name),
    );
    let result = gen.redrive(a.dry_run, &progress).await;
    progress.finish();
    let report = result?;
    let outcomes = &report.outcomes;
    if outcomes.is_empty() && report.problems.is_empty() {
        out.ok("no failed batches waiting: nothing to re-run");
        return Ok(crate::exit::OK);
    }
    for o in outcomes {
        out.info(&line(out, o));
    }
    for p in &report.problems {
        out.warn(p);
    }
    if !report.problems.is_empty() {
        out.warn("some messages could not be deleted or returned: run `lppg redrive` again (a batch re-run twice grants nothing twice)");
        return Ok(crate::exit::ERROR);
    }
    let kept = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Rerun::Failed(_) | Rerun::Unreadable(_)))
        .count();
    let done = outcomes.len() - kept;
    if a.dry_run {
        out.info(&format!(
            "{} failed batches would be re-run ({kept} cannot be); run `lppg redrive` to re-run them",
            done
        ));
        return Ok(crate::exit::OK);
    }
    if kept == 0 {
        out.ok(&format!(
            "{done} failed batches re-run and removed from the queue"
        ));
        return Ok(crate::exit::OK);
    }
    out.warn(&format!(
        "{done} re-run and removed, {kept} still queued: see the reasons above and the function's log \
         (`lppg status`), then run `lppg redrive` again"
    ));
    Ok(crate::exit::DIFFERENT)
}

fn line(out: &Output, o: &BatchOutcome) -> String {
    let (id, when, why) = match &o.batch {
        Some(b) => (
            b.request_id.as_str(),
            b.timestamp.as_str(),
            format!("{} after {} attempts", b.condition, b.attempts),
        ),
        None => (o.message_id.as_str(), "", String::new()),
    };
    let mark = match &o.outcome {
        Rerun::Listed => out.paint(Style::Bold, "would re-run"),
        Rerun::Succeeded => out.paint(Style::Green, "re-run ok, removed"),
        Rerun::Failed(e) => format!("{}: {e}", out.paint(Style::Red, "failed again, kept")),
        Rerun::Unreadable(e) => format!("{}: {e}", out.paint(Style::Red, "cannot re-run, kept")),
    };
    format!("  batch {id} {when} ({why}): {mark}")
}
