//! `--explain`'s list of actions that were denied but are not in the policy, because no grant in the principal's
//! own policy would fix them: blocked by another kind of policy (an SCP, RCP, permissions boundary, session or VPC
//! endpoint policy), or refused by an explicit deny. Pure: the rows are built by `generate` (from the scan) and
//! `export-policy` (from the function's decision lines).

use std::time::SystemTime;

use serde_json::{json, Value};

/// One action that was denied and left out of the policy, with the policy that refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    pub action: String,
    /// `blocked` (another policy lacks an allow) or `explicit_deny`.
    pub outcome: &'static str,
    /// The kind's id as decision lines write it (`service_control_policy`); `None` when the message named none.
    pub kind: Option<String>,
    /// How people call the kind (`service control policy`).
    pub kind_name: Option<String>,
    /// The refusing policy's ARN, when the message named it.
    pub policy: Option<String>,
    /// Denied calls seen.
    pub calls: u64,
    pub first_denied: Option<SystemTime>,
    /// What would fix it (for `blocked`), or why it cannot be fixed here.
    pub fix: String,
}

/// "a service control policy", "an identity-based policy".
pub fn with_article(name: &str) -> String {
    let vowel = name
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {name}", if vowel { "an" } else { "a" })
}

const HEADERS: [&str; 6] = [
    "NOT GRANTED",
    "REFUSED BY",
    "POLICY",
    "CALLS",
    "FIRST DENIED",
    "WHAT WOULD FIX IT",
];

/// The rows as a plain table under a heading, columns aligned with two spaces, `-` for unknown values; empty when
/// there are no rows.
pub fn refused_table(rows: &[RefusedRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let refused_by = match (&r.kind_name, r.outcome) {
                (Some(k), "explicit_deny") => format!("explicit deny in {}", with_article(k)),
                (Some(k), _) => k.clone(),
                (None, "explicit_deny") => "explicit deny".to_string(),
                (None, _) => "-".to_string(),
            };
            [
                r.action.clone(),
                refused_by,
                r.policy.clone().unwrap_or_else(|| "-".into()),
                r.calls.to_string(),
                r.first_denied
                    .map_or_else(|| "-".into(), crate::time::format_secs),
                r.fix.clone(),
            ]
        })
        .collect();
    super::explain::aligned(HEADERS, &cells)
}

/// The explain table, then (after a blank line) the denied actions left out of the policy and what refused them.
pub fn explain_with_refused(rows: &[super::ExplainRow], refused: &[RefusedRow]) -> String {
    let mut text = super::explain_table(rows);
    if !refused.is_empty() {
        text.push('\n');
        text.push_str(&refused_table(refused));
    }
    text
}

/// `--explain --json`: the explain rows (unchanged: the policy's actions) followed by one object per refused action,
/// told apart by `"granted": false` (`action`, `outcome`, `denied_by`, `denied_by_name`, `denied_by_policy`,
/// `calls`, `first_denied`, `fix`), in one list.
pub fn with_refused_json(explained: Value, rows: &[RefusedRow]) -> Value {
    let mut list = match explained {
        Value::Array(items) => items,
        other => vec![other],
    };
    list.extend(rows.iter().map(|r| {
        json!({
            "granted": false,
            "action": r.action,
            "outcome": r.outcome,
            "denied_by": r.kind,
            "denied_by_name": r.kind_name,
            "denied_by_policy": r.policy,
            "calls": r.calls,
            "first_denied": r.first_denied.map(crate::time::format_secs),
            "fix": r.fix,
        })
    }));
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(outcome: &'static str, kind: Option<&str>, policy: Option<&str>) -> RefusedRow {
        RefusedRow {
            action: "sqs:ListQueues".into(),
            outcome,
            kind: kind.map(|k| k.replace(' ', "_")),
            kind_name: kind.map(str::to_string),
            policy: policy.map(str::to_string),
            calls: 2,
            first_denied: None,
            fix: "an identity policy cannot fix this".into(),
        }
    }

    #[test]
    fn table_and_json_name_the_refusing_policy() {
        assert_eq!(refused_table(&[]), "");
        let rows = [
            row("blocked", Some("service control policy"), Some("arn:x/p-1")),
            row("explicit_deny", Some("permissions boundary"), None),
            row("explicit_deny", None, None),
        ];
        let text = refused_table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NOT GRANTED     REFUSED BY"), "{text}");
        assert!(lines[1].contains("service control policy") && lines[1].contains("arn:x/p-1"));
        assert!(lines[2].contains("explicit deny in a permissions boundary  -"));
        assert!(lines[3].contains("explicit deny "));
        let v = with_refused_json(json!([{"action": "s3:GetObject"}]), &rows[..1]);
        assert!(v[0].get("granted").is_none());
        assert_eq!(v[1]["granted"], false);
        assert_eq!(v[1]["denied_by"], "service_control_policy");
        assert_eq!(v[1]["denied_by_policy"], "arn:x/p-1");
    }
}
