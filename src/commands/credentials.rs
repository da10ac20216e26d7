//! `lppg credentials`: temporary credentials of the generator role in the `credential_process` format, so any SDK
//! or tool can use the role (`credential_process = lppg credentials --stack-name NAME`). Only the JSON goes to
//! stdout; errors go to stderr.
use crate::cli::GlobalArgs;
use crate::stack::session::own_credentials;
use crate::stack::Generator;
use crate::ui::{print_result, Output};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct CredentialsArgs {
    /// How long the credentials last (15m to 12h; 1h at most when you are yourself in a role session).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub duration: std::time::Duration,
    /// Start a new role session every time instead of reusing the cached one (kept, only for you, under your
    /// cache directory until about 5 minutes before it expires).
    #[arg(long)]
    pub no_cache: bool,
}

pub async fn exec(
    g: &GlobalArgs,
    a: &CredentialsArgs,
    out: &Output,
) -> Result<crate::exit::ExitStatus> {
    let seconds = crate::role::session_seconds(a.duration).map_err(anyhow::Error::msg)?;
    let aws = own_credentials(&g.aws, &g.stack_name, crate::cli::profile_on_command_line())?;
    let gen = Generator::connect(&aws, &g.stack_name, Default::default()).await?;
    let (seconds, lowered) = crate::role::chained_seconds(gen.caller_arn(), seconds);
    if let Some(note) = lowered {
        out.warn(&note);
    }
    let cache = if a.no_cache {
        None
    } else {
        crate::stack::credential_cache::cache_dir(&|k| std::env::var(k).ok())
    };
    let creds = gen
        .cached_role_credentials(seconds, cache.as_deref())
        .await?;
    print_result(out, &crate::role::credential_process_json(&creds))?;
    Ok(crate::exit::OK)
}
