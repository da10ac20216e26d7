//! lppg, the Least Privilege Policy Generator.
//!
//! Layout: [`cli`] holds the clap definitions, [`commands`] one module per command, [`aws`] the only code that calls
//! the AWS SDK, and the pure modules ([`policy`], [`cloudtrail`], [`time`], [`naming`], [`password`], [`assets`]) hold the
//! logic that is unit-tested without AWS.
pub mod assets;
pub mod aws;
pub mod child;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod credential_cache;
pub mod credential_server;
pub mod files;
pub mod reconcile;
pub mod stack;
pub mod ui;

// The pure core, under the paths the rest of this crate uses.
pub use lppg_core::stack::{decisions, failure_record, naming, password, preflight, probe, role};
pub use lppg_core::{cloudtrail, exit, policy, time};

/// Runs a parsed command line and returns the process exit code. Errors are printed here, once.
pub fn run(cli: cli::Cli) -> i32 {
    let out = ui::Output::new(cli.global.no_color, cli.global.verbose);
    match commands::dispatch(cli, &out) {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            exit::ERROR
        }
    }
}
