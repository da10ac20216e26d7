//! The function's log group: the decisions the function writes, the step markers `lppg mark` writes, and what
//! they say about the session (first-denied times, steps, errors, the last denied call).
use super::Generator;
use crate::decisions::{self, DecisionKind, Line, Marker};
use crate::policy::{self, Action, Derivation};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The log stream markers go to, beside the function's own streams.
pub const MARKER_STREAM: &str = "lppg-markers";

/// What the function's log says about the session.
#[derive(Debug, Default)]
pub struct LogFacts {
    /// Step markers written by `lppg mark`.
    pub markers: Vec<Marker>,
    /// Per action: event time of its first denied call and how that decision derived it.
    pub first: BTreeMap<Action, (SystemTime, Option<Derivation>)>,
    /// `error` decisions: the action concerned, when there is one, and the text to show.
    pub errors: Vec<(Option<Action>, String)>,
    /// Lines that looked like ours but did not parse, and markers with unreadable times.
    pub unreadable: usize,
    /// Per action: the resources its granted (or already present) denials were seen on.
    pub evidence: policy::EvidenceMap,
    /// Denied actions the function left out of the policy (`blocked` by another policy, `explicit_deny`), one row
    /// per action, outcome, kind and policy, for `--explain`.
    pub refused: BTreeMap<RefusedKey, policy::RefusedRow>,
}

/// What makes an `--explain` row of a refused action: the action, the outcome, the kind and ARN of the policy.
pub type RefusedKey = (String, &'static str, Option<String>, Option<String>);

impl LogFacts {
    pub fn from_messages<'a>(messages: impl IntoIterator<Item = &'a str>) -> LogFacts {
        let mut facts = LogFacts::default();
        for message in messages {
            match decisions::parse_line(message) {
                // A probe (`status --probe`) is no denied call of the user.
                Line::Decision(d) if d.decision == DecisionKind::Probe => {}
                Line::Decision(d) => facts.add_decision(&d),
                Line::Marker(m) if m.at().is_some() => facts.markers.push(m),
                Line::Marker(_) => facts.unreadable += 1,
                Line::Unparsed(_) => facts.unreadable += 1,
                Line::Batch(_) | Line::RuntimeError(_) | Line::Other(_) => {}
            }
        }
        facts
    }

    fn add_decision(&mut self, d: &decisions::Decision) {
        if d.decision == DecisionKind::Error {
            let reason = d.reason.as_deref().filter(|r| !r.is_empty());
            let text = match (&d.action, reason) {
                (Some(action), Some(reason)) => format!("{action}: {reason}"),
                (Some(action), None) => action.clone(),
                (None, Some(reason)) => reason.to_string(),
                (None, None) => "unknown error".to_string(),
            };
            let action = d.action.as_deref().and_then(|a| Action::parse(a).ok());
            self.errors.push((action, text));
        }
        self.add_refused(d);
        let granted = d.decision.is_grant() || d.decision == DecisionKind::AlreadyPresent;
        if let Some(action) = d.action.as_deref().and_then(|a| Action::parse(a).ok()) {
            let items = d.resource_items();
            if granted && !items.is_empty() {
                self.evidence.entry(action).or_default().add(items);
            }
        }
        let (Some(action), Some(time)) = (&d.action, &d.event_time) else {
            return;
        };
        let (Ok(action), Some(time)) = (Action::parse(action), parse_time(time)) else {
            return;
        };
        let derived = d.derived_from.as_deref().and_then(Derivation::parse);
        match self.first.get(&action) {
            Some((known, _)) if *known <= time => {}
            _ => {
                self.first.insert(action, (time, derived));
            }
        }
    }

    /// A `blocked` or `explicit_deny` line: one more call of its row in [`LogFacts::refused`].
    fn add_refused(&mut self, d: &decisions::Decision) {
        let outcome = match d.decision {
            DecisionKind::Blocked => "blocked",
            DecisionKind::ExplicitDeny => "explicit_deny",
            _ => return,
        };
        let Some(action) = d.action.as_deref() else {
            return;
        };
        let time = d.event_time.as_deref().and_then(parse_time);
        let refusal = d.refusal();
        let key = (
            action.to_owned(),
            outcome,
            d.denied_by.clone(),
            d.denied_by_policy.clone(),
        );
        let row = self.refused.entry(key).or_insert_with(|| match &refusal {
            Some(r) => r.row(action, 0, None),
            None if outcome == "explicit_deny" => {
                crate::cloudtrail::denial::unnamed_explicit_row(action, 0, None)
            }
            None => policy::RefusedRow {
                action: action.to_owned(),
                outcome,
                kind: None,
                kind_name: None,
                policy: None,
                calls: 0,
                first_denied: None,
                fix: d.reason.clone().unwrap_or_default(),
            },
        });
        row.calls += 1;
        if time.is_some() && row.first_denied.is_none_or(|t| time.is_some_and(|n| n < t)) {
            row.first_denied = time;
        }
    }

    /// The `--explain` rows of the refused actions, by action.
    pub fn refused_rows(&self) -> Vec<policy::RefusedRow> {
        self.refused.values().cloned().collect()
    }

    pub fn first_denied(&self) -> BTreeMap<Action, SystemTime> {
        self.first
            .iter()
            .map(|(action, (time, _))| (action.clone(), *time))
            .collect()
    }
}

fn parse_time(text: &str) -> Option<SystemTime> {
    crate::time::parse_rfc3339(text)
}

/// What the function's log of the past day says, for `status`.
#[derive(Debug, Default)]
pub struct RecentLog {
    pub decisions: usize,
    /// The errors the function reported (decisions, with their action, and runtime failures), oldest first.
    pub errors: Vec<(Option<Action>, String)>,
    /// The event time of the newest denied call it decided on.
    pub last_denied: Option<String>,
    /// Calls blocked by another policy (not granted), and the distinct kinds and policies that blocked them.
    pub blocked: usize,
    pub blocked_by: std::collections::BTreeSet<(String, Option<String>)>,
}

impl RecentLog {
    pub fn from_messages<'a>(messages: impl IntoIterator<Item = &'a str>) -> RecentLog {
        let mut r = RecentLog::default();
        for message in messages {
            match decisions::parse_line(message) {
                Line::Decision(d) if d.decision == DecisionKind::Probe => {}
                Line::Decision(d) => {
                    r.decisions += 1;
                    if let Some(t) = d.event_time.clone() {
                        if r.last_denied.as_ref().is_none_or(|x| &t > x) {
                            r.last_denied = Some(t);
                        }
                    }
                    if d.decision == DecisionKind::Blocked {
                        r.blocked += 1;
                        let kind = d.denied_by.clone().unwrap_or_default();
                        r.blocked_by.insert((kind, d.denied_by_policy.clone()));
                    }
                    if d.decision == DecisionKind::Error {
                        let action = d.action.as_deref().and_then(|a| Action::parse(a).ok());
                        r.errors
                            .push((action, d.reason.unwrap_or_else(|| "error".into())));
                    }
                }
                Line::RuntimeError(e) => r.errors.push((None, e)),
                _ => {}
            }
        }
        r
    }

    /// `status`'s note on blocked calls: "3 calls blocked by 2 other policies (not granted: an identity policy
    /// cannot fix them; `lppg export-policy --explain` lists them)"; `None` when there were none.
    pub fn blocked_note(&self) -> Option<String> {
        if self.blocked == 0 {
            return None;
        }
        let n = self.blocked_by.len();
        Some(format!(
            "{} call{} blocked by {n} other polic{} (not granted: an identity policy cannot fix them; \
             `lppg export-policy --explain` lists them)",
            self.blocked,
            if self.blocked == 1 { "" } else { "s" },
            if n == 1 { "y" } else { "ies" },
        ))
    }

    /// The last error that still matters: an error about an action that a later attempt granted after all
    /// (Lambda retries a failed batch) is over.
    pub fn last_unresolved_error<'a>(
        &'a self,
        granted: &'a crate::policy::ActionSet,
    ) -> Option<&'a str> {
        unresolved(&self.errors, granted).last()
    }
}

/// The errors that still matter, oldest first: an error about an action that a later attempt granted after all
/// (Lambda retries a failed batch) is over. Runtime failures (no action) always matter.
pub fn unresolved<'a>(
    errors: &'a [(Option<Action>, String)],
    granted: &'a crate::policy::ActionSet,
) -> impl Iterator<Item = &'a str> + 'a {
    errors
        .iter()
        .filter(|(action, _)| action.as_ref().is_none_or(|a| !granted.contains(a)))
        .map(|(_, text)| text.as_str())
}

impl Generator {
    /// The whole function log, read into facts; `None` when the log group does not exist.
    pub async fn log_facts(&self) -> Result<Option<LogFacts>> {
        let group = self.function_log_group();
        let lines = crate::aws::logs::read_events(&self.c, &group, 0, 1_000_000).await?;
        Ok(lines.map(|lines| LogFacts::from_messages(lines.iter().map(|l| l.message.as_str()))))
    }

    /// The function log since `since_ms`; `None` when the log group does not exist.
    pub async fn recent_log(&self, since_ms: i64) -> Result<Option<RecentLog>> {
        let group = self.function_log_group();
        let lines = crate::aws::logs::read_events(&self.c, &group, since_ms, 20_000).await?;
        Ok(lines.map(|lines| RecentLog::from_messages(lines.iter().map(|l| l.message.as_str()))))
    }

    /// Records a step boundary with the current time (UTC, RFC 3339, whole seconds) in the function's log group.
    pub async fn write_marker(&self, label: &str) -> Result<Marker> {
        self.require_stack()?;
        let group = self.function_log_group();
        let ms = crate::time::now_ms() / 1000 * 1000;
        let time = crate::time::format_secs_ms(ms);
        if !crate::aws::logs::group_exists(&self.c, &group).await? {
            bail!(
                "the function's log group {group} does not exist (was it deleted?): run `lppg up` to restore it"
            );
        }
        // The event's timestamp is the marker's time, so the log's order and the marker agree.
        let line = decisions::marker_line(label, &time);
        crate::aws::logs::put_line(&self.c, &group, MARKER_STREAM, ms, &line).await?;
        Ok(Marker {
            label: label.to_string(),
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn parses_rfc3339_times() {
        assert_eq!(
            parse_time("2024-05-01T10:00:00Z"),
            Some(at("2024-05-01T10:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-05-01T10:00:00.250Z"),
            Some(at("2024-05-01T10:00:00.250Z"))
        );
        assert_eq!(
            parse_time("2024-05-01T12:00:00+02:00"),
            Some(at("2024-05-01T10:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-05-01T09:30:00-00:30"),
            Some(at("2024-05-01T10:00:00Z"))
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
    }

    fn decision(decision: &str, action: &str, time: &str, derived: &str) -> String {
        serde_json::json!({"lppg": "decision", "v": 1, "decision": decision, "action": action,
            "derived_from": derived, "event_time": time, "reason": ""})
        .to_string()
    }

    #[test]
    fn log_facts_keep_the_first_denial_by_event_time() {
        let lines = [
            decisions::marker_line("open", "2024-05-01T10:01:00Z"),
            decision("granted", "s3:ListBucket", "2024-05-01T10:03:00Z", "event"),
            decisions::marker_line("upload", "2024-05-01T10:02:00Z"),
            // Arrived later, denied earlier: wins.
            decision(
                "already_present",
                "S3:listbucket",
                "2024-05-01T10:01:30Z",
                "message",
            ),
            r#"{"lppg":"decision","v":1,"decision":"error","action":"sqs:TagQueue","reason":"not written"}"#
                .to_string(),
            r#"{"lppg":"marker","v":1,"label":"x","time":"soon"}"#.to_string(),
            "START RequestId: x".to_string(),
        ];
        let facts = LogFacts::from_messages(lines.iter().map(String::as_str));
        assert_eq!(facts.markers.len(), 2);
        assert_eq!(facts.unreadable, 1);
        assert_eq!(
            facts.errors,
            [(
                Some(Action::parse("sqs:TagQueue").unwrap()),
                "sqs:TagQueue: not written".to_string()
            )]
        );
        let action = Action::parse("s3:ListBucket").unwrap();
        assert_eq!(
            facts.first[&action],
            (at("2024-05-01T10:01:30Z"), Some(Derivation::Message))
        );
        let steps = policy::steps_from_markers(&facts.markers, &facts.first_denied());
        assert!(steps[0].actions.contains(&action));
        assert!(steps[1].actions.is_empty());
        assert!(facts.evidence.is_empty());
    }

    #[test]
    fn log_facts_gather_resource_evidence_of_granted_actions() {
        let line = |kind: &str, resources: serde_json::Value| {
            serde_json::json!({"lppg": "decision", "v": 1, "decision": kind, "action": "s3:GetObject",
                "event_time": "2024-05-01T10:00:00Z", "reason": "", "resources": resources})
            .to_string()
        };
        let lines = [
            line("granted", serde_json::json!(["arn:aws:s3:::b/k1"])),
            line(
                "already_present",
                serde_json::json!(["arn:aws:s3:::b/k2", "bucketName=b"]),
            ),
            line(
                "explicit_deny",
                serde_json::json!(["arn:aws:s3:::secret/k"]),
            ),
            line("granted", serde_json::json!("not a list")),
        ];
        let facts = LogFacts::from_messages(lines.iter().map(String::as_str));
        let seen = &facts.evidence[&Action::parse("s3:GetObject").unwrap()].seen;
        let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
        assert_eq!(
            seen,
            ["arn:aws:s3:::b/k1", "arn:aws:s3:::b/k2", "bucketName=b"]
        );
    }

    const SCP: &str = "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-1";

    /// Blocked and explicit-deny lines (and one grant), as the function writes them since issue 21.
    fn refused_lines() -> Vec<String> {
        let line = |kind: &str, action: &str, time: &str, by: Option<&str>, arn: Option<&str>| {
            serde_json::json!({"lppg": "decision", "v": 1, "decision": kind, "action": action,
                "event_time": time, "reason": "as written", "denied_by": by, "denied_by_policy": arn})
            .to_string()
        };
        let scp = Some("service_control_policy");
        vec![
            line(
                "blocked",
                "sqs:ListQueues",
                "2024-05-01T10:05:00Z",
                scp,
                Some(SCP),
            ),
            line(
                "blocked",
                "sqs:ListQueues",
                "2024-05-01T10:01:00Z",
                scp,
                Some(SCP),
            ),
            line(
                "blocked",
                "ec2:RunInstances",
                "2024-05-01T10:02:00Z",
                Some("permissions_boundary"),
                None,
            ),
            line(
                "explicit_deny",
                "ssm:GetParameter",
                "2024-05-01T10:03:00Z",
                Some("session_policy"),
                None,
            ),
            line(
                "explicit_deny",
                "ssm:PutParameter",
                "2024-05-01T10:03:00Z",
                None,
                None,
            ),
            line(
                "blocked",
                "sns:ListTopics",
                "2024-05-01T10:04:00Z",
                None,
                None,
            ),
            line(
                "granted",
                "s3:ListBucket",
                "2024-05-01T10:04:00Z",
                Some("identity_based_policy"),
                None,
            ),
        ]
    }

    #[test]
    fn blocked_and_explicit_lines_become_refused_rows() {
        let lines = refused_lines();
        let facts = LogFacts::from_messages(lines.iter().map(String::as_str));
        let rows = facts.refused_rows();
        let brief: Vec<(&str, &str, u64, &str)> = rows
            .iter()
            .map(|r| (r.action.as_str(), r.outcome, r.calls, r.fix.as_str()))
            .collect();
        let cannot = "an identity policy cannot fix this:";
        assert_eq!(
            brief,
            [
                (
                    "ec2:RunInstances",
                    "blocked",
                    1,
                    &*format!("{cannot} a permissions boundary must allow ec2:RunInstances")
                ),
                ("sns:ListTopics", "blocked", 1, "as written"),
                (
                    "sqs:ListQueues",
                    "blocked",
                    2,
                    &*format!("{cannot} the service control policy p-1 must allow sqs:ListQueues")
                ),
                (
                    "ssm:GetParameter",
                    "explicit_deny",
                    1,
                    "an Allow cannot fix this: a session policy denies it"
                ),
                (
                    "ssm:PutParameter",
                    "explicit_deny",
                    1,
                    "an Allow cannot fix this: a policy denies it explicitly"
                ),
            ]
        );
        assert_eq!(rows[2].policy.as_deref(), Some(SCP));
        assert_eq!(rows[2].first_denied, parse_time("2024-05-01T10:01:00Z"));
    }

    #[test]
    fn status_counts_blocked_calls_and_their_policies() {
        let lines = refused_lines();
        let recent = RecentLog::from_messages(lines.iter().map(String::as_str));
        assert_eq!(recent.blocked, 4);
        assert_eq!(
            recent.blocked_note().unwrap(),
            "4 calls blocked by 3 other policies (not granted: an identity policy cannot fix them; \
             `lppg export-policy --explain` lists them)"
        );
        assert!(RecentLog::default().blocked_note().is_none());
    }

    #[test]
    fn a_probe_is_no_denied_call() {
        let probe = decision("probe", "lppg:Probe", "2024-05-01T11:00:00Z", "");
        let granted = decision("granted", "s3:ListBucket", "2024-05-01T10:03:00Z", "event");
        let facts = LogFacts::from_messages([probe.as_str(), granted.as_str()]);
        assert!(facts.first.keys().all(|a| a.to_string() != "lppg:Probe"));
        let recent = RecentLog::from_messages([probe.as_str(), granted.as_str()]);
        assert_eq!(recent.decisions, 1);
        assert_eq!(recent.last_denied.as_deref(), Some("2024-05-01T10:03:00Z"));
    }
}
