//! The CLI's side of `tests/vectors/resources.json` (issue 12): each record's resource evidence (as `generate`
//! reads it, and as the function writes it on decision lines), the statements of `--resources observed` and
//! `scoped`, and that the scoped statements allow the action on the observed resource but not on the same resource
//! type in another account or under another name.

use std::collections::BTreeMap;

use serde_json::Value;

use lppg_core::cloudtrail::{classify_value, engine::record_from_value, Outcome};
use lppg_core::policy::{self, Action, ActionSet, Evidence, Grouping, ResourceMode};

fn vectors() -> Vec<Value> {
    let path = crate::vectors_dir().join("resources.json");
    let text = std::fs::read_to_string(path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The statements for one record alone, as `generate --denied --resources MODE` writes them.
fn statements(set: &ActionSet, evidence: &Evidence, mode: ResourceMode) -> Value {
    let map: BTreeMap<Action, Evidence> =
        set.iter().map(|a| (a.clone(), evidence.clone())).collect();
    let choices = policy::resource_data().choose_all(set, &map, mode);
    let document = policy::render_scoped(set, Grouping::ByService, &policy::scope_of(&choices));
    policy::validate_policy(&document).unwrap();
    document["Statement"].clone()
}

#[test]
fn every_resource_vector_gives_its_evidence_and_statements() {
    let catalogue = policy::catalogue().unwrap();
    let vectors = vectors();
    assert!(vectors.len() >= 10);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let expect = &v["expect"];
        let d = classify_value(&v["record"], v["principal"].as_str(), None, catalogue);
        assert_eq!(d.outcome, Outcome::Grant, "{name}: {}", d.reason);
        let set: ActionSet = d.actions.iter().cloned().collect();
        assert_eq!(
            set.iter().map(Action::to_string).collect::<Vec<_>>(),
            strings(&expect["actions"]),
            "{name}"
        );
        let record = record_from_value(&v["record"]).unwrap();
        let items = record.evidence(d.resource.as_deref());
        assert_eq!(items, strings(&expect["evidence"]), "{name}: evidence");
        let mut evidence = Evidence::default();
        evidence.add(items.iter().map(String::as_str));
        for mode in ["observed", "scoped"] {
            let got = statements(&set, &evidence, mode.parse().unwrap());
            assert_eq!(got, expect[mode], "{name}: {mode}");
        }
        assert_eq!(
            statements(&set, &evidence, ResourceMode::Any),
            policy::render_policy(&set, Grouping::ByService)["Statement"],
            "{name}: any"
        );
    }
}

fn resources_of(statement: &Value) -> Vec<String> {
    match &statement["Resource"] {
        Value::String(one) => vec![one.clone()],
        list => strings(list),
    }
}

#[test]
fn scoped_policies_allow_the_observed_resource_and_nothing_beside_it() {
    for v in &vectors() {
        let name = v["name"].as_str().unwrap();
        let expect = &v["expect"];
        for (observed, scoped) in expect["observed"]
            .as_array()
            .unwrap()
            .iter()
            .zip(expect["scoped"].as_array().unwrap())
        {
            let allowed = resources_of(scoped);
            for arn in resources_of(observed) {
                assert!(
                    allowed.iter().any(|p| policy::arn_matches(p, &arn)),
                    "{name}: {allowed:?} does not allow {arn}"
                );
            }
            for arn in strings(&expect["not_allowed"]) {
                assert!(
                    !allowed.iter().any(|p| policy::arn_matches(p, &arn)),
                    "{name}: {allowed:?} allows {arn}"
                );
            }
            // Every emitted ARN fits a resource type the action accepts.
            for action in strings(&scoped["Action"]) {
                let action = Action::parse(&action).unwrap();
                for arn in allowed.iter().filter(|a| *a != "*") {
                    assert!(
                        policy::resource_data().fits(&action, arn).is_some(),
                        "{name}: {arn} does not fit {action}"
                    );
                }
            }
        }
    }
}

#[test]
fn older_decision_lines_and_malformed_evidence_never_break_a_policy() {
    let set =
        ActionSet::parse(["s3:GetObject", "sqs:SendMessage", "ec2:DescribeInstances"]).unwrap();
    let junk = [
        "arn:",
        "arn:aws:s3:::",
        "arn:aws:s3:::b\"k",
        "arn:aws:s3:::b\nk",
        "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
        "queueUrl=https://sqs.eu-west-1.amazonaws.com/../x",
        "bucketName=",
        "*",
        "",
    ];
    let mut evidence = Evidence::default();
    evidence.add(junk);
    for mode in [ResourceMode::Observed, ResourceMode::Scoped] {
        let got = statements(&set, &evidence, mode);
        for statement in got.as_array().unwrap() {
            assert_eq!(statement["Resource"], "*", "{mode}: {statement}");
        }
        let choices = policy::resource_data().choose_all(
            &set,
            &set.iter().map(|a| (a.clone(), evidence.clone())).collect(),
            mode,
        );
        let get = &choices[&Action::parse("s3:GetObject").unwrap()];
        assert!(get.why.contains("is not an ARN"), "{}", get.why);
    }
}
