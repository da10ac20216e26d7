//! `lppg generate` end to end, through the built binary, on the fixture trees in tests/fixtures/generate/.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const DEPLOY_ROLE: &str = "arn:aws:iam::111122223333:role/deploy";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generate")
}

fn fixture(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

/// Runs `lppg generate ARGS` with a clean AWS environment, feeding `stdin`.
fn generate(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lppg"));
    cmd.arg("generate").args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("run lppg");
    if let Some(data) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(data)
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for lppg");
    eprintln!(
        "$ lppg generate {}\nstatus: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The actions of the printed policy, sorted.
fn actions(out: &Output) -> Vec<String> {
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON policy on stdout");
    let mut all: Vec<String> = doc["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("action list").iter())
        .map(|a| a.as_str().expect("action").to_owned())
        .collect();
    all.sort();
    all
}

#[test]
fn every_principal_over_gzip_plain_nested_and_cloudwatch_files() {
    let out = generate(&[&fixture("tree")], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        actions(&out),
        [
            "dynamodb:ListTables",
            "ec2:DescribeInstances",
            "kms:Decrypt",
            "lambda:ListFunctions",
            "s3:ListBucket",
            "ses:SendEmail",
            "sns:ListTopics",
            "sqs:ListQueues",
            "ssm:GetParametersByPath",
        ]
    );
    let err = stderr(&out);
    assert!(
        err.contains("every principal"),
        "says it uses every principal: {err}"
    );
    assert!(err.contains("4 files, 14 records"), "{err}");
}

#[test]
fn principal_filter_keeps_only_that_principals_successful_calls() {
    let out = generate(&["--principal", ALICE, &fixture("tree")], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        actions(&out),
        [
            "kms:Decrypt",
            "lambda:ListFunctions",
            "s3:ListBucket",
            "sqs:ListQueues",
            "ssm:GetParametersByPath"
        ]
    );
    assert!(!stderr(&out).contains("every principal"));
}

#[test]
fn a_role_matches_its_sessions_and_principals_repeat() {
    let out = generate(
        &[
            "--principal",
            DEPLOY_ROLE,
            "--principal",
            BOB,
            &fixture("tree"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        actions(&out),
        [
            "dynamodb:ListTables",
            "ec2:DescribeInstances",
            "ses:SendEmail",
            "sns:ListTopics"
        ]
    );
}

#[test]
fn denied_collects_what_the_function_would_grant_and_reports_explicit_denies() {
    let out = generate(&["--denied", "--principal", ALICE, &fixture("tree")], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actions(&out), ["iam:PassRole"]);
    assert!(
        stderr(&out).contains("explicit deny, not granted: ssm:GetParameter"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn time_window_since_inclusive_until_exclusive() {
    let out = generate(
        &[
            "--principal",
            ALICE,
            "--since",
            "2024-03-02",
            "--until",
            "2024-03-04T07:00:00Z",
            &fixture("tree"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actions(&out), ["kms:Decrypt", "ssm:GetParametersByPath"]);

    let out = generate(&["--since", "2024-03-05", &fixture("tree")], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nothing in the window: exit 1, no policy"
    );
    assert!(out.stdout.is_empty());

    let out = generate(&["--since", "yesterday-ish", &fixture("tree")], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read time"));
}

#[test]
fn standard_input_with_other_paths() {
    let data = std::fs::read(fixtures().join("stdin.jsonl")).expect("fixture");
    let out = generate(&["--principal", ALICE, "-"], Some(&data));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actions(&out), ["athena:ListWorkGroups"]);

    // stdin may hold gzip data too, and mixes with files.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let cwl = fixture("tree/exports/cloudwatch/000000.log");
    let out = generate(&["--principal", ALICE, "-", &cwl], Some(&gz));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actions(&out), ["athena:ListWorkGroups", "sqs:ListQueues"]);
}

#[test]
fn truncated_gzip_and_non_json_files_are_reported_and_skipped() {
    let out = generate(
        &["--principal", ALICE, &fixture("tree"), &fixture("broken")],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "problems do not stop the run");
    assert_eq!(actions(&out).len(), 5);
    let err = stderr(&out);
    assert!(
        err.contains("2 input(s) could not be read completely"),
        "{err}"
    );
    assert!(err.contains("truncated.json.gz: truncated"), "{err}");
    assert!(err.contains("notes.txt: not CloudTrail JSON"), "{err}");
}

#[test]
fn no_readable_input_is_an_error() {
    let out = generate(&[&fixture("broken"), &fixture("does-not-exist")], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no input could be read"), "{err}");
    assert!(err.contains("does-not-exist"), "{err}");
}

#[test]
fn an_unknown_principal_lists_the_busiest_principals() {
    let out = generate(
        &[
            "--principal",
            "arn:aws:iam::111122223333:user/nobody",
            &fixture("tree"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("no record of arn:aws:iam::111122223333:user/nobody"),
        "{err}"
    );
    let alice = err.find(ALICE).expect("alice listed");
    let bob = err.find(BOB).expect("bob listed");
    assert!(alice < bob, "busiest first: {err}");
    assert!(err.contains(DEPLOY_ROLE), "{err}");
}

#[test]
fn split_format_and_diff() {
    let out = generate(
        &[
            "--principal",
            ALICE,
            "--format",
            "terraform",
            &fixture("tree"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("aws_iam_policy"));

    let out = generate(&["--principal", ALICE, "--split", &fixture("tree")], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actions(&out).len(), 5, "one document when it fits");

    let dir = std::env::temp_dir().join(format!("lppg-generate-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let baseline = dir.join("baseline.json");
    std::fs::write(
        &baseline,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:Decrypt","ec2:RunInstances"],"Resource":"*"}]}"#,
    )
    .expect("baseline");
    let out = generate(
        &[
            "--principal",
            ALICE,
            "--diff",
            baseline.to_str().expect("path"),
            &fixture("tree"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "different");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("+ lambda:ListFunctions"), "{text}");
    assert!(text.contains("- ec2:RunInstances"), "{text}");
    assert!(text.contains("~ s3:ListBucket"), "{text}");
    std::fs::remove_dir_all(&dir).ok();

    let out = generate(&["--principal", ALICE, "--explain", &fixture("tree")], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("lambda:ListFunctions") && text.contains("List"),
        "{text}"
    );
}

/// With `--principal`, records that do not name the principal are counted without being parsed (a substring
/// prefilter); standard input is always parsed in full. Both must give the same policy, including when the only
/// mention of the principal hides behind a JSON escape (`\/`), or when another principal's record names it.
#[test]
fn the_principal_prefilter_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("lppg-prefilter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let record = |source: &str, name: &str, identity: &str, extra: &str| {
        format!(
            r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2024-03-01T10:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1"{extra}}}"#
        )
    };
    let session = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/deploy"}}}"#;
    let escaped = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role\/deploy\/ci","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role\/deploy"}}}"#;
    let alice = format!(r#"{{"type":"IAMUser","arn":"{ALICE}"}}"#);
    let records = [
        record("s3.amazonaws.com", "ListBuckets", session, ""),
        record("sqs.amazonaws.com", "ListQueues", escaped, ""),
        record(
            "iam.amazonaws.com",
            "GetRole",
            &alice,
            &format!(r#","requestParameters":{{"roleArn":"{DEPLOY_ROLE}"}}"#),
        ),
        record("sns.amazonaws.com", "ListTopics", &alice, ""),
        record(
            "kms.amazonaws.com",
            "Decrypt",
            session,
            r#","errorCode":"AccessDenied","errorMessage":"User: arn:aws:sts::111122223333:assumed-role/deploy/ci is not authorized to perform: kms:Decrypt on resource: * because no identity-based policy allows the kms:Decrypt action""#,
        ),
    ];
    let body = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let file = dir.join("trail.json");
    std::fs::write(&file, &body).expect("write");
    let path = file.display().to_string();
    for extra in [&[][..], &["--denied"][..]] {
        let mut args = vec!["--principal", DEPLOY_ROLE];
        args.extend_from_slice(extra);
        let from_file = generate(&[&args[..], &[path.as_str()]].concat(), None);
        let from_stdin = generate(&[&args[..], &["-"]].concat(), Some(body.as_bytes()));
        assert_eq!(from_file.status.code(), Some(0));
        assert_eq!(from_file.stdout, from_stdin.stdout);
        assert!(
            stderr(&from_file).contains("1 files, 5 records"),
            "{}",
            stderr(&from_file)
        );
        if extra.is_empty() {
            assert_eq!(
                actions(&from_file),
                ["s3:ListAllMyBuckets", "sqs:ListQueues"]
            );
        } else {
            assert_eq!(actions(&from_file), ["kms:Decrypt"]);
        }
    }
    // A principal found nowhere: the busiest principals are still listed, as without the prefilter.
    let none = generate(&["--principal", BOB, &path], None);
    let none_stdin = generate(&["--principal", BOB, "-"], Some(body.as_bytes()));
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains(ALICE), "{}", stderr(&none));
    assert_eq!(
        stderr(&none)
            .lines()
            .filter(|l| l.contains("  "))
            .collect::<Vec<_>>(),
        stderr(&none_stdin)
            .lines()
            .filter(|l| l.contains("  "))
            .collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(&dir).ok();
}
