//! Size accounting against IAM's limit, and splitting into documents that fit.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::actions::{Action, ActionSet};
use super::render::{document, scoped_groups, statement, unique_sid, Group, Grouping, Scope};

/// A policy's size as IAM counts it: characters of its JSON text, whitespace not counted.
///
/// Counted on the compact serialisation, so the result does not depend on how the
/// document is indented. (Whitespace inside string values is not counted either;
/// lppg's own documents have none.)
pub fn policy_size(value: &Value) -> usize {
    value
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// One action is too large to fit a document of the requested size on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub limit: usize,
    pub action: String,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a policy of at most {} characters cannot hold even {} alone",
            self.limit, self.action
        )
    }
}

impl std::error::Error for SplitError {}

/// Splits the policy for `set` into documents of at most `limit` characters each
/// ([`policy_size`]), usually [`super::MAX_POLICY_SIZE`].
///
/// Statements are those of [`super::render_policy`] with the same grouping. Each
/// statement is kept whole when it fits a document on its own; statements are
/// placed in order, each into the first document with room for it (so documents
/// are filled before new ones are opened, deterministically). A statement too big
/// for one document is cut into parts, in action order, each filling a document,
/// with `Sid`s `<Sid>Part1`, `<Sid>Part2`… (unique among all the documents).
///
/// When everything fits, the result is one document equal to `render_policy`.
/// An empty set gives no documents.
pub fn split(
    set: &ActionSet,
    grouping: Grouping<'_>,
    limit: usize,
) -> Result<Vec<Value>, SplitError> {
    split_scoped(set, grouping, &Scope::new(), limit)
}

/// [`split`] for [`super::render_scoped`]'s statements: each keeps its resources, parts of a cut one too.
pub fn split_scoped(
    set: &ActionSet,
    grouping: Grouping<'_>,
    scope: &Scope,
    limit: usize,
) -> Result<Vec<Value>, SplitError> {
    let groups = scoped_groups(set, grouping, scope);
    let mut used: BTreeSet<String> = groups.iter().map(|g| g.sid.to_ascii_lowercase()).collect();
    let empty_document = policy_size(&document(Vec::new()));

    let mut pieces: Vec<(Group, usize)> = Vec::new();
    for group in groups {
        let size = statement_size(&group);
        if empty_document + size <= limit {
            pieces.push((group, size));
        } else {
            pieces.extend(cut(
                group,
                limit.saturating_sub(empty_document),
                &mut used,
                limit,
            )?);
        }
    }

    // First fit, in order. Each document: its pieces and its size so far.
    let mut documents: Vec<(Vec<Group>, usize)> = Vec::new();
    for (piece, size) in pieces {
        let room = documents
            .iter_mut()
            .find(|(_, used_size)| used_size + 1 + size <= limit);
        match room {
            Some((list, used_size)) => {
                *used_size += 1 + size;
                list.push(piece);
            }
            None => documents.push((vec![piece], empty_document + size)),
        }
    }
    Ok(documents
        .into_iter()
        .map(|(list, _)| {
            document(
                list.iter()
                    .map(|g| statement(&g.sid, &g.actions, &g.resources))
                    .collect(),
            )
        })
        .collect())
}

/// A statement's size, from its parts: no need to serialise every candidate.
fn statement_size(group: &Group) -> usize {
    let bare = policy_size(&statement(&group.sid, &[], &group.resources));
    bare + list_size(&group.actions)
}

/// The characters `a`,`b`… add inside an empty JSON list: quotes, names and commas.
fn list_size(actions: &[Action]) -> usize {
    let names: usize = actions.iter().map(action_size).sum();
    names + actions.len().saturating_sub(1)
}

fn action_size(action: &Action) -> usize {
    action.to_string().chars().count() + 2
}

/// Cuts an oversized statement into parts of at most `room` characters each.
fn cut(
    group: Group,
    room: usize,
    used: &mut BTreeSet<String>,
    limit: usize,
) -> Result<Vec<(Group, usize)>, SplitError> {
    let mut parts = Vec::new();
    let mut actions = group.actions.into_iter().peekable();
    let mut n = 1;
    while actions.peek().is_some() {
        let sid = unique_sid(&format!("{}Part{n}", group.sid), used);
        let mut size = policy_size(&statement(&sid, &[], &group.resources));
        let mut part: Vec<Action> = Vec::new();
        while let Some(action) = actions.peek() {
            let extra = action_size(action) + usize::from(!part.is_empty());
            if size + extra > room {
                break;
            }
            size += extra;
            part.extend(actions.next());
        }
        if part.is_empty() {
            return Err(SplitError {
                limit,
                action: actions.peek().map(Action::to_string).unwrap_or_default(),
            });
        }
        parts.push((
            Group {
                sid,
                actions: part,
                resources: group.resources.clone(),
            },
            size,
        ));
        n += 1;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::super::render::{render_policy, Step};
    use super::super::validate::validate_policy;
    use super::super::MAX_POLICY_SIZE;
    use super::*;
    use serde_json::json;

    fn set(actions: &[&str]) -> ActionSet {
        ActionSet::parse(actions).unwrap()
    }

    /// `count` actions spread over services; service `huge` has `huge` of them.
    fn big_set(count: usize, huge: usize) -> ActionSet {
        let mut names = Vec::new();
        for i in 0..huge {
            names.push(format!("huge:DoSomethingRatherLong{i:04}"));
        }
        for i in huge..count {
            names.push(format!("svc{:02}:DescribeThing{i:04}", i % 37));
        }
        ActionSet::parse(names).unwrap()
    }

    fn all_actions(documents: &[Value]) -> Vec<String> {
        let mut all: Vec<String> = documents
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        all.sort_by_key(|a| a.to_ascii_lowercase());
        all
    }

    #[test]
    fn size_ignores_whitespace() {
        let value = json!({"Version": "2012-10-17", "Statement": []});
        assert_eq!(
            policy_size(&value),
            r#"{"Version":"2012-10-17","Statement":[]}"#.len()
        );
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(
            policy_size(&value),
            pretty.chars().filter(|c| !c.is_whitespace()).count()
        );
        assert_eq!(policy_size(&json!("a b")), 4);
        assert_eq!(policy_size(&json!("é")), 3);
    }

    #[test]
    fn statement_size_arithmetic_matches_serialisation() {
        let s = set(&["s3:GetObject", "s3:PutObject", "s3:ListBucket"]);
        let group = Group {
            sid: "S3".into(),
            actions: s.iter().cloned().collect(),
            resources: Vec::new(),
        };
        assert_eq!(
            statement_size(&group),
            policy_size(&statement("S3", &group.actions, &[]))
        );
        let scoped = Group {
            resources: vec!["arn:aws:s3:::b/*".into(), "arn:aws:s3:::c".into()],
            ..group
        };
        assert_eq!(
            statement_size(&scoped),
            policy_size(&statement("S3", &scoped.actions, &scoped.resources))
        );
    }

    #[test]
    fn small_policy_is_one_document_equal_to_render() {
        let s = set(&["s3:GetObject", "ec2:DescribeInstances"]);
        let documents = split(&s, Grouping::ByService, MAX_POLICY_SIZE).unwrap();
        assert_eq!(documents, vec![render_policy(&s, Grouping::ByService)]);
        assert!(
            split(&ActionSet::new(), Grouping::ByService, MAX_POLICY_SIZE)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn splits_1500_actions_into_valid_documents() {
        let s = big_set(1500, 600);
        let whole = render_policy(&s, Grouping::ByService);
        assert!(policy_size(&whole) > MAX_POLICY_SIZE);
        let documents = split(&s, Grouping::ByService, MAX_POLICY_SIZE).unwrap();
        assert!(documents.len() > 1);
        for document in &documents {
            assert!(policy_size(document) <= MAX_POLICY_SIZE);
            validate_policy(document).unwrap();
        }
        // Every action exactly once.
        let expected: Vec<String> = s.iter().map(Action::to_string).collect();
        assert_eq!(all_actions(&documents), expected);
        // The huge service was cut into parts; every other service kept whole.
        let mut sids: Vec<String> = documents
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .map(|s| s["Sid"].as_str().unwrap().to_string())
            .collect();
        assert!(sids.contains(&"HugePart1".to_string()));
        assert!(sids.contains(&"HugePart2".to_string()));
        assert!(!sids.contains(&"Huge".to_string()));
        let count = sids.len();
        sids.sort();
        sids.dedup();
        assert_eq!(sids.len(), count, "Sids are unique across documents");
        for i in 0..37 {
            let sid = format!("Svc{i:02}");
            assert_eq!(
                documents
                    .iter()
                    .filter(|d| d["Statement"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["Sid"] == sid.as_str()))
                    .count(),
                1,
                "{sid} in exactly one document"
            );
        }
        // Deterministic.
        assert_eq!(
            documents,
            split(&s, Grouping::ByService, MAX_POLICY_SIZE).unwrap()
        );
    }

    #[test]
    fn documents_are_well_filled() {
        let s = big_set(1500, 0);
        let documents = split(&s, Grouping::ByService, MAX_POLICY_SIZE).unwrap();
        let total: usize = documents.iter().map(policy_size).sum();
        // No more than one document beyond the least possible.
        assert!(
            documents.len() <= total / MAX_POLICY_SIZE + 2,
            "{}",
            documents.len()
        );
    }

    #[test]
    fn fills_up_to_the_exact_limit() {
        let s = big_set(300, 300);
        for limit in [200, 511, 1000, 6144] {
            let documents = split(&s, Grouping::ByService, limit).unwrap();
            assert!(documents.iter().all(|d| policy_size(d) <= limit));
            assert_eq!(all_actions(&documents).len(), 300);
        }
    }

    #[test]
    fn by_step_grouping_splits_too() {
        let s = big_set(400, 0);
        let steps = [Step {
            label: "everything".into(),
            actions: s.clone(),
        }];
        let documents = split(&s, Grouping::ByStep(&steps), MAX_POLICY_SIZE).unwrap();
        assert!(documents.len() > 1);
        assert_eq!(documents[0]["Statement"][0]["Sid"], "EverythingPart1");
        assert_eq!(all_actions(&documents).len(), 400);
    }

    #[test]
    fn refuses_a_limit_too_small_for_one_action() {
        let s = set(&["s3:GetObject"]);
        let err = split(&s, Grouping::ByService, 50).unwrap_err();
        assert_eq!(err.action, "s3:GetObject");
        assert_eq!(
            err.to_string(),
            "a policy of at most 50 characters cannot hold even s3:GetObject alone"
        );
        assert!(split(&s, Grouping::ByService, 0).is_err());
    }
}

#[cfg(test)]
mod scoped_tests {
    use super::*;
    use crate::policy::{validate_policy, MAX_POLICY_SIZE};

    #[test]
    fn split_keeps_each_statements_resources_and_fits() {
        let names: Vec<String> = (0..600).map(|i| format!("s3:Action{i:04}")).collect();
        let set = ActionSet::parse(&names).unwrap();
        let scope: Scope = set
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, a)| (a.clone(), vec!["arn:aws:s3:::team-data/*".to_string()]))
            .collect();
        let documents = split_scoped(&set, Grouping::ByService, &scope, MAX_POLICY_SIZE).unwrap();
        assert!(documents.len() > 1);
        let mut scoped = 0;
        for document in &documents {
            validate_policy(document).unwrap();
            for statement in document["Statement"].as_array().unwrap() {
                let n = statement["Action"].as_array().unwrap().len();
                if statement["Resource"] == serde_json::json!(["arn:aws:s3:::team-data/*"]) {
                    scoped += n;
                } else {
                    assert_eq!(statement["Resource"], "*");
                }
            }
        }
        assert_eq!(scoped, 300);
    }
}
