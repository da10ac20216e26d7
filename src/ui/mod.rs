//! Output decisions in one place: stdout carries results, stderr carries progress and messages; colour only on a
//! terminal and never when `NO_COLOR` is set; progress bars only on a terminal.
pub mod probe_view;
pub mod progress;
pub mod prompt;
pub mod watch_view;

use std::io::{IsTerminal, Write};

/// Where and how to print.
#[derive(Debug, Clone)]
pub struct Output {
    pub color: bool,
    pub verbose: bool,
    pub stderr_tty: bool,
    pub stdout_tty: bool,
    pub stdin_tty: bool,
}

/// The one set of ANSI styles lppg uses, on stderr and (for `watch`) stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Green,
    Yellow,
    Red,
    Dim,
    /// Blocked by another policy (`watch`): its own colour.
    Magenta,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Bold => "1",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Dim => "2",
            Style::Magenta => "35",
        }
    }
}

/// Wraps `text` in a style when `color` is on.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color && style != Style::Plain {
        format!("\x1b[{}m{}\x1b[0m", style.code(), text)
    } else {
        text.to_string()
    }
}

impl Output {
    pub fn new(no_color: bool, verbose: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            color: stderr_tty && !no_color && !no_color_env,
            verbose,
            stderr_tty,
            stdout_tty: std::io::stdout().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
        }
    }

    /// Wraps `text` in a style when colour is on (stderr).
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color, style, text)
    }

    /// A progress or information line on stderr.
    pub fn info(&self, msg: &str) {
        let _ = writeln!(std::io::stderr(), "{msg}");
    }

    /// A line that says something worked.
    pub fn ok(&self, msg: &str) {
        self.info(&format!("{} {msg}", self.paint(Style::Green, "✓")));
    }

    pub fn warn(&self, msg: &str) {
        self.info(&format!("{} {msg}", self.paint(Style::Yellow, "warning:")));
    }

    /// Prints an error once: the top message (and its causes with `-v`).
    pub fn error(&self, err: &anyhow::Error) {
        let mut text = format!("{} {err}", self.paint(Style::Red, "error:"));
        if self.verbose {
            for cause in err.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
        } else if err.downcast_ref::<crate::aws::AwsError>().is_none() {
            // Causes until the first AWS error, whose own message is complete; the SDK's details need -v.
            for cause in err.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
                if cause.downcast_ref::<crate::aws::AwsError>().is_some() {
                    break;
                }
            }
        }
        self.info(&text);
    }

    /// A result on stdout.
    pub fn result(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

/// The one closing stderr line naming the flagged actions of a policy (risk review), if any.
pub fn review(out: &Output, set: &crate::policy::ActionSet) {
    if let Some(line) = crate::policy::review_line(set) {
        out.warn(&line);
    }
}

/// Writes a result to stdout, treating a closed pipe (`lppg export-policy | head`) as success.
pub fn print_result(out: &Output, text: &str) -> anyhow::Result<()> {
    match out.result(text) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}
