//! lppg, the Least Privilege Policy Generator.
//!
//! Layout (docs/ARCHITECTURE.md): [`cli`] holds the clap definitions, [`commands`] one module per command,
//! [`stack`] the generator stack in an account, [`aws`] the only code that calls the AWS SDK, [`clock`] every wait
//! and retry, [`ui`] all terminal output. The pure logic ([`policy`], [`cloudtrail`], [`time`], the stack's domain)
//! is the `lppg-core` crate, re-exported here under the paths this crate uses.
pub mod assets;
pub mod aws;
pub mod child;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod files;
pub mod stack;
pub mod ui;

// The pure core, under the paths the rest of this crate uses.
pub use lppg_core::stack::{
    decisions, failure_record, naming, password, preflight, probe, reconcile, role, state,
};
pub use lppg_core::{cloudtrail, exit, policy, time};

/// Runs a parsed command line and returns how it ended. Errors are printed here, once.
pub fn run(cli: cli::Cli) -> exit::ExitStatus {
    let out = ui::Output::new(cli.global.no_color, cli.global.verbose);
    match commands::dispatch(cli, &out) {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            exit::ERROR
        }
    }
}
