//! Checks that a document is a well-formed identity policy IAM will accept.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::size::policy_size;
use super::MAX_POLICY_SIZE;

const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Checks a policy document's structure and size, reporting every problem found.
///
/// - the top level is an object with only `Version`, `Id` and `Statement`;
/// - `Version` is `"2012-10-17"`;
/// - `Statement` is a non-empty list of objects with only the identity-policy fields;
/// - each statement has `Effect` `Allow` or `Deny`, exactly one of `Action`/`NotAction`
///   and exactly one of `Resource`/`NotResource`, each a non-empty string or list of
///   non-empty strings, and `Condition`, if any, an object;
/// - each action is `*` or `prefix:Name`, the prefix of letters, digits and `-`, the
///   name of letters, digits, `_`, `-` and the wildcards `*` and `?`;
/// - each `Sid`, if any, is non-empty ASCII letters and digits, unique in the document;
/// - [`policy_size`] is at most [`MAX_POLICY_SIZE`].
///
/// Messages name the field, like `Statement[2].Action[0]: "s3 Get" is not ...`.
pub fn validate_policy(document: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let Some(object) = document.as_object() else {
        return Err(vec!["the policy is not a JSON object".into()]);
    };
    unknown_fields(object, "", &["Version", "Id", "Statement"], &mut problems);
    match object.get("Version") {
        Some(Value::String(v)) if v == "2012-10-17" => {}
        Some(other) => problems.push(format!("Version: expected \"2012-10-17\", found {other}")),
        None => problems.push("Version: missing".into()),
    }
    match object.get("Statement") {
        Some(Value::Array(statements)) if !statements.is_empty() => {
            let mut sids = BTreeSet::new();
            for (i, statement) in statements.iter().enumerate() {
                check_statement(
                    statement,
                    &format!("Statement[{i}]"),
                    &mut sids,
                    &mut problems,
                );
            }
        }
        Some(Value::Array(_)) => problems.push("Statement: the list is empty".into()),
        Some(_) => problems.push("Statement: expected a list of statements".into()),
        None => problems.push("Statement: missing".into()),
    }
    let size = policy_size(document);
    if size > MAX_POLICY_SIZE {
        problems.push(format!(
            "the policy has {size} characters (whitespace not counted), more than IAM's limit of {MAX_POLICY_SIZE}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_statement(
    statement: &Value,
    path: &str,
    sids: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let Some(object) = statement.as_object() else {
        problems.push(format!("{path}: expected an object"));
        return;
    };
    unknown_fields(object, path, STATEMENT_FIELDS, problems);
    if let Some(sid) = object.get("Sid") {
        let valid = sid
            .as_str()
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
        match valid {
            Some(text) if !sids.insert(text.to_string()) => {
                problems.push(format!("{path}.Sid: {text:?} is used by another statement"));
            }
            Some(_) => {}
            None => problems.push(format!(
                "{path}.Sid: expected ASCII letters and digits, found {sid}"
            )),
        }
    }
    match object.get("Effect") {
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(other) => problems.push(format!(
            "{path}.Effect: expected \"Allow\" or \"Deny\", found {other}"
        )),
        None => problems.push(format!("{path}.Effect: missing")),
    }
    for (first, second) in [("Action", "NotAction"), ("Resource", "NotResource")] {
        match (object.get(first), object.get(second)) {
            (Some(_), Some(_)) => {
                problems.push(format!("{path}: has both {first} and {second}"));
            }
            (None, None) => problems.push(format!("{path}.{first}: missing")),
            (Some(value), None) => check_list(value, &format!("{path}.{first}"), first, problems),
            (None, Some(value)) => check_list(value, &format!("{path}.{second}"), first, problems),
        }
    }
    if let Some(condition) = object.get("Condition") {
        if !condition.is_object() {
            problems.push(format!("{path}.Condition: expected an object"));
        }
    }
}

/// Checks a string-or-list field; `kind` is `Action` or `Resource`.
fn check_list(value: &Value, path: &str, kind: &str, problems: &mut Vec<String>) {
    let check = |text: &str, path: &str, problems: &mut Vec<String>| {
        if text.is_empty() {
            problems.push(format!("{path}: empty string"));
        } else if kind == "Action" && !is_action_pattern(text) {
            problems.push(format!(
                "{path}: {text:?} is not an action (expected service:ActionName or *)"
            ));
        }
    };
    match value {
        Value::String(text) => check(text, path, problems),
        Value::Array(items) if items.is_empty() => {
            problems.push(format!("{path}: the list is empty"));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) => check(text, &format!("{path}[{i}]"), problems),
                    other => {
                        problems.push(format!("{path}[{i}]: expected a string, found {other}"))
                    }
                }
            }
        }
        other => problems.push(format!(
            "{path}: expected a string or a list of strings, found {other}"
        )),
    }
}

/// `*`, or `prefix:Name` with wildcards allowed in the name.
fn is_action_pattern(text: &str) -> bool {
    if text == "*" {
        return true;
    }
    let Some((prefix, name)) = text.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '?'))
}

fn unknown_fields(
    object: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
    problems: &mut Vec<String>,
) {
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            problems.push(format!("{field}: unknown field"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(value: Value) -> Vec<String> {
        validate_policy(&value).unwrap_err()
    }

    #[test]
    fn accepts_a_generated_policy() {
        let ok = json!({"Version":"2012-10-17","Statement":[
            {"Sid":"S3","Effect":"Allow","Action":["s3:GetObject","s3:List*"],"Resource":"*"},
            {"Effect":"Deny","NotAction":"iam:*","NotResource":["arn:aws:iam::*:role/x"],
             "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
            {"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]});
        assert_eq!(validate_policy(&ok), Ok(()));
    }

    #[test]
    fn reports_structure_problems() {
        assert_eq!(problems(json!([])), ["the policy is not a JSON object"]);
        assert_eq!(
            problems(json!({"Statement":[], "Extra":1})),
            [
                "Extra: unknown field",
                "Version: missing",
                "Statement: the list is empty"
            ]
        );
        assert_eq!(
            problems(json!({"Version":"2008-10-17","Statement":{}})),
            [
                "Version: expected \"2012-10-17\", found \"2008-10-17\"",
                "Statement: expected a list of statements"
            ]
        );
        assert_eq!(
            problems(json!({"Version":"2012-10-17"})),
            ["Statement: missing"]
        );
    }

    #[test]
    fn reports_statement_problems() {
        let value = json!({"Version":"2012-10-17","Statement":[
            {"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Sid":"A","Effect":"allow","Action":[],"Resource":"*","Principal":"*"},
            {"Sid":"Has space","Action":["s3 Get", "s3:Get*", 7, ""],"NotAction":"x:y"},
            {"Effect":"Deny","NotAction":"s3","Resource":[],"Condition":"yes"},
            "statement"]});
        assert_eq!(
            problems(value),
            [
                "Statement[1].Principal: unknown field",
                "Statement[1].Sid: \"A\" is used by another statement",
                "Statement[1].Effect: expected \"Allow\" or \"Deny\", found \"allow\"",
                "Statement[1].Action: the list is empty",
                "Statement[2].Sid: expected ASCII letters and digits, found \"Has space\"",
                "Statement[2].Effect: missing",
                "Statement[2]: has both Action and NotAction",
                "Statement[2].Resource: missing",
                "Statement[3].NotAction: \"s3\" is not an action (expected service:ActionName or *)",
                "Statement[3].Resource: the list is empty",
                "Statement[3].Condition: expected an object",
                "Statement[4]: expected an object",
            ]
        );
        let value = json!({"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3 Get", 7, ""],"Resource":[""]}]});
        assert_eq!(
            problems(value),
            [
                "Statement[0].Action[0]: \"s3 Get\" is not an action (expected service:ActionName or *)",
                "Statement[0].Action[1]: expected a string, found 7",
                "Statement[0].Action[2]: empty string",
                "Statement[0].Resource[0]: empty string",
            ]
        );
    }

    #[test]
    fn action_patterns() {
        for good in [
            "*",
            "s3:*",
            "s3:Get*",
            "execute-api:Invoke",
            "ec2:Describe?nstances",
            "a:b_c",
        ] {
            assert!(is_action_pattern(good), "{good}");
        }
        for bad in [
            "",
            "s3",
            "s3:",
            ":Get",
            "s3:Get Object",
            "s3*:Get",
            "s3:a:b",
            "**",
        ] {
            assert!(!is_action_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn reports_oversized_policies() {
        let actions: Vec<String> = (0..400).map(|i| format!("svc:Action{i:05}")).collect();
        let value = json!({"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":actions,"Resource":"*"}]});
        let found = problems(value);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].ends_with("more than IAM's limit of 6144"),
            "{}",
            found[0]
        );
    }
}
