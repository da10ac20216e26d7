//! `lppg credentials`: temporary credentials of the generator role in the `credential_process` format, so any SDK
//! or tool can use the role (`credential_process = lppg credentials --stack-name NAME`). Only the JSON goes to
//! stdout; errors go to stderr.
use crate::cli::GlobalArgs;
use crate::stack::Generator;
use crate::ui::{print_result, Output};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct CredentialsArgs {
    /// How long the credentials last (15m to 12h; 1h at most when you are yourself in a role session).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub duration: std::time::Duration,
}

pub async fn exec(g: &GlobalArgs, a: &CredentialsArgs, out: &Output) -> Result<i32> {
    let seconds = crate::role::session_seconds(a.duration).map_err(anyhow::Error::msg)?;
    let gen = Generator::connect(&g.aws, &g.stack_name, None).await?;
    let creds = gen.role_credentials(seconds).await?;
    print_result(out, &crate::role::credential_process_json(&creds))?;
    Ok(crate::exit::OK)
}
