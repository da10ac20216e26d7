//! One way to run the binary in a test, in the style of just's `tests/test.rs`:
//!
//! ```ignore
//! Test::new()
//!     .args(["generate", "--principal", ALICE, "-"])
//!     .stdin(data)
//!     .expect_code(0)
//!     .expect_stderr_contains("1 files")
//!     .run();
//! ```
//!
//! The binary always runs with a clean environment ([`super::lppg_command`]: no AWS variables or config files of
//! the person running the tests), in a fresh temporary directory unless [`Test::current_dir`] names one, and
//! against the emulator when [`Test::moto`] is given. [`Test::run`] checks the exit code (0 unless
//! [`Test::expect_code`] names another) and every other expectation and, when one fails,
//! panics with the command, its exit status, stdout and stderr.

use std::path::{Path, PathBuf};

use super::{lppg_command, Moto, Run, TempDir};

/// One run of the `lppg` binary and what it must show.
#[derive(Debug, Default)]
#[must_use = "a Test does nothing until .run()"]
pub struct Test {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    code: Option<i32>,
    stdout: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    stderr_lacks: Vec<String>,
}

impl Test {
    pub fn new() -> Test {
        Test::default()
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Appends one argument.
    pub fn arg(self, arg: impl AsRef<str>) -> Test {
        self.args([arg])
    }

    /// Sets an environment variable (on top of the clean environment).
    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Test {
        self.env.push((key.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Feeds standard input (otherwise it is closed).
    pub fn stdin(mut self, data: impl AsRef<[u8]>) -> Test {
        self.stdin = Some(data.as_ref().to_vec());
        self
    }

    /// Runs in `dir` (also the binary's HOME) instead of a fresh temporary directory.
    pub fn current_dir(mut self, dir: &Path) -> Test {
        self.dir = Some(dir.to_owned());
        self
    }

    /// Points the binary at the emulator.
    pub fn moto(self, moto: &Moto) -> Test {
        self.env("AWS_ENDPOINT_URL", &moto.url)
    }

    /// Against another endpoint (the fault proxy in front of the emulator).
    pub fn endpoint(self, url: &str) -> Test {
        self.env("AWS_ENDPOINT_URL", url)
    }

    /// The exit status the run must end with (0 unless set: [`Test::run`] always checks it, as just's `status()`).
    pub fn expect_code(mut self, code: i32) -> Test {
        self.code = Some(code);
        self
    }

    /// Exactly what stdout must hold.
    pub fn expect_stdout(mut self, text: impl AsRef<str>) -> Test {
        self.stdout = Some(text.as_ref().to_owned());
        self
    }

    /// Text stdout must contain (repeatable).
    pub fn expect_stdout_contains(mut self, text: impl AsRef<str>) -> Test {
        self.stdout_contains.push(text.as_ref().to_owned());
        self
    }

    /// Text stderr must contain (repeatable).
    pub fn expect_stderr_contains(mut self, text: impl AsRef<str>) -> Test {
        self.stderr_contains.push(text.as_ref().to_owned());
        self
    }

    /// Text stderr must not contain (repeatable).
    pub fn expect_stderr_lacks(mut self, text: impl AsRef<str>) -> Test {
        self.stderr_lacks.push(text.as_ref().to_owned());
        self
    }

    /// Runs the binary, checks every expectation, and returns what it printed.
    #[track_caller]
    pub fn run(self) -> Run {
        let temp = self.dir.is_none().then(|| TempDir::new("run"));
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| temp.as_ref().map(|t| t.0.clone()).unwrap_or_default());
        let mut cmd = lppg_command(&dir);
        cmd.args(&self.args);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        let run = super::run_bytes(cmd, self.stdin.as_deref());
        self.check(&run);
        run
    }

    #[track_caller]
    fn check(&self, run: &Run) {
        let code = self.code.unwrap_or(0);
        assert_eq!(run.code, code, "expected exit {code}\n{}", run.dump());
        if let Some(stdout) = &self.stdout {
            assert!(
                run.stdout == *stdout,
                "stdout differs\n--- expected stdout ---\n{stdout}\n{}",
                run.dump()
            );
        }
        for text in &self.stdout_contains {
            assert!(
                run.stdout.contains(text),
                "stdout lacks {text:?}\n{}",
                run.dump()
            );
        }
        for text in &self.stderr_contains {
            assert!(
                run.stderr.contains(text),
                "stderr lacks {text:?}\n{}",
                run.dump()
            );
        }
        for text in &self.stderr_lacks {
            assert!(
                !run.stderr.contains(text),
                "stderr has {text:?}\n{}",
                run.dump()
            );
        }
    }
}

/// Compares `actual` with `tests/snapshots/<name>`; with `LPPG_UPDATE_SNAPSHOTS=1` it writes the file instead (review
/// the diff before committing).
pub fn snapshot(name: &str, actual: &str) {
    let path = super::repo().join("tests/snapshots").join(name);
    if std::env::var_os("LPPG_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("snapshot dir");
        std::fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with LPPG_UPDATE_SNAPSHOTS=1 to create it, then review it\n--- actual ---\n{actual}",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "output differs from {} (LPPG_UPDATE_SNAPSHOTS=1 rewrites it)\n--- expected ---\n{expected}\n--- actual ---\n{actual}",
        path.display()
    );
}
