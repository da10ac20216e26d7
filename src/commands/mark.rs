//! `lppg mark "Create the VPC"`: records a step boundary as a marker line in the function's log group, where
//! `watch` shows it in line and `export-policy` finds it to say which step needed which permission.
use crate::cli::GlobalArgs;
use crate::stack::Generator;
use crate::ui::{print_result, Output};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct MarkArgs {
    /// What the step that starts now is called, e.g. "Create the VPC" (leave out for an unlabelled boundary).
    #[arg(default_value = "")]
    pub label: String,
    /// Print the marker as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub async fn exec(g: &GlobalArgs, a: &MarkArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let gen = Generator::connect(&g.aws, &g.stack_name, Default::default()).await?;
    let marker = gen.write_marker(&a.label).await?;
    if a.json {
        let v = serde_json::json!({"lppg": "marker", "v": 1, "label": marker.label, "time": marker.time});
        print_result(out, &v.to_string())?;
    }
    let what = if marker.label.is_empty() {
        "step boundary (unlabelled)".to_string()
    } else {
        format!("step {:?}", marker.label)
    };
    out.ok(&format!(
        "marked {what} at {} in {}",
        marker.time,
        gen.function_log_group()
    ));
    Ok(crate::exit::OK)
}
