//! `lppg exec [--] CMD ARGS…`: runs a command as the generator role (its SDKs get the role's credentials from a
//! loopback container-credentials endpoint that renews them, any profile or static keys removed), passes
//! termination signals on, and exits with the command's status.
use crate::cli::GlobalArgs;
use crate::stack::credential_server::{self, Fetch};
use crate::stack::session::own_credentials;
use crate::stack::Generator;
use crate::ui::Output;
use anyhow::Result;
use clap::Args;
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// How long the role's credentials last (15m to 12h; 1h at most when you are yourself in a role session).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub duration: std::time::Duration,
    /// The command and its arguments (put `--` before it when it has options of its own).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

pub async fn exec(g: &GlobalArgs, a: &ExecArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let seconds = crate::role::session_seconds(a.duration).map_err(anyhow::Error::msg)?;
    let aws = own_credentials(&g.aws, &g.stack_name, crate::cli::profile_on_command_line())?;
    let gen = Generator::connect(&aws, &g.stack_name, Default::default()).await?;
    let (seconds, lowered) = crate::role::chained_seconds(gen.caller_arn(), seconds);
    if let Some(note) = lowered {
        out.warn(&note);
    }
    // The first session now, so a refusal (trust, quota) is said before the command starts.
    gen.role_credentials(seconds).await?;
    let gen = Arc::new(gen);
    let fetch: Fetch = {
        let gen = gen.clone();
        Arc::new(move || {
            let gen = gen.clone();
            Box::pin(async move { gen.role_credentials(seconds).await })
        })
    };
    let endpoint = credential_server::start(
        fetch,
        Arc::new(std::time::SystemTime::now),
        credential_server::margin_for(seconds),
    )
    .await?;
    out.info(&format!(
        "lppg: running {} as {} (credentials from a loopback endpoint that renews the role session before it \
         expires). Denied calls take a few minutes to become grants: re-run it once `lppg watch` shows them granted.",
        a.command[0],
        gen.principal_arn(),
    ));
    let mut env = gen.region_env();
    env.extend(endpoint.env());
    let removed: Vec<&str> = crate::child::REMOVED_ENV
        .iter()
        .chain(credential_server::REMOVED_ENV)
        .copied()
        .chain([crate::role::CREDENTIALS_GUARD_VAR])
        .collect();
    let code = crate::child::run(&a.command, &env, &removed).await;
    drop(endpoint);
    code
}
