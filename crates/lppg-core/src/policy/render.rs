//! Turning an [`ActionSet`] into a policy document.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::actions::{Action, ActionSet};
use super::POLICY_VERSION;

/// Longest `Sid` lppg derives from a label; longer ones are cut.
const MAX_SID_LEN: usize = 64;

/// `Sid` of the statement holding actions outside every step, with [`Grouping::ByStep`].
pub(crate) const UNASSIGNED_SID: &str = "Unassigned";

/// A step recorded with `lppg mark`: its label and the actions first denied during it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub label: String,
    pub actions: ActionSet,
}

/// How actions are gathered into statements.
#[derive(Debug, Clone, Copy, Default)]
pub enum Grouping<'a> {
    /// One statement per service, in prefix order, `Sid` from the prefix as the
    /// generator function writes it ([`service_sid`]: `ec2` → `Ec2`, `execute-api` → `Executeapi`).
    #[default]
    ByService,
    /// One statement per step, in the order given, `Sid` from the label
    /// ([`sid_from_label`], made unique, `StepN` when the label has no letters or
    /// digits). An action listed in several steps goes to the first; steps left
    /// without actions are left out; actions of the set in no step go to a last
    /// statement with `Sid` `Unassigned`. Step actions that are not in the set are ignored.
    ByStep(&'a [Step]),
}

/// One statement to be: its `Sid` and its actions, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub sid: String,
    pub actions: Vec<Action>,
    /// The statement's resources; empty: `"*"`.
    pub resources: Vec<String>,
}

/// Each action's statement resources (`--resources observed|scoped`); an action missing here gets `"*"`.
pub type Scope = BTreeMap<Action, Vec<String>>;

/// A `Sid` from free text: ASCII letters and digits only, each word's first letter
/// upper-cased (`"open bucket page"` → `OpenBucketPage`), at most 64 characters.
/// Empty when the text has no ASCII letters or digits.
pub fn sid_from_label(label: &str) -> String {
    let mut sid = String::new();
    for word in label.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            sid.push(first.to_ascii_uppercase());
            sid.extend(chars);
        }
    }
    sid.truncate(MAX_SID_LEN);
    sid
}

/// The `Sid` of a service's statement, as the generator function writes it: the prefix
/// without its non-alphanumeric characters, first letter upper-cased (`execute-api` → `Executeapi`).
pub fn service_sid(prefix: &str) -> String {
    let mut sid: String = prefix.chars().filter(char::is_ascii_alphanumeric).collect();
    if let Some(first) = sid.get(..1) {
        sid.replace_range(..1, &first.to_ascii_uppercase());
    }
    sid
}

/// `base`, or `base2`, `base3`… whichever is not yet used (ignoring case); records it.
pub(crate) fn unique_sid(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut sid = base.to_string();
    let mut n = 2;
    while used.contains(&sid.to_ascii_lowercase()) {
        sid = format!("{base}{n}");
        n += 1;
    }
    used.insert(sid.to_ascii_lowercase());
    sid
}

/// The statements of a set under a grouping, before rendering.
pub(crate) fn groups(set: &ActionSet, grouping: Grouping<'_>) -> Vec<Group> {
    let mut used = BTreeSet::new();
    let mut result = Vec::new();
    match grouping {
        Grouping::ByService => {
            for (prefix, actions) in set.by_service() {
                result.push(Group {
                    sid: unique_sid(&service_sid(prefix), &mut used),
                    actions: actions.into_iter().cloned().collect(),
                    resources: Vec::new(),
                });
            }
        }
        Grouping::ByStep(steps) => {
            let mut left = set.clone();
            for (i, step) in steps.iter().enumerate() {
                let actions: Vec<Action> = step
                    .actions
                    .iter()
                    .filter_map(|a| left.get(a).cloned())
                    .collect();
                if actions.is_empty() {
                    continue;
                }
                for action in &actions {
                    left.remove(action);
                }
                let mut base = sid_from_label(&step.label);
                if base.is_empty() {
                    base = format!("Step{}", i + 1);
                }
                result.push(Group {
                    sid: unique_sid(&base, &mut used),
                    actions,
                    resources: Vec::new(),
                });
            }
            if !left.is_empty() {
                result.push(Group {
                    sid: unique_sid(UNASSIGNED_SID, &mut used),
                    actions: left.iter().cloned().collect(),
                    resources: Vec::new(),
                });
            }
        }
    }
    result
}

/// The groups of a grouping, each cut further by resource set: a group's actions with the same resources stay
/// together, the `*` ones first under the group's own `Sid`, the others after it under `<Sid>Resources`,
/// `<Sid>Resources2`…
/// in order of their resource lists. With an empty scope this is [`groups`].
pub(crate) fn scoped_groups(set: &ActionSet, grouping: Grouping<'_>, scope: &Scope) -> Vec<Group> {
    let plain = groups(set, grouping);
    let mut used: BTreeSet<String> = plain.iter().map(|g| g.sid.to_ascii_lowercase()).collect();
    let mut result = Vec::new();
    for group in plain {
        let mut by_resources: BTreeMap<Vec<String>, Vec<Action>> = BTreeMap::new();
        for action in &group.actions {
            let resources = scope.get(action).cloned().unwrap_or_default();
            by_resources
                .entry(resources)
                .or_default()
                .push(action.clone());
        }
        for (i, (resources, actions)) in by_resources.into_iter().enumerate() {
            let sid = if i == 0 {
                group.sid.clone()
            } else {
                unique_sid(&format!("{}Resources", group.sid), &mut used)
            };
            result.push(Group {
                sid,
                actions,
                resources,
            });
        }
    }
    result
}

/// One `Allow` statement, keys in the order Sid, Effect, Action, Resource: `Resource` is `"*"` when `resources`
/// is empty, else the list.
pub(crate) fn statement(sid: &str, actions: &[Action], resources: &[String]) -> Value {
    let actions: Vec<String> = actions.iter().map(Action::to_string).collect();
    let resource = if resources.is_empty() {
        json!("*")
    } else {
        json!(resources)
    };
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
}

/// A policy document around the statements.
pub(crate) fn document(statements: Vec<Value>) -> Value {
    json!({"Version": POLICY_VERSION, "Statement": statements})
}

/// The policy document granting `set`, grouped as asked. `Action` is always a list.
///
/// An empty set gives a document with an empty `Statement` list, which is not a
/// valid policy ([`super::validate_policy`] says so): callers should refuse to
/// export nothing. The result may exceed [`super::MAX_POLICY_SIZE`]; see [`super::split`].
pub fn render_policy(set: &ActionSet, grouping: Grouping<'_>) -> Value {
    render_scoped(set, grouping, &Scope::new())
}

/// [`render_policy`] with each action on its resources in `scope`: statements grouped by resource set
/// ([`scoped_groups`]). An empty scope gives exactly [`render_policy`]'s document.
pub fn render_scoped(set: &ActionSet, grouping: Grouping<'_>, scope: &Scope) -> Value {
    document(
        scoped_groups(set, grouping, scope)
            .iter()
            .map(|g| statement(&g.sid, &g.actions, &g.resources))
            .collect(),
    )
}

/// Pretty JSON for people and files: 2-space indent, trailing newline.
pub fn to_pretty_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(actions: &[&str]) -> ActionSet {
        ActionSet::parse(actions).unwrap()
    }

    fn step(label: &str, actions: &[&str]) -> Step {
        Step {
            label: label.to_string(),
            actions: set(actions),
        }
    }

    fn sids(document: &Value) -> Vec<String> {
        document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn sids_from_labels() {
        assert_eq!(sid_from_label("ec2"), "Ec2");
        assert_eq!(sid_from_label("execute-api"), "ExecuteApi");
        assert_eq!(
            sid_from_label("open the S3 bucket page"),
            "OpenTheS3BucketPage"
        );
        assert_eq!(sid_from_label("  créer  une file "), "CrErUneFile");
        assert_eq!(sid_from_label("1st step"), "1stStep");
        assert_eq!(sid_from_label("--- !!"), "");
        assert_eq!(sid_from_label(&"a".repeat(100)).len(), 64);
    }

    #[test]
    fn service_sids_match_the_generator() {
        assert_eq!(service_sid("ec2"), "Ec2");
        assert_eq!(service_sid("s3"), "S3");
        assert_eq!(service_sid("execute-api"), "Executeapi");
        assert_eq!(service_sid("ec2-instance-connect"), "Ec2instanceconnect");
        assert_eq!(service_sid("-"), "");
    }

    #[test]
    fn renders_one_statement_per_service() {
        let document = render_policy(
            &set(&[
                "s3:PutObject",
                "ec2:DescribeInstances",
                "s3:GetObject",
                "execute-api:Invoke",
            ]),
            Grouping::ByService,
        );
        assert_eq!(
            to_pretty_json(&document),
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Ec2",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeInstances"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Executeapi",
      "Effect": "Allow",
      "Action": [
        "execute-api:Invoke"
      ],
      "Resource": "*"
    },
    {
      "Sid": "S3",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:PutObject"
      ],
      "Resource": "*"
    }
  ]
}
"#
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = set(&["s3:PutObject", "ec2:DescribeInstances", "s3:GetObject"]);
        let b = set(&[
            "s3:GetObject",
            "s3:PutObject",
            "ec2:DescribeInstances",
            "s3:getobject",
        ]);
        assert_eq!(
            to_pretty_json(&render_policy(&a, Grouping::ByService)),
            to_pretty_json(&render_policy(&b, Grouping::ByService))
        );
    }

    #[test]
    fn single_action_and_empty_set() {
        let one = render_policy(&set(&["sts:GetCallerIdentity"]), Grouping::ByService);
        assert_eq!(
            one.to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Sts","Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":"*"}]}"#
        );
        let none = render_policy(&ActionSet::new(), Grouping::ByService);
        assert_eq!(
            none.to_string(),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
    }

    #[test]
    fn colliding_service_sids_are_made_unique() {
        let document = render_policy(&set(&["a-b:X", "ab:Y", "aB:Z"]), Grouping::ByService);
        assert_eq!(sids(&document), ["Ab", "Ab2"]);
    }

    #[test]
    fn groups_by_step() {
        let all = set(&[
            "s3:ListAllMyBuckets",
            "s3:GetObject",
            "s3:PutObject",
            "ec2:DescribeInstances",
            "cloudwatch:GetMetricData",
        ]);
        let steps = [
            step("open the bucket", &["s3:ListAllMyBuckets", "s3:GetObject"]),
            step("Upload!", &["s3:putobject", "s3:GetObject"]),
            step("nothing happened", &["sqs:SendMessage"]),
            step("open the bucket", &["ec2:DescribeInstances"]),
            step("", &[]),
        ];
        let document = render_policy(&all, Grouping::ByStep(&steps));
        assert_eq!(
            sids(&document),
            ["OpenTheBucket", "Upload", "OpenTheBucket2", "Unassigned"]
        );
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(
            statements[0]["Action"],
            json!(["s3:GetObject", "s3:ListAllMyBuckets"])
        );
        // The set's spelling wins over the step's.
        assert_eq!(statements[1]["Action"], json!(["s3:PutObject"]));
        assert_eq!(statements[2]["Action"], json!(["ec2:DescribeInstances"]));
        assert_eq!(statements[3]["Action"], json!(["cloudwatch:GetMetricData"]));
    }

    #[test]
    fn step_sid_fallbacks() {
        let all = set(&["s3:A", "s3:B", "s3:C"]);
        let steps = [
            step("", &["s3:A"]),
            step("***", &["s3:B"]),
            step("Unassigned", &["s3:C"]),
        ];
        let document = render_policy(&all, Grouping::ByStep(&steps));
        assert_eq!(sids(&document), ["Step1", "Step2", "Unassigned"]);
        let all = set(&["s3:A", "s3:B", "s3:C"]);
        let steps = [step("Step2", &["s3:A"]), step("?", &["s3:B"])];
        let document = render_policy(&all, Grouping::ByStep(&steps));
        assert_eq!(sids(&document), ["Step2", "Step22", "Unassigned"]);
    }

    #[test]
    fn by_step_without_steps_is_all_unassigned() {
        let document = render_policy(&set(&["s3:A", "ec2:B"]), Grouping::ByStep(&[]));
        assert_eq!(sids(&document), ["Unassigned"]);
        assert_eq!(document["Statement"][0]["Action"], json!(["ec2:B", "s3:A"]));
    }
}

#[cfg(test)]
mod scoped_tests {
    use super::*;

    #[test]
    fn statements_are_grouped_by_resource_set() {
        let set = ActionSet::parse([
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListAllMyBuckets",
            "s3:ListBucket",
            "ec2:DescribeInstances",
        ])
        .unwrap();
        let mut scope = Scope::new();
        let object = vec!["arn:aws:s3:::b/*".to_string()];
        scope.insert(Action::parse("s3:GetObject").unwrap(), object.clone());
        scope.insert(Action::parse("s3:PutObject").unwrap(), object);
        scope.insert(
            Action::parse("s3:ListBucket").unwrap(),
            vec!["arn:aws:s3:::b".to_string()],
        );
        let document = render_scoped(&set, Grouping::ByService, &scope);
        assert_eq!(
            document["Statement"],
            json!([
                {"Sid": "Ec2", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
                {"Sid": "S3", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
                {"Sid": "S3Resources", "Effect": "Allow", "Action": ["s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::b"]},
                {"Sid": "S3Resources2", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": ["arn:aws:s3:::b/*"]},
            ])
        );
        assert_eq!(
            render_scoped(&set, Grouping::ByService, &Scope::new()),
            render_policy(&set, Grouping::ByService)
        );
    }
}
