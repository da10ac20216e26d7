//! What `lppg watch` shows, as a pure function of the log lines it has seen: one line per decision, grouped by
//! the denied call's time so one console click reads as one block, markers and failures in line, the footer and
//! what the spinner says while waiting. Unit-tested here; the polling is [`crate::stack::follow`].
use super::Style;
use crate::decisions::{advice_for_error, Decision, DecisionKind, Line, Marker};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Decisions whose denied calls are this close to the first of a block belong to it (one console click).
const BURST_MS: i64 = 10_000;
/// How long IAM takes to apply a policy change, roughly.
const IAM_APPLY_MS: i64 = 10_000;

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

/// What the watch has seen so far, and the state the rendering needs (the current block).
#[derive(Debug, Clone, Default)]
pub struct View {
    pub color: bool,
    pub granted: usize,
    pub withheld: usize,
    /// Calls blocked by another policy (an SCP, a permissions boundary…), and the kinds and policies already shown:
    /// each is shown once, not once per call.
    pub blocked: usize,
    blocked_shown: BTreeSet<(String, String)>,
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
    /// The calls shown so far, (event id, action) → the kind shown: a second delivery of the same call is skipped.
    shown: HashMap<(String, Option<String>), DecisionKind>,
    /// Per path that delivered them (its label), the delays from call to grant (ms) of the grants shown.
    delays: BTreeMap<String, Vec<i64>>,
    /// Delivered, not yet granted: the actions of denied calls CloudTrail delivered to the trail's log group that
    /// the function has not granted, at the last look (`None`: not read, or it could not be read).
    pub not_yet_granted: Option<Vec<String>>,
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

    fn paint(&self, style: Style, text: &str) -> String {
        super::paint(self.color, style, text)
    }

    /// Whether a decision line repeats one already shown: the same call (`event_id`) and action delivered again by
    /// the other path (EventBridge within seconds, the trail's CloudWatch Logs minutes later), so `watch` shows each
    /// call once, with the first path's delay. A call first shown as an error is shown again when it is retried.
    /// Call once per line, before [`View::note`]; skip the line when it answers true.
    pub fn is_repeat(&mut self, line: &Line) -> bool {
        let Line::Decision(d) = line else {
            return false;
        };
        let Some(id) = d.event_id.as_deref() else {
            return false;
        };
        if d.decision == DecisionKind::Probe {
            return false;
        }
        let key = (id.to_string(), d.action.clone());
        match self.shown.get(&key) {
            Some(kind) if *kind != DecisionKind::Error => true,
            _ => {
                self.shown.insert(key, d.decision.clone());
                false
            }
        }
    }

    /// Takes note of one log line (counters, sizes, times); call once per line, before rendering it.
    pub fn note(&mut self, ts_ms: i64, line: &Line) {
        let news = match line {
            Line::Decision(d) => {
                self.decisions += 1;
                match d.decision {
                    DecisionKind::Granted | DecisionKind::Unverified => {
                        self.granted += 1;
                        let call = d.event_time.as_deref().and_then(parse_time_ms);
                        if let (Some(path), Some(t)) = (d.path_label(), call) {
                            self.delays
                                .entry(path.to_string())
                                .or_default()
                                .push(ts_ms - t);
                        }
                        let new_burst = self.last_grant_ms.is_none_or(|g| ts_ms - g > BURST_MS);
                        self.burst_granted = if new_burst { 1 } else { self.burst_granted + 1 };
                        self.last_grant_ms = Some(ts_ms);
                    }
                    DecisionKind::Withheld => self.withheld += 1,
                    DecisionKind::Blocked => self.blocked += 1,
                    DecisionKind::Error => self.errors += 1,
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
        if !Self::is_news(line) || self.blocked_before(line) {
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
            out.push(self.paint(Style::Dim, &format!("{day} (times in UTC)")));
            self.day = Some(day);
            self.block = None;
        }
        match line {
            Line::Decision(d) => self.decision_text(ts_ms, d, &mut out),
            Line::Marker(m) => {
                self.new_block(&mut out);
                let t = clock(parse_time_ms(&m.time).unwrap_or(ts_ms));
                let what = if m.label.is_empty() {
                    "step boundary".to_string()
                } else {
                    format!("step {:?}", sanitize(&m.label))
                };
                out.push(self.paint(Style::Plain, &format!("{t}  ▸ {what} marked")));
            }
            Line::RuntimeError(text) => {
                self.new_block(&mut out);
                let head = format!("{}  function failure: {}", clock(ts_ms), sanitize(text));
                out.push(self.paint(Style::Red, &head));
                out.push(self.paint(
                    Style::Red,
                    &format!("{:>20}→ {}", "", advice_for_error(text)),
                ));
            }
            Line::Unparsed(raw) => {
                self.new_block(&mut out);
                let text = format!(
                    "{}  unreadable line (shown as is): {}",
                    clock(ts_ms),
                    sanitize(raw)
                );
                out.push(self.paint(Style::Yellow, &text));
            }
            Line::Other(_) | Line::Batch(_) => {}
        }
        self.printed_any = true;
        out
    }

    /// Whether `line` is blocked by a kind and policy already shown (each is shown once, not once per call).
    fn blocked_before(&mut self, line: &Line) -> bool {
        let Line::Decision(d) = line else {
            return false;
        };
        if d.decision != DecisionKind::Blocked {
            return false;
        }
        let key = (
            d.denied_by.clone().unwrap_or_default(),
            d.denied_by_policy.clone().unwrap_or_default(),
        );
        !self.blocked_shown.insert(key)
    }

    /// A blank line before a marker or failure, which ends the current block.
    fn new_block(&mut self, out: &mut Vec<String>) {
        if self.printed_any {
            out.push(String::new());
        }
        self.block = None;
    }

    /// One decision: its block's time (or blank within a block), the delay, the action and the outcome.
    fn decision_text(&mut self, ts_ms: i64, d: &Decision, out: &mut Vec<String>) {
        let et = d.event_time.as_deref().and_then(parse_time_ms);
        let time_col = match et {
            Some(t) if self.block.is_some_and(|b| (t - b).abs() <= BURST_MS) => " ".repeat(8),
            Some(t) => {
                if self.printed_any {
                    out.push(String::new());
                }
                self.block = Some(t);
                clock(t)
            }
            None => {
                if self.block.is_some() {
                    out.push(String::new());
                }
                self.block = None;
                clock(ts_ms)
            }
        };
        let delay = et
            .map(|t| format!("+{}", human_delay(ts_ms - t)))
            .unwrap_or_default();
        let (tone, outcome) = outcome_text(d);
        let path = d
            .path_label()
            .map(|p| self.paint(Style::Dim, &format!(" (via {})", sanitize(p))))
            .unwrap_or_default();
        out.push(format!(
            "{time_col}  {delay:>8}  {:<34} {}{path}",
            sanitize(&action_text(d)),
            self.paint(tone, &sanitize(&outcome))
        ));
        if d.decision == DecisionKind::Error {
            let advice = advice_for_error(d.reason.as_deref().unwrap_or(""));
            out.push(self.paint(Style::Red, &format!("{:>20}→ {advice}", "")));
        }
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
                if d.decision == DecisionKind::Error {
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

    /// Takes note of the delivered-not-granted actions read now; answers whether they differ from the last look (a
    /// first look that finds none is no change: nothing was shown, nothing is to say).
    pub fn note_gap(&mut self, missing: Vec<String>) -> bool {
        let before = self.not_yet_granted.replace(missing);
        let now = self.not_yet_granted.as_deref().unwrap_or_default();
        match before {
            None => !now.is_empty(),
            Some(b) => b != now,
        }
    }

    /// The line for the delivered-not-granted actions (after [`View::note_gap`] said they changed): the actions, or
    /// that none is left.
    pub fn gap_text(&self) -> String {
        match self.not_yet_granted.as_deref().unwrap_or_default() {
            [] => self.paint(
                Style::Green,
                "delivered, not yet granted: none left (the function has granted every denied call CloudTrail \
                 delivered)",
            ),
            actions => self.paint(
                Style::Yellow,
                &format!(
                    "delivered, not yet granted: {} (CloudTrail delivered these denied calls; the function has not \
                     granted them yet; `lppg down` saves them)",
                    sanitize(&actions.join(", "))
                ),
            ),
        }
    }

    /// [`View::gap_text`] as one JSON line (`now_ms`: when it was read).
    pub fn gap_json(&self, now_ms: i64) -> Value {
        json!({
            "type": "delivered_not_granted",
            "time": rfc3339_millis(now_ms),
            "actions": self.not_yet_granted.as_deref().unwrap_or_default(),
        })
    }

    /// The footer: actions granted and withheld, errors, markers, policies in use and the share of the size budget.
    pub fn footer(&self) -> String {
        let mut parts = vec![
            format!("{} granted", self.granted),
            format!("{} withheld", self.withheld),
        ];
        if self.blocked > 0 {
            parts.push(format!(
                "{} blocked by other policies (not granted)",
                self.blocked
            ));
        }
        if let Some(n) = self
            .not_yet_granted
            .as_ref()
            .map(Vec::len)
            .filter(|n| *n > 0)
        {
            parts.push(format!("{n} delivered, not yet granted"));
        }
        parts.extend([
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
        ]);
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
        let medians: Vec<String> = self
            .median_delays()
            .into_iter()
            .map(|(path, ms)| format!("{path} {}", human_delay(ms)))
            .collect();
        if !medians.is_empty() {
            parts.push(format!("median call→grant {}", medians.join(", ")));
        }
        parts.join(" · ")
    }

    /// The median delay from call to grant per path (label), over the grants shown this session.
    pub fn median_delays(&self) -> Vec<(String, i64)> {
        self.delays
            .iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(path, d)| {
                let mut d = d.clone();
                d.sort_unstable();
                (path.clone(), d[d.len() / 2])
            })
            .collect()
    }

    pub fn footer_json(&self) -> Value {
        json!({
            "type": "summary",
            "decisions": self.decisions,
            "granted": self.granted,
            "withheld": self.withheld,
            "blocked": self.blocked,
            "errors": self.errors,
            "markers": self.markers,
            "policies_in_use": self.budget_share().map(|_| self.in_use()),
            "policy_count": self.policy_count,
            "budget_percent": self.budget_share().map(|b| (b * 10.0).round() / 10.0),
            "median_delay_s": self
                .median_delays()
                .into_iter()
                .map(|(path, ms)| (path, json!(ms / 1000)))
                .collect::<serde_json::Map<String, Value>>(),
            "delivered_not_granted": self.not_yet_granted,
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

fn outcome_text(d: &Decision) -> (Style, String) {
    let reason = d.reason.as_deref().filter(|r| !r.is_empty());
    let with_reason = |head: &str| match reason {
        Some(r) => format!("{head}: {r}"),
        None => head.to_string(),
    };
    match &d.decision {
        DecisionKind::Granted => {
            let mut s = "granted".to_string();
            if let Some(p) = &d.policy {
                s.push_str(&format!(" → {}", policy_name(p)));
                if let Some(v) = &d.version {
                    s.push_str(&format!(" {v}"));
                }
            }
            if let Some(r) = reason {
                s.push_str(&format!(" ({r})"));
            }
            (Style::Green, s)
        }
        DecisionKind::AlreadyPresent => (Style::Plain, "already present".into()),
        DecisionKind::Unverified => (Style::Yellow, with_reason("granted, unverified")),
        DecisionKind::Withheld => (Style::Yellow, with_reason("withheld by the guard")),
        DecisionKind::ExplicitDeny => (
            Style::Yellow,
            with_reason("explicit deny (not fixable here)"),
        ),
        DecisionKind::Blocked => {
            let mut s = with_reason("blocked by another policy");
            if let Some(arn) = &d.denied_by_policy {
                s.push_str(&format!(" ({arn})"));
            }
            (Style::Magenta, s)
        }
        DecisionKind::NotPermission => (Style::Dim, with_reason("not a permission problem")),
        DecisionKind::Error => (Style::Red, with_reason("error")),
        DecisionKind::Probe => (
            Style::Dim,
            "probe (lppg status --probe): nothing granted".into(),
        ),
        DecisionKind::Unknown(other) => (Style::Plain, with_reason(&other.replace('_', " "))),
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
            resources: Vec::new(),
            denied_by: None,
            denied_by_policy: None,
            path: None,
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

    /// One call through both paths: EventBridge's line is shown (with its delay and path), CloudWatch Logs'
    /// `already_present` for the same event minutes later is not; an error first is shown again once retried.
    #[test]
    fn a_call_delivered_twice_is_shown_once() {
        let via = |kind: &str, path: &str, id: &str| match decision(
            kind,
            Some("s3:ListBucket"),
            Some(T0),
        ) {
            Line::Decision(mut d) => {
                d.event_id = Some(id.to_string());
                d.path = Some(path.to_string());
                Line::Decision(d)
            }
            other => other,
        };
        let mut view = View::new(false);
        let mut shown = Vec::new();
        for (ts, line) in [
            (T0 + 4_000, via("granted", "eventbridge", "e1")),
            (
                T0 + 300_000,
                via("already_present", "cloudwatch_logs", "e1"),
            ),
            (T0 + 5_000, via("error", "eventbridge", "e2")),
            (T0 + 310_000, via("granted", "cloudwatch_logs", "e2")),
            (
                T0 + 320_000,
                via("already_present", "cloudwatch_logs", "e2"),
            ),
        ] {
            if !view.is_repeat(&line) {
                view.note(ts, &line);
                shown.extend(view.render_text(ts, &line));
            }
        }
        let text = shown.join("\n");
        assert_eq!(text.matches("s3:ListBucket").count(), 3, "{text}");
        assert!(
            text.contains("+4s") && text.contains("(via EventBridge)"),
            "{text}"
        );
        assert!(!text.contains("already present"), "{text}");
        assert!(text.contains("(via CloudWatch Logs)"), "{text}");
        assert_eq!(view.granted, 2);
        assert!(
            view.footer()
                .ends_with("median call→grant CloudWatch Logs 5m 10s, EventBridge 4s"),
            "{}",
            view.footer()
        );
        assert_eq!(view.footer_json()["median_delay_s"]["EventBridge"], 4);
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

    fn blocked(action: &str, kind: &str, policy: Option<&str>, at: i64) -> Line {
        let line = json!({"lppg": "decision", "v": 1, "decision": "blocked", "action": action,
            "event_time": rfc3339_secs(at), "denied_by": kind, "denied_by_policy": policy,
            "reason": format!("an identity policy cannot fix this: a {kind} must allow {action}")});
        crate::decisions::parse_line(&line.to_string())
    }

    #[test]
    fn blocked_calls_show_once_per_kind_and_policy_in_their_own_colour() {
        let scp = "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-1";
        let lines = [
            (
                T0,
                blocked("sqs:ListQueues", "service_control_policy", Some(scp), T0),
            ),
            (
                T0,
                blocked(
                    "sqs:ListQueues",
                    "service_control_policy",
                    Some(scp),
                    T0 + 1_000,
                ),
            ),
            (
                T0,
                blocked(
                    "sqs:CreateQueue",
                    "service_control_policy",
                    Some(scp),
                    T0 + 2_000,
                ),
            ),
            (
                T0,
                blocked("ec2:RunInstances", "permissions_boundary", None, T0 + 3_000),
            ),
            (
                T0,
                blocked("ec2:RunInstances", "permissions_boundary", None, T0 + 4_000),
            ),
        ];
        let mut v = View::new(false);
        let text = render_all(&mut v, &lines);
        assert_eq!(
            text.matches("blocked by another policy").count(),
            2,
            "{text}"
        );
        assert!(
            text.contains("sqs:ListQueues") && text.contains(scp),
            "{text}"
        );
        assert!(!text.contains("sqs:CreateQueue"), "{text}");
        assert_eq!(v.blocked, 5);
        assert!(v
            .footer()
            .contains("5 blocked by other policies (not granted)"));
        assert_eq!(v.footer_json()["blocked"], 5);
        let mut coloured = View::new(true);
        let text = render_all(&mut coloured, &lines[..1]);
        assert!(
            text.contains("\x1b[35mblocked by another policy"),
            "{text:?}"
        );
        assert!(!View::new(false).footer().contains("blocked"));
    }

    /// Issue 19: delivered, not yet granted is said when it appears, when it changes and when it is gone; a first
    /// look that finds none says nothing, and JSON carries it in its own line and in the summary.
    #[test]
    fn delivered_not_granted_is_said_when_it_changes() {
        let mut v = View::new(false);
        assert_eq!(v.footer_json()["delivered_not_granted"], Value::Null);
        assert!(!v.note_gap(Vec::new()));
        assert_eq!(v.footer_json()["delivered_not_granted"], json!([]));
        let gap = vec![
            "s3:ListAllMyBuckets".to_string(),
            "sqs:ListQueues".to_string(),
        ];
        assert!(v.note_gap(gap.clone()));
        assert_eq!(
            v.gap_text(),
            "delivered, not yet granted: s3:ListAllMyBuckets, sqs:ListQueues (CloudTrail delivered these denied \
             calls; the function has not granted them yet; `lppg down` saves them)"
        );
        assert!(
            v.footer().contains(" · 2 delivered, not yet granted · "),
            "{}",
            v.footer()
        );
        let j = v.gap_json(T0);
        assert_eq!(j["type"], "delivered_not_granted");
        assert_eq!(j["time"], "2026-01-01T10:00:00.000Z");
        assert_eq!(j["actions"], json!(gap));
        assert_eq!(v.footer_json()["delivered_not_granted"], json!(gap));
        assert!(!v.note_gap(gap.clone()), "the same gap is not said twice");
        assert!(v.note_gap(vec!["sqs:ListQueues".into()]));
        assert!(v.note_gap(Vec::new()));
        assert!(v
            .gap_text()
            .starts_with("delivered, not yet granted: none left"));
        assert!(!v.footer().contains("delivered"));
        assert_eq!(v.gap_json(T0)["actions"], json!([]));
        let mut coloured = View::new(true);
        coloured.note_gap(gap);
        assert!(
            coloured.gap_text().contains("\x1b[33m"),
            "{:?}",
            coloured.gap_text()
        );
    }

    #[test]
    fn sanitizes_control_characters() {
        assert_eq!(sanitize("a\tb\x1b[2Jc\r"), "a b\\u{1b}[2Jc\\r");
    }
}
