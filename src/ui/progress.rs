//! The one spinner: an indicatif spinner on a terminal, plain lines elsewhere. It is how the generator layer's
//! long operations report ([`crate::stack::Report`]), and `watch`'s status line.
use super::Output;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// Progress for a long operation: a spinner on a terminal (stderr), otherwise the lines printed plainly.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner with a message and the elapsed time.
    pub fn new(out: &Output, message: &str) -> Self {
        let p = Progress::with_template(out.stderr_tty, "{spinner} {msg} ({elapsed})");
        match &p.bar {
            Some(bar) => bar.set_message(message.to_string()),
            None => out.info(message),
        }
        p
    }

    /// A one-line status spinner that never wraps (cut to the terminal's width), or nothing when `live` is off.
    pub fn status_line(live: bool) -> Self {
        Progress::with_template(live, "{spinner} {wide_msg}")
    }

    fn with_template(live: bool, template: &str) -> Self {
        if !live {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(150));
        Progress { bar: Some(bar) }
    }

    /// Whether a spinner is showing.
    pub fn is_live(&self) -> bool {
        self.bar.is_some()
    }

    /// Prints a line above the spinner (or plainly, on stderr).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn set_message(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    /// Runs `f` (which writes elsewhere, e.g. to stdout) with the spinner hidden.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Writes `text` to stdout (a result) with the spinner hidden meanwhile.
    pub fn print_stdout(&self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        self.suspend(|| {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|_| o.flush())
        })
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl crate::stack::Report for Progress {
    fn line(&self, text: &str) {
        Progress::line(self, text);
    }

    fn status(&self, text: &str) {
        self.set_message(text);
    }
}
