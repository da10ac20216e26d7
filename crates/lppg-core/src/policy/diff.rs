//! Comparing the generated actions with a baseline policy.

use serde::Serialize;
use serde_json::Value;

use super::actions::ActionSet;
use super::document::{ActionClause, Effect, Policy, ResourceClause, Statement};
use super::pattern::{action_matches, is_wildcard};
use super::resources::arn_matches;

/// A generated action the baseline allows only through a wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WildcardCoverage {
    /// The generated action, `s3:GetObject`.
    pub action: String,
    /// The baseline entry that covers it, as written (`s3:Get*`, `*`), or
    /// `NotAction <entries>` when an `Allow` + `NotAction` statement covers it.
    pub pattern: String,
}

/// The differences between a generated action set and a baseline policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    /// True when nothing was added, removed or covered only by a wildcard.
    pub same: bool,
    /// Generated actions the baseline does not allow at all.
    pub added: Vec<String>,
    /// Baseline `Allow` entries (literal actions or wildcards, as written) that
    /// match no generated action.
    pub removed: Vec<String>,
    /// Generated actions the baseline allows only through a wildcard or `NotAction`.
    pub covered_by_wildcard: Vec<WildcardCoverage>,
    /// Resources a scoped generated action is on that no baseline statement allowing it covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_resources: Vec<ResourcePair>,
    /// Resources of scoped baseline statements that a scoped generated action no longer covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_resources: Vec<ResourcePair>,
}

/// An action on one resource (an ARN or ARN pattern as written).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ResourcePair {
    pub action: String,
    pub resource: String,
}

impl PolicyDiff {
    /// diff-like lines, added then removed then wildcard-covered, each sorted:
    /// `+ s3:GetObject`, `- s3:PutObject`, `~ s3:ListBucket (covered by s3:List*)`.
    /// Empty when [`PolicyDiff::same`].
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for action in &self.added {
            text.push_str(&format!("+ {action}\n"));
        }
        for action in &self.removed {
            text.push_str(&format!("- {action}\n"));
        }
        for covered in &self.covered_by_wildcard {
            text.push_str(&format!(
                "~ {} (covered by {})\n",
                covered.action, covered.pattern
            ));
        }
        for pair in &self.added_resources {
            text.push_str(&format!("+ {} on {}\n", pair.action, pair.resource));
        }
        for pair in &self.removed_resources {
            text.push_str(&format!("- {} on {}\n", pair.action, pair.resource));
        }
        text
    }

    /// The diff as JSON for scripts:
    /// `{"same":false,"added":[..],"removed":[..],"covered_by_wildcard":[{"action":..,"pattern":..}]}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Compares what lppg generated with a baseline policy, by action names only.
///
/// How the baseline is read:
/// - `Allow` statements allow their actions whatever their `Resource` and
///   `Condition` (the question is which actions, not where);
/// - `Action` entries match ignoring case, with the wildcards `*` and `?`;
///   `Allow` + `NotAction` allows every action its list does not match;
/// - an unconditional `Deny` on `Resource: "*"` takes away the actions it matches
///   (`Action` or `NotAction`, wildcards included); other `Deny` statements apply
///   only sometimes and are ignored.
///
/// A generated action allowed by a literal entry is the same in both. One allowed
/// only through wildcards or `NotAction` is reported with the most specific entry
/// (the one with the most non-wildcard characters; `NotAction` counts last).
pub fn diff(generated: &ActionSet, baseline: &Policy) -> PolicyDiff {
    let allows: Vec<&Statement> = baseline
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .collect();
    let denies: Vec<&Statement> = baseline
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny && s.is_unconditional_everywhere())
        .collect();

    let mut added = Vec::new();
    let mut covered_by_wildcard = Vec::new();
    for action in generated {
        let text = action.to_string();
        if denies.iter().any(|s| clause_matches(&s.actions, &text)) {
            added.push(text);
            continue;
        }
        let literal = allows.iter().any(|s| match &s.actions {
            ActionClause::Action(list) => list
                .iter()
                .any(|entry| !is_wildcard(entry) && entry.eq_ignore_ascii_case(&text)),
            ActionClause::NotAction(_) => false,
        });
        if literal {
            continue;
        }
        match best_wildcard(&allows, &text) {
            Some(pattern) => covered_by_wildcard.push(WildcardCoverage {
                action: text,
                pattern,
            }),
            None => added.push(text),
        }
    }

    let mut removed: Vec<String> = Vec::new();
    for statement in &allows {
        let ActionClause::Action(list) = &statement.actions else {
            continue;
        };
        for entry in list {
            let used = generated
                .iter()
                .any(|action| action_matches(entry, &action.to_string()));
            if !used && !removed.iter().any(|r| r.eq_ignore_ascii_case(entry)) {
                removed.push(entry.clone());
            }
        }
    }
    removed.sort_by_key(|entry| entry.to_ascii_lowercase());

    PolicyDiff {
        same: added.is_empty() && removed.is_empty() && covered_by_wildcard.is_empty(),
        added,
        removed,
        covered_by_wildcard,
        added_resources: Vec::new(),
        removed_resources: Vec::new(),
    }
}

/// [`diff`], then action-and-resource pairs for the actions `scope` puts on resources (an action absent from
/// `scope` is on `"*"`, which every statement allowing it covers, as before):
/// - `+ action on resource`: no baseline `Allow` statement allowing the action (as [`diff`] matches actions) has
///   `"*"` or a `Resource` pattern matching the resource;
/// - `- action on resource`: a baseline `Allow` statement lists the action literally on that resource, and no
///   resource of the generated action matches it.
///
/// Only actions present on both sides are compared this way: others are already `+` or `-` whole.
pub fn diff_scoped(generated: &ActionSet, scope: &super::Scope, baseline: &Policy) -> PolicyDiff {
    let mut result = diff(generated, baseline);
    let allows: Vec<&Statement> = baseline
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && s.condition.is_none())
        .collect();
    for action in generated {
        let Some(resources) = scope.get(action) else {
            continue;
        };
        let text = action.to_string();
        if result.added.contains(&text) {
            continue;
        }
        let allowing: Vec<&&Statement> = allows
            .iter()
            .filter(|s| clause_matches(&s.actions, &text))
            .collect();
        for resource in resources {
            let covered = allowing.iter().any(|s| match &s.resources {
                ResourceClause::Resource(list) => {
                    list.iter().any(|p| p == "*" || arn_matches(p, resource))
                }
                ResourceClause::NotResource(_) => false,
            });
            if !covered {
                result.added_resources.push(ResourcePair {
                    action: text.clone(),
                    resource: resource.clone(),
                });
            }
        }
        for statement in &allowing {
            let (ActionClause::Action(list), ResourceClause::Resource(base)) =
                (&statement.actions, &statement.resources)
            else {
                continue;
            };
            if !list.iter().any(|e| e.eq_ignore_ascii_case(&text)) {
                continue;
            }
            for r in base.iter().filter(|r| *r != "*") {
                let kept = resources.iter().any(|g| arn_matches(g, r));
                let pair = ResourcePair {
                    action: text.clone(),
                    resource: r.clone(),
                };
                if !kept && !result.removed_resources.contains(&pair) {
                    result.removed_resources.push(pair);
                }
            }
        }
    }
    result.added_resources.sort();
    result.removed_resources.sort();
    result.same =
        result.same && result.added_resources.is_empty() && result.removed_resources.is_empty();
    result
}

/// True when the clause applies to the action.
fn clause_matches(clause: &ActionClause, action: &str) -> bool {
    match clause {
        ActionClause::Action(list) => list.iter().any(|p| action_matches(p, action)),
        ActionClause::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
    }
}

/// The most specific wildcard entry (or `NotAction` statement) allowing the action.
fn best_wildcard(allows: &[&Statement], action: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let mut consider = |rank: usize, pattern: String| {
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, pattern));
        }
    };
    for statement in allows {
        match &statement.actions {
            ActionClause::Action(list) => {
                for entry in list {
                    if is_wildcard(entry) && action_matches(entry, action) {
                        let fixed = entry.chars().filter(|c| !matches!(c, '*' | '?')).count();
                        consider(fixed + 1, entry.clone());
                    }
                }
            }
            ActionClause::NotAction(list) => {
                if clause_matches(&statement.actions, action) {
                    consider(0, format!("NotAction {}", list.join(", ")));
                }
            }
        }
    }
    best.map(|(_, pattern)| pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_policies_differ_by_resource() {
        let generated = set(&["s3:GetObject", "s3:ListBucket"]);
        let get = crate::policy::Action::parse("s3:GetObject").unwrap();
        let scope: crate::policy::Scope = [(
            get,
            vec![
                "arn:aws:s3:::b/*".to_string(),
                "arn:aws:s3:::c/*".to_string(),
            ],
        )]
        .into();
        let base = baseline(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},
            {"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::old/*"]}]}"#,
        );
        let result = diff_scoped(&generated, &scope, &base);
        assert!(!result.same);
        assert_eq!(
            result.to_text(),
            "+ s3:GetObject on arn:aws:s3:::c/*\n- s3:GetObject on arn:aws:s3:::old/*\n"
        );
        // A generated action on "*" compares by name only, as before; the JSON keeps its old shape then.
        let plain = diff_scoped(&generated, &crate::policy::Scope::new(), &base);
        assert!(plain.same);
        assert!(plain.to_json().get("added_resources").is_none());
        // A baseline pattern covers the resources it matches (nothing added); what it granted beyond them is
        // reported as removed.
        let wide = baseline(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::*"}]}"#,
        );
        let narrower = diff_scoped(&generated, &scope, &wide);
        assert!(narrower.added_resources.is_empty());
        assert_eq!(narrower.to_text(), "- s3:GetObject on arn:aws:s3:::*\n");
    }

    fn set(actions: &[&str]) -> ActionSet {
        ActionSet::parse(actions).unwrap()
    }

    fn baseline(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    fn allow(actions: &str) -> Policy {
        baseline(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#
        ))
    }

    #[test]
    fn identical_policies_are_the_same() {
        let generated = set(&["s3:GetObject", "ec2:DescribeInstances"]);
        let result = diff(
            &generated,
            &allow(r#"["EC2:describeinstances","s3:GetObject","s3:getobject"]"#),
        );
        assert!(result.same);
        assert_eq!(result.to_text(), "");
        assert_eq!(
            result.to_json().to_string(),
            r#"{"same":true,"added":[],"removed":[],"covered_by_wildcard":[]}"#
        );
    }

    #[test]
    fn added_and_removed() {
        let generated = set(&["s3:GetObject", "s3:ListBucket", "sqs:SendMessage"]);
        let result = diff(
            &generated,
            &allow(r#"["s3:PutObject","s3:GetObject","s3:DeleteObject"]"#),
        );
        assert!(!result.same);
        assert_eq!(result.added, ["s3:ListBucket", "sqs:SendMessage"]);
        assert_eq!(result.removed, ["s3:DeleteObject", "s3:PutObject"]);
        assert_eq!(
            result.to_text(),
            "+ s3:ListBucket\n+ sqs:SendMessage\n- s3:DeleteObject\n- s3:PutObject\n"
        );
    }

    #[test]
    fn wildcard_coverage() {
        let generated = set(&["s3:GetObject", "s3:ListBucket", "ec2:DescribeInstances"]);
        let result = diff(
            &generated,
            &allow(r#"["s3:Get*","s3:*","ec2:Describe?nstances"]"#),
        );
        assert_eq!(result.added, Vec::<String>::new());
        assert_eq!(result.removed, Vec::<String>::new());
        assert_eq!(
            result.covered_by_wildcard,
            [
                WildcardCoverage {
                    action: "ec2:DescribeInstances".into(),
                    pattern: "ec2:Describe?nstances".into()
                },
                WildcardCoverage {
                    action: "s3:GetObject".into(),
                    pattern: "s3:Get*".into()
                },
                WildcardCoverage {
                    action: "s3:ListBucket".into(),
                    pattern: "s3:*".into()
                },
            ]
        );
        assert!(!result.same);
        assert_eq!(
            result.to_text(),
            "~ ec2:DescribeInstances (covered by ec2:Describe?nstances)\n\
             ~ s3:GetObject (covered by s3:Get*)\n\
             ~ s3:ListBucket (covered by s3:*)\n"
        );
        assert_eq!(
            result.to_json()["covered_by_wildcard"][1].to_string(),
            r#"{"action":"s3:GetObject","pattern":"s3:Get*"}"#
        );
    }

    #[test]
    fn literal_entry_beats_wildcard() {
        let result = diff(
            &set(&["s3:GetObject"]),
            &allow(r#"["s3:*","s3:GetObject"]"#),
        );
        assert!(result.same, "{result:?}");
    }

    #[test]
    fn wildcard_matching_nothing_is_removed() {
        let result = diff(
            &set(&["s3:GetObject"]),
            &allow(r#"["s3:GetObject","ec2:*"]"#),
        );
        assert_eq!(result.removed, ["ec2:*"]);
        assert!(result.added.is_empty());
    }

    #[test]
    fn star_covers_everything() {
        let result = diff(&set(&["s3:GetObject", "iam:PassRole"]), &allow(r#""*""#));
        assert!(result.added.is_empty());
        assert!(result.removed.is_empty());
        assert_eq!(result.covered_by_wildcard.len(), 2);
        assert!(result.covered_by_wildcard.iter().all(|c| c.pattern == "*"));
    }

    #[test]
    fn not_action_allows_the_rest() {
        let policy = baseline(
            r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#,
        );
        let result = diff(&set(&["s3:GetObject", "iam:PassRole"]), &policy);
        assert_eq!(result.added, ["iam:PassRole"]);
        assert_eq!(
            result.covered_by_wildcard,
            [WildcardCoverage {
                action: "s3:GetObject".into(),
                pattern: "NotAction iam:*, organizations:*".into()
            }]
        );
        assert!(
            result.removed.is_empty(),
            "NotAction entries are not grants"
        );
    }

    #[test]
    fn unconditional_deny_takes_away() {
        let policy = baseline(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:*","ec2:DescribeInstances","iam:PassRole"],"Resource":"*"},
            {"Effect":"Deny","Action":["s3:DeleteBucket","EC2:DescribeInstances"],"Resource":"*"},
            {"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
            {"Effect":"Deny","NotAction":["s3:*","ec2:*","iam:*"],"Resource":"*"}]}"#,
        );
        let result = diff(
            &set(&[
                "s3:DeleteBucket",
                "s3:GetObject",
                "ec2:DescribeInstances",
                "iam:PassRole",
                "sqs:SendMessage",
            ]),
            &policy,
        );
        assert_eq!(
            result.added,
            [
                "ec2:DescribeInstances",
                "s3:DeleteBucket",
                "sqs:SendMessage"
            ]
        );
        assert_eq!(
            result.covered_by_wildcard,
            [WildcardCoverage {
                action: "s3:GetObject".into(),
                pattern: "s3:*".into()
            }]
        );
        assert!(result.removed.is_empty());
    }

    #[test]
    fn allow_with_resources_or_conditions_still_counts() {
        let policy = baseline(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
        );
        assert!(diff(&set(&["s3:GetObject"]), &policy).same);
    }

    #[test]
    fn empty_generated_set_removes_everything() {
        let result = diff(&ActionSet::new(), &allow(r#"["s3:GetObject","*"]"#));
        assert_eq!(result.removed, ["*", "s3:GetObject"]);
        assert!(!result.same);
    }
}
