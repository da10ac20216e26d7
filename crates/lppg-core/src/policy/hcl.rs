//! Terraform as people write it: a `data "aws_iam_policy_document"` with one `statement` block per statement
//! (resources and conditions included), and the resource that uses its `.json`: an `aws_iam_policy`, or an
//! Identity Center permission set's `aws_ssoadmin_permission_set_inline_policy`.
//!
//! Layout as `terraform fmt` leaves it: two-space indents, `=` aligned over consecutive attribute lines (a
//! multi-line list ends the run it closes), lists one item a line with trailing commas.
use serde_json::Value;

use super::format::hcl_string;

/// What uses the policy document.
pub enum Consumer<'a> {
    /// `resource "aws_iam_policy"` with this name and description.
    ManagedPolicy { name: &'a str, description: &'a str },
    /// `resource "aws_ssoadmin_permission_set_inline_policy"`, the instance and permission set as variables.
    PermissionSet,
}

/// The data source and its consumer for one document, labelled `label`.
pub fn document_and_consumer(document: &Value, label: &str, consumer: &Consumer<'_>) -> String {
    let mut out = format!("data \"aws_iam_policy_document\" \"{label}\" {{\n");
    let statements = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    for (i, statement) in statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        statement_block(statement, &mut out);
    }
    out.push_str("}\n\n");
    let json = format!("data.aws_iam_policy_document.{label}.json");
    let lines: Vec<(&str, String)> = match consumer {
        Consumer::ManagedPolicy { name, description } => {
            out.push_str(&format!("resource \"aws_iam_policy\" \"{label}\" {{\n"));
            vec![
                ("name", hcl_string(name)),
                ("description", hcl_string(description)),
                ("policy", json),
            ]
        }
        Consumer::PermissionSet => {
            out.push_str(&format!(
                "resource \"aws_ssoadmin_permission_set_inline_policy\" \"{label}\" {{\n"
            ));
            vec![
                ("instance_arn", "var.sso_instance_arn".to_string()),
                ("permission_set_arn", "var.permission_set_arn".to_string()),
                ("inline_policy", json),
            ]
        }
    };
    attributes(&lines, 2, &mut out);
    out.push_str("}\n");
    out
}

/// The variables the permission-set resource reads, once per file.
pub fn permission_set_variables() -> String {
    let variable = |name: &str, description: &str| {
        format!(
            "variable \"{name}\" {{\n  description = {}\n  type        = string\n}}\n",
            hcl_string(description)
        )
    };
    format!(
        "{}\n{}",
        variable(
            "sso_instance_arn",
            "ARN of the IAM Identity Center instance"
        ),
        variable(
            "permission_set_arn",
            "ARN of the permission set that gets the inline policy"
        )
    )
}

/// Attribute lines at `indent`, `=` aligned over each run that a multi-line value ends.
fn attributes(lines: &[(&str, String)], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let mut start = 0;
    while start < lines.len() {
        let end = (start..lines.len())
            .find(|&j| lines[j].1.contains('\n'))
            .map_or(lines.len(), |j| j + 1);
        let width = lines[start..end]
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0);
        for (key, value) in &lines[start..end] {
            out.push_str(&format!("{pad}{key:width$} = {value}\n"));
        }
        start = end;
    }
}

/// A list of strings, one a line, closing bracket at `indent`.
fn list(values: &[String], indent: usize) -> String {
    let mut text = String::from("[\n");
    for v in values {
        text.push_str(&format!("{}{},\n", " ".repeat(indent + 2), hcl_string(v)));
    }
    text.push_str(&" ".repeat(indent));
    text.push(']');
    text
}

/// A string or a list of strings as a list.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

fn statement_block(statement: &Value, out: &mut String) {
    out.push_str("  statement {\n");
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(sid) = statement["Sid"].as_str() {
        lines.push(("sid", hcl_string(sid)));
    }
    if let Some(effect) = statement["Effect"].as_str() {
        lines.push(("effect", hcl_string(effect)));
    }
    for (key, name) in [
        ("Action", "actions"),
        ("NotAction", "not_actions"),
        ("Resource", "resources"),
        ("NotResource", "not_resources"),
    ] {
        if !statement[key].is_null() {
            lines.push((name, list(&strings(&statement[key]), 4)));
        }
    }
    attributes(&lines, 4, out);
    if let Value::Object(operators) = &statement["Condition"] {
        for (test, keys) in operators {
            let Value::Object(keys) = keys else { continue };
            for (variable, values) in keys {
                out.push_str("\n    condition {\n");
                let lines = [
                    ("test", hcl_string(test)),
                    ("variable", hcl_string(variable)),
                    ("values", list(&strings(values), 6)),
                ];
                attributes(&lines, 6, out);
                out.push_str("    }\n");
            }
        }
    }
    out.push_str("  }\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_statement_block_per_statement_with_resources_and_conditions() {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "S3", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/${aws:username}/*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]});
        let text = document_and_consumer(&document, "p", &Consumer::PermissionSet);
        assert_eq!(
            text,
            r#"data "aws_iam_policy_document" "p" {
  statement {
    sid     = "S3"
    effect  = "Allow"
    actions = [
      "s3:GetObject",
    ]
    resources = [
      "arn:aws:s3:::b/$${aws:username}/*",
    ]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [
        "eu-west-1",
        "eu-central-1",
      ]
    }
  }
}

resource "aws_ssoadmin_permission_set_inline_policy" "p" {
  instance_arn       = var.sso_instance_arn
  permission_set_arn = var.permission_set_arn
  inline_policy      = data.aws_iam_policy_document.p.json
}
"#
        );
    }
}
