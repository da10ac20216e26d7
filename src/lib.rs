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
pub mod cloudtrail;
pub mod commands;
pub mod decisions;
pub mod failure_record;
pub mod files;
pub mod generator;
pub mod naming;
pub mod password;
pub mod policy;
pub mod preflight;
pub mod probe;
pub mod reconcile;
pub mod role;
pub mod time;
pub mod ui;

/// Exit codes, like diff(1) and ripgrep: 0 success, 1 "differences" or "unhealthy", 2 trouble.
pub mod exit {
    pub const OK: i32 = 0;
    pub const DIFFERENT: i32 = 1;
    pub const ERROR: i32 = 2;
}

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
