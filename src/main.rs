//! The `lppg` binary: parse the command line, run the command, turn the outcome into an exit code.
use clap::Parser;

fn main() {
    let cli = lppg::cli::Cli::parse();
    let code = lppg::run(cli);
    std::process::exit(code);
}
