//! Delivered, not yet granted: the trail's log group is the source of truth for what the policy must hold. Every
//! record CloudTrail delivered there is mapped with lppg's own engine (the function's rules, proven equal on the
//! shared vectors: `tests/engine_agreement.rs`) and reconciled by event ID with the function's decision lines: a
//! call the function decided for good is the function's; any other (not invoked yet, still retrying, in the
//! failed-batches queue, or an `error` decision) is decided here. Pure: the records and lines are read by
//! the lppg crate's `stack/drain.rs`.
use super::decisions::{DecisionKind, Line};
use crate::cloudtrail::engine::{classify_value, Guard, Outcome};
use crate::policy::{Action, ActionSet, Catalogue};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Event IDs the function decided for good (every decision but `error`, which it may retry, and `probe`).
pub fn decided_events<'a>(messages: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    let mut out = HashSet::new();
    for m in messages {
        if let Line::Decision(d) = super::decisions::parse_line(m) {
            if !matches!(d.decision, DecisionKind::Error | DecisionKind::Probe) {
                if let Some(id) = d.event_id {
                    out.insert(id);
                }
            }
        }
    }
    out
}

/// What the trail's log group holds that the policy does not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Denied calls of the principal the function has not decided for good, that lppg's engine grants.
    pub undecided_calls: usize,
    /// The actions those calls need that the policy does not hold, with the newest event time seen for each.
    pub missing: BTreeMap<Action, String>,
    /// Regions (`awsRegion`) of the principal's delivered records.
    pub regions: BTreeSet<String>,
}

impl Gap {
    /// The missing actions as a set.
    pub fn actions(&self) -> ActionSet {
        self.missing.keys().cloned().collect()
    }
}

/// The principal, the guard and the catalogue the function decides with.
pub struct Judge<'a> {
    pub principal: &'a str,
    pub guard: Option<&'a Guard>,
    pub catalogue: &'a Catalogue,
}

impl Judge<'_> {
    /// Reconciles the delivered `records` (one CloudTrail record per message) with what the function decided
    /// (`decided`) and what the policy holds (`granted`).
    pub fn gap<'r>(
        &self,
        records: impl IntoIterator<Item = &'r str>,
        decided: &HashSet<String>,
        granted: &ActionSet,
    ) -> Gap {
        let mut gap = Gap::default();
        for text in records {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
                continue;
            };
            let d = classify_value(&v, Some(self.principal), self.guard, self.catalogue);
            if d.outcome == Outcome::OtherPrincipal {
                continue;
            }
            if let Some(r) = v.get("awsRegion").and_then(|r| r.as_str()) {
                gap.regions.insert(r.to_string());
            }
            let id = v.get("eventID").and_then(|i| i.as_str()).unwrap_or("");
            if d.outcome != Outcome::Grant || (!id.is_empty() && decided.contains(id)) {
                continue;
            }
            gap.undecided_calls += 1;
            let time = v.get("eventTime").and_then(|t| t.as_str()).unwrap_or("");
            for a in d.actions {
                if granted.contains(&a) {
                    continue;
                }
                let newest = gap.missing.entry(a).or_default();
                if time > newest.as_str() {
                    *newest = time.to_string();
                }
            }
        }
        gap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::catalogue;

    const USER: &str = "arn:aws:iam::111122223333:user/lppg-user";

    fn record(id: &str, region: &str, who: &str, source: &str, name: &str, code: &str) -> String {
        serde_json::json!({
            "eventVersion": "1.09", "eventID": id, "eventTime": "2026-01-01T10:00:00Z",
            "awsRegion": region, "eventSource": source, "eventName": name, "errorCode": code,
            "errorMessage": "not authorized",
            "userIdentity": {"type": "IAMUser", "arn": who},
        })
        .to_string()
    }

    #[test]
    fn undecided_denials_are_added_and_decided_ones_left_to_the_function() {
        let recs = [
            record(
                "e1",
                "us-east-1",
                USER,
                "s3.amazonaws.com",
                "ListBuckets",
                "AccessDenied",
            ),
            record(
                "e2",
                "eu-west-1",
                USER,
                "sqs.amazonaws.com",
                "ListQueues",
                "AccessDenied",
            ),
            record(
                "e3",
                "eu-west-1",
                "arn:aws:iam::111122223333:user/other",
                "sns.amazonaws.com",
                "ListTopics",
                "AccessDenied",
            ),
            record(
                "e4",
                "eu-west-1",
                USER,
                "sns.amazonaws.com",
                "ListTopics",
                "ThrottlingException",
            ),
            record(
                "e5",
                "us-east-1",
                USER,
                "ec2.amazonaws.com",
                "DescribeVpcs",
                "Client.UnauthorizedOperation",
            ),
        ];
        // e1 decided by the function (granted), e5 decided `error` (it may retry): decided here.
        let lines = [
            r#"{"lppg":"decision","v":1,"decision":"granted","action":"s3:ListAllMyBuckets","event_id":"e1"}"#,
            r#"{"lppg":"decision","v":1,"decision":"error","action":"ec2:DescribeVpcs","event_id":"e5","reason":"policies full"}"#,
        ];
        let decided = decided_events(lines);
        assert!(decided.contains("e1") && !decided.contains("e5"));
        let cat = catalogue().unwrap();
        let judge = Judge {
            principal: USER,
            guard: None,
            catalogue: cat,
        };
        let granted = ActionSet::parse(["s3:ListAllMyBuckets"]).unwrap();
        let gap = judge.gap(recs.iter().map(String::as_str), &decided, &granted);
        let missing: Vec<&str> = gap.missing.keys().map(|a| a.as_str()).collect();
        assert_eq!(missing, ["ec2:DescribeVpcs", "sqs:ListQueues"]);
        assert_eq!(gap.undecided_calls, 2);
        assert_eq!(
            gap.regions.iter().map(String::as_str).collect::<Vec<_>>(),
            ["eu-west-1", "us-east-1"]
        );
        // Nothing missing once the policy holds it.
        let all = granted.union(&gap.actions());
        assert!(judge
            .gap(recs.iter().map(String::as_str), &decided, &all)
            .missing
            .is_empty());
    }

    #[test]
    fn withheld_and_explicitly_denied_calls_stay_out() {
        let mut explicit = serde_json::from_str::<serde_json::Value>(&record(
            "x1",
            "us-east-1",
            USER,
            "sqs.amazonaws.com",
            "ListQueues",
            "AccessDenied",
        ))
        .unwrap();
        explicit["errorMessage"] = "User: x is not authorized to perform: sqs:ListQueues with an explicit deny in an identity-based policy".into();
        let mut guarded = serde_json::from_str::<serde_json::Value>(&record(
            "x2",
            "us-east-1",
            USER,
            "iam.amazonaws.com",
            "DeleteUser",
            "AccessDenied",
        ))
        .unwrap();
        guarded["requestParameters"] = serde_json::json!({"userName": "lppg-user"});
        let guard =
            Guard::from_value(&serde_json::json!({"names": {"userName": ["lppg-user"]}})).unwrap();
        let judge = Judge {
            principal: USER,
            guard: Some(&guard),
            catalogue: catalogue().unwrap(),
        };
        let texts = [explicit.to_string(), guarded.to_string()];
        let gap = judge.gap(
            texts.iter().map(String::as_str),
            &HashSet::new(),
            &ActionSet::new(),
        );
        assert!(gap.missing.is_empty(), "{gap:?}");
        assert_eq!(gap.undecided_calls, 0);
    }
}
