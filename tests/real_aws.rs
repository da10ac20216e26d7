//! What real AWS does and the emulator does not: late deliveries, stale reads, per-key failures, refusals,
//! throttling, quotas and regions. Each test drives the binary against moto, most of them through the
//! fault-injecting proxy (`tests/support/fault_proxy.py`), and checks what lppg did and what it left.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, FaultProxy, Moto, TempDir};
use serde_json::json;

const ACCOUNT: &str = "123456789012";

fn policy_arn(n: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/lppg-policy-{n}")
}

fn up(moto: &Moto, dir: &TempDir) {
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .run();
}

/// `down` through the fault proxy, saving nothing and not waiting (the tests look at what it removes).
fn down_via(moto: &Moto, dir: &TempDir, proxy: &FaultProxy) -> crate::common::Test {
    moto.test(dir.path())
        .endpoint(&proxy.url)
        .args(["down", "--yes", "--no-save", "--no-wait"])
}

/// The "function log" check of `status --json`.
fn function_log_check(stdout: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let checks = v["checks"].as_array().unwrap();
    checks
        .iter()
        .find(|c| c["name"] == "function log")
        .cloned()
        .unwrap()
}

/// A moto server of the test's own with a generator deployed, a directory to run in, and clients.
fn deployed(tag: &str) -> (Moto, TempDir, lppg::aws::Clients) {
    let moto = Moto::start();
    let dir = TempDir::new(tag);
    up(&moto, &dir);
    let c = moto.clients();
    (moto, dir, c)
}

/// Writes one line into the function's log group, now, as the function would.
fn log_line(c: &lppg::aws::Clients, message: &str) {
    let now = lppg::time::now_ms();
    block_on(lppg::aws::logs::put_line(
        c,
        "/aws/lambda/lppg-generator",
        "2026/12/01/[$LATEST]f",
        now,
        message,
    ))
    .unwrap();
}

fn decision(kind: &str, action: &str) -> String {
    json!({"lppg": "decision", "v": 1, "decision": kind, "action": action,
           "event_time": lppg::time::format_secs_ms(lppg::time::now_ms() - 240_000), "reason": "denied"})
    .to_string()
}

/// Grants `actions` the way the function does: a new default version of the first generator policy.
fn grant(c: &lppg::aws::Clients, actions: &[&str]) {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "LppgStart", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
        {"Sid": "Granted", "Effect": "Allow", "Action": actions, "Resource": "*"}]});
    block_on(
        c.iam
            .create_policy_version()
            .policy_arn(policy_arn(1))
            .policy_document(doc.to_string())
            .set_as_default(true)
            .send(),
    )
    .unwrap();
}

fn exists(c: &lppg::aws::Clients, user: &str) -> bool {
    block_on(c.iam.get_user().user_name(user).send()).is_ok()
}

/// Writes one CloudTrail record into the trail's log group, as CloudTrail delivers it (stream
/// `<account>_CloudTrail_<region>`).
fn deliver(c: &lppg::aws::Clients, region: &str, record: &serde_json::Value) {
    block_on(lppg::aws::logs::put_line(
        c,
        "/lppg/lppg/cloudtrail",
        &format!("{ACCOUNT}_CloudTrail_{region}"),
        lppg::time::now_ms(),
        &record.to_string(),
    ))
    .unwrap();
}

fn denied(id: &str, region: &str, source: &str, name: &str) -> serde_json::Value {
    json!({"eventVersion": "1.09", "eventID": id, "eventTime": lppg::time::format_secs_ms(lppg::time::now_ms()),
           "awsRegion": region, "eventSource": source, "eventName": name, "errorCode": "AccessDenied",
           "errorMessage": "User is not authorized to perform this operation",
           "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/lppg-user")}})
}

/// Issue 19 (the contract): a denial CloudTrail delivered to the trail's log group that the function never
/// processed (not invoked yet, retrying, or in the failed-batches queue) is in the policy `down` saves, and `down`
/// says it added it. One the function decided (here: withheld) stays the function's.
#[test]
fn down_saves_delivered_denials_the_function_never_granted() {
    let (moto, dir, c) = deployed("drain");
    log_line(&c, &decision("granted", "s3:ListAllMyBuckets"));
    grant(&c, &["s3:ListAllMyBuckets"]);
    deliver(
        &c,
        "eu-west-1",
        &denied("ev-late", "eu-west-1", "sqs.amazonaws.com", "ListQueues"),
    );
    deliver(
        &c,
        "us-east-1",
        &denied("ev-kept", "us-east-1", "sns.amazonaws.com", "ListTopics"),
    );
    log_line(
        &c,
        &json!({"lppg": "decision", "v": 1, "decision": "withheld", "action": "sns:ListTopics",
                "event_id": "ev-kept", "reason": "guarded"})
        .to_string(),
    );
    // Another principal's denial is not ours.
    let mut other = denied(
        "ev-other",
        "us-east-1",
        "sns.amazonaws.com",
        "ListSubscriptions",
    );
    other["userIdentity"]["arn"] = json!(format!("arn:aws:iam::{ACCOUNT}:user/someone"));
    deliver(&c, "us-east-1", &other);
    // export-policy and status show the gap before `down` closes it.
    moto.test(dir.path())
        .args(["export-policy", "--explain"])
        .expect_code(0)
        .expect_stderr_contains("delivered, not yet granted: 1 actions from 1 denied calls")
        .expect_stderr_contains("sqs:ListQueues (denied ")
        .run();
    let status = moto
        .test(dir.path())
        .args(["status", "--json"])
        .expect_code(1)
        .run();
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["delivered_not_granted"], json!(["sqs:ListQueues"]), "{v}");
    let saved = dir.path().join("saved.json");
    moto.test(dir.path())
        .args(["down", "--yes", "-o", saved.to_str().unwrap()])
        .expect_code(0)
        .expect_stderr_contains("added 1 actions the function had not granted yet, from 1 delivered denied calls: sqs:ListQueues")
        .run();
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        text.contains("sqs:ListQueues"),
        "the delivered denial was lost:\n{text}"
    );
    assert!(text.contains("s3:ListAllMyBuckets"), "{text}");
    assert!(
        !text.contains("sns:"),
        "withheld or another principal's call saved:\n{text}"
    );

    // --no-wait saves what is delivered at once, and says what may be missing.
    let dir = TempDir::new("nowait");
    up(&moto, &dir);
    log_line(&c, &decision("granted", "s3:ListAllMyBuckets"));
    moto.test(dir.path())
        .args(["down", "--yes", "--no-wait"])
        .expect_code(0)
        .expect_stderr_contains("--no-wait: denied calls of the last minutes may not be delivered")
        .expect_stderr_lacks("waiting for CloudTrail")
        .run();
}

/// `watch --once --json`: its lines and the summary (the last line).
fn watch_json(moto: &Moto, dir: &TempDir) -> (Vec<serde_json::Value>, serde_json::Value) {
    let run = moto
        .test(dir.path())
        .args(["watch", "--once", "--json"])
        .run();
    let mut lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", run.dump())))
        .collect();
    let summary = lines.pop().unwrap();
    assert_eq!(summary["type"], "summary", "{}", run.dump());
    (lines, summary)
}

/// Issue 19: `watch` shows "delivered, not yet granted" as `status` and `export-policy` do: a denial CloudTrail
/// delivered to the trail's log group that the function never processed is named (a line, in text and JSON, and a
/// field of the JSON summary) until the action is granted; with nothing missing there is no such line.
#[test]
fn watch_shows_delivered_denials_not_yet_granted() {
    let (moto, dir, c) = deployed("watch-gap");
    log_line(&c, &decision("granted", "s3:ListAllMyBuckets"));
    grant(&c, &["s3:ListAllMyBuckets"]);
    let (lines, summary) = watch_json(&moto, &dir);
    assert_eq!(summary["delivered_not_granted"], json!([]), "{summary}");
    assert!(
        lines.iter().all(|l| l["type"] != "delivered_not_granted"),
        "{lines:?}"
    );

    deliver(
        &c,
        "eu-west-1",
        &denied("ev-late", "eu-west-1", "sqs.amazonaws.com", "ListQueues"),
    );
    let text = moto
        .test(dir.path())
        .args(["watch", "--once"])
        .expect_stdout_contains(
            "delivered, not yet granted: sqs:ListQueues (CloudTrail delivered these denied calls; the function \
             has not granted them yet",
        )
        .run();
    assert!(
        text.stdout.contains("1 delivered, not yet granted"),
        "the footer counts it:\n{}",
        text.dump()
    );
    let (lines, summary) = watch_json(&moto, &dir);
    assert_eq!(
        summary["delivered_not_granted"],
        json!(["sqs:ListQueues"]),
        "{summary}"
    );
    let gap: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "delivered_not_granted")
        .collect();
    assert_eq!(gap.len(), 1, "{lines:?}");
    assert_eq!(gap[0]["actions"], json!(["sqs:ListQueues"]));

    // Granted: gone.
    grant(&c, &["s3:ListAllMyBuckets", "sqs:ListQueues"]);
    let after = moto.test(dir.path()).args(["watch", "--once"]).run();
    assert!(
        !after.stdout.contains("not yet granted"),
        "still shown after the grant:\n{}",
        after.dump()
    );
    let (_, summary) = watch_json(&moto, &dir);
    assert_eq!(summary["delivered_not_granted"], json!([]), "{summary}");
}

/// Creates the trail moto's CloudFormation skips, tagged as the template tags it, and starts it.
fn logging_trail(c: &lppg::aws::Clients) {
    let n = lppg::naming::Names::new("lppg", "aws", ACCOUNT, "us-east-1", None);
    let tag = |k: &str, v: &str| {
        aws_sdk_cloudtrail::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    block_on(async {
        c.trail
            .create_trail()
            .name(&n.trail)
            .s3_bucket_name(&n.trail_bucket)
            .is_multi_region_trail(true)
            .tags_list(tag("lppg:stack", "lppg"))
            .tags_list(tag("lppg:region", "us-east-1"))
            .send()
            .await
            .unwrap();
        c.trail.start_logging().name(&n.trail).send().await.unwrap();
    });
}

/// Issue 19, defect 3: a second `down` after one that stopped the trail and then failed must not call StopLogging
/// again (a stopped trail is not stopped twice: the second run waits only what is left from the first stop). The
/// first `down` fails at the save (CloudWatch Logs refuses FilterLogEvents, through the fault proxy) after stopping
/// the trail, exactly as an interrupted `down` leaves it; the proxy counts every call by its X-Amz-Target.
#[test]
fn a_second_down_does_not_stop_the_trail_again() {
    let (moto, dir, c) = deployed("second-down");
    logging_trail(&c);
    grant(&c, &["s3:ListAllMyBuckets"]);
    let proxy = FaultProxy::start(
        &moto,
        json!([{"kind": "access_denied", "service": "logs", "action": "FilterLogEvents"}]),
    );
    moto.test(dir.path())
        .endpoint(&proxy.url)
        .args(["down", "--yes"])
        .expect_code(2)
        .expect_stderr_contains("the policy was not saved, so nothing was deleted")
        .expect_stderr_contains("The trail is stopped")
        .run();
    assert_eq!(
        proxy.calls("cloudtrail:StopLogging"),
        1,
        "the first down did not stop the trail: {}",
        proxy.stats()
    );
    let status = block_on(c.trail.get_trail_status().name("lppg-trail").send()).unwrap();
    assert_eq!(status.is_logging(), Some(false));

    proxy.set_rules(json!([]));
    let saved = dir.path().join("saved.json");
    moto.test(dir.path())
        .endpoint(&proxy.url)
        .args(["down", "--yes", "-o", saved.to_str().unwrap()])
        .expect_code(0)
        .expect_stderr_contains("saved the final policy")
        .run();
    assert_eq!(
        proxy.calls("cloudtrail:StopLogging"),
        1,
        "the second down stopped the trail again: {}",
        proxy.stats()
    );
    assert!(
        proxy.calls("cloudtrail:GetTrailStatus") >= 2,
        "{}",
        proxy.stats()
    );
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("s3:ListAllMyBuckets"), "{text}");
}

/// Defect 2: IAM is global. `down --region B` with no stack in B must leave the IAM resources of the same-named
/// generator in region A alone, and say where it lives.
#[test]
fn down_in_another_region_leaves_that_generator_alone() {
    let (moto, dir, c) = deployed("regions");
    moto.test(dir.path())
        .args(["--region", "eu-west-1", "down", "--yes"])
        .expect_code(0)
        .expect_stderr_contains("belongs to generator lppg in us-east-1")
        .expect_stderr_contains("nothing to do")
        .run();
    assert!(exists(&c, "lppg-user"));
    for n in 1..=9 {
        assert!(block_on(c.iam.get_policy().policy_arn(policy_arn(n)).send()).is_ok());
    }
    for role in ["lppg-generator-role", "lppg-trail-role"] {
        assert!(
            block_on(c.iam.get_role().role_name(role).send()).is_ok(),
            "{role} was deleted"
        );
    }
    moto.lppg(dir.path(), &["down", "--yes", "--no-save"]).run();
    assert!(!exists(&c, "lppg-user"));
}

/// Defect 7: a DeleteStack refusal (termination protection, AccessDenied) must not make `down` delete the
/// stack's resources behind CloudFormation's back.
#[test]
fn delete_stack_refusals_leave_the_stack_whole() {
    let (moto, dir, c) = deployed("refusal");
    for (kind, says) in [
        ("termination_protection", "TerminationProtection"),
        (
            "access_denied",
            "not authorized to perform: cloudformation:DeleteStack",
        ),
    ] {
        let proxy = FaultProxy::start(
            &moto,
            json!([{"kind": kind, "service": "cloudformation", "action": "DeleteStack"}]),
        );
        down_via(&moto, &dir, &proxy)
            .expect_code(2)
            .expect_stderr_contains(says)
            .expect_stderr_contains("its resources were left in place")
            .run();
        assert_eq!(proxy.injected(kind), 1);
        assert!(exists(&c, "lppg-user"), "{kind}: the user was deleted");
        assert!(block_on(
            c.lambda
                .get_function()
                .function_name("lppg-generator")
                .send()
        )
        .is_ok());
        assert!(block_on(c.cfn.describe_stacks().stack_name("lppg").send()).is_ok());
    }
    moto.lppg(dir.path(), &["down", "--yes", "--no-save", "--no-wait"])
        .run();
}

/// Defect 3: reads right after a delete can still see the resource; the next delete answers NotFound. `down`
/// treats NotFound as gone and reads again before it reports anything as remaining.
#[test]
fn stale_reads_after_deletes_do_not_fail_down() {
    let (moto, dir, _) = deployed("stale");
    let proxy = FaultProxy::start(
        &moto,
        json!([
            {"kind": "stale", "service": "iam", "action": ["GetUser"], "after": ["DeleteUser"], "requests": 3},
            {"kind": "stale", "service": "iam", "action": ["GetRole"], "after": ["DeleteRole"], "requests": 2},
            {"kind": "stale", "service": "iam", "action": ["GetPolicy"], "after": ["DeletePolicy"], "requests": 2}
        ]),
    );
    down_via(&moto, &dir, &proxy)
        .expect_code(0)
        .expect_stderr_contains("nothing of generator lppg remains")
        .run();
    assert!(proxy.injected("stale") > 0, "{}", proxy.stats());
    assert!(!exists(&moto.clients(), "lppg-user"));
}

fn put_trail_objects(c: &lppg::aws::Clients, n: usize) {
    for i in 0..n {
        block_on(
            c.s3.put_object()
                .bucket("lppg-trail-123456789012-us-east-1")
                .key(format!(
                    "AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/01/f{i}.json.gz"
                ))
                .body(vec![b'x'; 10].into())
                .send(),
        )
        .unwrap();
    }
}

/// Defect 4: DeleteObjects answers 200 with per-key errors. Transient ones are retried; any other stops `down`
/// with the key and code instead of re-deleting the same keys for ever.
#[test]
fn delete_objects_key_errors_are_read() {
    let (moto, dir, c) = deployed("s3keys");
    put_trail_objects(&c, 3);
    let proxy = FaultProxy::start(
        &moto,
        json!([{"kind": "delete_errors", "keys": {"AWSLogs/*/f1.json.gz": "AccessDenied"}}]),
    );
    let started = std::time::Instant::now();
    down_via(&moto, &dir, &proxy)
        .expect_code(2)
        .expect_stderr_contains(
            "S3 refused to delete s3://lppg-trail-123456789012-us-east-1/AWSLogs/",
        )
        .expect_stderr_contains("f1.json.gz: AccessDenied")
        .run();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "down must not loop"
    );
    assert_eq!(proxy.calls("s3:DeleteObjects"), 1, "{}", proxy.stats());

    proxy.set_rules(
        json!([{"kind": "delete_errors", "keys": {"AWSLogs/*": "SlowDown"}, "times": 2}]),
    );
    down_via(&moto, &dir, &proxy)
        .expect_code(0)
        .expect_stderr_contains("nothing of generator lppg remains")
        .run();
    assert!(proxy.injected("delete_errors") >= 2, "{}", proxy.stats());
}

/// Defect 6: FilterLogEvents has a quota of 5 requests per second; reads are paced and throttling is retried, so
/// `status` and `export-policy` complete through throttling and pages of one event.
#[test]
fn log_reads_survive_throttling_and_pages_of_one() {
    let (moto, dir, c) = deployed("logs");
    for a in [
        "s3:ListAllMyBuckets",
        "sqs:ListQueues",
        "sns:ListTopics",
        "kms:ListKeys",
        "ec2:DescribeVpcs",
    ] {
        log_line(&c, &decision("granted", a));
    }
    grant(
        &c,
        &[
            "s3:ListAllMyBuckets",
            "sqs:ListQueues",
            "sns:ListTopics",
            "kms:ListKeys",
            "ec2:DescribeVpcs",
        ],
    );
    let proxy = FaultProxy::start(
        &moto,
        json!([
            {"kind": "page", "service": "logs", "action": "FilterLogEvents", "size": 1},
            {"kind": "throttle", "service": "logs", "action": "FilterLogEvents", "every": 2}
        ]),
    );
    let run = moto
        .test(dir.path())
        .endpoint(&proxy.url)
        .args(["status", "--json"])
        .expect_code(1) // the emulator has no trail: unhealthy, but read completely
        .run();
    let log = function_log_check(&run.stdout);
    assert!(
        log["detail"].as_str().unwrap().starts_with("5 decisions"),
        "{log}"
    );
    moto.test(dir.path())
        .endpoint(&proxy.url)
        .args(["export-policy", "--explain", "--json"])
        .expect_code(0)
        .expect_stdout_contains("sqs:ListQueues")
        .run();
    assert!(proxy.injected("throttle") >= 3, "{}", proxy.stats());
    assert!(proxy.injected("page") >= 5, "{}", proxy.stats());
}

/// Defect 8: right after the stack creates the user, IAM can answer EntityTemporarilyUnmodifiable; `up` retries
/// instead of failing after the stack is built.
#[test]
fn a_fresh_user_is_waited_for() {
    let moto = Moto::start();
    let dir = TempDir::new("fresh");
    let proxy = FaultProxy::start(
        &moto,
        json!([{"kind": "unmodifiable", "service": "iam", "action": "CreateLoginProfile", "times": 2}]),
    );
    moto.test(dir.path())
        .endpoint(&proxy.url)
        .args(["up", "--yes", "--print-password"])
        .expect_code(0)
        .expect_stdout_contains("Password:")
        .run();
    assert_eq!(proxy.injected("unmodifiable"), 2);
    assert!(moto.password_of("lppg-user").is_some());
}

/// Defect 9: an error the function logged about an action a later retry granted is over; `status` does not keep
/// FAIL for it.
#[test]
fn status_forgets_errors_a_retry_resolved() {
    let (moto, dir, c) = deployed("resolved");
    log_line(&c, &decision("error", "sqs:TagQueue"));
    let check = |ok: bool| {
        let run = moto
            .test(dir.path())
            .args(["status", "--json"])
            .expect_code(1)
            .run();
        let log = function_log_check(&run.stdout);
        assert_eq!(log["ok"], ok, "{log}");
    };
    check(false);
    grant(&c, &["sqs:TagQueue"]);
    check(true);
}

/// Defect 9: a stack left in REVIEW_IN_PROGRESS (a change set never executed) will not finish by itself:
/// `watch` and `up` say so instead of waiting for ever, and `down` removes it.
#[test]
fn review_in_progress_is_never_waited_on() {
    let moto = Moto::start();
    let dir = TempDir::new("review");
    let c = moto.clients();
    let template =
        "Resources:\n  G:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: x\n";
    block_on(
        c.cfn
            .create_change_set()
            .stack_name("lppg")
            .change_set_name("pending")
            .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
            .template_body(template)
            .send(),
    )
    .unwrap();
    moto.test(dir.path())
        .args(["watch", "--once"])
        .expect_code(2)
        .expect_stderr_contains("REVIEW_IN_PROGRESS")
        .run();
    moto.test(dir.path())
        .args(["up", "--yes", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("never executed")
        .run();
}

/// Behind a corporate proxy: the HTTPS client reads `HTTPS_PROXY` from the environment, as the SDK's default
/// client does from behaviour version 2025-08-07 on (aws-smithy-runtime's `default_https_client`), and asks the
/// proxy for a tunnel to the endpoint with `CONNECT host:443` (RFC 9110 section 9.3.6). The listener stands for
/// the proxy: it reads the request, refuses it and closes, so nothing leaves the machine.
#[test]
fn aws_calls_go_through_https_proxy() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let proxy = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        let _ = reader
            .get_mut()
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        first
    });
    let dir = TempDir::new("https-proxy");
    crate::common::Test::new()
        .current_dir(dir.path())
        .endpoint("https://aws.lppg-proxy.test")
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))
        .args(["status"])
        .expect_code(2)
        .run();
    let first = proxy.join().unwrap();
    assert_eq!(first.trim_end(), "CONNECT aws.lppg-proxy.test:443 HTTP/1.1");
}
