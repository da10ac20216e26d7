//! `lppg generate --resources` end to end (issue 12): the records of the shared resource vectors
//! (tests/vectors/resources.json) as one CloudTrail file, read by the built binary under each mode.

use crate::common::{snapshot, Test};
use serde_json::{json, Value};

/// The vectors' records as one CloudTrail file (`{"Records": [...]}`), on standard input.
fn trail() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/resources.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records: Vec<Value> = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["record"].clone())
        .collect();
    json!({ "Records": records }).to_string()
}

fn generate(args: &[&str]) -> Test {
    Test::new()
        .arg("generate")
        .args(["--denied"])
        .args(args)
        .arg("-")
        .stdin(trail())
}

#[test]
fn the_three_modes_and_the_risk_review() {
    let any = generate(&[]).run();
    assert_eq!(generate(&["--resources", "any"]).run().stdout, any.stdout);
    assert!(!any.stdout.contains("arn:"), "{}", any.stdout);
    snapshot("generate/resources.any.json", &any.stdout);
    for mode in ["observed", "scoped"] {
        let run = generate(&["--resources", mode]).run();
        let document: Value = serde_json::from_str(&run.stdout).unwrap();
        lppg::policy::validate_policy(&document).unwrap();
        snapshot(&format!("generate/resources.{mode}.json"), &run.stdout);
    }
    let explain = generate(&["--resources", "scoped", "--explain"]).run();
    snapshot("generate/resources.explain.txt", &explain.stdout);
    let explain_json = generate(&["--resources", "scoped", "--explain", "--json"]).run();
    let rows: Value = serde_json::from_str(&explain_json.stdout).unwrap();
    let row = |action: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] == action)
            .unwrap()
            .clone()
    };
    assert_eq!(
        row("iam:PassRole")["risks"],
        json!(["privilege_escalation", "resource_exposure"])
    );
    assert_eq!(row("s3:GetObject")["risks"], json!(["data_exfiltration"]));
    assert_eq!(row("s3:ListAllMyBuckets")["risks"], json!([]));
    assert_eq!(
        row("s3:GetObject")["resource"],
        json!(["arn:aws:s3:::team-data/*"])
    );
    // Stdout is the same with or without flagged actions; stderr ends with the one review line (Access Analyzer's
    // findings, when it is asked, follow it: tests/generate.rs).
    let any = generate(&["--no-validate"]).run();
    for run in [&any, &explain] {
        let last = run.stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.contains("flagged action(s)")
                && last.contains("iam:PassRole")
                && last.contains("s3:GetObject")
                && !last.contains("s3:ListAllMyBuckets"),
            "{}",
            run.stderr
        );
    }
}
