//! Running a child process for `lppg exec`: its environment, termination signals passed on, its exit status.
use crate::exit::ExitStatus;
use anyhow::{Context, Result};

/// Variables a child must not inherit: they would make its SDK pick other credentials than the role's.
pub const REMOVED_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
];

/// Runs `command` with `env` set and `removed` unset; returns its exit code (128 + the signal when a signal ended
/// it, as shells do). SIGTERM, SIGHUP and SIGQUIT sent to lppg are passed on; Ctrl-C reaches the command from the
/// terminal directly (same process group), so lppg only keeps running until the command ends.
pub async fn run(
    command: &[String],
    env: &[(String, String)],
    removed: &[&str],
) -> Result<ExitStatus> {
    let (program, args) = command.split_first().context("no command given")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    for k in removed {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    // Listen before the command starts, so no signal sent once it runs can end lppg instead.
    let signals = Signals::listen()?;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let pid = child.id();
    let waiter = tokio::task::spawn_blocking(move || child.wait());
    let status = signals.forward_until(pid, waiter).await??;
    Ok(exit_code(status))
}

/// The signals lppg passes on (and Ctrl-C, which it only outlives).
#[cfg(unix)]
struct Signals([tokio::signal::unix::Signal; 4]);

#[cfg(unix)]
impl Signals {
    fn listen() -> Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals([
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
            signal(SignalKind::quit())?,
            signal(SignalKind::interrupt())?,
        ]))
    }

    async fn forward_until<T>(self, pid: u32, waiter: tokio::task::JoinHandle<T>) -> Result<T> {
        let [mut term, mut hup, mut quit, mut int] = self.0;
        tokio::pin!(waiter);
        loop {
            let sig = tokio::select! {
                r = &mut waiter => return Ok(r?),
                _ = term.recv() => "TERM",
                _ = hup.recv() => "HUP",
                _ = quit.recv() => "QUIT",
                // The terminal sent it to the command too; lppg waits for the command to end.
                _ = int.recv() => continue,
            };
            // kill(1): the crate forbids unsafe code, so no kill(2) binding; a failure means the command has ended.
            let _ = std::process::Command::new("kill")
                .args(["-s", sig, &pid.to_string()])
                .status();
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> Result<Signals> {
        Ok(Signals)
    }

    async fn forward_until<T>(self, _pid: u32, waiter: tokio::task::JoinHandle<T>) -> Result<T> {
        Ok(waiter.await?)
    }
}

/// The command's status as lppg's own (128 + the signal's number when a signal ended it, as shells report it).
fn exit_code(status: std::process::ExitStatus) -> ExitStatus {
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal = None;
    ExitStatus::of_child(status.code(), signal)
}
