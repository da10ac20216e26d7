//! Reading the function's log: the decision lines it writes (the contract is `tests/vectors/decision_schema.json` and
//! `tests/vectors/decision_lines.json`, described in `assets/function/README.md`), its batch summaries, the step
//! markers `lppg mark` writes, and the Lambda runtime's own error lines. Pure.
use std::fmt;

use serde::{Deserialize, Serialize};

/// What the function decided about one action of one denied call: the `decision` field of a decision line.
///
/// Serialised as the function writes it (`"granted"`, `"already_present"`, …). A kind this CLI does not know (a
/// newer function) is kept as [`DecisionKind::Unknown`] with its text, so the line still parses and is shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum DecisionKind {
    /// This invocation wrote the action into a generator policy.
    Granted,
    /// Granted, but the IAM action catalogue does not know the action.
    Unverified,
    /// Already granted (earlier, by an overlapping invocation, or by an earlier record of the batch).
    AlreadyPresent,
    /// The target is part of the generator itself (the guard); not granted.
    Withheld,
    /// The call was explicitly denied; an Allow cannot fix it.
    ExplicitDeny,
    /// Console sign-in, or an action that needs no permission.
    NotPermission,
    /// Bad input, configuration problem, underivable action, full policies, IAM failure.
    Error,
    /// `lppg status --probe`'s record came back through the subscription (its id in `event_id`); nothing granted.
    Probe,
    /// Blocked by another policy: an implicit deny by an SCP, RCP, permissions boundary, session or VPC endpoint
    /// policy (`denied_by`, `denied_by_policy`), which an identity policy cannot fix; not granted.
    Blocked,
    /// A kind written by a newer function: its text, as written.
    Unknown(String),
}

impl DecisionKind {
    /// Every kind this CLI knows, in the order of the function's README.
    pub const KNOWN: [DecisionKind; 9] = [
        DecisionKind::Granted,
        DecisionKind::Unverified,
        DecisionKind::AlreadyPresent,
        DecisionKind::Withheld,
        DecisionKind::ExplicitDeny,
        DecisionKind::NotPermission,
        DecisionKind::Error,
        DecisionKind::Probe,
        DecisionKind::Blocked,
    ];

    /// The text the function writes for this kind.
    pub fn as_str(&self) -> &str {
        match self {
            DecisionKind::Granted => "granted",
            DecisionKind::Unverified => "unverified",
            DecisionKind::AlreadyPresent => "already_present",
            DecisionKind::Withheld => "withheld",
            DecisionKind::ExplicitDeny => "explicit_deny",
            DecisionKind::NotPermission => "not_permission",
            DecisionKind::Error => "error",
            DecisionKind::Probe => "probe",
            DecisionKind::Blocked => "blocked",
            DecisionKind::Unknown(text) => text,
        }
    }

    /// True for the kinds that put the action in a generator policy (`granted`, `unverified`).
    pub fn is_grant(&self) -> bool {
        matches!(self, DecisionKind::Granted | DecisionKind::Unverified)
    }
}

impl From<&str> for DecisionKind {
    fn from(text: &str) -> DecisionKind {
        DecisionKind::KNOWN
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .unwrap_or_else(|| DecisionKind::Unknown(text.to_string()))
    }
}

impl From<String> for DecisionKind {
    fn from(text: String) -> DecisionKind {
        DecisionKind::from(text.as_str())
    }
}

impl From<DecisionKind> for String {
    fn from(kind: DecisionKind) -> String {
        match kind {
            DecisionKind::Unknown(text) => text,
            known => known.as_str().to_string(),
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision of the function about one denied call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: DecisionKind,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub derived_from: Option<String>,
    #[serde(default)]
    pub access_level: Option<String>,
    #[serde(default)]
    pub event_time: Option<String>,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub event_source: Option<String>,
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The resources the call was seen on (ARNs, `name=value` request parameters): a list of strings. Lines of
    /// functions before resource evidence have none; anything but a list is ignored.
    #[serde(
        default,
        deserialize_with = "string_items",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<String>,
    /// The kind of policy that refused the call (`service_control_policy`, …), when the message named it; lines of
    /// functions before issue 21 have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_by: Option<String>,
    /// The refusing policy's ARN, when the message named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_by_policy: Option<String>,
    /// The path that delivered the call to the function: `cloudwatch_logs` (the trail's log group, minutes after
    /// the call) or `eventbridge` (the fast path, seconds after it); none on lines of functions before the fast path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `path` of a decision line delivered by EventBridge (the fast path).
pub const PATH_EVENTBRIDGE: &str = "eventbridge";
/// `path` of a decision line delivered by the trail's CloudWatch Logs subscription.
pub const PATH_LOGS: &str = "cloudwatch_logs";

impl Decision {
    /// The path as a person reads it ("EventBridge", "CloudWatch Logs"), or the text a newer function wrote.
    pub fn path_label(&self) -> Option<&str> {
        self.path.as_deref().map(|p| match p {
            PATH_EVENTBRIDGE => "EventBridge",
            PATH_LOGS => "CloudWatch Logs",
            other => other,
        })
    }

    /// The items of `resources`.
    pub fn resource_items(&self) -> Vec<&str> {
        self.resources.iter().map(String::as_str).collect()
    }

    /// The policy that refused the call, when the line names its kind.
    pub fn refusal(&self) -> Option<crate::cloudtrail::Refusal> {
        let kind = self.denied_by.as_deref().filter(|k| !k.is_empty())?;
        Some(crate::cloudtrail::Refusal::from_line(
            kind,
            self.denied_by_policy.as_deref(),
            self.decision == DecisionKind::ExplicitDeny,
        ))
    }
}

/// The strings of a JSON list; anything else (absent, `null`, an object, non-string items) gives none of it.
fn string_items<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A step boundary recorded by `lppg mark`: one type for the line written, read back and used for steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The label; empty for an unlabelled marker.
    pub label: String,
    /// RFC 3339 UTC, as written.
    pub time: String,
}

impl Marker {
    /// When it was recorded; `None` when its time cannot be read.
    pub fn at(&self) -> Option<std::time::SystemTime> {
        crate::time::parse_rfc3339(&self.time)
    }
}

/// What one log line is.
// A decision is most lines of the log and short-lived: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Decision(Decision),
    Batch(serde_json::Value),
    Marker(Marker),
    /// A failure reported by the Lambda runtime (timeout, crash, import error) or an error-level log line.
    RuntimeError(String),
    /// Runtime bookkeeping (START/END/REPORT/INIT_START) and anything else that is not ours.
    Other(String),
    /// A line that looks like ours but does not parse.
    Unparsed(String),
}

/// Classifies one log message.
pub fn parse_line(message: &str) -> Line {
    let m = message.trim_end();
    let trimmed = m.trim_start();
    if trimmed.starts_with('{') && trimmed.contains("\"lppg\"") {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) else {
            return Line::Unparsed(m.to_string());
        };
        return match v.get("lppg").and_then(|k| k.as_str()) {
            Some("decision") => match serde_json::from_value::<Decision>(v) {
                Ok(d) => Line::Decision(d),
                Err(_) => Line::Unparsed(m.to_string()),
            },
            Some("batch") => Line::Batch(v),
            Some("marker") => match serde_json::from_value::<Marker>(v) {
                Ok(mk) => Line::Marker(mk),
                Err(_) => Line::Unparsed(m.to_string()),
            },
            _ => Line::Unparsed(m.to_string()),
        };
    }
    let runtime_error = trimmed.contains("Task timed out")
        || trimmed.starts_with("Traceback")
        || trimmed.contains("[ERROR]")
        || trimmed.contains("Runtime.")
        || trimmed.contains("Runtime exited")
        || trimmed.contains("error running docker");
    if runtime_error {
        Line::RuntimeError(m.to_string())
    } else {
        Line::Other(m.to_string())
    }
}

/// The JSON line `lppg mark` writes.
pub fn marker_line(label: &str, time_rfc3339: &str) -> String {
    serde_json::json!({"lppg": "marker", "v": 1, "label": label, "time": time_rfc3339}).to_string()
}

/// Advice for a function failure, shown next to it.
pub fn advice_for_error(text: &str) -> &'static str {
    if text.contains("Task timed out") {
        "the function ran out of time: check IAM throttling in its log; CloudWatch Logs retries the batch"
    } else if text.contains("AccessDenied") || text.contains("not authorized") {
        "the function's role lacks a permission: run `lppg up` to restore the stack's role"
    } else if text.contains("LimitExceeded") || text.contains("full") {
        "the generator policies are full: export the policy, run `lppg down`, and split the procedure"
    } else {
        "see the function's log group for details; `lppg status` checks the stack"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        let d = r#"{"lppg":"decision","v":1,"decision":"granted","action":"s3:ListBucket","event_time":"2026-01-01T00:00:00Z"}"#;
        match parse_line(d) {
            Line::Decision(x) => {
                assert_eq!(x.decision, DecisionKind::Granted);
                assert_eq!(x.action.as_deref(), Some("s3:ListBucket"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_line(r#"{"lppg":"batch","records":3}"#),
            Line::Batch(_)
        ));
        let mk = marker_line("Create the VPC", "2026-01-01T00:00:00Z");
        assert_eq!(
            parse_line(&mk),
            Line::Marker(Marker {
                label: "Create the VPC".into(),
                time: "2026-01-01T00:00:00Z".into()
            })
        );
        assert!(matches!(
            parse_line(r#"{"lppg":"decision", broken"#),
            Line::Unparsed(_)
        ));
        assert!(matches!(
            parse_line(r#"{"lppg":"nope"}"#),
            Line::Unparsed(_)
        ));
        assert!(matches!(
            parse_line("2026-01-01T00:00:00.000Z abc Task timed out after 300.00 seconds"),
            Line::RuntimeError(_)
        ));
        assert!(matches!(
            parse_line("START RequestId: abc Version: $LATEST"),
            Line::Other(_)
        ));
        assert!(advice_for_error("Task timed out").contains("time"));
    }

    #[test]
    fn decision_kinds_read_and_write_as_the_function_spells_them() {
        for kind in DecisionKind::KNOWN {
            assert_eq!(DecisionKind::from(kind.as_str()), kind);
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(text, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<DecisionKind>(&text).unwrap(), kind);
        }
        let newer: DecisionKind = serde_json::from_str("\"queued\"").unwrap();
        assert_eq!(newer, DecisionKind::Unknown("queued".into()));
        assert_eq!(serde_json::to_string(&newer).unwrap(), "\"queued\"");
        assert!(DecisionKind::Unverified.is_grant() && !DecisionKind::AlreadyPresent.is_grant());
    }
}
