//! Issue 21 through `lppg export-policy` and `lppg status` against a moto server of the test's own: the function's
//! log holds `blocked` lines (implicit denies by an SCP and a permissions boundary, which an identity policy cannot
//! fix) and an explicit deny naming its kind. The exported policy holds none of them; `--explain` (table and
//! `--json`) lists each with the policy that refused it; `status` counts the blocked calls.
//!
//! The function's log is written with the SDK, as the function writes it (tests/vectors/decision_lines.json's
//! `blocked-*` vectors give the shape); moto cannot produce an SCP or boundary denial itself (it evaluates no
//! policy), so the lines stand for the function's answer to such records (tests/python/test_function.py
//! `test_denials_an_identity_policy_cannot_fix_are_not_granted` runs those records through the function).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use crate::common::{block_on, Moto, TempDir};
use lppg::naming::Names;
use serde_json::{json, Value};

const SCP: &str =
    "arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/p-examplescp";

fn line(kind: &str, action: &str, time: &str, by: Option<&str>, arn: Option<&str>) -> String {
    let reason = match kind {
        "blocked" => "an identity policy cannot fix this (as the function words it)",
        _ => "",
    };
    json!({"lppg": "decision", "v": 1, "decision": kind, "action": action, "derived_from": "message",
        "access_level": null, "event_time": time, "event_id": format!("id-{action}-{time}"),
        "event_source": "test.amazonaws.com", "event_name": "Test", "policy": null, "version": null,
        "reason": reason, "resources": [], "denied_by": by, "denied_by_policy": arn})
    .to_string()
}

#[test]
fn export_and_status_name_the_policies_that_blocked_calls() {
    let moto = Moto::start();
    let dir = TempDir::new("export-refused");
    let d = dir.path();
    moto.lppg(d, &["--stack-name", "lppg", "up", "--yes", "--no-password"])
        .run();
    let c = moto.clients();
    let names = Names::new("lppg", "aws", "123456789012", "us-east-1", None);
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "S3", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "*"}]});
    block_on(
        c.iam
            .create_policy_version()
            .policy_arn(&names.policy_arns()[0])
            .policy_document(policy.to_string())
            .set_as_default(true)
            .send(),
    )
    .unwrap();
    let lines = [
        line(
            "granted",
            "s3:ListBucket",
            "2026-03-01T10:00:00Z",
            Some("identity_based_policy"),
            None,
        ),
        line(
            "blocked",
            "sqs:ListQueues",
            "2026-03-01T10:00:01Z",
            Some("service_control_policy"),
            Some(SCP),
        ),
        line(
            "blocked",
            "sqs:ListQueues",
            "2026-03-01T10:00:05Z",
            Some("service_control_policy"),
            Some(SCP),
        ),
        line(
            "blocked",
            "ec2:RunInstances",
            "2026-03-01T10:00:02Z",
            Some("permissions_boundary"),
            None,
        ),
        line(
            "explicit_deny",
            "ssm:GetParameter",
            "2026-03-01T10:00:03Z",
            Some("session_policy"),
            None,
        ),
    ];
    let now = lppg::time::now_ms();
    block_on(async {
        for (i, message) in lines.iter().enumerate() {
            lppg::aws::logs::put_line(
                &c,
                &names.function_log_group,
                "2026/03/01/[$LATEST]0123",
                now + i as i64,
                message,
            )
            .await
            .unwrap();
        }
    });

    let policy = moto.lppg(d, &["export-policy"]).run().stdout;
    assert!(policy.contains("s3:ListBucket"), "{policy}");
    for held_back in ["sqs:ListQueues", "ec2:RunInstances", "ssm:GetParameter"] {
        assert!(
            !policy.contains(held_back),
            "{held_back} exported:\n{policy}"
        );
    }

    let table = moto.lppg(d, &["export-policy", "--explain"]).run().stdout;
    let section = table.split("NOT GRANTED").nth(1).expect(&table);
    let row = |action: &str| {
        section
            .lines()
            .find(|l| l.starts_with(&format!("{action} ")))
            .unwrap_or_else(|| panic!("{action} not listed:\n{table}"))
            .to_owned()
    };
    let sqs = row("sqs:ListQueues");
    assert!(
        sqs.contains("service control policy") && sqs.contains(SCP),
        "{sqs}"
    );
    assert!(sqs.contains(
        "an identity policy cannot fix this: the service control policy p-examplescp must allow sqs:ListQueues"
    ));
    let cells: Vec<&str> = sqs.split_whitespace().collect();
    let at = cells.iter().position(|c| *c == SCP).expect("policy cell");
    assert_eq!(
        cells[at + 1..at + 3],
        ["2", "2026-03-01T10:00:01Z"],
        "calls and first denial: {sqs}"
    );
    assert!(row("ec2:RunInstances").contains("a permissions boundary must allow ec2:RunInstances"));
    assert!(row("ssm:GetParameter").contains("explicit deny in a session policy"));

    let rows: Value = serde_json::from_str(
        &moto
            .lppg(d, &["export-policy", "--explain", "--json"])
            .run()
            .stdout,
    )
    .unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["action"] == "s3:ListBucket" && r.get("granted").is_none()));
    let blocked: Vec<(&str, &str, &Value)> = rows
        .iter()
        .filter(|r| r["granted"] == false && r["outcome"] == "blocked")
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["denied_by"].as_str().unwrap(),
                &r["denied_by_policy"],
            )
        })
        .collect();
    assert_eq!(
        blocked,
        [
            ("ec2:RunInstances", "permissions_boundary", &Value::Null),
            ("sqs:ListQueues", "service_control_policy", &json!(SCP)),
        ]
    );

    // status's checks go to stderr; it fails here only because moto skips the trail and subscription filter.
    let status = moto.lppg(d, &["status"]).expect_code(1).run();
    let log_check = status
        .stderr
        .lines()
        .find(|l| l.contains("function log"))
        .unwrap_or_else(|| panic!("no function log check:\n{}", status.dump()));
    assert!(
        log_check.contains("3 calls blocked by 2 other policies (not granted"),
        "{log_check}"
    );
}
