//! `lppg watch`: follows the function's log group while you work through the procedure, so you see which denied
//! calls arrived, what was granted, and when you may retry a step.
//!
//! The rendering ([`View`]: one line per decision, grouped by the denied call's time, markers and failures in
//! line, the footer and the waiting message) is pure and unit-tested; [`exec`] polls `FilterLogEvents` and feeds
//! it. Polling: every 2 s start to start while idle (at most 30 calls a minute), every second for 10 s after
//! news, and backing off on throttling, expired credentials, a missing log group or other faults.
use super::Ctx;
use crate::cli::GlobalArgs;
use crate::decisions::{advice_for_error, parse_line, Decision, Line, Marker};
use crate::ui::Output;
use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// Start this long ago (30m, 2h) or at an RFC 3339 time (default: when the stack was created).
    #[arg(long)]
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
/// Re-read this far back on each poll: late-ingested events keep their (earlier) timestamps.
const LOOKBACK_MS: i64 = 60_000;
/// Decisions whose denied calls are this close to the first of a block belong to it (one console click).
const BURST_MS: i64 = 10_000;
/// How long IAM takes to apply a policy change, roughly.
const IAM_APPLY_MS: i64 = 10_000;
/// Pages per poll at most (each page is one call).
const MAX_PAGES: u32 = 20;

// ---------------------------------------------------------------------------------------------------------------
// Pure: time formatting, rendering, footer.

/// `HH:MM:SS` (UTC) of a time in ms since the epoch.
pub fn clock(ms: i64) -> String {
    rfc3339_secs(ms)
        .get(11..19)
        .unwrap_or("??:??:??")
        .to_string()
}

/// RFC 3339 UTC, whole seconds.
pub fn rfc3339_secs(ms: i64) -> String {
    crate::time::format_secs_ms(ms)
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339_millis(ms: i64) -> String {
    crate::time::format_millis_ms(ms)
}

/// Parses an RFC 3339 time (CloudTrail's `eventTime`, a marker's time) into ms since the epoch.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    crate::time::parse_rfc3339_ms(s)
}

/// `--since`: a duration back from `now_ms` ("30m") or an RFC 3339 time.
pub fn parse_since(s: &str, now_ms: i64) -> Result<i64> {
    if let Some(d) = crate::time::parse_duration(s) {
        return Ok(now_ms - d.as_millis() as i64);
    }
    parse_time_ms(s).ok_or_else(|| {
        anyhow::anyhow!("--since {s:?} is neither a duration (30m, 2h) nor an RFC 3339 time (2026-01-31T09:00:00Z)")
    })
}

/// A short duration: `4s`, `4m 32s`, `2h 05m`.
pub fn human_delay(ms: i64) -> String {
    if ms < 0 {
        return "?".into();
    }
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// Text from the log, made safe to print: control characters (escape sequences, carriage returns, tabs) become
/// visible escapes, so a log line can neither move the cursor nor recolour the terminal.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[derive(Clone, Copy)]
enum Tone {
    Plain,
    Green,
    Yellow,
    Red,
    Dim,
}

/// What the watch has seen so far, and the state the rendering needs (the current block).
#[derive(Debug, Clone, Default)]
pub struct View {
    pub color: bool,
    pub granted: usize,
    pub withheld: usize,
    pub errors: usize,
    pub markers: usize,
    pub decisions: usize,
    /// Latest known size of each generator policy: (size, actions), from batch lines or a read of the policies.
    pub sizes: BTreeMap<String, (usize, usize)>,
    /// How many generator policies there are, and the size limit of each.
    pub policy_count: usize,
    pub policy_limit: usize,
    /// Log time of the last news (ms).
    pub last_news_ms: Option<i64>,
    /// Log time of the last grant, and how many actions the burst it belongs to granted.
    pub last_grant_ms: Option<i64>,
    pub burst_granted: usize,
    block: Option<i64>,
    day: Option<String>,
    printed_any: bool,
}

impl View {
    pub fn new(color: bool) -> View {
        View {
            color,
            policy_count: crate::naming::POLICY_COUNT,
            policy_limit: crate::policy::MAX_POLICY_SIZE,
            ..View::default()
        }
    }

    fn paint(&self, tone: Tone, text: &str) -> String {
        let code = match tone {
            Tone::Plain => return text.to_string(),
            Tone::Green => "32",
            Tone::Yellow => "33",
            Tone::Red => "31",
            Tone::Dim => "2",
        };
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Takes note of one log line (counters, sizes, times); call once per line, before rendering it.
    pub fn note(&mut self, ts_ms: i64, line: &Line) {
        let news = match line {
            Line::Decision(d) => {
                self.decisions += 1;
                match d.decision.as_str() {
                    "granted" | "unverified" => {
                        self.granted += 1;
                        let new_burst = self.last_grant_ms.is_none_or(|g| ts_ms - g > BURST_MS);
                        self.burst_granted = if new_burst { 1 } else { self.burst_granted + 1 };
                        self.last_grant_ms = Some(ts_ms);
                    }
                    "withheld" => self.withheld += 1,
                    "error" => self.errors += 1,
                    _ => {}
                }
                true
            }
            Line::Batch(b) => {
                if let Some(sizes) = b.get("policy_sizes").and_then(Value::as_array) {
                    for s in sizes {
                        if let (Some(p), Some(size)) = (
                            s.get("policy").and_then(Value::as_str),
                            s.get("size").and_then(Value::as_u64),
                        ) {
                            let actions = s.get("actions").and_then(Value::as_u64).unwrap_or(0);
                            self.sizes
                                .insert(p.to_string(), (size as usize, actions as usize));
                        }
                    }
                }
                false
            }
            Line::Marker(_) => {
                self.markers += 1;
                true
            }
            Line::RuntimeError(_) => {
                self.errors += 1;
                true
            }
            Line::Unparsed(_) => true,
            Line::Other(_) => false,
        };
        if news {
            self.last_news_ms = Some(self.last_news_ms.map_or(ts_ms, |t| t.max(ts_ms)));
        }
    }

    /// Whether a line is news (resets `--until-idle`); runtime bookkeeping and batch summaries are not.
    pub fn is_news(line: &Line) -> bool {
        !matches!(line, Line::Other(_) | Line::Batch(_))
    }

    /// The text lines for one log line (none for runtime bookkeeping and batch summaries).
    pub fn render_text(&mut self, ts_ms: i64, line: &Line) -> Vec<String> {
        let mut out = Vec::new();
        if !Self::is_news(line) {
            return out;
        }
        let shown_ms = match line {
            Line::Decision(d) => d
                .event_time
                .as_deref()
                .and_then(parse_time_ms)
                .unwrap_or(ts_ms),
            Line::Marker(m) => parse_time_ms(&m.time).unwrap_or(ts_ms),
            _ => ts_ms,
        };
        let day = rfc3339_secs(shown_ms)[..10].to_string();
        if self.day.as_deref() != Some(day.as_str()) {
            if self.printed_any {
                out.push(String::new());
            }
            out.push(self.paint(Tone::Dim, &format!("{day} (times in UTC)")));
            self.day = Some(day);
            self.block = None;
        }
        match line {
            Line::Decision(d) => {
                let et = d.event_time.as_deref().and_then(parse_time_ms);
                let time_col = match et {
                    Some(t) => {
                        let same = self.block.is_some_and(|b| (t - b).abs() <= BURST_MS);
                        if same {
                            " ".repeat(8)
                        } else {
                            if self.printed_any {
                                out.push(String::new());
                            }
                            self.block = Some(t);
                            clock(t)
                        }
                    }
                    None => {
                        if self.block.is_some() {
                            out.push(String::new());
                        }
                        self.block = None;
                        clock(ts_ms)
                    }
                };
                let delay = et.map(|t| human_delay(ts_ms - t)).unwrap_or_default();
                let delay = if delay.is_empty() {
                    String::new()
                } else {
                    format!("+{delay}")
                };
                let (tone, outcome) = outcome_text(d);
                out.push(format!(
                    "{time_col}  {delay:>8}  {:<34} {}",
                    sanitize(&action_text(d)),
                    self.paint(tone, &sanitize(&outcome))
                ));
                if d.decision == "error" {
                    let advice = advice_for_error(d.reason.as_deref().unwrap_or(""));
                    out.push(self.paint(Tone::Red, &format!("{:>20}→ {advice}", "")));
                }
            }
            Line::Marker(m) => {
                if self.printed_any {
                    out.push(String::new());
                }
                self.block = None;
                let t = clock(parse_time_ms(&m.time).unwrap_or(ts_ms));
                let what = if m.label.is_empty() {
                    "step boundary".to_string()
                } else {
                    format!("step {:?}", sanitize(&m.label))
                };
                out.push(self.paint(Tone::Plain, &format!("{t}  ▸ {what} marked")));
            }
            Line::RuntimeError(text) => {
                if self.printed_any {
                    out.push(String::new());
                }
                self.block = None;
                out.push(self.paint(
                    Tone::Red,
                    &format!("{}  function failure: {}", clock(ts_ms), sanitize(text)),
                ));
                out.push(self.paint(
                    Tone::Red,
                    &format!("{:>20}→ {}", "", advice_for_error(text)),
                ));
            }
            Line::Unparsed(raw) => {
                if self.printed_any {
                    out.push(String::new());
                }
                self.block = None;
                out.push(self.paint(
                    Tone::Yellow,
                    &format!(
                        "{}  unreadable line (shown as is): {}",
                        clock(ts_ms),
                        sanitize(raw)
                    ),
                ));
            }
            Line::Other(_) | Line::Batch(_) => {}
        }
        self.printed_any = true;
        out
    }

    /// The JSON object for one log line (none for runtime bookkeeping).
    pub fn render_json(ts_ms: i64, line: &Line) -> Option<Value> {
        let time = rfc3339_millis(ts_ms);
        Some(match line {
            Line::Decision(d) => {
                let mut v = json!({"type": "decision", "time": time});
                let et = d.event_time.as_deref().and_then(parse_time_ms);
                v["delay_s"] = et.map_or(Value::Null, |t| json!((ts_ms - t) / 1000));
                if let Ok(Value::Object(fields)) = serde_json::to_value(d) {
                    for (k, val) in fields {
                        v[k] = val;
                    }
                }
                if d.decision == "error" {
                    v["advice"] = json!(advice_for_error(d.reason.as_deref().unwrap_or("")));
                }
                v
            }
            Line::Marker(Marker { label, time: mt }) => {
                json!({"type": "marker", "time": time, "label": label, "marked_at": mt})
            }
            Line::RuntimeError(text) => json!({
                "type": "function_error", "time": time, "message": text, "advice": advice_for_error(text)
            }),
            Line::Unparsed(raw) => json!({"type": "unparsed", "time": time, "raw": raw}),
            Line::Batch(b) => {
                let mut v = json!({"type": "batch", "time": time});
                if let Value::Object(fields) = b {
                    for (k, val) in fields {
                        if k != "lppg" && k != "v" {
                            v[k.as_str()] = val.clone();
                        }
                    }
                }
                v
            }
            Line::Other(_) => return None,
        })
    }

    fn in_use(&self) -> usize {
        self.sizes
            .values()
            .filter(|(_, actions)| *actions > 0)
            .count()
    }

    fn budget_share(&self) -> Option<f64> {
        if self.sizes.is_empty() || self.policy_count == 0 {
            return None;
        }
        let used: usize = self.sizes.values().map(|(s, _)| s).sum();
        Some(used as f64 * 100.0 / (self.policy_count * self.policy_limit) as f64)
    }

    /// The footer: actions granted and withheld, errors, markers, policies in use and the share of the size budget.
    pub fn footer(&self) -> String {
        let mut parts = vec![
            format!("{} granted", self.granted),
            format!("{} withheld", self.withheld),
            format!(
                "{} error{}",
                self.errors,
                if self.errors == 1 { "" } else { "s" }
            ),
            format!(
                "{} marker{}",
                self.markers,
                if self.markers == 1 { "" } else { "s" }
            ),
        ];
        match self.budget_share() {
            Some(b) => {
                parts.push(format!(
                    "{} of {} policies in use",
                    self.in_use(),
                    self.policy_count
                ));
                parts.push(format!("{b:.1}% of the size budget"));
            }
            None => parts.push("policy sizes not known yet".into()),
        }
        parts.join(" · ")
    }

    pub fn footer_json(&self) -> Value {
        json!({
            "type": "summary",
            "decisions": self.decisions,
            "granted": self.granted,
            "withheld": self.withheld,
            "errors": self.errors,
            "markers": self.markers,
            "policies_in_use": self.budget_share().map(|_| self.in_use()),
            "policy_count": self.policy_count,
            "budget_percent": self.budget_share().map(|b| (b * 10.0).round() / 10.0),
        })
    }

    /// What the spinner says between events.
    pub fn waiting(&self, now_ms: i64) -> String {
        let mut msg =
            "waiting for CloudTrail — deliveries typically take about 5 minutes".to_string();
        match self.last_news_ms {
            Some(t) => msg.push_str(&format!(" · last event {} ago", human_delay(now_ms - t))),
            None => msg.push_str(" · nothing yet"),
        }
        if let Some(g) = self.last_grant_ms {
            let since = now_ms - g;
            let n = self.burst_granted;
            let what = format!("{n} action{} granted", if n == 1 { "" } else { "s" });
            if since < IAM_APPLY_MS {
                msg.push_str(&format!(
                    " · {what}: give IAM {}s to apply before you retry",
                    (IAM_APPLY_MS - since + 999) / 1000
                ));
            } else if since < 10 * 60_000 {
                msg.push_str(&format!(
                    " · {what} {} ago: you can retry the step now",
                    human_delay(since)
                ));
            }
        }
        msg
    }
}

fn action_text(d: &Decision) -> String {
    match (&d.action, &d.event_source, &d.event_name) {
        (Some(a), _, _) => a.clone(),
        (None, Some(s), Some(n)) => format!("({s} {n})"),
        _ => "-".into(),
    }
}

fn outcome_text(d: &Decision) -> (Tone, String) {
    let reason = d.reason.as_deref().filter(|r| !r.is_empty());
    let with_reason = |head: &str| match reason {
        Some(r) => format!("{head}: {r}"),
        None => head.to_string(),
    };
    match d.decision.as_str() {
        "granted" => {
            let mut s = "granted".to_string();
            if let Some(p) = &d.policy {
                s.push_str(&format!(" → {}", policy_name(p)));
                if let Some(v) = &d.version {
                    s.push_str(&format!(" {v}"));
                }
            }
            (Tone::Green, s)
        }
        "already_present" => (Tone::Plain, "already present".into()),
        "unverified" => (Tone::Yellow, with_reason("granted, unverified")),
        "withheld" => (Tone::Yellow, with_reason("withheld by the guard")),
        "explicit_deny" => (
            Tone::Yellow,
            with_reason("explicit deny (not fixable here)"),
        ),
        "not_permission" => (Tone::Dim, with_reason("not a permission problem")),
        "error" => (Tone::Red, with_reason("error")),
        other => (Tone::Plain, with_reason(&other.replace('_', " "))),
    }
}

/// What went wrong with a poll, for the backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttled,
    Credentials,
    Other,
}

/// Classifies a failed poll by the error's text (the service's `Code: message`, or the SDK's reason).
pub fn classify_fault(text: &str) -> Fault {
    let t = text.to_ascii_lowercase();
    if t.contains("throttl") || t.contains("toomanyrequests") || t.contains("rate exceeded") {
        Fault::Throttled
    } else if t.contains("expired")
        || t.contains("credentials")
        || t.contains("security token")
        || t.contains("invalidclienttokenid")
        || t.contains("unrecognizedclient")
    {
        Fault::Credentials
    } else {
        Fault::Other
    }
}

/// Remembers which events were shown, so overlapping polls (the look-back) print each event once.
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashMap<String, i64>,
    /// Newest timestamp seen.
    pub cursor: Option<i64>,
}

impl Seen {
    /// True when the event is new (and records it).
    pub fn fresh(&mut self, id: &str, ts_ms: i64) -> bool {
        self.cursor = Some(self.cursor.map_or(ts_ms, |c| c.max(ts_ms)));
        self.ids.insert(id.to_string(), ts_ms).is_none()
    }

    /// Forgets events older than the look-back window.
    pub fn prune(&mut self) {
        if let Some(c) = self.cursor {
            self.ids.retain(|_, t| *t >= c - LOOKBACK_MS);
        }
    }

    /// Where the next poll starts.
    pub fn next_start(&self, since_ms: i64) -> i64 {
        self.cursor
            .map_or(since_ms, |c| (c - LOOKBACK_MS).max(since_ms))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Effects: the polling loop.

fn now_ms() -> i64 {
    crate::time::now_ms()
}

/// Where lines go: stdout for results; the spinner (stderr, terminal only) is suspended while printing.
struct Screen {
    bar: Option<indicatif::ProgressBar>,
    closed: bool,
}

impl Screen {
    fn print(&mut self, lines: &[String]) {
        if lines.is_empty() || self.closed {
            return;
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let write = || {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|_| o.flush())
        };
        let r = match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if r.is_err() {
            // A closed pipe (`lppg watch | head`): stop printing, exit quietly at the end.
            self.closed = true;
        }
    }

    fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn status(&self, footer: &str, waiting: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{waiting}\n  {footer}"));
        }
    }
}

/// Waits while the stack is being created; fails with advice when it is missing, failed or going away.
async fn wait_for_stack(g: &GlobalArgs, a: &WatchArgs, out: &Output) -> Result<Ctx> {
    let mut said = false;
    loop {
        let ctx = Ctx::load(g, None).await?;
        let stack = ctx.require_stack()?;
        let status = stack.status.clone();
        if status == "CREATE_IN_PROGRESS" || status == "REVIEW_IN_PROGRESS" {
            if a.once {
                bail!(
                    "stack {} is still being created ({status}): wait for `lppg up` to finish, then run watch again",
                    ctx.names.stack
                );
            }
            if !said {
                out.info(&format!(
                    "stack {} is still being created ({status}); waiting for it…",
                    ctx.names.stack
                ));
                said = true;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        if status.starts_with("DELETE") {
            bail!(
                "stack {} is being deleted ({status}): run `lppg up` to create it again",
                ctx.names.stack
            );
        }
        if status.starts_with("CREATE_FAILED") || status.starts_with("ROLLBACK") {
            bail!(
                "stack {} did not get created ({status}{}): run `lppg up` again; `lppg status` shows what is wrong",
                ctx.names.stack,
                stack
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        return Ok(ctx);
    }
}

pub async fn exec(g: &GlobalArgs, a: &WatchArgs, out: &Output) -> Result<i32> {
    let since_arg = a
        .since
        .as_deref()
        .map(|s| parse_since(s, now_ms()))
        .transpose()?;
    let ctx = wait_for_stack(g, a, out).await?;
    let group = super::mark::function_log_group(&ctx)?;
    let since_ms = match since_arg {
        Some(s) => s,
        None => match crate::aws::logs::group_created_ms(&ctx.c, &group).await? {
            // Whole seconds: markers carry whole-second times, and one written right after `lppg up` counts.
            Some(t) => t - t.rem_euclid(1000),
            None => bail!(
                "the function's log group {group} does not exist (was it deleted?): run `lppg up` to restore it"
            ),
        },
    };
    let color = out.color && out.stdout_tty;
    let mut view = View::new(color);
    view.policy_count = ctx.policy_arns().len();
    let live = !a.once && !a.json && out.stderr_tty;
    let mut screen = Screen {
        bar: live.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        }),
        closed: false,
    };
    if !a.json {
        screen.note(&format!(
            "watching {group} from {} UTC{}",
            rfc3339_secs(since_ms),
            if live && out.stdin_tty {
                " · press Enter to mark a step boundary, Ctrl-C to stop"
            } else {
                ""
            }
        ));
    }

    // Enter on a terminal records an unlabelled marker (typed text becomes its label). A plain thread, so the
    // runtime never waits for a blocked read at exit.
    let (tx, mut marks) = tokio::sync::mpsc::unbounded_channel::<String>();
    if live && out.stdin_tty {
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
                line.clear();
            }
        });
    } else {
        drop(tx);
    }

    let started = Instant::now();
    let mut seen = Seen::default();
    let mut calls: u64 = 0;
    let mut last_news = Instant::now();
    // When news last arrived after the first read (the first read's history does not make the watch busy).
    let mut busy_since: Option<Instant> = None;
    let mut fault: Option<Fault> = None;
    let mut backoff = IDLE_POLL;
    let mut group_missing = false;
    let mut sizes_read = false;
    let mut next_poll = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut first = true;

    let finish = |view: &View, screen: &mut Screen, calls: u64| -> Result<i32> {
        if let Some(bar) = &screen.bar {
            bar.finish_and_clear();
        }
        screen.bar = None;
        if a.json {
            screen.print(&[view.footer_json().to_string()]);
        } else {
            screen.print(&[String::new(), view.footer()]);
        }
        if out.verbose {
            let mins = started.elapsed().as_secs_f64() / 60.0;
            eprintln!(
                "FilterLogEvents calls: {calls} in {:.1}s ({:.1}/min)",
                started.elapsed().as_secs_f64(),
                calls as f64 / mins.max(1e-9)
            );
        }
        Ok(crate::exit::OK)
    };

    loop {
        let idle_deadline = a
            .until_idle
            .map(|d| tokio::time::Instant::from_std(last_news + d));
        tokio::select! {
            _ = tokio::time::sleep_until(next_poll) => {}
            _ = &mut ctrl_c => {
                return finish(&view, &mut screen, calls);
            }
            Some(label) = marks.recv() => {
                match super::mark::write_marker(&ctx, &group, &label).await {
                    Ok(_) => {}
                    Err(e) => screen.note(&format!("could not record the marker: {e}")),
                }
                next_poll = tokio::time::Instant::now();
                continue;
            }
            _ = tick.tick(), if screen.bar.is_some() => {
                screen.status(&view.footer(), &view.waiting(now_ms()));
                continue;
            }
            _ = async { tokio::time::sleep_until(idle_deadline.unwrap_or(next_poll)).await }, if idle_deadline.is_some() => {
                if last_news.elapsed() >= a.until_idle.unwrap_or_default() {
                    return finish(&view, &mut screen, calls);
                }
                continue;
            }
        }
        let poll_started = tokio::time::Instant::now();
        let poll = crate::aws::logs::poll_events(
            &ctx.c,
            &group,
            seen.next_start(since_ms),
            if first { 10_000 } else { MAX_PAGES },
        )
        .await;
        let mut interval = if busy_since.is_some_and(|t| t.elapsed() < BUSY_FOR) {
            BUSY_POLL
        } else {
            IDLE_POLL
        };
        match poll {
            Ok(p) => {
                calls += u64::from(p.calls);
                if let Some(f) = fault.take() {
                    let what = match f {
                        Fault::Credentials => "credentials are back",
                        Fault::Throttled => "no longer throttled",
                        Fault::Other => "reading the log works again",
                    };
                    screen.note(&format!("{what}: resuming"));
                }
                backoff = IDLE_POLL;
                match p.events {
                    None => {
                        if a.once {
                            bail!("the function's log group {group} does not exist (was it deleted?): run `lppg up` to restore it");
                        }
                        if !group_missing {
                            screen.note(&format!(
                                "warning: the function's log group {group} is gone (deleted?): run `lppg up` to restore it; watching for it to come back"
                            ));
                            group_missing = true;
                        }
                        interval = Duration::from_secs(10);
                    }
                    Some(events) => {
                        if group_missing {
                            screen.note(&format!("the log group {group} is back: resuming"));
                            group_missing = false;
                        }
                        let mut lines = Vec::new();
                        for ev in events {
                            if !seen.fresh(&ev.id, ev.timestamp_ms) {
                                continue;
                            }
                            let line = parse_line(&ev.message);
                            view.note(ev.timestamp_ms, &line);
                            if View::is_news(&line) {
                                last_news = Instant::now();
                                if !first {
                                    busy_since = Some(last_news);
                                }
                            }
                            if a.json {
                                if let Some(v) = View::render_json(ev.timestamp_ms, &line) {
                                    lines.push(v.to_string());
                                }
                            } else {
                                lines.extend(view.render_text(ev.timestamp_ms, &line));
                            }
                        }
                        seen.prune();
                        screen.print(&lines);
                        if first {
                            // The footer wants sizes; when no batch line carried them, read the policies once.
                            if view.sizes.is_empty() && !sizes_read {
                                sizes_read = true;
                                if let Ok(gen) = super::export_policy::load_generated(&ctx).await {
                                    for (arn, version, size) in &gen.policies {
                                        let used = version != "v1" || arn.ends_with("-policy-1");
                                        view.sizes.insert(arn.clone(), (*size, usize::from(used)));
                                    }
                                }
                            }
                            last_news = Instant::now();
                        }
                        if a.once {
                            return finish(&view, &mut screen, calls);
                        }
                    }
                }
            }
            Err(e) => {
                if a.once {
                    return Err(e);
                }
                let text = format!("{e:#}");
                let f = classify_fault(&text);
                backoff = match f {
                    Fault::Throttled => {
                        (backoff * 2).clamp(Duration::from_secs(4), Duration::from_secs(30))
                    }
                    Fault::Credentials => Duration::from_secs(10),
                    Fault::Other => {
                        (backoff * 2).clamp(Duration::from_secs(4), Duration::from_secs(30))
                    }
                };
                if fault != Some(f) {
                    let msg = match f {
                        Fault::Throttled => "CloudWatch Logs is throttling the reads: slowing down".to_string(),
                        Fault::Credentials => "your AWS credentials have expired or are not valid: refresh them (e.g. `aws sso login`); watch keeps going and resumes when they are back".to_string(),
                        Fault::Other => format!("reading the log failed, retrying: {e}"),
                    };
                    screen.note(&format!("warning: {}", sanitize(&msg)));
                    if out.verbose {
                        screen.note(&format!("{e:?}"));
                    }
                }
                fault = Some(f);
                interval = backoff;
            }
        }
        first = false;
        next_poll = poll_started + interval;
        if screen.closed {
            return Ok(crate::exit::OK);
        }
        if screen.bar.is_some() {
            screen.status(&view.footer(), &view.waiting(now_ms()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_261_600_000; // 2026-01-01T10:00:00Z

    fn decision(decision: &str, action: Option<&str>, event_time_ms: Option<i64>) -> Line {
        Line::Decision(Decision {
            decision: decision.into(),
            action: action.map(str::to_string),
            derived_from: None,
            access_level: None,
            event_time: event_time_ms.map(rfc3339_secs),
            event_id: None,
            event_source: None,
            event_name: None,
            policy: (decision == "granted")
                .then(|| "arn:aws:iam::123456789012:policy/lppg-policy-1".to_string()),
            version: (decision == "granted").then(|| "v2".to_string()),
            reason: (decision == "withheld" || decision == "error")
                .then(|| "the guard keeps it out".to_string()),
        })
    }

    fn render_all(view: &mut View, lines: &[(i64, Line)]) -> String {
        let mut out = Vec::new();
        for (ts, l) in lines {
            view.note(*ts, l);
            out.extend(view.render_text(*ts, l));
        }
        out.join("\n")
    }

    #[test]
    fn times_and_delays() {
        assert_eq!(clock(T0 + 61_000), "10:01:01");
        assert_eq!(rfc3339_secs(T0), "2026-01-01T10:00:00Z");
        assert_eq!(parse_time_ms("2026-01-01T10:00:00Z"), Some(T0));
        assert_eq!(human_delay(4_900), "4s");
        assert_eq!(human_delay(272_000), "4m 32s");
        assert_eq!(human_delay(7_500_000), "2h 05m");
        assert_eq!(human_delay(-1), "?");
        assert_eq!(parse_since("30m", T0).unwrap(), T0 - 1_800_000);
        assert_eq!(parse_since("2026-01-01T10:00:00Z", 0).unwrap(), T0);
        assert!(parse_since("yesterday", T0).is_err());
    }

    #[test]
    fn a_burst_reads_as_one_block() {
        let mut v = View::new(false);
        let text = render_all(
            &mut v,
            &[
                (
                    T0 + 300_000,
                    decision("granted", Some("ec2:CreateVpc"), Some(T0)),
                ),
                (
                    T0 + 300_000,
                    decision("already_present", Some("ec2:CreateTags"), Some(T0 + 2_000)),
                ),
                (
                    T0 + 301_000,
                    decision("withheld", Some("iam:CreateUser"), Some(T0 + 4_000)),
                ),
                (
                    T0 + 400_000,
                    decision("granted", Some("s3:CreateBucket"), Some(T0 + 60_000)),
                ),
            ],
        );
        let expected = "\
2026-01-01 (times in UTC)
10:00:00   +5m 00s  ec2:CreateVpc                      granted → lppg-policy-1 v2
           +4m 58s  ec2:CreateTags                     already present
           +4m 57s  iam:CreateUser                     withheld by the guard: the guard keeps it out

10:01:00   +5m 40s  s3:CreateBucket                    granted → lppg-policy-1 v2";
        assert_eq!(text, expected);
        assert_eq!((v.granted, v.withheld, v.errors), (2, 1, 0));
    }

    #[test]
    fn markers_failures_and_unreadable_lines_in_line() {
        let mut v = View::new(false);
        let marker = Line::Marker(Marker {
            label: "Create the VPC".into(),
            time: "2026-01-01T10:00:00Z".into(),
        });
        let unlabelled = Line::Marker(Marker {
            label: String::new(),
            time: "2026-01-01T10:00:05Z".into(),
        });
        let text = render_all(
            &mut v,
            &[
                (T0, marker),
                (T0 + 5_000, unlabelled),
                (T0 + 6_000, Line::Other("START RequestId: x".into())),
                (T0 + 7_000, decision("error", None, None)),
                (
                    T0 + 8_000,
                    Line::RuntimeError("x Task timed out after 3.00 seconds".into()),
                ),
                (
                    T0 + 9_000,
                    Line::Unparsed("{\"lppg\":\"decision\", \x1b[31mbroken\r".into()),
                ),
            ],
        );
        assert!(
            text.contains("10:00:00  ▸ step \"Create the VPC\" marked"),
            "{text}"
        );
        assert!(text.contains("10:00:05  ▸ step boundary marked"), "{text}");
        assert!(text.contains("10:00:07            -                                  error: the guard keeps it out"), "{text}");
        assert!(
            text.contains("function failure: x Task timed out"),
            "{text}"
        );
        assert!(text.contains("→ the function ran out of time"), "{text}");
        assert!(
            text.contains(
                "unreadable line (shown as is): {\"lppg\":\"decision\", \\u{1b}[31mbroken\\r"
            ),
            "{text}"
        );
        assert!(!text.contains('\x1b') && !text.contains('\r'), "{text}");
        assert!(!text.contains("START"));
        assert_eq!((v.markers, v.errors), (2, 2));
    }

    #[test]
    fn colour_only_when_asked() {
        let mut v = View::new(true);
        let t = v.render_text(T0, &decision("error", None, None)).join("\n");
        assert!(t.contains("\x1b[31m"));
        let mut v = View::new(false);
        assert!(!v
            .render_text(T0, &decision("error", None, None))
            .join("\n")
            .contains('\x1b'));
    }

    #[test]
    fn footer_from_batch_sizes() {
        let mut v = View::new(false);
        v.policy_count = 7;
        assert_eq!(
            v.footer(),
            "0 granted · 0 withheld · 0 errors · 0 markers · policy sizes not known yet"
        );
        let batch = serde_json::json!({"lppg": "batch", "policy_sizes": [
            {"policy": "arn:aws:iam::1:policy/lppg-policy-1", "size": 4300, "actions": 40},
            {"policy": "arn:aws:iam::1:policy/lppg-policy-2", "size": 2150, "actions": 3},
            {"policy": "arn:aws:iam::1:policy/lppg-policy-3", "size": 150, "actions": 0}]});
        v.note(T0, &Line::Batch(batch.clone()));
        v.note(T0, &decision("granted", Some("a:B"), Some(T0)));
        assert_eq!(
            v.footer(),
            "1 granted · 0 withheld · 0 errors · 0 markers · 2 of 7 policies in use · 15.3% of the size budget"
        );
        assert_eq!(v.footer_json()["budget_percent"], serde_json::json!(15.3));
        let j = View::render_json(T0, &Line::Batch(batch)).unwrap();
        assert_eq!(j["type"], "batch");
        assert!(j.get("lppg").is_none());
    }

    #[test]
    fn json_lines() {
        let j = View::render_json(
            T0 + 90_000,
            &decision("granted", Some("ec2:CreateVpc"), Some(T0)),
        )
        .unwrap();
        assert_eq!(j["type"], "decision");
        assert_eq!(j["delay_s"], 90);
        assert_eq!(j["action"], "ec2:CreateVpc");
        assert_eq!(j["time"], "2026-01-01T10:01:30.000Z");
        let e = View::render_json(T0, &decision("error", None, None)).unwrap();
        assert!(e["advice"].as_str().is_some());
        assert!(View::render_json(T0, &Line::Other("END".into())).is_none());
    }

    #[test]
    fn waiting_says_when_to_retry() {
        let mut v = View::new(false);
        assert!(v
            .waiting(T0)
            .starts_with("waiting for CloudTrail — deliveries typically take about 5 minutes"));
        v.note(T0, &decision("granted", Some("a:B"), Some(T0 - 300_000)));
        v.note(
            T0 + 500,
            &decision("granted", Some("a:C"), Some(T0 - 300_000)),
        );
        let soon = v.waiting(T0 + 3_000);
        assert!(
            soon.contains("2 actions granted: give IAM 8s to apply"),
            "{soon}"
        );
        let later = v.waiting(T0 + 40_000);
        assert!(later.contains("last event 39s ago"), "{later}");
        assert!(later.contains("you can retry the step now"), "{later}");
        assert!(!v.waiting(T0 + 3_600_000).contains("retry"));
    }

    #[test]
    fn faults_and_seen_events() {
        assert_eq!(
            classify_fault("reading failed: ThrottlingException: Rate exceeded"),
            Fault::Throttled
        );
        assert_eq!(
            classify_fault(
                "ExpiredTokenException: The security token included in the request is expired"
            ),
            Fault::Credentials
        );
        assert_eq!(
            classify_fault("could not send the request: io error"),
            Fault::Other
        );
        let mut s = Seen::default();
        assert_eq!(s.next_start(5), 5);
        assert!(s.fresh("a", T0));
        assert!(!s.fresh("a", T0));
        assert!(s.fresh("b", T0 + 120_000));
        s.prune();
        assert!(s.fresh("a", T0)); // forgotten: older than the look-back
        assert_eq!(s.next_start(0), T0 + 120_000 - LOOKBACK_MS);
    }

    #[test]
    fn sanitizes_control_characters() {
        assert_eq!(sanitize("a\tb\x1b[2Jc\r"), "a b\\u{1b}[2Jc\\r");
    }
}
