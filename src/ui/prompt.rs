//! Prompts (dialoguer), refused with a clear message when there is no terminal to ask on.
use super::Output;
use anyhow::{bail, Result};

/// Asks for confirmation, unless `yes`. Without a terminal and without `yes`, refuses and names the flag.
pub fn confirm(out: &Output, question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !(out.stdin_tty && out.stderr_tty) {
        bail!("refusing to go on without confirmation: standard input is not a terminal; pass --yes to confirm");
    }
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()?)
}

/// Asks for a password twice, hidden.
pub fn password(out: &Output, check: impl Fn(&str) -> Result<(), String>) -> Result<String> {
    if !(out.stdin_tty && out.stderr_tty) {
        bail!(
            "cannot prompt for a password: standard input is not a terminal; use --password-stdin"
        );
    }
    let pw = dialoguer::Password::new()
        .with_prompt("Console password for the generator user")
        .with_confirmation("Repeat it", "The passwords do not match")
        .validate_with(move |p: &String| check(p))
        .interact()?;
    Ok(pw)
}

/// A list of items, all ticked; returns the positions still ticked. Needs a terminal.
pub fn untick(out: &Output, prompt: &str, items: &[String]) -> Result<Vec<usize>> {
    if !(out.stdin_tty && out.stderr_tty) {
        bail!(
            "--interactive needs a terminal to ask on, and standard input is not one: run it in a terminal, or \
             drop --interactive and review with --explain"
        );
    }
    Ok(dialoguer::MultiSelect::new()
        .with_prompt(prompt)
        .items(items)
        .defaults(&vec![true; items.len()])
        .max_length(20)
        .interact()?)
}
