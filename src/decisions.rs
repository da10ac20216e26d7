//! Reading the function's log: the decision lines it writes (schema in `assets/function/README.md`), its batch
//! summaries, the step markers `lppg mark` writes, and the Lambda runtime's own error lines. Pure.
use serde::{Deserialize, Serialize};

/// One decision of the function about one denied call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: String,
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
}

/// A step boundary recorded by `lppg mark`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub label: String,
    /// RFC 3339 UTC.
    pub time: String,
}

/// What one log line is.
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
                assert_eq!(x.decision, "granted");
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
}
