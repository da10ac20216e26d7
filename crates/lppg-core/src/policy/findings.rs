//! What IAM Access Analyzer's `ValidatePolicy` says of a written document, as lppg shows it.
//!
//! The AWS layer (`aws::analyzer`) turns each `ValidatePolicyFinding` (API reference: "ValidatePolicyFinding":
//! `findingType` ERROR | SECURITY_WARNING | SUGGESTION | WARNING, `issueCode`, `findingDetails`, `learnMoreLink`,
//! `locations[].path` of `{"value": "Statement"}, {"index": N}`, …) into a [`Finding`]; this module words it.
use std::fmt;

use serde_json::Value;

/// The impact of a finding, most serious first (the API's `findingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    /// A part of the policy that does not work (an unknown action, say). `--strict` makes it exit 1.
    Error,
    /// The policy allows access AWS considers overly permissive.
    SecurityWarning,
    /// Not a best practice, without security impact.
    Warning,
    /// A stylistic improvement.
    Suggestion,
}

impl FindingKind {
    /// From the API's `findingType`; `None` for a value this version does not know.
    pub fn parse(text: &str) -> Option<FindingKind> {
        match text {
            "ERROR" => Some(FindingKind::Error),
            "SECURITY_WARNING" => Some(FindingKind::SecurityWarning),
            "WARNING" => Some(FindingKind::Warning),
            "SUGGESTION" => Some(FindingKind::Suggestion),
            _ => None,
        }
    }

    /// As the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Error => "ERROR",
            FindingKind::SecurityWarning => "SECURITY_WARNING",
            FindingKind::Warning => "WARNING",
            FindingKind::Suggestion => "SUGGESTION",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding of `ValidatePolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// `INVALID_ACTION`, `MISSING_VERSION`…
    pub issue_code: String,
    /// AWS's localized explanation.
    pub details: String,
    pub learn_more: String,
    /// The statements its locations point at (0-based, in order, no repeats).
    pub statements: Vec<usize>,
}

/// The statement a location path points at: the index after a `{"value": "Statement"}` element. `path` is the
/// API's path, each element one of `Some(Ok(index))` for `{"index": N}` and `Some(Err(value))` for
/// `{"value": ...}` or `{"key": ...}` (`None` for substrings).
pub fn statement_of(path: &[Option<Result<i64, String>>]) -> Option<usize> {
    let at = path
        .iter()
        .position(|e| matches!(e, Some(Err(v)) if v == "Statement"))?;
    match path.get(at + 1) {
        Some(Some(Ok(i))) => usize::try_from(*i).ok(),
        // A statement that is an object rather than a list: the only one.
        _ => Some(0),
    }
}

/// One line per finding, most serious first:
/// `ERROR INVALID_ACTION in statement 2 (Sid S3): The action s3:Foo does not exist. (https://...)`.
/// `document` is the document validated (for the Sids); `part` its number when the policy was split.
pub fn finding_lines(findings: &[Finding], document: &Value, part: Option<usize>) -> Vec<String> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.kind);
    let statements = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        other => vec![other.clone()],
    };
    sorted
        .into_iter()
        .map(|f| {
            let mut line = format!("{} {}", f.kind, f.issue_code);
            if let Some(n) = part {
                line.push_str(&format!(" in document {n}"));
            }
            let places: Vec<String> = f
                .statements
                .iter()
                .map(
                    |&i| match statements.get(i).and_then(|s| s["Sid"].as_str()) {
                        Some(sid) => format!("statement {} (Sid {sid})", i + 1),
                        None => format!("statement {}", i + 1),
                    },
                )
                .collect();
            if !places.is_empty() {
                line.push_str(&format!(" in {}", places.join(", ")));
            }
            line.push_str(&format!(": {}", f.details.trim()));
            if !f.learn_more.is_empty() {
                line.push_str(&format!(" ({})", f.learn_more));
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_location_names_its_statement() {
        let path = [
            Some(Err("Statement".to_string())),
            Some(Ok(1)),
            Some(Err("Action".to_string())),
            Some(Ok(0)),
        ];
        assert_eq!(statement_of(&path), Some(1));
        assert_eq!(statement_of(&[Some(Err("Version".to_string()))]), None);
        assert_eq!(
            statement_of(&[Some(Err("Statement".to_string())), None]),
            Some(0)
        );
    }

    #[test]
    fn lines_name_the_statement_by_sid_most_serious_first() {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Ec2", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
            {"Sid": "S3", "Effect": "Allow", "Action": ["s3:GetObjekt"], "Resource": "*"}]});
        let finding = |kind, code: &str, statements: Vec<usize>| Finding {
            kind,
            issue_code: code.to_string(),
            details: "details ".to_string(),
            learn_more: String::new(),
            statements,
        };
        let lines = finding_lines(
            &[
                finding(FindingKind::Suggestion, "EMPTY_ARRAY", vec![]),
                finding(FindingKind::Error, "INVALID_ACTION", vec![1]),
            ],
            &document,
            Some(2),
        );
        assert_eq!(
            lines,
            [
                "ERROR INVALID_ACTION in document 2 in statement 2 (Sid S3): details",
                "SUGGESTION EMPTY_ARRAY in document 2: details",
            ]
        );
        assert_eq!(
            FindingKind::parse("SECURITY_WARNING"),
            Some(FindingKind::SecurityWarning)
        );
        assert_eq!(FindingKind::parse("NEW_KIND"), None);
    }
}
