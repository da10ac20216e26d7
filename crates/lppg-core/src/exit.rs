//! How lppg ends: the contract with scripts, like diff(1) and ripgrep: 0 success, 1 "different" or "unhealthy",
//! 2 trouble. `lppg exec` passes its command's own status on, kept apart from lppg's own ([`ExitStatus::Child`]).

/// The outcome of a command, turned into the process's exit code in `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: the answer is "no": policies differ, the stack is unhealthy, a probe step or a re-run batch failed, a
    /// strict check found an error.
    Different,
    /// 2: lppg could not do what was asked (bad input, an AWS error, an input that could not be read).
    Trouble,
    /// The status of the command `lppg exec` ran.
    Child(u8),
}

pub use ExitStatus::{Different as DIFFERENT, Success as OK, Trouble as ERROR};

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Different => 1,
            ExitStatus::Trouble => 2,
            ExitStatus::Child(code) => code,
        }
    }

    /// The status of a child process that exited with `code` (0–255), or was ended by signal `signal` (128 +
    /// the signal's number, as shells report it).
    pub fn of_child(code: Option<i32>, signal: Option<i32>) -> ExitStatus {
        match (code, signal) {
            (Some(c), _) => ExitStatus::Child(u8::try_from(c.rem_euclid(256)).unwrap_or(1)),
            (None, Some(s)) => ExitStatus::Child(u8::try_from((128 + s).min(255)).unwrap_or(255)),
            (None, None) => ExitStatus::Trouble,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_a_childs_status() {
        assert_eq!(OK.code(), 0);
        assert_eq!(DIFFERENT.code(), 1);
        assert_eq!(ERROR.code(), 2);
        assert_eq!(ExitStatus::of_child(Some(3), None), ExitStatus::Child(3));
        assert_eq!(ExitStatus::of_child(Some(0), None).code(), 0);
        assert_eq!(ExitStatus::of_child(None, Some(15)).code(), 143);
        assert_eq!(ExitStatus::of_child(None, None), ERROR);
    }
}
