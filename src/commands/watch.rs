//! `lppg watch`: follows the function's log group while you work through the procedure, so you see which denied
//! calls arrived, what was granted, and when you may retry a step.
//!
//! What is shown is [`crate::ui::watch_view::View`] (pure, unit-tested); which lines are new and how a failed
//! poll is classified is [`crate::stack::follow`]. This file holds the timing: every 2 s start to start while
//! idle (at most 30 calls a minute), every second for 10 s after news, backing off on throttling, expired
//! credentials, a missing log group or other faults; Enter records a marker; Ctrl-C ends with a summary.
use crate::cli::GlobalArgs;
use crate::stack::follow::{Fault, Readiness, Seen};
use crate::stack::Generator;
use crate::ui::progress::Progress;
use crate::ui::watch_view::{rfc3339_secs, sanitize, View};
use crate::ui::Output;
use anyhow::{bail, Result};
use clap::Args;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::UnboundedReceiver;

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// Start at T: an age (30m, 2h), an RFC 3339 time or a date, as generate's --since (default: when the stack
    /// was created).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// One JSON object per line on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Print what is there and exit.
    #[arg(long)]
    pub once: bool,
    /// Exit after this long without news (e.g. 10m, 90s).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub until_idle: Option<Duration>,
}

/// Idle poll interval, start to start: 30 calls a minute at most.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// Poll interval for a while after news, so the rest of a burst shows at once.
const BUSY_POLL: Duration = Duration::from_secs(1);
const BUSY_FOR: Duration = Duration::from_secs(10);
/// Pages per poll at most (each page is one call); the first read may page through the whole history.
const MAX_PAGES: u32 = 20;
const FIRST_MAX_PAGES: u32 = 10_000;

pub async fn exec(g: &GlobalArgs, a: &WatchArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    let since_arg = a
        .since
        .as_deref()
        .map(|s| {
            crate::time::parse_since_flag(
                "--since",
                s,
                SystemTime::UNIX_EPOCH + Duration::from_millis(now_ms() as u64),
            )
            .map(crate::time::to_ms)
        })
        .transpose()?;
    let gen = wait_for_stack(g, a, out).await?;
    let group = gen.function_log_group();
    let since_ms = match since_arg {
        Some(s) => s,
        None => match gen.log_created_ms().await? {
            Some(t) => t,
            None => bail!(
                "the function's log group {group} does not exist (was it deleted?): run `lppg up` to restore it"
            ),
        },
    };
    let live = !a.once && !a.json && out.stderr_tty;
    let mut view = View::new(out.color && out.stdout_tty);
    view.policy_count = gen.policy_arns().len();
    let principal = format!("{} {}", gen.principal().as_str(), gen.principal_arn());
    let w = Watch::new(gen, a, out, view, since_ms, live);
    if !a.json {
        let keys = if live && out.stdin_tty {
            " · press Enter to mark a step boundary, Ctrl-C to stop"
        } else {
            ""
        };
        w.note(&format!(
            "watching {group} from {} UTC, following the {principal}{keys}",
            rfc3339_secs(since_ms)
        ));
    }
    let marks = read_marks(live && out.stdin_tty);
    w.run(marks).await
}

/// Waits while the stack is being created; fails with advice when it is missing, failed or going away.
async fn wait_for_stack(g: &GlobalArgs, a: &WatchArgs, out: &Output) -> Result<Generator> {
    let mut said = false;
    loop {
        let gen = Generator::connect(&g.aws, &g.stack_name, Default::default()).await?;
        match gen.readiness()? {
            Readiness::Ready => return Ok(gen),
            Readiness::Never(why) => bail!(why),
            Readiness::Creating(status) if a.once => bail!(
                "stack {} is still being created ({status}): wait for `lppg up` to finish, then run watch again",
                g.stack_name
            ),
            Readiness::Creating(status) => {
                if !said {
                    out.info(&format!("stack {} is still being created ({status}); waiting for it…", g.stack_name));
                    said = true;
                }
                crate::clock::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Enter on a terminal records an unlabelled marker (typed text becomes its label). A plain thread, so the
/// runtime never waits for a blocked read at exit.
fn read_marks(enabled: bool) -> UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    if enabled {
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
                line.clear();
            }
        });
    }
    rx
}

/// One watch: what it has seen, how fast it polls, and where it prints.
struct Watch<'a> {
    gen: Generator,
    a: &'a WatchArgs,
    out: &'a Output,
    view: View,
    seen: Seen,
    since_ms: i64,
    spinner: Progress,
    /// stdout was closed (`lppg watch | head`): stop printing, exit quietly.
    closed: bool,
    calls: u64,
    /// Times are ms on [`crate::clock`], like every wait of lppg (tests run the watch on a virtual clock).
    started: i64,
    last_news: i64,
    /// When news last arrived after the first read (the first read's history does not make the watch busy).
    busy_since: Option<i64>,
    fault: Option<Fault>,
    backoff: Duration,
    group_missing: bool,
    first: bool,
    /// Failed batches waiting at the last look, and when that was.
    failed: Option<u64>,
    failed_checked: Option<i64>,
    /// When the trail's log group was last compared with the policies (ms on [`crate::clock`]).
    gap_checked_ms: Option<i64>,
}

/// How often watch looks at the failed-batches queue.
const FAILED_CHECK: Duration = Duration::from_secs(30);
/// How often watch compares the trail's log group with the policies (delivered, not yet granted). Each look reads
/// the trail's log group with FilterLogEvents, whose quota (a few requests a second per account and region) the
/// watch's own polls share: once a minute is enough for calls CloudTrail delivers minutes late.
const GAP_CHECK: Duration = Duration::from_secs(60);

/// Whether the delivered-not-granted look is due: the first time, then [`GAP_CHECK`] after the last one.
fn gap_due(last_ms: Option<i64>, now_ms: i64) -> bool {
    last_ms.is_none_or(|t| now_ms - t >= GAP_CHECK.as_millis() as i64)
}

/// Now on [`crate::clock`], in ms.
fn now_ms() -> i64 {
    crate::clock::now_ms()
}

/// How long ago `t` (ms on [`crate::clock`]) was.
fn since(t: i64) -> Duration {
    Duration::from_millis((now_ms() - t).max(0) as u64)
}

/// What a poll decided.
enum Next {
    PollIn(Duration),
    Finish,
}

impl<'a> Watch<'a> {
    fn new(
        gen: Generator,
        a: &'a WatchArgs,
        out: &'a Output,
        view: View,
        since_ms: i64,
        live: bool,
    ) -> Self {
        Watch {
            gen,
            a,
            out,
            view,
            seen: Seen::default(),
            since_ms,
            spinner: Progress::status_line(live),
            closed: false,
            calls: 0,
            started: now_ms(),
            last_news: now_ms(),
            busy_since: None,
            fault: None,
            backoff: IDLE_POLL,
            group_missing: false,
            first: true,
            failed: None,
            failed_checked: None,
            gap_checked_ms: None,
        }
    }

    async fn run(
        mut self,
        mut marks: UnboundedReceiver<String>,
    ) -> Result<crate::exit::ExitStatus> {
        let mut next_poll = now_ms();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            // One wait on the clock, until the next poll or the idle deadline, whichever is first.
            let idle_deadline = self
                .a
                .until_idle
                .map(|d| self.last_news + d.as_millis() as i64);
            let wake = idle_deadline.map_or(next_poll, |d| d.min(next_poll));
            let wait = Duration::from_millis((wake - now_ms()).max(0) as u64);
            tokio::select! {
                _ = crate::clock::sleep(wait) => {
                    if idle_deadline.is_some_and(|d| now_ms() >= d) {
                        return Ok(self.finish());
                    }
                    if now_ms() < next_poll {
                        continue;
                    }
                }
                _ = &mut ctrl_c => return Ok(self.finish()),
                Some(label) = marks.recv() => {
                    if let Err(e) = self.gen.write_marker(&label).await {
                        self.note(&format!("could not record the marker: {e}"));
                    }
                    next_poll = now_ms();
                    continue;
                }
                // The spinner's animation, on a terminal only: real time, not a wait.
                _ = tick.tick(), if self.spinner.is_live() => {
                    self.show_status();
                    continue;
                }
            }
            let poll_started = now_ms();
            match self.poll().await? {
                Next::Finish => return Ok(self.finish()),
                Next::PollIn(interval) => next_poll = poll_started + interval.as_millis() as i64,
            }
            if self.closed {
                return Ok(crate::exit::OK);
            }
            self.show_status();
        }
    }

    /// One poll: print what is new, and decide when to poll next.
    async fn poll(&mut self) -> Result<Next> {
        let max_pages = if self.first {
            FIRST_MAX_PAGES
        } else {
            MAX_PAGES
        };
        let polled = self
            .gen
            .poll_log(&mut self.seen, self.since_ms, max_pages)
            .await;
        let busy = self.busy_since.is_some_and(|t| since(t) < BUSY_FOR);
        let mut interval = if busy { BUSY_POLL } else { IDLE_POLL };
        let polled = match polled {
            Ok(p) => p,
            Err(e) if self.a.once => return Err(e),
            Err(e) => return Ok(Next::PollIn(self.failed(&e))),
        };
        self.calls += u64::from(polled.calls);
        self.recovered();
        match polled.lines {
            None if self.a.once => bail!(
                "the function's log group {} does not exist (was it deleted?): run `lppg up` to restore it",
                self.gen.function_log_group()
            ),
            None => {
                if !self.group_missing {
                    self.note(&format!(
                        "warning: the function's log group {} is gone (deleted?): run `lppg up` to restore it; \
                         watching for it to come back",
                        self.gen.function_log_group()
                    ));
                    self.group_missing = true;
                }
                interval = Duration::from_secs(10);
            }
            Some(lines) => {
                self.show_lines(lines).await;
                self.check_failed().await;
                self.check_gap().await;
                if self.a.once {
                    return Ok(Next::Finish);
                }
            }
        }
        self.first = false;
        Ok(Next::PollIn(interval))
    }

    async fn show_lines(&mut self, lines: Vec<(i64, crate::decisions::Line)>) {
        if self.group_missing {
            self.note(&format!(
                "the log group {} is back: resuming",
                self.gen.function_log_group()
            ));
            self.group_missing = false;
        }
        let mut text = Vec::new();
        for (ts, line) in lines {
            if self.view.is_repeat(&line) {
                continue;
            }
            self.view.note(ts, &line);
            if View::is_news(&line) {
                self.last_news = now_ms();
                if !self.first {
                    self.busy_since = Some(self.last_news);
                }
            }
            if self.a.json {
                text.extend(View::render_json(ts, &line).map(|v| v.to_string()));
            } else {
                text.extend(self.view.render_text(ts, &line));
            }
        }
        self.print(&text);
        if self.first {
            // The footer wants sizes; when no batch line carried them, read the policies once.
            if self.view.sizes.is_empty() {
                if let Ok(gen) = self.gen.generated().await {
                    for p in &gen.policies {
                        self.view
                            .sizes
                            .insert(p.arn.clone(), (p.size, usize::from(p.in_use())));
                    }
                }
            }
            self.last_news = now_ms();
        }
    }

    /// A red line when a failed batch arrives (or, at the start, when some wait): their denied calls are not
    /// granted until `lppg redrive` re-runs them.
    async fn check_failed(&mut self) {
        if self.failed_checked.is_some_and(|t| since(t) < FAILED_CHECK) {
            return;
        }
        self.failed_checked = Some(now_ms());
        let Ok(Some(n)) = self.gen.failed_batches().await else {
            return;
        };
        if n > self.failed.unwrap_or(0) {
            let text = format!(
                "{n} failed batches waiting in {}: the function gave up on them and their denied calls are not \
                 granted; run `lppg redrive`",
                self.gen.failed_queue()
            );
            let line = if self.a.json {
                serde_json::json!({"lppg": "failed_batches", "waiting": n, "message": text})
                    .to_string()
            } else {
                crate::ui::paint(
                    self.out.color && self.out.stdout_tty,
                    crate::ui::Style::Red,
                    &text,
                )
            };
            self.print(&[line]);
        }
        self.failed = Some(n);
    }

    /// Delivered, not yet granted (as `status` and `export-policy` show it): denied calls in the trail's log group
    /// that the function has not granted, read at most every [`GAP_CHECK`] on lppg's clock (and once with
    /// `--once`); a line when they appear, change or are all granted. Only a report: a read that fails says nothing
    /// (with `-v`, why).
    async fn check_gap(&mut self) {
        let now = crate::clock::now_ms();
        if !gap_due(self.gap_checked_ms, now) {
            return;
        }
        self.gap_checked_ms = Some(now);
        let gap = match self.gen.generated().await {
            Ok(generated) => self.gen.delivered_gap(&generated.granted()).await,
            Err(e) => Err(e),
        };
        let missing = match gap {
            Ok(Some(gap)) => gap.missing.keys().map(ToString::to_string).collect(),
            Ok(None) => return,
            Err(e) => {
                if self.out.verbose {
                    self.note(&format!(
                        "could not compare the trail's log group with the policies (delivered, not yet granted): \
                         {}",
                        sanitize(&format!("{e:#}"))
                    ));
                }
                return;
            }
        };
        if self.view.note_gap(missing) {
            let line = if self.a.json {
                self.view.gap_json(now).to_string()
            } else {
                self.view.gap_text()
            };
            self.print(&[line]);
        }
    }

    /// A failed poll: say so once per kind of fault, and back off.
    fn failed(&mut self, e: &anyhow::Error) -> Duration {
        let f = Fault::of(e);
        self.backoff = match f {
            Fault::Credentials => Duration::from_secs(10),
            Fault::Throttled | Fault::Other => {
                (self.backoff * 2).clamp(Duration::from_secs(4), Duration::from_secs(30))
            }
        };
        if self.fault != Some(f) {
            let msg = match f {
                Fault::Throttled => "CloudWatch Logs is throttling the reads: slowing down".to_string(),
                Fault::Credentials => "your AWS credentials have expired or are not valid: refresh them (e.g. \
                                       `aws sso login`); watch keeps going and resumes when they are back"
                    .to_string(),
                Fault::Other => format!("reading the log failed, retrying: {e}"),
            };
            self.note(&format!("warning: {}", sanitize(&msg)));
            if self.out.verbose {
                self.note(&format!("{e:?}"));
            }
        }
        self.fault = Some(f);
        self.backoff
    }

    fn recovered(&mut self) {
        if let Some(f) = self.fault.take() {
            let what = match f {
                Fault::Credentials => "credentials are back",
                Fault::Throttled => "no longer throttled",
                Fault::Other => "reading the log works again",
            };
            self.note(&format!("{what}: resuming"));
        }
        self.backoff = IDLE_POLL;
    }

    /// Lines on stdout, with the spinner hidden while they print.
    fn print(&mut self, lines: &[String]) {
        if lines.is_empty() || self.closed {
            return;
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let r = self.spinner.print_stdout(&text);
        self.closed = r.is_err();
    }

    /// A message on stderr (above the spinner).
    fn note(&self, text: &str) {
        self.spinner.line(text);
    }

    /// The spinner's one line: the footer, then what it waits for (cut to the terminal's width).
    fn show_status(&self) {
        let waiting = self.view.waiting(crate::time::now_ms());
        self.spinner
            .set_message(&format!("{} · {waiting}", self.view.footer()));
    }

    fn finish(mut self) -> crate::exit::ExitStatus {
        self.spinner.finish();
        let footer = if self.a.json {
            vec![self.view.footer_json().to_string()]
        } else {
            vec![String::new(), self.view.footer()]
        };
        self.print(&footer);
        if self.out.verbose {
            let secs = since(self.started).as_secs_f64();
            self.out.info(&format!(
                "FilterLogEvents calls: {} in {secs:.1}s ({:.1}/min)",
                self.calls,
                self.calls as f64 / (secs / 60.0).max(1e-9)
            ));
        }
        crate::exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trail's log group is read at most once a minute, on lppg's clock.
    #[test]
    fn the_gap_is_read_at_most_once_a_minute() {
        let t = 1_767_261_600_000;
        assert!(gap_due(None, t));
        assert!(!gap_due(Some(t), t + 59_999));
        assert!(gap_due(Some(t), t + 60_000));
    }
}
