//! A spinner on a terminal, plain lines elsewhere.
use super::Output;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// Progress for a long operation: an indicatif spinner on a terminal, otherwise nothing but the lines printed.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(out: &Output, message: &str) -> Self {
        if out.stderr_tty {
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_message(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress { bar: Some(bar) }
        } else {
            out.info(message);
            Progress { bar: None }
        }
    }

    /// Prints a line above the spinner (or plainly).
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
