//! The IAM policy document model and its parser.

use std::fmt;

use serde_json::{Map, Value};

/// Why a text is not a usable policy document. Callers add the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The text is not JSON; `line` and `column` are 1-based, as serde_json reports them.
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The text is JSON but not a policy: `path` names the field, like `Statement[2].Effect`.
    Invalid { path: String, message: String },
    /// The text looked URL-encoded but is not valid percent-encoded UTF-8.
    Encoding(String),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Json {
                line,
                column,
                message,
            } => write!(f, "not JSON at line {line}, column {column}: {message}"),
            PolicyError::Invalid { path, message } if path.is_empty() => {
                write!(f, "not an IAM policy: {message}")
            }
            PolicyError::Invalid { path, message } => {
                write!(f, "not an IAM policy: {path}: {message}")
            }
            PolicyError::Encoding(message) => {
                write!(f, "not a URL-encoded policy document: {message}")
            }
        }
    }
}

impl std::error::Error for PolicyError {}

fn invalid(path: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Returns the policy JSON text, percent-decoding it first when IAM returned it
/// URL-encoded (it starts with `%7B`, any case, after leading whitespace).
/// Anything else is returned unchanged.
pub fn decode_document(text: &str) -> Result<String, PolicyError> {
    let trimmed = text.trim_start();
    if trimmed.len() >= 3 && trimmed[..3].eq_ignore_ascii_case("%7B") {
        urlencoding::decode(trimmed)
            .map(|decoded| decoded.into_owned())
            .map_err(|error| PolicyError::Encoding(error.to_string()))
    } else {
        Ok(text.to_string())
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A statement's `Action` (the listed actions) or `NotAction` (all but the listed ones).
/// Entries are kept as written, wildcards included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionClause {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// A statement's `Resource` or `NotResource`, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceClause {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// One policy statement. `Principal` and `NotPrincipal` are accepted and ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionClause,
    pub resources: ResourceClause,
    /// The `Condition` block as written, `None` when absent.
    pub condition: Option<Value>,
}

impl Statement {
    /// True for `Resource: "*"` (or a list holding `"*"`, whatever else it lists) and no
    /// `Condition`: the statement applies everywhere, always. The function's `policydoc.py`
    /// reads statements the same way (`tests/vectors/policy_documents.json`).
    pub fn is_unconditional_everywhere(&self) -> bool {
        self.condition.is_none()
            && matches!(&self.resources, ResourceClause::Resource(list) if list.iter().any(|r| r == "*"))
    }
}

/// An IAM identity policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`, when present (`2012-10-17` or `2008-10-17`).
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses policy JSON text (not URL-encoded: see [`decode_document`]).
    ///
    /// Accepts everything an identity policy may hold: `Statement` as one object or
    /// a list, `Action`/`NotAction` and `Resource`/`NotResource` as a string or a
    /// list, `Condition`, `Sid`, `Id`; `Principal`/`NotPrincipal` are ignored.
    /// Unknown fields are errors, as they are for IAM.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(json_error)?;
        Policy::from_value(&value)
    }

    /// Parses a file saved by `export-policy -o` or `down`: one policy document, or a
    /// JSON list of documents (as `--split` writes). Errors in a list name the
    /// document: `[1].Statement[0].Effect`.
    pub fn parse_documents(text: &str) -> Result<Vec<Policy>, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(json_error)?;
        match &value {
            Value::Array(items) if items.is_empty() => Err(invalid(
                "",
                "expected a policy document, found an empty list",
            )),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Policy::from_value(item).map_err(|error| match error {
                        PolicyError::Invalid { path, message } if path.is_empty() => {
                            invalid(&format!("[{i}]"), message)
                        }
                        PolicyError::Invalid { path, message } => {
                            invalid(&format!("[{i}].{path}"), message)
                        }
                        other => other,
                    })
                })
                .collect(),
            single => Ok(vec![Policy::from_value(single)?]),
        }
    }

    /// Parses an already-decoded JSON value; see [`Policy::parse`].
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        let object = value
            .as_object()
            .ok_or_else(|| invalid("", format!("expected a JSON object, found {}", kind(value))))?;
        check_fields(object, "", &["Version", "Id", "Statement"])?;
        let version = match object.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(other) => {
                return Err(invalid(
                    "Version",
                    format!(
                        "expected \"2012-10-17\" or \"2008-10-17\", found {}",
                        show(other)
                    ),
                ))
            }
        };
        if let Some(id) = object.get("Id") {
            if !id.is_string() {
                return Err(invalid(
                    "Id",
                    format!("expected a string, found {}", kind(id)),
                ));
            }
        }
        let statements = match object.get("Statement") {
            None => return Err(invalid("Statement", "missing")),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    return Err(invalid("Statement", "must hold at least one statement"));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| parse_statement(item, &format!("Statement[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?
            }
            Some(item @ Value::Object(_)) => vec![parse_statement(item, "Statement")?],
            Some(other) => {
                return Err(invalid(
                    "Statement",
                    format!(
                        "expected an object or a list of objects, found {}",
                        kind(other)
                    ),
                ))
            }
        };
        Ok(Policy {
            version,
            statements,
        })
    }
}

fn json_error(error: serde_json::Error) -> PolicyError {
    PolicyError::Json {
        line: error.line(),
        column: error.column(),
        message: json_message(&error),
    }
}

/// serde_json's message without its own " at line L column C" suffix.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn parse_statement(value: &Value, path: &str) -> Result<Statement, PolicyError> {
    let object = value
        .as_object()
        .ok_or_else(|| invalid(path, format!("expected an object, found {}", kind(value))))?;
    check_fields(
        object,
        path,
        &[
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "Principal",
            "NotPrincipal",
        ],
    )?;
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(other) => {
            return Err(invalid(
                &format!("{path}.Sid"),
                format!("expected a string, found {}", kind(other)),
            ))
        }
    };
    let effect = match object.get("Effect") {
        None => return Err(invalid(&format!("{path}.Effect"), "missing")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(invalid(
                &format!("{path}.Effect"),
                format!("expected \"Allow\" or \"Deny\", found {}", show(other)),
            ))
        }
    };
    let actions = match either(object, path, "Action", "NotAction")? {
        (true, list) => ActionClause::Action(list),
        (false, list) => ActionClause::NotAction(list),
    };
    let resources = match either(object, path, "Resource", "NotResource")? {
        (true, list) => ResourceClause::Resource(list),
        (false, list) => ResourceClause::NotResource(list),
    };
    let condition = match object.get("Condition") {
        None => None,
        Some(condition @ Value::Object(_)) => Some(condition.clone()),
        Some(other) => {
            return Err(invalid(
                &format!("{path}.Condition"),
                format!("expected an object, found {}", kind(other)),
            ))
        }
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        condition,
    })
}

/// Reads exactly one of two mutually exclusive string-or-list fields.
/// Returns `(true, list)` for `first`, `(false, list)` for `second`.
fn either(
    object: &Map<String, Value>,
    path: &str,
    first: &str,
    second: &str,
) -> Result<(bool, Vec<String>), PolicyError> {
    match (object.get(first), object.get(second)) {
        (Some(_), Some(_)) => Err(invalid(
            path,
            format!("has both {first} and {second}; use one"),
        )),
        (Some(value), None) => Ok((true, string_list(value, &format!("{path}.{first}"))?)),
        (None, Some(value)) => Ok((false, string_list(value, &format!("{path}.{second}"))?)),
        (None, None) => Err(invalid(
            &format!("{path}.{first}"),
            format!("missing (a statement needs {first} or {second})"),
        )),
    }
}

fn string_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let expected = "expected a string or a list of strings";
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err(invalid(path, "must not be empty")),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(invalid(
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {}", kind(other)),
                )),
            })
            .collect(),
        other => Err(invalid(path, format!("{expected}, found {}", kind(other)))),
    }
}

fn check_fields(
    object: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
) -> Result<(), PolicyError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            Err(invalid(
                &field,
                format!("unknown field (expected one of {})", allowed.join(", ")),
            ))
        }
    }
}

/// A JSON value's kind, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a scalar (the value itself) or the kind of a container.
fn show(value: &Value) -> String {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        other => kind(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Policy::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_generator_document() {
        let policy = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"Ec2","Effect":"Allow","Action":["ec2:DescribeInstances"],"Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(policy.version.as_deref(), Some("2012-10-17"));
        assert_eq!(policy.statements.len(), 1);
        let statement = &policy.statements[0];
        assert_eq!(statement.sid.as_deref(), Some("Ec2"));
        assert_eq!(statement.effect, Effect::Allow);
        assert_eq!(
            statement.actions,
            ActionClause::Action(vec!["ec2:DescribeInstances".into()])
        );
        assert!(statement.is_unconditional_everywhere());
    }

    #[test]
    fn accepts_single_statement_object_and_string_fields() {
        let policy = Policy::parse(
            r#"{"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b",
                "Condition":{"Bool":{"aws:SecureTransport":"false"}},"Principal":"*"}}"#,
        )
        .unwrap();
        assert_eq!(policy.version, None);
        let statement = &policy.statements[0];
        assert_eq!(statement.effect, Effect::Deny);
        assert_eq!(
            statement.actions,
            ActionClause::NotAction(vec!["iam:*".into()])
        );
        assert_eq!(
            statement.resources,
            ResourceClause::NotResource(vec!["arn:aws:s3:::b".into()])
        );
        assert!(statement.condition.is_some());
        assert!(!statement.is_unconditional_everywhere());
    }

    #[test]
    fn a_resource_list_holding_star_applies_everywhere() {
        let statement = |resource: &str| {
            let text = format!(
                r#"{{"Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":{resource}}}}}"#
            );
            Policy::parse(&text).unwrap().statements.remove(0)
        };
        assert!(statement(r#""*""#).is_unconditional_everywhere());
        assert!(statement(r#"["*"]"#).is_unconditional_everywhere());
        assert!(statement(r#"["arn:aws:s3:::b/*","*"]"#).is_unconditional_everywhere());
        assert!(!statement(r#"["arn:aws:s3:::b/*"]"#).is_unconditional_everywhere());
        assert!(!statement(r#""arn:aws:s3:::*""#).is_unconditional_everywhere());
    }

    #[test]
    fn not_json_names_line_and_column() {
        let err =
            Policy::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}").unwrap_err();
        match &err {
            PolicyError::Json { line, column, .. } => {
                assert_eq!(*line, 4);
                assert_eq!(*column, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with("not JSON at line 4, column 1: "));
        assert!(!err.to_string().contains(" at line 4 column"));
    }

    #[test]
    fn empty_text_is_a_json_error() {
        assert!(matches!(Policy::parse(""), Err(PolicyError::Json { .. })));
    }

    #[test]
    fn wrong_effect_names_the_field() {
        let text = r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert_eq!(
            error(text),
            r#"not an IAM policy: Statement[2].Effect: expected "Allow" or "Deny", found "allow""#
        );
    }

    #[test]
    fn structural_errors_name_the_field() {
        assert_eq!(
            error("[]"),
            "not an IAM policy: expected a JSON object, found a list"
        );
        assert_eq!(error("{}"), "not an IAM policy: Statement: missing");
        assert_eq!(
            error(r#"{"Statement":[]}"#),
            "not an IAM policy: Statement: must hold at least one statement"
        );
        assert_eq!(
            error(r#"{"Statement":"x"}"#),
            "not an IAM policy: Statement: expected an object or a list of objects, found a string"
        );
        assert_eq!(
            error(r#"{"Version":"2020-01-01","Statement":[]}"#),
            r#"not an IAM policy: Version: expected "2012-10-17" or "2008-10-17", found "2020-01-01""#
        );
        assert_eq!(
            error(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Action: missing (a statement needs Action or NotAction)"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Effect":"Allow","Action":"a:b"}]}"#),
            "not an IAM policy: Statement[0].Resource: missing (a statement needs Resource or NotResource)"
        );
        assert_eq!(
            error(
                r#"{"Statement":[{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}]}"#
            ),
            "not an IAM policy: Statement[0]: has both Action and NotAction; use one"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Effect":"Allow","Action":["a:b",3],"Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Action[1]: expected a string, found a number"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Action: must not be empty"
        );
        assert_eq!(
            error(r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":{}}}"#),
            "not an IAM policy: Statement.Resource: expected a string or a list of strings, found an object"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Effect":"Allow","Actions":"a:b","Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Actions: unknown field (expected one of Sid, Effect, Action, NotAction, Resource, NotResource, Condition, Principal, NotPrincipal)"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Sid":1,"Effect":"Allow","Action":"a:b","Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Sid: expected a string, found a number"
        );
        assert_eq!(
            error(
                r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":[]}]}"#
            ),
            "not an IAM policy: Statement[0].Condition: expected an object, found a list"
        );
        assert_eq!(
            error(r#"{"Statement":[{"Action":"a:b","Resource":"*"}]}"#),
            "not an IAM policy: Statement[0].Effect: missing"
        );
        assert_eq!(
            error(r#"{"Version":"2012-10-17","Statment":[]}"#),
            "not an IAM policy: Statment: unknown field (expected one of Version, Id, Statement)"
        );
    }

    #[test]
    fn parses_one_or_several_documents() {
        let one = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(Policy::parse_documents(one).unwrap().len(), 1);
        let two = format!("[{one},\n{one}]");
        assert_eq!(Policy::parse_documents(&two).unwrap().len(), 2);
        let bad = format!(r#"[{one},{{"Statement":{{"Effect":"Allow","Resource":"*"}}}}, 3]"#);
        assert_eq!(
            Policy::parse_documents(&bad).unwrap_err().to_string(),
            "not an IAM policy: [1].Statement.Action: missing (a statement needs Action or NotAction)"
        );
        assert_eq!(
            Policy::parse_documents(&format!("[{one},3]"))
                .unwrap_err()
                .to_string(),
            "not an IAM policy: [1]: expected a JSON object, found a number"
        );
        assert_eq!(
            Policy::parse_documents("[]").unwrap_err().to_string(),
            "not an IAM policy: expected a policy document, found an empty list"
        );
        assert!(matches!(
            Policy::parse_documents("[{"),
            Err(PolicyError::Json { line: 1, .. })
        ));
    }

    #[test]
    fn decodes_url_encoded_documents() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let decoded = decode_document(encoded).unwrap();
        assert_eq!(
            decoded,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#
        );
        assert!(Policy::parse(&decoded).is_ok());
        assert_eq!(decode_document("%7b%7D").unwrap(), "{}");
    }

    #[test]
    fn leaves_plain_documents_alone() {
        let plain = r#" {"Statement":[{"Sid":"A%20B"}]}"#;
        assert_eq!(decode_document(plain).unwrap(), plain);
        assert_eq!(decode_document("").unwrap(), "");
    }

    #[test]
    fn rejects_invalid_percent_encoding() {
        assert!(matches!(
            decode_document("%7B%FF%FE"),
            Err(PolicyError::Encoding(_))
        ));
    }
}
