//! `lppg exec [--] CMD ARGS…`: runs a command as the generator role (its credentials in the environment, any
//! profile removed), passes termination signals on, and exits with the command's status.
use crate::cli::GlobalArgs;
use crate::stack::Generator;
use crate::ui::Output;
use anyhow::Result;
use clap::Args;

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

pub async fn exec(g: &GlobalArgs, a: &ExecArgs, out: &Output) -> Result<i32> {
    let seconds = crate::role::session_seconds(a.duration).map_err(anyhow::Error::msg)?;
    let gen = Generator::connect(&g.aws, &g.stack_name, None).await?;
    let creds = gen.role_credentials(seconds).await?;
    out.info(&format!(
        "lppg: running {} as {} (credentials until {}). Denied calls take a few minutes to become grants: \
         re-run it once `lppg watch` shows them granted.",
        a.command[0],
        gen.principal_arn(),
        creds.expiration
    ));
    let env = gen.session_env(&creds);
    crate::child::run(&a.command, &env, crate::child::REMOVED_ENV).await
}
