//! Issue 21's acceptance test, through the built binary: a policy generated (`lppg generate --denied`) from records
//! refused by an SCP, an RCP, a permissions boundary, a session policy or a VPC endpoint policy holds none of those
//! actions, while `--explain` (and `--explain --json`) names each with the policy that refused it and the fix.
//!
//! The records are the shared vectors of `tests/vectors/denied.jsonl` named `kind-*` (message forms from the IAM
//! User Guide, "Troubleshoot access denied error messages"; the ARN after a colon from the AWS Security Blog,
//! "Enhanced access denied error messages with policy ARNs"; each vector names its source).

#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{TempDir, Test};
use serde_json::Value;

/// The `kind-*` vectors of `denied.jsonl`.
fn kind_vectors() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/denied.jsonl");
    std::fs::read_to_string(path)
        .expect("denied.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("a vector"))
        .filter(|v| v["name"].as_str().is_some_and(|n| n.starts_with("kind-")))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[test]
fn blocked_actions_stay_out_of_the_policy_and_explain_names_their_policy() {
    let vectors = kind_vectors();
    let blocked: Vec<&Value> = vectors
        .iter()
        .filter(|v| v["expect"]["outcome"] == "blocked")
        .collect();
    let blocked_actions: BTreeSet<String> = blocked
        .iter()
        .flat_map(|v| strings(&v["expect"]["actions"]))
        .collect();
    let kinds: BTreeSet<&str> = blocked
        .iter()
        .filter_map(|v| v["expect"]["denied_by"].as_str())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "permissions_boundary",
            "resource_control_policy",
            "service_control_policy",
            "session_policy",
            "vpc_endpoint_policy"
        ]
    );
    // Granted records beside them, for actions no blocked record names.
    let granted: Vec<&Value> = vectors
        .iter()
        .filter(|v| v["expect"]["outcome"] == "grant")
        .filter(|v| {
            strings(&v["expect"]["actions"])
                .iter()
                .all(|a| !blocked_actions.contains(a))
        })
        .collect();
    assert!(!granted.is_empty());
    let records: Vec<&Value> = blocked
        .iter()
        .chain(&granted)
        .map(|v| &v["record"])
        .collect();
    let dir = TempDir::new("generate-refused");
    let file = dir.path().join("trail.json");
    std::fs::write(&file, serde_json::json!({ "Records": records }).to_string()).unwrap();
    let file = file.display().to_string();

    let out = Test::new()
        .args(["generate", "--denied", &file])
        .expect_code(0)
        .expect_stderr_contains("blocked by another policy, not granted")
        .run();
    let doc: Value = serde_json::from_str(&out.stdout).expect("a policy");
    let held: BTreeSet<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert!(
        held.is_disjoint(&blocked_actions),
        "blocked actions in the policy: {:?}",
        held.intersection(&blocked_actions).collect::<Vec<_>>()
    );
    for v in &granted {
        for a in strings(&v["expect"]["actions"]) {
            assert!(held.contains(&a), "{a} missing from {held:?}");
        }
    }

    let table = Test::new()
        .args(["generate", "--denied", "--explain", &file])
        .expect_code(0)
        .run()
        .stdout;
    let section = table
        .split("NOT GRANTED")
        .nth(1)
        .unwrap_or_else(|| panic!("no NOT GRANTED section:\n{table}"));
    for v in &blocked {
        let action = strings(&v["expect"]["actions"]).remove(0);
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("{action} ")))
            .unwrap_or_else(|| panic!("{action} not listed:\n{section}"));
        assert!(
            line.contains(v["expect"]["reason"].as_str().unwrap()),
            "{line}"
        );
        if let Some(arn) = v["expect"]["denied_by_policy"].as_str() {
            assert!(line.contains(arn), "{line}");
        }
    }

    let json = Test::new()
        .args(["generate", "--denied", "--explain", "--json", &file])
        .expect_code(0)
        .run()
        .stdout;
    let rows: Value = serde_json::from_str(&json).expect("JSON rows");
    let refused: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["granted"] == false && r["outcome"] == "blocked")
        .collect();
    let mut listed: Vec<(String, String, String)> = refused
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["denied_by"].as_str().unwrap().to_owned(),
                r["denied_by_policy"].to_string(),
            )
        })
        .collect();
    listed.sort();
    let mut want: Vec<(String, String, String)> = blocked
        .iter()
        .map(|v| {
            (
                strings(&v["expect"]["actions"]).remove(0),
                v["expect"]["denied_by"].as_str().unwrap().to_owned(),
                v["expect"]["denied_by_policy"].to_string(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(listed, want);
}

#[test]
fn explain_lists_blocked_actions_even_when_nothing_is_granted() {
    let scp = "arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/p-examplescp";
    let record = serde_json::json!({"eventVersion": "1.09", "eventTime": "2026-03-01T10:00:00Z",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/dev"},
        "eventSource": "sqs.amazonaws.com", "eventName": "ListQueues", "errorCode": "AccessDenied",
        "errorMessage": format!("User: arn:aws:iam::123456789012:user/dev is not authorized to perform: \
            sqs:ListQueues because no service control policy allows the sqs:ListQueues action: {scp}")});
    let dir = TempDir::new("generate-refused-only");
    let file = dir.path().join("trail.json");
    std::fs::write(
        &file,
        serde_json::json!({ "Records": [record] }).to_string(),
    )
    .unwrap();
    let file = file.display().to_string();
    Test::new()
        .args(["generate", "--denied", &file])
        .expect_code(1)
        .expect_stderr_contains("sqs:ListQueues (service control policy ")
        .expect_stderr_contains("no action found")
        .run();
    let out = Test::new()
        .args(["generate", "--denied", "--explain", &file])
        .expect_code(0)
        .run();
    assert!(
        out.stdout.contains(
            "an identity policy cannot fix this: the service control policy p-examplescp must allow \
             sqs:ListQueues"
        ),
        "{}",
        out.stdout
    );
}
