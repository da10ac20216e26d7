//! `lppg generate` end to end, through the built binary, on the fixture trees in tests/fixtures/generate/.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{Run, TempDir, Test};
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

/// `lppg generate ARGS`.
fn generate<I, S>(args: I) -> Test
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Test::new().arg("generate").args(args)
}

/// The actions of the printed policy, sorted.
fn actions(out: &Run) -> Vec<String> {
    let doc: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("a JSON policy on stdout: {e}\n{}", out.dump()));
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
    let out = generate([fixture("tree")])
        .expect_code(0)
        .expect_stderr_contains("every principal")
        .expect_stderr_contains("4 files, 14 records")
        .run();
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
}

#[test]
fn principal_filter_keeps_only_that_principals_successful_calls() {
    let out = generate(["--principal", ALICE, &fixture("tree")])
        .expect_code(0)
        .expect_stderr_lacks("every principal")
        .run();
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
}

#[test]
fn a_role_matches_its_sessions_and_principals_repeat() {
    let out = generate([
        "--principal",
        DEPLOY_ROLE,
        "--principal",
        BOB,
        &fixture("tree"),
    ])
    .expect_code(0)
    .run();
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
    let out = generate(["--denied", "--principal", ALICE, &fixture("tree")])
        .expect_code(0)
        .expect_stderr_contains("explicit deny, not granted: ssm:GetParameter")
        .run();
    assert_eq!(actions(&out), ["iam:PassRole"]);
}

#[test]
fn time_window_since_inclusive_until_exclusive() {
    let out = generate([
        "--principal",
        ALICE,
        "--since",
        "2024-03-02",
        "--until",
        "2024-03-04T07:00:00Z",
        &fixture("tree"),
    ])
    .expect_code(0)
    .run();
    assert_eq!(actions(&out), ["kms:Decrypt", "ssm:GetParametersByPath"]);

    // The same window with offsets.
    let out = generate([
        "--principal",
        ALICE,
        "--since",
        "2024-03-02T02:00:00+02:00",
        "--until",
        "2024-03-04T06:30:00-00:30",
        &fixture("tree"),
    ])
    .expect_code(0)
    .run();
    assert_eq!(actions(&out), ["kms:Decrypt", "ssm:GetParametersByPath"]);

    // Nothing in the window: exit 1, no policy.
    generate(["--since", "2024-03-05", &fixture("tree")])
        .expect_code(1)
        .expect_stdout("")
        .run();

    generate(["--since", "yesterday-ish", &fixture("tree")])
        .expect_code(2)
        .expect_stderr_contains("cannot read --since \"yesterday-ish\": use an age (30m, 7d)")
        .run();
}

#[test]
fn standard_input_with_other_paths() {
    let data = std::fs::read(fixtures().join("stdin.jsonl")).expect("fixture");
    let out = generate(["--principal", ALICE, "-"])
        .stdin(&data)
        .expect_code(0)
        .run();
    assert_eq!(actions(&out), ["athena:ListWorkGroups"]);

    // stdin may hold gzip data too, and mixes with files.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let cwl = fixture("tree/exports/cloudwatch/000000.log");
    let out = generate(["--principal", ALICE, "-", &cwl])
        .stdin(gz)
        .expect_code(0)
        .run();
    assert_eq!(actions(&out), ["athena:ListWorkGroups", "sqs:ListQueues"]);
}

#[test]
fn truncated_gzip_and_non_json_files_are_reported_and_skipped() {
    // Problems do not stop the run, but the exit says the policy may lack actions (issue 19): 2, or 0 with
    // --allow-partial.
    let out = generate(["--principal", ALICE, &fixture("tree"), &fixture("broken")])
        .expect_code(2)
        .expect_stderr_contains("2 input(s) could not be read completely")
        .expect_stderr_contains("truncated.json.gz: truncated")
        .expect_stderr_contains("notes.txt: not CloudTrail JSON")
        .expect_stderr_contains(
            "2 input(s) were skipped, so the policy above may lack actions: exit 2",
        )
        .run();
    assert_eq!(actions(&out).len(), 5);
    let partial = generate([
        "--allow-partial",
        "--principal",
        ALICE,
        &fixture("tree"),
        &fixture("broken"),
    ])
    .expect_code(0)
    .expect_stderr_contains(
        "--allow-partial: the policy above leaves out what the 2 skipped input(s) hold",
    )
    .run();
    assert_eq!(actions(&partial), actions(&out));
}

#[test]
fn no_readable_input_is_an_error() {
    generate([fixture("broken"), fixture("does-not-exist")])
        .expect_code(2)
        .expect_stderr_contains("no input could be read")
        .expect_stderr_contains("does-not-exist")
        .run();
}

#[test]
fn an_unknown_principal_lists_the_busiest_principals() {
    let out = generate([
        "--principal",
        "arn:aws:iam::111122223333:user/nobody",
        &fixture("tree"),
    ])
    .expect_code(2)
    .expect_stdout("")
    .expect_stderr_contains("no record of arn:aws:iam::111122223333:user/nobody")
    .expect_stderr_contains(DEPLOY_ROLE)
    .run();
    let err = &out.stderr;
    let alice = err.find(ALICE).expect("alice listed");
    let bob = err.find(BOB).expect("bob listed");
    assert!(alice < bob, "busiest first: {err}");
}

#[test]
fn split_format_and_diff() {
    generate([
        "--principal",
        ALICE,
        "--format",
        "terraform",
        &fixture("tree"),
    ])
    .expect_code(0)
    .expect_stdout_contains("aws_iam_policy")
    .run();

    let out = generate(["--principal", ALICE, "--split", &fixture("tree")])
        .expect_code(0)
        .run();
    assert_eq!(actions(&out).len(), 5, "one document when it fits");

    let dir = TempDir::new("generate-diff");
    let baseline = dir.path().join("baseline.json");
    std::fs::write(
        &baseline,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:Decrypt","ec2:RunInstances"],"Resource":"*"}]}"#,
    )
    .expect("baseline");
    // Different: exit 1.
    generate([
        "--principal",
        ALICE,
        "--diff",
        baseline.to_str().expect("path"),
        &fixture("tree"),
    ])
    .expect_code(1)
    .expect_stdout_contains("+ lambda:ListFunctions")
    .expect_stdout_contains("- ec2:RunInstances")
    .expect_stdout_contains("~ s3:ListBucket")
    .run();

    generate(["--principal", ALICE, "--explain", &fixture("tree")])
        .expect_code(0)
        .expect_stdout_contains("lambda:ListFunctions")
        .expect_stdout_contains("List")
        .run();
}

/// With `--principal`, records that do not name the principal are counted without being parsed (a substring
/// prefilter); standard input is always parsed in full. Both must give the same policy, including when the only
/// mention of the principal hides behind a JSON escape (`\/`), or when another principal's record names it.
#[test]
fn the_principal_prefilter_changes_nothing() {
    let dir = TempDir::new("generate-prefilter");
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
    let file = dir.path().join("trail.json");
    std::fs::write(&file, &body).expect("write");
    let path = file.display().to_string();
    for extra in [&[][..], &["--denied"][..]] {
        let mut args = vec!["--principal", DEPLOY_ROLE];
        args.extend_from_slice(extra);
        let from_file = generate(&args)
            .arg(&path)
            .expect_code(0)
            .expect_stderr_contains("1 files, 5 records")
            .run();
        let from_stdin = generate(&args).arg("-").stdin(&body).run();
        assert_eq!(from_file.stdout, from_stdin.stdout);
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
    let none = generate(["--principal", BOB, &path])
        .expect_code(2)
        .expect_stderr_contains(ALICE)
        .run();
    let none_stdin = generate(["--principal", BOB, "-"])
        .stdin(&body)
        .expect_code(2)
        .run();
    let listed = |run: &Run| {
        run.stderr
            .lines()
            .filter(|l| l.contains("  "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(&none), listed(&none_stdin));
}

/// `--no-color` and `-v` are global options `generate` honours like every command.
#[test]
fn global_options_reach_generate() {
    let out = generate(["-v", "--no-color", "--principal", ALICE, &fixture("tree")])
        .expect_code(0)
        .expect_stderr_contains("lppg: window - .. -; 9 records of the selected principals")
        .run();
    assert!(!out.stderr.contains('\x1b'), "{}", out.dump());
    assert_eq!(actions(&out).len(), 5);
}

/// Role mode's principal: an Identity Center permission set's role, named with its path (as `sessionIssuer.arn`
/// has it; the sessions' `assumed-role` ARNs do not). The same role name without the path matches nothing, and the
/// busiest principals then name the role with its path.
#[test]
fn an_identity_center_role_selects_its_sessions() {
    let dir = TempDir::new("generate-sso");
    let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0a1b2c3d4e5f6a7b";
    let session = |who: &str, role: &str| {
        let name = role.rsplit('/').next().unwrap_or_default();
        format!(
            r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{name}/{who}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{role}","userName":"{name}"}}}}}}"#
        )
    };
    let record = |identity: String, source: &str, name: &str| {
        format!(
            r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2024-03-01T10:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1"}}"#
        )
    };
    let records = [
        record(
            session("alice@example.com", sso),
            "s3.amazonaws.com",
            "ListBuckets",
        ),
        record(
            session("bob@example.com", sso),
            "sqs.amazonaws.com",
            "ListQueues",
        ),
        record(
            session("ci", DEPLOY_ROLE),
            "sns.amazonaws.com",
            "ListTopics",
        ),
    ];
    let file = dir.path().join("trail.json");
    std::fs::write(&file, format!(r#"{{"Records":[{}]}}"#, records.join(","))).expect("write");
    let path = file.display().to_string();
    let out = generate(["--principal", sso, &path]).expect_code(0).run();
    assert_eq!(actions(&out), ["s3:ListAllMyBuckets", "sqs:ListQueues"]);
    let without_path = "arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0a1b2c3d4e5f6a7b";
    generate(["--principal", without_path, &path])
        .expect_code(2)
        .expect_stdout("")
        .expect_stderr_contains(sso)
        .expect_stderr_contains(DEPLOY_ROLE)
        .run();
}

/// `generate` writes through the same writer as `export-policy`: a `--split` list is a baseline `--diff` reads
/// whole (it exited 2 on a list before: "expected a JSON object"), and a policy over IAM's limit is refused
/// without `--split` (it was printed whatever its size).
#[test]
fn the_same_writer_as_export_policy() {
    let dir = TempDir::new("generate-writer");
    let split = dir.path().join("split.json");
    // ALICE's five actions, in two documents as `--split` writes them.
    let document =
        |statements: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let allow = |sid: &str, action: &str| {
        format!(r#"{{"Sid":"{sid}","Effect":"Allow","Action":["{action}"],"Resource":"*"}}"#)
    };
    let first = document(
        &[
            allow("Kms", "kms:Decrypt"),
            allow("Lambda", "lambda:ListFunctions"),
        ]
        .join(","),
    );
    let second = document(
        &[
            allow("S3", "s3:ListBucket"),
            allow("Sqs", "sqs:ListQueues"),
            allow("Ssm", "ssm:GetParametersByPath"),
        ]
        .join(","),
    );
    std::fs::write(&split, format!("[{first},{second}]")).expect("baseline");
    let split = split.to_str().expect("path");
    generate(["--principal", ALICE, "--diff", split, &fixture("tree")])
        .expect_code(0)
        .expect_stdout("")
        .expect_stderr_contains("grants the same actions as")
        .run();
    // The same list through export-policy, offline: the same answer.
    Test::new()
        .args(["export-policy", "--from", split, "--diff", split])
        .expect_code(0)
        .expect_stdout("")
        .run();
    // --json works for generate's --diff as for export-policy's.
    let json = generate([
        "--principal",
        ALICE,
        "--diff",
        split,
        "--json",
        &fixture("tree"),
    ])
    .expect_code(0)
    .run();
    let value: Value = serde_json::from_str(&json.stdout).expect("diff JSON");
    assert_eq!(value["same"], true);

    // 400 distinct actions: over 6,144 characters. Refused with the reason, written with --split.
    let records: Vec<String> = (0..400)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"{ALICE}"}},"eventTime":"2024-03-01T10:00:00Z","eventSource":"svc{}.amazonaws.com","eventName":"DescribeSomethingRatherLong{i:03}","awsRegion":"us-east-1"}}"#,
                i % 7
            )
        })
        .collect();
    let trail = dir.path().join("big.json");
    std::fs::write(&trail, format!(r#"{{"Records":[{}]}}"#, records.join(","))).expect("trail");
    let trail = trail.to_str().expect("path");
    generate([trail])
        .expect_code(2)
        .expect_stdout("")
        .expect_stderr_contains("more than IAM's limit of 6,144")
        .expect_stderr_contains("pass --split")
        .run();
    let out = generate(["--split", trail])
        .expect_code(0)
        .expect_stderr_contains("split into")
        .run();
    let documents: Vec<Value> = serde_json::from_str(&out.stdout).expect("a list of documents");
    assert!(documents.len() > 1);
    for document in &documents {
        assert!(lppg::policy::policy_size(document) <= lppg::policy::MAX_POLICY_SIZE);
    }
    // -o writes the file (refusing to overwrite), as export-policy's.
    let saved = dir.path().join("saved.json");
    let saved = saved.to_str().expect("path");
    generate(["--split", "-o", saved, trail])
        .expect_code(0)
        .run();
    generate(["--split", "-o", saved, trail])
        .expect_code(2)
        .run();
    generate(["--diff", saved, trail]).expect_code(0).run();
}

/// IAM Access Analyzer's `ValidatePolicy` on what `generate` writes, at the test boundary (moto has no Access
/// Analyzer; tests/support/analyzer_boundary.py). Responses as the API reference documents them
/// ("ValidatePolicy", "ValidatePolicyFinding", "Location", "PathElement"): findings with `findingType`,
/// `issueCode`, `findingDetails`, `learnMoreLink` and `locations[].path` (`{"value":"Statement"},{"index":N}`),
/// a second page through `nextToken`, a `ThrottlingException` (429) retried, and an `AccessDeniedException` (403)
/// that names `access-analyzer:ValidatePolicy`.
#[test]
fn access_analyzer_validates_what_generate_writes() {
    use crate::common::AnalyzerBoundary;
    use serde_json::json;
    let finding = |kind: &str, code: &str, statement: u32| {
        json!({"findingType": kind, "issueCode": code, "findingDetails": format!("{code} details."),
               "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
               "locations": [{"path": [{"value": "Statement"}, {"index": statement}, {"value": "Action"}, {"index": 0}],
                              "span": {"start": {"line": 1, "column": 0, "offset": 0},
                                       "end": {"line": 1, "column": 10, "offset": 10}}}]})
    };
    let boundary = AnalyzerBoundary::start(json!([
        {"status": 429, "error": "ThrottlingException", "message": "Rate exceeded"},
        {"status": 200, "body": {"findings": [finding("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE", 0)],
                                 "nextToken": "page-2"}},
        {"status": 200, "body": {"findings": [finding("ERROR", "INVALID_ACTION", 1)]}},
        {"status": 200, "body": {"findings": [finding("ERROR", "INVALID_ACTION", 1)]}},
        {"status": 403, "error": "AccessDeniedException",
         "message": "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: access-analyzer:ValidatePolicy"},
        {"status": 404, "html": "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"},
    ]));
    let run = |extra: &[&str], code: i32| {
        generate(["--principal", ALICE])
            .args(extra)
            .arg(fixture("tree"))
            .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
            .expect_code(code)
            .run()
    };

    // Findings on stderr after the review line, most serious first, each naming its statement; exit 0.
    let out = run(&[], 0);
    let error = "Access Analyzer: ERROR INVALID_ACTION in statement 2 (Sid Lambda): INVALID_ACTION details.";
    let warning = "Access Analyzer: SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE in statement 1 (Sid Kms)";
    let (e, w) = (out.stderr.find(error), out.stderr.find(warning));
    assert!(e.is_some() && w.is_some() && e < w, "{}", out.dump());
    assert!(out.stderr.find("review 2 flagged") < e, "{}", out.dump());
    let requests = boundary.requests();
    assert_eq!(requests.len(), 3, "throttled, then two pages: {requests:?}");
    assert!(requests.iter().all(|r| r["path"] == "/policy/validation"));
    assert_eq!(requests[1]["query"].get("nextToken"), None);
    assert_eq!(requests[2]["query"]["nextToken"], json!(["page-2"]));
    assert_eq!(requests[2]["body"]["policyType"], "IDENTITY_POLICY");
    let sent: Value = serde_json::from_str(
        requests[2]["body"]["policyDocument"]
            .as_str()
            .expect("text"),
    )
    .unwrap();
    assert_eq!(sent, serde_json::from_str::<Value>(&out.stdout).unwrap());

    // --strict: an ERROR makes the exit code 1; the policy is still written.
    let strict = run(&["--strict"], 1);
    assert!(strict.stdout.contains("lambda:ListFunctions"));

    // Access denied: said, with the permission to grant; the run does not fail.
    let denied = run(&["--strict"], 0);
    assert!(
        denied.stderr.contains("ValidatePolicy was not run")
            && denied.stderr.contains("access-analyzer:ValidatePolicy"),
        "{}",
        denied.dump()
    );

    // An endpoint that does not speak Access Analyzer (an emulator without it answers a web page): said plainly,
    // with what to check, not as the SDK's parse error.
    let html = run(&["--strict"], 0);
    assert!(
        html.stderr
            .contains("the endpoint's answer is not an AWS response for this service")
            && html.stderr.contains("--no-validate skips it")
            && !html.stderr.contains("unexpected token"),
        "{}",
        html.dump()
    );

    // --no-validate: no call.
    let before = boundary.requests().len();
    run(&["--no-validate"], 0);
    assert_eq!(boundary.requests().len(), before);

    // An offline input says the check was skipped.
    let dir = TempDir::new("validate-offline");
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, &out.stdout).unwrap();
    Test::new()
        .args(["export-policy", "--from", saved.to_str().unwrap()])
        .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
        .expect_code(0)
        .expect_stderr_contains("ValidatePolicy skipped: --from reads a saved file")
        .run();
    assert_eq!(boundary.requests().len(), before);
}

/// The opt-in checks, at the Access Analyzer boundary. `--check-not-granted`: `CheckAccessNotGranted` with the
/// 273 actions of the risk lists, at most 100 per call (API reference: `Access.actions`, 1 to 100 items), a
/// FAIL reported with its reasons (`reasons[].statementId`). `--diff --semantic`: `CheckNoNewAccess` of the new
/// policy against every statement of the baseline; a FAIL makes the diff exit 1 even when the actions match.
#[test]
fn access_analyzer_opt_in_checks() {
    use crate::common::AnalyzerBoundary;
    use serde_json::json;
    let fail = |id: &str| {
        json!({"status": 200, "body": {"result": "FAIL", "message": "The policy document grants access to perform one or more of the listed actions.",
                                       "reasons": [{"description": "One or more of the listed actions in the statement is granted.", "statementIndex": 0, "statementId": id}]}})
    };
    let ok = json!({"status": 200, "body": {"findings": []}});
    let pass = json!({"status": 200, "body": {"result": "PASS", "reasons": []}});
    let boundary = AnalyzerBoundary::start(json!([ok, pass, fail("Kms"), pass, fail("Ssm")]));
    let out = generate([
        "--principal",
        ALICE,
        "--check-not-granted",
        &fixture("tree"),
    ])
    .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
    .expect_code(0)
    .expect_stderr_contains("CheckAccessNotGranted: FAIL: The policy document grants access")
    .expect_stderr_contains("(Kms)")
    .run();
    let checks: Vec<Value> = boundary
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/policy/check-access-not-granted")
        .collect();
    assert_eq!(
        checks.len(),
        3,
        "273 actions in batches of 100: {}",
        out.dump()
    );
    let sizes: Vec<usize> = checks
        .iter()
        .map(|r| r["body"]["access"][0]["actions"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 73]);
    assert_eq!(checks[0]["body"]["policyType"], "IDENTITY_POLICY");

    // --diff --semantic: the same actions on a baseline scoped to one key: CheckNoNewAccess fails → exit 1.
    let dir = TempDir::new("semantic");
    let baseline = dir.path().join("baseline.json");
    let policy = generate(["--principal", ALICE, "--no-validate", &fixture("tree")])
        .expect_code(0)
        .run()
        .stdout;
    std::fs::write(&baseline, &policy).unwrap();
    let boundary = AnalyzerBoundary::start(json!([fail("S3")]));
    let baseline = baseline.to_str().unwrap();
    generate([
        "--principal",
        ALICE,
        "--diff",
        baseline,
        "--semantic",
        &fixture("tree"),
    ])
    .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
    .expect_code(1)
    .expect_stdout("")
    .expect_stderr_contains("CheckNoNewAccess: FAIL")
    .run();
    let asked = boundary.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["path"], "/policy/check-no-new-access");
    let existing: Value =
        serde_json::from_str(asked[0]["body"]["existingPolicyDocument"].as_str().unwrap()).unwrap();
    let written: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(existing["Statement"], written["Statement"]);
    // PASS (the default answer): the same as without --semantic.
    generate([
        "--principal",
        ALICE,
        "--diff",
        baseline,
        "--semantic",
        &fixture("tree"),
    ])
    .env("AWS_ENDPOINT_URL_ACCESSANALYZER", &boundary.url)
    .expect_code(0)
    .expect_stderr_contains(
        "CheckNoNewAccess: the new policy grants no access the baseline does not",
    )
    .run();
}
