//! The `lppg` binary: parse the command line, run the command, turn the outcome into an exit code.
use clap::Parser;

/// The static Linux builds replace musl's allocator, slow when several threads allocate (Cargo.toml).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = lppg::cli::Cli::parse();
    std::process::ExitCode::from(lppg::run(cli).code())
}
