//! `lppg export-policy` end to end through the built binary against a moto server of each test's own: generator
//! policies grown across several versions and spilled into a second policy (written with the SDK, as the function
//! would), decision lines and `lppg mark` markers written into the function's log group, and saved files read back
//! offline. Outputs are compared with the snapshot files in tests/snapshots/export/ (`LPPG_UPDATE_SNAPSHOTS=1`
//! rewrites them).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, lppg_command, run, Moto, Run, TempDir, Test};
use lppg::aws::Clients;
use lppg::naming::Names;
use lppg::policy::{validate_policy, Policy, MAX_POLICY_SIZE};
use serde_json::{json, Value};
use std::path::Path;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn names(stack: &str) -> Names {
    Names::new(stack, "aws", ACCOUNT, REGION, None)
}

/// Compares `actual` with tests/snapshots/export/<name> (see [`crate::common::snapshot`]).
fn snapshot(name: &str, actual: &str) {
    crate::common::snapshot(&format!("export/{name}"), actual);
}

/// `lppg export-policy <args>` with no AWS at all (offline, `--from`).
fn offline(dir: &Path, args: &[&str]) -> Test {
    Test::new()
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .arg("export-policy")
        .args(args)
}

fn export(moto: &Moto, dir: &Path, args: &[&str]) -> Test {
    let mut all = vec!["export-policy"];
    all.extend_from_slice(args);
    moto.lppg(dir, &all)
}

/// Every document of an export (one document or a --split list), each checked as an IAM policy.
fn valid_documents(text: &str) -> Vec<Value> {
    let value: Value = serde_json::from_str(text).expect("the export is JSON");
    let documents = match value {
        Value::Array(list) => list,
        one => vec![one],
    };
    for document in &documents {
        validate_policy(document).unwrap_or_else(|p| panic!("invalid policy: {p:?}\n{text}"));
    }
    documents
}

fn actions_of(documents: &[Value]) -> Vec<String> {
    let mut all: Vec<String> = documents
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    all.sort_by_key(|a| a.to_ascii_lowercase());
    all
}

fn sids_and_actions(document: &Value) -> Vec<(String, Vec<String>)> {
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Sid"].as_str().unwrap().to_string(),
                s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// Runs `lppg export-policy <args>` on a pseudo-terminal, typing `keys` once the prompt shows. Its stdout is
/// everything the terminal showed.
fn interactive(moto: &Moto, dir: &Path, args: &[&str], keys: &[u8]) -> Run {
    const DRIVER: &str = r#"
import os, pty, select, sys, time
keys = sys.argv[1].encode("latin-1").decode("unicode_escape").encode("latin-1")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen = b""
def read_until(token, seconds):
    global seen
    end = time.time() + seconds
    while token not in seen and time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            seen += data
read_until(b"Untick", 60)
time.sleep(0.3)
for k in keys:
    os.write(fd, bytes([k]))
    time.sleep(0.2)
read_until(b"\x00never", 60)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let template = lppg_command(dir);
    let mut cmd = std::process::Command::new(crate::common::venv_bin("python"));
    cmd.current_dir(dir).env_clear();
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    let escaped: String = keys.iter().map(|b| format!("\\x{b:02x}")).collect();
    cmd.env("AWS_ENDPOINT_URL", &moto.url)
        .args([
            "-c",
            DRIVER,
            &escaped,
            env!("CARGO_BIN_EXE_lppg"),
            "export-policy",
        ])
        .args(args);
    run(cmd, None)
}

fn up(moto: &Moto, dir: &Path, stack: &str) {
    moto.lppg(
        dir,
        &["--stack-name", stack, "up", "--yes", "--no-password"],
    )
    .run();
}

/// A new version of a generator policy, as the function writes it.
fn put_version(c: &Clients, policy_arn: &str, document: &Value, default: bool) {
    block_on(
        c.iam
            .create_policy_version()
            .policy_arn(policy_arn)
            .policy_document(document.to_string())
            .set_as_default(default)
            .send(),
    )
    .unwrap_or_else(|e| panic!("create_policy_version {policy_arn}: {e:?}"));
}

fn statement(sid: &str, actions: &[&str]) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"})
}

fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A decision line as the function writes it (assets/function/handler.py `_decision`).
fn decision(decision: &str, action: &str, derived: &str, time: &str) -> String {
    json!({"lppg": "decision", "v": 1, "decision": decision, "action": action, "derived_from": derived,
        "access_level": null, "event_time": time, "event_id": format!("id-{action}-{time}"),
        "event_source": "test.amazonaws.com", "event_name": "Test", "policy": null, "version": null,
        "reason": ""})
    .to_string()
}

/// A decision line with the resources the call was seen on (functions since issue 12).
fn decision_on(
    decision_kind: &str,
    action: &str,
    derived: &str,
    time: &str,
    resources: &[&str],
) -> String {
    let mut line: Value =
        serde_json::from_str(&decision(decision_kind, action, derived, time)).unwrap();
    line["resources"] = json!(resources);
    line.to_string()
}

/// Writes lines into the function's log group in arrival order (log timestamps now, a millisecond apart).
fn write_log(c: &Clients, group: &str, lines: &[(&str, String)]) {
    let now = lppg::time::now_ms();
    block_on(async {
        for (i, (stream, message)) in lines.iter().enumerate() {
            lppg::aws::logs::put_line(c, group, stream, now + i as i64, message)
                .await
                .unwrap();
        }
    });
}

const FN_STREAM: &str = "2024/05/01/[$LATEST]0123456789abcdef";
const MARKS: &str = "lppg-markers";

/// The session the main test replays: a console page's background burst, then three marked steps.
///
/// The policies: policy 1 grew over versions v2, v3 (default) and has a newer non-default v4 that must not
/// count; policy 2 took the spill-over in its v2. The log: decisions and markers, one decision arriving after
/// the next step's marker (late delivery), one action denied again in a later step, and one error decision.
fn set_up_session(c: &Clients, stack: &str) {
    let n = names(stack);
    let arns = n.policy_arns();
    let start = statement("LppgStart", &["ec2:DescribeInstances"]);
    put_version(
        c,
        &arns[0],
        &document(vec![
            start.clone(),
            statement("Cloudwatch", &["cloudwatch:DescribeAlarms"]),
            statement("S3", &["s3:ListAllMyBuckets", "s3:GetBucketLocation"]),
        ]),
        true,
    );
    put_version(
        c,
        &arns[0],
        &document(vec![
            start.clone(),
            statement("Cloudwatch", &["cloudwatch:DescribeAlarms"]),
            statement("Kms", &["kms:GenerateDataKey"]),
            statement(
                "S3",
                &[
                    "s3:ListAllMyBuckets",
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:getbucketpolicy",
                    "s3:PutObject",
                ],
            ),
        ]),
        true,
    );
    put_version(
        c,
        &arns[0],
        &document(vec![start, statement("Iam", &["iam:DeleteUser"])]),
        false,
    );
    put_version(
        c,
        &arns[1],
        &document(vec![
            statement("Sqs", &["sqs:CreateQueue", "sqs:GetQueueAttributes"]),
            statement("S3", &["s3:PutObject"]),
        ]),
        true,
    );

    let mark = |label: &str, time: &str| (MARKS, lppg::decisions::marker_line(label, time));
    let granted = |action: &str, derived: &str, time: &str| {
        (FN_STREAM, decision("granted", action, derived, time))
    };
    write_log(
        c,
        &n.function_log_group,
        &[
            // A console page opens: three read-only calls within two seconds, before any step.
            granted("s3:ListAllMyBuckets", "event", "2024-05-01T10:00:00Z"),
            granted(
                "cloudwatch:DescribeAlarms",
                "event",
                "2024-05-01T10:00:00.500Z",
            ),
            granted("s3:GetBucketLocation", "message", "2024-05-01T10:00:01Z"),
            (
                FN_STREAM,
                r#"{"lppg":"batch","v":1,"records":3}"#.to_string(),
            ),
            mark("open the bucket", "2024-05-01T10:01:00Z"),
            (
                FN_STREAM,
                decision_on(
                    "granted",
                    "s3:ListBucket",
                    "event",
                    "2024-05-01T10:01:05Z",
                    &["arn:aws:s3:::team-reports", "bucketName=team-reports"],
                ),
            ),
            mark("upload a file", "2024-05-01T10:02:00Z"),
            // A write that failed once (IAM throttled) and succeeded on Lambda's retry: no warning.
            (
                FN_STREAM,
                json!({"lppg": "decision", "v": 1, "decision": "error", "action": "s3:PutObject",
                    "derived_from": "message", "event_time": "2024-05-01T10:02:05Z",
                    "reason": "Throttling: Rate exceeded"})
                .to_string(),
            ),
            (
                FN_STREAM,
                decision_on(
                    "granted",
                    "s3:PutObject",
                    "message",
                    "2024-05-01T10:02:05Z",
                    &["arn:aws:s3:::team-reports/2024/05/q1.csv", "bucketName=team-reports", "key=2024/05/q1.csv"],
                ),
            ),
            (
                FN_STREAM,
                decision_on(
                    "granted",
                    "kms:GenerateDataKey",
                    "message",
                    "2024-05-01T10:02:06Z",
                    &["arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"],
                ),
            ),
            // A foreign ARN in a message (not a queue): never emitted, the action stays on *.
            (
                FN_STREAM,
                decision_on(
                    "already_present",
                    "sqs:GetQueueAttributes",
                    "event",
                    "2024-05-01T10:03:09Z",
                    &["arn:aws:s3:::not-a-queue", "queueUrl=not a url"],
                ),
            ),
            mark("create a queue", "2024-05-01T10:03:00Z"),
            granted("sqs:CreateQueue", "event", "2024-05-01T10:03:05Z"),
            // Denied in step 1, delivered only now: belongs to step 1.
            granted("s3:GetBucketPolicy", "event", "2024-05-01T10:01:10Z"),
            granted("sqs:GetQueueAttributes", "event", "2024-05-01T10:03:06Z"),
            // Denied again in step 3: stays in step 1.
            (
                FN_STREAM,
                decision(
                    "already_present",
                    "s3:ListBucket",
                    "event",
                    "2024-05-01T10:03:07Z",
                ),
            ),
            (
                FN_STREAM,
                json!({"lppg": "decision", "v": 1, "decision": "error", "action": "sqs:TagQueue",
                    "derived_from": "event", "event_time": "2024-05-01T10:03:08Z",
                    "reason": "LimitExceeded: every generator policy is full"})
                .to_string(),
            ),
            (FN_STREAM, "REPORT RequestId: 1 Duration: 10 ms".to_string()),
        ],
    );
}

#[test]
fn export_a_session_in_every_form() {
    let moto = Moto::start();
    let dir = TempDir::new("export");
    let c = moto.clients();
    up(&moto, dir.path(), "lppg");
    set_up_session(&c, "lppg");
    let d = dir.path();

    // The merged document: default versions only, deduplicated, sorted, catalogue spelling, valid.
    let json_run = export(&moto, d, &[]).run();
    snapshot("policy.json", &json_run.stdout);
    let documents = valid_documents(&json_run.stdout);
    assert_eq!(documents.len(), 1);
    assert!(
        !json_run.stdout.contains("iam:DeleteUser"),
        "non-default version read"
    );
    assert!(!json_run.stdout.contains("LppgStart"));
    assert!(json_run.stdout.contains("\"s3:GetBucketPolicy\""));
    // The error decision: warned on stderr, the policy still printed.
    assert!(
        json_run
            .stderr
            .contains("warning: the function logged 1 error decision(s)")
            && json_run.stderr.contains("sqs:TagQueue: LimitExceeded")
            && !json_run.stderr.contains("Throttling"),
        "{}",
        json_run.dump()
    );
    // Deterministic.
    assert_eq!(export(&moto, d, &[]).run().stdout, json_run.stdout);

    // --without-start drops ec2:DescribeInstances, granted only by LppgStart.
    let without = export(&moto, d, &["--without-start"]).run();
    assert!(!without.stdout.contains("ec2:DescribeInstances"));
    assert!(without.stdout.contains("s3:ListBucket"));

    // Formats.
    snapshot(
        "policy.cfn.yaml",
        &export(&moto, d, &["--format", "cfn"]).run().stdout,
    );
    snapshot(
        "policy.tf",
        &export(&moto, d, &["--format", "terraform"]).run().stdout,
    );
    snapshot(
        "policy.permission-set.yaml",
        &export(&moto, d, &["--format", "permission-set"])
            .run()
            .stdout,
    );
    snapshot(
        "policy.permission-set.tf",
        &export(&moto, d, &["--format", "permission-set-terraform"])
            .run()
            .stdout,
    );
    export(&moto, d, &["--format", "yaml"])
        .expect_code(2)
        .expect_stderr_contains(
            "[possible values: json, cfn, terraform, permission-set, permission-set-terraform]",
        )
        .run();

    // --by-step: by event time, late delivery in its own step, repeated denial not moving the action.
    let by_step = export(&moto, d, &["--by-step"]).run();
    snapshot("policy.by-step.json", &by_step.stdout);
    let documents = valid_documents(&by_step.stdout);
    let steps = sids_and_actions(&documents[0]);
    let expect = |sid: &str, actions: &[&str]| {
        (
            sid.to_string(),
            actions.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        steps,
        [
            expect("OpenTheBucket", &["s3:GetBucketPolicy", "s3:ListBucket"]),
            expect("UploadAFile", &["kms:GenerateDataKey", "s3:PutObject"]),
            expect(
                "CreateAQueue",
                &["sqs:CreateQueue", "sqs:GetQueueAttributes"]
            ),
            expect(
                "Unassigned",
                &[
                    "cloudwatch:DescribeAlarms",
                    "ec2:DescribeInstances",
                    "s3:GetBucketLocation",
                    "s3:ListAllMyBuckets"
                ]
            ),
        ]
    );

    // --resources: any is the default and the same bytes; observed and scoped, each ARN fitting its action.
    let any = export(&moto, d, &["--resources", "any"]).run();
    assert_eq!(any.stdout, json_run.stdout);
    for mode in ["observed", "scoped"] {
        let run = export(&moto, d, &["--resources", mode]).run();
        valid_documents(&run.stdout);
        snapshot(&format!("policy.{mode}.json"), &run.stdout);
        snapshot(
            &format!("explain.{mode}.txt"),
            &export(&moto, d, &["--resources", mode, "--explain"])
                .run()
                .stdout,
        );
    }
    // The risk review: nothing in this session is flagged, so no closing line (generate's tests have one).
    assert!(!any.stderr.contains("flagged"), "{}", any.stderr);

    // --explain: table and JSON.
    snapshot(
        "explain.txt",
        &export(&moto, d, &["--explain"]).run().stdout,
    );
    let explain_json = export(&moto, d, &["--explain", "--json"]).run().stdout;
    snapshot("explain.json", &explain_json);
    let rows: Value = serde_json::from_str(&explain_json).unwrap();
    let background: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["background"] == true)
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        background,
        [
            "cloudwatch:DescribeAlarms",
            "s3:GetBucketLocation",
            "s3:ListAllMyBuckets"
        ]
    );

    // -o refuses to overwrite without --force; round trip through --from gives the same bytes.
    export(&moto, d, &["-o", "saved.json"]).run();
    assert_eq!(
        std::fs::read_to_string(d.join("saved.json")).unwrap(),
        json_run.stdout
    );
    export(&moto, d, &["-o", "saved.json"])
        .expect_code(2)
        .expect_stderr_contains("saved.json already exists: choose another file or pass --force")
        .run();
    export(&moto, d, &["-o", "saved.json", "--force"]).run();
    let again = offline(d, &["--from", "saved.json"]).run();
    assert_eq!(again.stdout, json_run.stdout);
    // Nothing on stderr but the note that Access Analyzer was not asked (issue 23: offline inputs say so).
    assert_eq!(
        again.stderr,
        "Access Analyzer's ValidatePolicy skipped: --from reads a saved file and makes no AWS call\n"
    );
    offline(d, &["--from", "saved.json", "-o", "again.json"]).run();
    assert_eq!(
        std::fs::read(d.join("again.json")).unwrap(),
        std::fs::read(d.join("saved.json")).unwrap()
    );
    // A --by-step export read back with --by-step keeps its steps.
    export(&moto, d, &["--by-step", "-o", "steps.json"]).run();
    assert_eq!(
        offline(d, &["--from", "steps.json", "--by-step"])
            .run()
            .stdout,
        by_step.stdout
    );
    assert_eq!(
        offline(d, &["--from", "steps.json"]).run().stdout,
        json_run.stdout
    );

    // --diff against the stack: same, different, wildcards; --json for scripts.
    export(&moto, d, &["--diff", "saved.json"])
        .expect_stderr_contains("grants the same actions as saved.json")
        .run();
    let baseline = document(vec![
        json!({"Effect": "Allow", "Action": ["s3:Get*", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject",
            "kms:GenerateDataKey", "sqs:*", "ec2:DescribeInstances", "s3:ListAllMyBuckets"], "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "arn:aws:cloudwatch:*"}),
    ]);
    std::fs::write(d.join("baseline.json"), baseline.to_string()).unwrap();
    let different = export(&moto, d, &["--diff", "baseline.json"])
        .expect_code(1)
        .run();
    snapshot("diff.txt", &different.stdout);
    let as_json = export(&moto, d, &["--diff", "baseline.json", "--json"])
        .expect_code(1)
        .run();
    let parsed: Value = serde_json::from_str(&as_json.stdout).unwrap();
    assert_eq!(parsed["same"], false);
    assert_eq!(parsed["removed"], json!(["s3:DeleteObject"]));
    assert_eq!(parsed["added"], json!([]));
    assert_eq!(
        parsed["covered_by_wildcard"],
        json!([
            {"action": "s3:GetBucketLocation", "pattern": "s3:Get*"},
            {"action": "s3:GetBucketPolicy", "pattern": "s3:Get*"},
            {"action": "sqs:CreateQueue", "pattern": "sqs:*"},
            {"action": "sqs:GetQueueAttributes", "pattern": "sqs:*"},
        ])
    );
    let same_json = export(&moto, d, &["--diff", "saved.json", "--json"]).run();
    assert_eq!(
        serde_json::from_str::<Value>(&same_json.stdout).unwrap()["same"],
        true
    );

    // --interactive needs a terminal; without one it refuses and names the flag, writing nothing.
    export(&moto, d, &["--interactive", "-o", "pruned.json"])
        .expect_code(2)
        .expect_stderr_contains("--interactive needs a terminal")
        .run();
    assert!(!d.join("pruned.json").exists());

    // In a terminal (a pseudo-terminal driven by Python): untick the first action, accept, get the pruned policy.
    let pruned = interactive(&moto, d, &["--interactive", "-o", "pruned.json"], b" \r");
    assert_eq!(pruned.code, 0, "{}", pruned.dump());
    assert!(
        pruned.stdout.contains("Untick the actions"),
        "{}",
        pruned.dump()
    );
    let kept = std::fs::read_to_string(d.join("pruned.json")).unwrap();
    let documents = valid_documents(&kept);
    let mut expected = actions_of(&valid_documents(&json_run.stdout));
    expected.retain(|a| a != "cloudwatch:DescribeAlarms");
    assert_eq!(actions_of(&documents), expected);

    // Flags that make no sense together.
    export(&moto, d, &["--json"])
        .expect_code(2)
        .expect_stderr_contains("--json goes with --diff or --explain")
        .run();
    export(&moto, d, &["--diff", "saved.json", "--explain"])
        .expect_code(2)
        .run();
}

#[test]
fn oversized_policy_needs_split() {
    let moto = Moto::start();
    let dir = TempDir::new("export-split");
    let d = dir.path();
    let c = moto.clients();

    // No stack and no --from: say what to do.
    export(&moto, d, &["--stack-name", "nothing"])
        .expect_code(2)
        .expect_stderr_contains("run `lppg up`")
        .expect_stderr_contains("--from FILE")
        .run();

    up(&moto, d, "big");
    // Three policies filled close to IAM's limit each, as the function spills from one to the next.
    let n = names("big");
    let arns = n.policy_arns();
    for (p, arn) in arns.iter().take(3).enumerate() {
        let mut statements = Vec::new();
        if p == 0 {
            statements.push(statement("LppgStart", &["ec2:DescribeInstances"]));
        }
        for s in 0..4 {
            let actions: Vec<String> = (0..30)
                .map(|i| format!("svc{p}{s}:DescribeSomethingRatherLong{i:03}"))
                .collect();
            let refs: Vec<&str> = actions.iter().map(String::as_str).collect();
            statements.push(statement(&format!("Svc{p}{s}"), &refs));
        }
        let doc = document(statements);
        assert!(lppg::policy::policy_size(&doc) <= MAX_POLICY_SIZE);
        put_version(&c, arn, &doc, true);
    }

    let refused = export(&moto, d, &["--stack-name", "big"])
        .expect_code(2)
        .expect_stderr_contains("more than IAM's limit of 6,144")
        .expect_stderr_contains("pass --split")
        .run();
    assert_eq!(refused.stdout, "");

    let split = export(&moto, d, &["--stack-name", "big", "--split"]).run();
    let documents = valid_documents(&split.stdout);
    assert!(documents.len() >= 3, "{}", documents.len());
    for document in &documents {
        assert!(lppg::policy::policy_size(document) <= MAX_POLICY_SIZE);
    }
    let all = actions_of(&documents);
    assert_eq!(all.len(), 3 * 4 * 30 + 1);
    assert!(all.contains(&"ec2:DescribeInstances".to_string()));

    // The split list round-trips through --from, and --from without --split refuses too.
    export(
        &moto,
        d,
        &["--stack-name", "big", "--split", "-o", "split.json"],
    )
    .run();
    assert_eq!(
        offline(d, &["--from", "split.json", "--split"])
            .run()
            .stdout,
        split.stdout
    );
    offline(d, &["--from", "split.json"])
        .expect_code(2)
        .expect_stderr_contains("pass --split")
        .run();
    // Split resources in the other formats: one resource per document.
    let cfn = export(
        &moto,
        d,
        &["--stack-name", "big", "--split", "--format", "cfn"],
    )
    .run();
    assert_eq!(
        cfn.stdout.matches("Type: AWS::IAM::ManagedPolicy").count(),
        documents.len()
    );
    let tf = offline(
        d,
        &["--from", "split.json", "--split", "--format", "terraform"],
    )
    .run();
    assert_eq!(
        tf.stdout.matches("resource \"aws_iam_policy\"").count(),
        documents.len()
    );
}

/// Offline: --diff exit codes and malformed files, no AWS at all.
#[test]
fn diff_and_malformed_files_offline() {
    let dir = TempDir::new("export-offline");
    let d = dir.path();
    let saved = document(vec![
        statement("Ec2", &["ec2:DescribeInstances"]),
        statement("S3", &["s3:GetObject", "s3:PutObject"]),
    ]);
    std::fs::write(d.join("saved.json"), saved.to_string()).unwrap();

    // Same actions, written differently (one string Action, case, several statements): exit 0, nothing on stdout.
    std::fs::write(
        d.join("same.json"),
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"EC2:describeinstances","Resource":"*"},
            {"Sid":"x","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    let same = offline(d, &["--from", "saved.json", "--diff", "same.json"]).run();
    assert_eq!(same.stdout, "");

    // Different: exit 1, diff lines on stdout.
    std::fs::write(
        d.join("other.json"),
        r#"{"Statement":{"Effect":"Allow","Action":["s3:Get*","sqs:SendMessage"],"Resource":"*"}}"#,
    )
    .unwrap();
    let different = offline(d, &["--from", "saved.json", "--diff", "other.json"])
        .expect_code(1)
        .run();
    assert_eq!(
        different.stdout,
        "+ ec2:DescribeInstances\n+ s3:PutObject\n- sqs:SendMessage\n~ s3:GetObject (covered by s3:Get*)\n"
    );

    // Trouble: exit 2, the message names the file and line and column, or the field.
    std::fs::write(
        d.join("broken.json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n",
    )
    .unwrap();
    let broken = offline(d, &["--from", "saved.json", "--diff", "broken.json"])
        .expect_code(2)
        .run();
    assert!(
        broken.stderr.contains("broken.json:4:24: not JSON"),
        "{}",
        broken.dump()
    );
    assert_eq!(broken.stdout, "");
    std::fs::write(
        d.join("not-policy.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}"#,
    )
    .unwrap();
    offline(d, &["--from", "saved.json", "--diff", "not-policy.json"]).expect_code(2).expect_stderr_contains(r#"not-policy.json: not an IAM policy: Statement[1].Effect: expected "Allow" or "Deny", found "Permit""#).run();
    std::fs::write(d.join("list.json"), "[1, 2]").unwrap();
    offline(d, &["--from", "saved.json", "--diff", "list.json"])
        .expect_code(2)
        .expect_stderr_contains(
            "list.json: not an IAM policy: [0]: expected a JSON object, found a number",
        )
        .run();
    offline(d, &["--from", "saved.json", "--diff", "missing.json"])
        .expect_code(2)
        .expect_stderr_contains("cannot read missing.json")
        .run();
    // A malformed --from file is reported the same way.
    offline(d, &["--from", "broken.json"])
        .expect_code(2)
        .expect_stderr_contains("broken.json:4:24: not JSON")
        .run();

    // --explain works offline too: access levels from the catalogue, nothing known from a log.
    let explain = offline(d, &["--from", "saved.json", "--explain"]).run();
    snapshot("explain-offline.txt", &explain.stdout);

    // Scoped and observed exports read back whole (issue 23: --from reads every statement lppg writes, scoped
    // resources included; it used to skip them with a warning and drop their actions).
    for mode in ["scoped", "observed"] {
        let snapshot = format!(
            "{}/tests/snapshots/export/policy.{mode}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let again = offline(d, &["--from", &snapshot]).run();
        assert_eq!(
            again.stdout,
            std::fs::read_to_string(&snapshot).unwrap(),
            "{mode}"
        );
        assert!(!again.stderr.contains("not exported"), "{}", again.dump());
    }
    // The diff of two scoped policies compares action-and-resource pairs: a policy is the same as itself, and the
    // observed export (exact objects) differs from the scoped one (bucket/*) by resources.
    let scoped = format!(
        "{}/tests/snapshots/export/policy.scoped.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let observed = format!(
        "{}/tests/snapshots/export/policy.observed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    offline(d, &["--from", &scoped, "--diff", &scoped]).run();
    let pairs = offline(d, &["--from", &scoped, "--diff", &observed])
        .expect_code(1)
        .run();
    assert!(
        pairs
            .stdout
            .lines()
            .any(|l| l.starts_with("+ ") && l.contains(" on arn:")),
        "{}",
        pairs.dump()
    );

    // A saved policy that is valid JSON is re-exported byte for byte in the canonical form.
    let canonical = offline(d, &["--from", "saved.json"]).run();
    let parsed = Policy::parse(&canonical.stdout).unwrap();
    assert_eq!(parsed.statements.len(), 2);
    valid_documents(&canonical.stdout);
    std::fs::write(d.join("canonical.json"), &canonical.stdout).unwrap();
    assert_eq!(
        offline(d, &["--from", "canonical.json"]).run().stdout,
        canonical.stdout
    );
}

/// Issue 23: `export-policy` asks Access Analyzer's ValidatePolicy (`IDENTITY_POLICY`) about what it writes and shows
/// its findings, naming the statement; an ERROR makes `--strict` exit 1. The emulator has no Access Analyzer: a
/// boundary server answers as the API reference documents ValidatePolicy (findings with `locations` paths).
#[test]
fn export_policy_shows_access_analyzer_findings() {
    use crate::common::AnalyzerBoundary;
    let moto = Moto::start();
    let dir = TempDir::new("export-analyzer");
    let d = dir.path();
    up(&moto, d, "lppg");
    let finding = json!({"findingType": "ERROR", "issueCode": "INVALID_ACTION",
        "findingDetails": "The action ec2:DescribeInstancez does not exist.",
        "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
        "locations": [{"path": [{"value": "Statement"}, {"index": 0}, {"value": "Action"}, {"index": 0}],
                       "span": {"start": {"line": 1, "column": 0, "offset": 0},
                                "end": {"line": 1, "column": 10, "offset": 10}}}]});
    let boundary = AnalyzerBoundary::start(json!([
        {"status": 200, "body": {"findings": [finding.clone()]}},
        {"status": 200, "body": {"findings": [finding]}},
    ]));
    let shown = export(&moto, d, &[])
        .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
        .expect_stderr_contains("Access Analyzer: ERROR INVALID_ACTION in statement 1")
        .run();
    export(&moto, d, &["--strict"])
        .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
        .expect_code(1)
        .run();
    let requests = boundary.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0]["body"]["policyType"], "IDENTITY_POLICY");
    let sent: Value = serde_json::from_str(
        requests[0]["body"]["policyDocument"]
            .as_str()
            .expect("text"),
    )
    .unwrap();
    assert_eq!(sent, serde_json::from_str::<Value>(&shown.stdout).unwrap());
}
