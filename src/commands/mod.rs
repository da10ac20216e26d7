//! One module per command, each thin: check its arguments, make one call into the generator layer
//! ([`crate::stack`]) or the pure modules, show the outcome through [`crate::ui`]. Commands never import
//! each other. Errors are printed once, by the caller. [`policy_output`] is not a command: the policy-output
//! flags and printing that `export-policy` and `generate` share.
pub mod credentials;
pub mod down;
pub mod exec;
pub mod export_policy;
pub mod generate;
pub mod mark;
pub mod policy_output;
pub mod redrive;
pub mod status;
pub mod template;
pub mod up;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::ui::Output;
use anyhow::Result;

/// Runs the parsed command.
pub fn dispatch(cli: Cli, out: &Output) -> Result<crate::exit::ExitStatus> {
    let g = cli.global;
    match cli.command {
        Command::Template(a) => template::exec(&a, out),
        Command::Generate(a) => generate::exec(&g.aws, &a, out),
        Command::ExportPolicy(a) if a.from.is_some() => export_policy::exec_offline(&a, out),
        cmd => {
            crate::naming::validate_stack_name(&g.stack_name).map_err(anyhow::Error::msg)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                match cmd {
                    Command::Up(a) => up::exec(&g, &a, out).await,
                    Command::Status(a) => status::exec(&g, &a, out).await,
                    Command::Down(a) => down::exec(&g, &a, out).await,
                    Command::ExportPolicy(a) => export_policy::exec(&g, &a, out).await,
                    Command::Watch(a) => watch::exec(&g, &a, out).await,
                    Command::Mark(a) => mark::exec(&g, &a, out).await,
                    Command::Credentials(a) => credentials::exec(&g, &a, out).await,
                    Command::Exec(a) => exec::exec(&g, &a, out).await,
                    Command::Redrive(a) => redrive::exec(&g, &a, out).await,
                    Command::Template(_) | Command::Generate(_) => unreachable!("handled above"),
                }
            })
        }
    }
}
