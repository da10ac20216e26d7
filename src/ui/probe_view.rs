//! How `lppg status --probe` (and `lppg up`'s probe) shows its steps: one line each, ok / FAIL / SKIP, with what to
//! do under a failed one; the fast path's EventBridge verdicts one line per region, the region first.
use super::{Output, Style};
use crate::probe::{Outcome, Step};

/// One line per step on stderr, then the verdict.
pub fn show(out: &Output, steps: &[Step]) {
    for (i, s) in steps.iter().enumerate() {
        let (mark, detail) = match &s.outcome {
            Outcome::Ok { detail } => (out.paint(Style::Green, "ok  "), detail.clone()),
            Outcome::Failed { detail, .. } => (out.paint(Style::Red, "FAIL"), detail.clone()),
            Outcome::CouldNotRun { detail } => (
                out.paint(Style::Yellow, "SKIP"),
                format!("could not run: {detail}"),
            ),
        };
        // The fast path's steps judge one region each: it leads the line.
        let region = s
            .region
            .as_deref()
            .map(|r| format!("{r}: "))
            .unwrap_or_default();
        out.info(&format!(
            "  {mark} {}. {:<11} {region}{detail}",
            i + 1,
            s.step
        ));
        if let Outcome::Failed { fix, .. } = &s.outcome {
            out.info(&format!("          {:<11} → {fix}", ""));
        }
    }
    match crate::probe::exit_code(steps) {
        crate::exit::OK => out.ok("probe passed: denied calls reach the function"),
        crate::exit::ERROR => out.info(&out.paint(
            Style::Red,
            "probe: no step could be run (see why above)",
        )),
        _ => out.info(&out.paint(
            Style::Red,
            "probe failed or incomplete: denied calls may not reach the function (see the arrows above)",
        )),
    }
}
