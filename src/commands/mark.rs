//! `lppg mark "Create the VPC"`: records a step boundary as a marker line in the function's log group, where
//! `watch` shows it in line and `export-policy` finds it to say which step needed which permission.
use super::Ctx;
use crate::cli::GlobalArgs;
use crate::decisions::{marker_line, Marker};
use crate::ui::{print_result, Output};
use anyhow::{bail, Result};
use clap::Args;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The log stream markers go to, beside the function's own streams.
pub const MARKER_STREAM: &str = "lppg-markers";

#[derive(Args, Debug, Clone)]
pub struct MarkArgs {
    /// What the step that starts now is called, e.g. "Create the VPC" (leave out for an unlabelled boundary).
    #[arg(default_value = "")]
    pub label: String,
    /// Print the marker as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub async fn exec(g: &GlobalArgs, a: &MarkArgs, out: &Output) -> Result<i32> {
    let ctx = Ctx::load(g, None).await?;
    let group = function_log_group(&ctx)?;
    let marker = write_marker(&ctx, &group, &a.label).await?;
    if a.json {
        print_result(
            out,
            &serde_json::json!({"lppg": "marker", "v": 1, "label": marker.label, "time": marker.time})
                .to_string(),
        )?;
    }
    let what = if marker.label.is_empty() {
        "step boundary (unlabelled)".to_string()
    } else {
        format!("step {:?}", marker.label)
    };
    out.ok(&format!("marked {what} at {} in {group}", marker.time));
    Ok(crate::exit::OK)
}

/// The function's log group: the stack's output, else the derived name. Fails with advice when there is no stack.
pub fn function_log_group(ctx: &Ctx) -> Result<String> {
    let stack = ctx.require_stack()?;
    Ok(stack
        .output("FunctionLogGroupName")
        .map(str::to_string)
        .unwrap_or_else(|| ctx.names.function_log_group.clone()))
}

/// Writes a marker with the current time (UTC, RFC 3339, whole seconds) into `group`.
pub async fn write_marker(ctx: &Ctx, group: &str, label: &str) -> Result<Marker> {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let time =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
    if !crate::aws::logs::group_exists(&ctx.c, group).await? {
        bail!(
            "the function's log group {group} does not exist (was it deleted?): run `lppg up` to restore it"
        );
    }
    // The event's timestamp is the marker's time, so the log's order and the marker agree.
    let ms = secs as i64 * 1000;
    crate::aws::logs::put_line(&ctx.c, group, MARKER_STREAM, ms, &marker_line(label, &time))
        .await?;
    Ok(Marker {
        label: label.to_string(),
        time,
    })
}
