//! Failed batches, `redrive` and the end-to-end probe, against moto. moto cannot run the function (no docker),
//! does not implement TestMetricFilter, and its CloudFormation skips the trail and the subscription filter, so the
//! emulator runs with `LPPG_MOTO_BOUNDARY` (tests/support/moto_server.py): Lambda Invoke and TestMetricFilter
//! answer with recorded responses shaped as the API reference documents them (and the requests are written
//! down), and a delivery through the subscription runs the function's own code in the emulator's process.
//! Everything else (SQS, CloudWatch Logs, CloudTrail's status, the stack) is moto.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, FastPathBoundary, Moto, TempDir};
use serde_json::{json, Value};
use std::path::Path;

const USER: &str = "arn:aws:iam::123456789012:user/lppg-user";

fn boundary() -> (TempDir, Moto) {
    let dir = TempDir::new("boundary");
    let moto = Moto::start_with(&[("LPPG_MOTO_BOUNDARY", dir.path().to_str().unwrap())]);
    (dir, moto)
}

fn write_answers(dir: &Path, name: &str, answers: &Value) {
    std::fs::write(dir.join(name), answers.to_string()).unwrap();
}

fn requests(dir: &Path, name: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn queue_url(c: &lppg::aws::Clients) -> String {
    block_on(
        c.sqs
            .get_queue_url()
            .queue_name("lppg-failed-batches")
            .send(),
    )
    .unwrap()
    .queue_url()
    .unwrap()
    .to_string()
}

/// An on-failure record as Lambda writes it (Lambda Developer Guide, "Asynchronous invocation", invocation record).
fn failure_record(request_id: &str, data: &str) -> String {
    json!({
        "version": "1.0",
        "timestamp": "2026-11-14T18:16:05.568Z",
        "requestContext": {"requestId": request_id,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:lppg-generator:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"awslogs": {"data": data}},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "lppg: policy update not confirmed; see the decision lines above",
            "errorType": "RuntimeError"}
    })
    .to_string()
}

/// `status --json`: unhealthy (exit 1) on the emulator, which creates no trail.
fn status_json(moto: &Moto, dir: &Path) -> Value {
    let r = moto.lppg(dir, &["status", "--json"]).expect_code(1).run();
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn failed_batches_are_counted_redriven_and_warned_about() {
    let (bdir, moto) = boundary();
    let dir = TempDir::new("redrive");
    let c = moto.clients();
    // up runs the probe once: here the trail and the subscription are not materialised, so it fails and says so,
    // without failing the deploy.
    moto.test(dir.path())
        .args(["up", "--yes", "--no-password"])
        .expect_code(0)
        .expect_stderr_contains("Probe:")
        .expect_stderr_contains("trail lppg-trail does not exist")
        .expect_stderr_contains("the probe did not pass")
        .run();

    // The queue: 14 days, tagged like the other resources.
    let url = queue_url(&c);
    let attrs = block_on(
        c.sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send(),
    )
    .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(
        attrs[&aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod],
        "1209600"
    );
    let tags = block_on(c.sqs.list_queue_tags().queue_url(&url).send()).unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags["lppg:stack"], "lppg");
    assert_eq!(tags["lppg:region"], "us-east-1");

    // Only lppg's caller may read the queue: up passed its principal ARN to the queue policy.
    let st = block_on(c.cfn.describe_stacks().stack_name("lppg").send()).unwrap();
    let readers = st.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("QueueReaderArns"))
        .and_then(|p| p.parameter_value())
        .unwrap()
        .to_string();
    assert!(
        readers.contains("arn:aws:sts::123456789012:user/moto"),
        "{readers}"
    );

    let v = status_json(&moto, dir.path());
    assert_eq!(v["failed_batches"], 0, "{v:#}");

    for (id, data) in [("req-a", "QUFBQQ=="), ("req-b", "QkJCQg==")] {
        block_on(
            c.sqs
                .send_message()
                .queue_url(&url)
                .message_body(failure_record(id, data))
                .send(),
        )
        .unwrap();
    }
    let v = status_json(&moto, dir.path());
    assert_eq!(v["failed_batches"], 2, "{v:#}");
    let fb = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "failed batches")
        .unwrap();
    assert_eq!(fb["ok"], false);
    assert!(fb["fix"].as_str().unwrap().contains("lppg redrive"), "{fb}");

    // watch shows a (red, on a terminal) line for them.
    moto.test(dir.path())
        .args(["watch", "--once"])
        .expect_code(0)
        .expect_stdout_contains("2 failed batches waiting in lppg-failed-batches")
        .run();
    let json_watch = moto.lppg(dir.path(), &["watch", "--once", "--json"]).run();
    assert!(
        json_watch
            .stdout
            .lines()
            .any(|l| l.contains(r#""lppg":"failed_batches""#) && l.contains(r#""waiting":2"#)),
        "{}",
        json_watch.dump()
    );

    // --dry-run lists both and changes nothing.
    let dry = moto
        .test(dir.path())
        .args(["redrive", "--dry-run"])
        .expect_code(0)
        .expect_stderr_contains("batch req-a")
        .expect_stderr_contains("batch req-b")
        .run();
    assert_eq!(
        dry.stderr.matches("would re-run").count(),
        2,
        "{}",
        dry.dump()
    );
    assert!(requests(bdir.path(), "invoke-requests.jsonl").is_empty());
    assert_eq!(status_json(&moto, dir.path())["failed_batches"], 2);

    // The first re-run succeeds, the second fails again (the documented shape of a function error).
    write_answers(
        bdir.path(),
        "invoke-responses.json",
        &json!([
            {"status": 200, "payload": {"lppg": "batch", "records": 1}},
            {"status": 200, "functionError": "Unhandled",
             "payload": {"errorMessage": "lppg: policy update not confirmed", "errorType": "RuntimeError"}}
        ]),
    );
    moto.test(dir.path())
        .arg("redrive")
        .expect_code(1)
        .expect_stderr_contains("re-run ok, removed")
        .expect_stderr_contains("failed again, kept: lppg: policy update not confirmed")
        .expect_stderr_contains("1 still queued")
        .run();
    let sent = requests(bdir.path(), "invoke-requests.jsonl");
    assert_eq!(sent.len(), 2, "{sent:?}");
    for r in &sent {
        assert_eq!(r["function"], "lppg-generator");
        assert_eq!(r["invocation_type"], "RequestResponse");
    }
    // What is left is exactly the batch whose re-run failed, with its payload intact.
    let left = block_on(
        c.sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send(),
    )
    .unwrap();
    let left: Vec<Value> = left
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["requestPayload"], sent[1]["payload"]);
    // Each invoke carried exactly one record's requestPayload.
    let mut payloads: Vec<String> = sent.iter().map(|r| r["payload"].to_string()).collect();
    payloads.sort();
    assert_eq!(
        payloads,
        [
            r#"{"awslogs":{"data":"QUFBQQ=="}}"#,
            r#"{"awslogs":{"data":"QkJCQg=="}}"#
        ]
    );

    // down warns that a batch waits, and removes the queue with the rest (the message read above is put back).
    let msg = block_on(c.sqs.receive_message().queue_url(&url).send()).unwrap();
    for m in msg.messages() {
        block_on(
            c.sqs
                .change_message_visibility()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .visibility_timeout(0)
                .send(),
        )
        .unwrap();
    }
    moto.test(dir.path())
        .args(["down", "--yes", "--no-save", "--no-wait"])
        .expect_code(0)
        .expect_stderr_contains("1 failed batches wait in lppg-failed-batches")
        .expect_stderr_contains("queue      lppg-failed-batches")
        .run();
    assert!(block_on(
        c.sqs
            .get_queue_url()
            .queue_name("lppg-failed-batches")
            .send()
    )
    .is_err());
}

/// Creates what moto's CloudFormation skips: the trail (logging) and the subscription filter with the template's
/// pattern.
fn create_trail_and_subscription(c: &lppg::aws::Clients) -> String {
    let clause = lppg::assets::error_code_clause(lppg::assets::MAPPING_JSON).unwrap();
    let pattern = format!("{{ ($.userIdentity.arn = \"{USER}\") && ({clause}) }}");
    block_on(async {
        c.trail
            .create_trail()
            .name("lppg-trail")
            .s3_bucket_name("lppg-trail-123456789012-us-east-1")
            .send()
            .await
            .unwrap();
        c.trail
            .start_logging()
            .name("lppg-trail")
            .send()
            .await
            .unwrap();
        c.logs
            .put_subscription_filter()
            .log_group_name("/lppg/lppg/cloudtrail")
            .filter_name("lppg-denied-calls")
            .filter_pattern(&pattern)
            .destination_arn("arn:aws:lambda:us-east-1:123456789012:function:lppg-generator")
            .send()
            .await
            .unwrap();
    });
    pattern
}

fn matches(numbers: &[i64]) -> Value {
    json!({"matches": numbers.iter().map(|n| json!({"eventNumber": n, "eventMessage": "{}", "extractedValues": {}})).collect::<Vec<_>>()})
}

#[test]
fn probe_passes_and_fails_step_by_step() {
    let (bdir, moto) = boundary();
    let dir = TempDir::new("probe");
    let c = moto.clients();
    // The CloudWatch Logs path alone: the fast path's EventBridge step has its own test (below), and moto's
    // TestEventPattern is a stub.
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--no-password",
            "--no-probe",
            "--no-fast-path",
        ],
    )
    .run();
    assert!(requests(bdir.path(), "test-metric-filter-requests.jsonl").is_empty());
    let pattern = create_trail_and_subscription(&c);

    // Pass: the service matches only the observed user's denial; the probe record comes back as a probe line.
    write_answers(
        bdir.path(),
        "test-metric-filter-responses.json",
        &json!([matches(&[1]), matches(&[1, 3])]),
    );
    let pass = moto
        .test(dir.path())
        .args(["status", "--probe"])
        .env("LPPG_PROBE_WAIT", "20s")
        .expect_code(0)
        .expect_stderr_contains("1. trail")
        .expect_stderr_contains("lppg-trail is logging")
        .expect_stderr_contains("2. pattern")
        .expect_stderr_contains("3. round trip")
        .expect_stderr_contains("granting nothing")
        .expect_stderr_contains("probe passed")
        .run();
    assert!(
        pass.stderr.contains(" s, granting nothing"),
        "{}",
        pass.dump()
    );
    let asked = requests(bdir.path(), "test-metric-filter-requests.jsonl");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["filterPattern"], pattern.as_str());
    let samples: Vec<Value> = asked[0]["logEventMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| serde_json::from_str(m.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(samples.len(), 4);
    assert_eq!(samples[0]["userIdentity"]["arn"], USER);
    assert_eq!(samples[0]["errorCode"], "AccessDenied");
    assert_ne!(samples[1]["userIdentity"]["arn"], USER);
    assert_eq!(samples[2]["errorCode"], "ThrottlingException");
    assert!(samples[3].get("errorCode").is_none());
    // The function ran on the probe record and wrote nothing to IAM (the boundary gives it no IAM access).
    assert_eq!(requests(bdir.path(), "deliveries.jsonl").len(), 1);

    // Fail: the pattern also matches a throttling error; the other steps still run and pass.
    let r = moto
        .test(dir.path())
        .args(["status", "--probe", "--json"])
        .env("LPPG_PROBE_WAIT", "20s")
        .expect_code(1)
        .run();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let steps = v["probe"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "no fast path, no EventBridge step: {v:#}");
    assert_eq!(steps[0]["outcome"], "ok", "{v:#}");
    assert_eq!(steps[1]["outcome"], "failed", "{v:#}");
    assert!(steps[1]["detail"]
        .as_str()
        .unwrap()
        .contains("matches a throttling error"));
    assert!(steps[1]["fix"].as_str().unwrap().contains("lppg up"));
    assert_eq!(steps[2]["outcome"], "ok", "{v:#}");
    assert_eq!(v["passed"], false);

    // The trail stopped and the subscription gone: failed, failed, and the round trip could not run (nothing would
    // carry the probe record to the function, so it is not waited for).
    block_on(c.trail.stop_logging().name("lppg-trail").send()).unwrap();
    block_on(
        c.logs
            .delete_subscription_filter()
            .log_group_name("/lppg/lppg/cloudtrail")
            .filter_name("lppg-denied-calls")
            .send(),
    )
    .unwrap();
    moto.test(dir.path())
        .args(["status", "--probe"])
        .expect_code(1)
        .expect_stderr_contains("lppg-trail is not logging")
        .expect_stderr_contains("aws cloudtrail start-logging --name lppg-trail")
        .expect_stderr_contains("has no subscription filter lppg-denied-calls")
        .expect_stderr_contains(
            "no subscription filter forwards the trail's log group to the function",
        )
        .expect_stderr_lacks("no probe line from the function")
        .run();
}

#[test]
fn a_left_behind_queue_is_removed_only_with_lppgs_mark() {
    let moto = Moto::start();
    let dir = TempDir::new("queue-straggler");
    let c = moto.clients();
    let create = |tags: &[(&str, &str)]| {
        let mut req = c.sqs.create_queue().queue_name("lppg-failed-batches");
        for (k, v) in tags {
            req = req.tags(*k, *v);
        }
        block_on(req.send()).unwrap();
    };
    // Not marked: a queue that merely has the generator's name is left alone, with a warning.
    create(&[]);
    moto.test(dir.path())
        .args(["down", "--yes", "--no-save", "--no-wait"])
        .expect_code(0)
        .expect_stderr_contains(
            "queue lppg-failed-batches has a generator's name but was not created by stack lppg",
        )
        .run();
    let url = queue_url(&c);
    block_on(c.sqs.delete_queue().queue_url(&url).send()).unwrap();
    // Marked for this stack and region: removed.
    create(&[("lppg:stack", "lppg"), ("lppg:region", "us-east-1")]);
    moto.test(dir.path())
        .args(["down", "--yes", "--no-save", "--no-wait"])
        .expect_code(0)
        .expect_stderr_contains("queue lppg-failed-batches (left behind)")
        .run();
    assert!(block_on(
        c.sqs
            .get_queue_url()
            .queue_name("lppg-failed-batches")
            .send()
    )
    .is_err());
}

/// The fast path in `status --probe` (issue 22): EventBridge itself judges each region's deployed rule
/// (EventBridge API Reference: DescribeRule gives the rule's `EventPattern`; TestEventPattern answers
/// `{"Result": true|false}` for one event) against the probe's samples as "AWS API Call via CloudTrail" events
/// (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"). moto's TestEventPattern is a stub,
/// so EventBridge answers at the boundary (tests/support/fast_path_boundary.py), judging with moto's own matcher
/// and reading the rules moto deployed. The home region and the forwarder region get one verdict line each; a
/// pattern that misses the principal or matches everyone fails the probe; a region that refuses TestEventPattern
/// is named and the other is still judged.
#[test]
fn probe_asks_eventbridge_to_judge_each_regions_rule() {
    let (bdir, moto) = boundary();
    let dir = TempDir::new("probe-eventbridge");
    let c = moto.clients();
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--no-password",
            "--no-probe",
            "--regions",
            "eu-west-1",
        ],
    )
    .run();
    create_trail_and_subscription(&c);
    write_answers(
        bdir.path(),
        "test-metric-filter-responses.json",
        &json!([matches(&[1]), matches(&[1]), matches(&[1])]),
    );
    let events = FastPathBoundary::start(&moto, json!({}));
    let probe = |json: bool, code: i32| {
        let mut args = vec!["status", "--probe"];
        if json {
            args.push("--json");
        }
        events
            .env(moto.test(dir.path()))
            .args(args)
            .env("LPPG_PROBE_WAIT", "20s")
            .expect_code(code)
            .run()
    };

    // The deployed patterns: both regions pass, and so does the probe.
    let pass = probe(false, 0);
    for region in ["us-east-1", "eu-west-1"] {
        assert!(
            pass.stderr.contains(&format!(
                "eventbridge {region}: EventBridge matches rule lppg-fast-path to a denial of the observed principal"
            )),
            "{}",
            pass.dump()
        );
    }
    assert!(pass.stderr.contains("4. eventbridge") && pass.stderr.contains("5. eventbridge"));
    assert!(pass.stderr.contains("probe passed"), "{}", pass.dump());
    let described = events.requests("DescribeRule");
    let mut regions: Vec<&str> = described
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    regions.sort_unstable();
    assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    assert!(described
        .iter()
        .all(|r| r["body"]["Name"] == "lppg-fast-path"));
    let judged = events.requests("TestEventPattern");
    assert_eq!(judged.len(), 8, "four samples in each region");
    for r in &judged {
        let event: Value = serde_json::from_str(r["body"]["Event"].as_str().unwrap()).unwrap();
        assert_eq!(event["detail-type"], "AWS API Call via CloudTrail");
        assert_eq!(
            event["region"], r["region"],
            "each region judges its own events"
        );
        let pattern: Value =
            serde_json::from_str(r["body"]["EventPattern"].as_str().unwrap()).unwrap();
        assert_eq!(pattern["detail"]["userIdentity"]["arn"], json!([USER]));
    }

    // Wrong patterns: eu-west-1's matches every principal's calls, us-east-1's another user's only.
    let everyone = json!({"detail-type": ["AWS API Call via CloudTrail"]}).to_string();
    let other = json!({"detail-type": ["AWS API Call via CloudTrail"], "detail": {"userIdentity":
        {"arn": ["arn:aws:iam::123456789012:user/alice"]}, "errorCode": ["AccessDenied"]}})
    .to_string();
    events.configure(json!({"patterns": {"eu-west-1": everyone, "us-east-1": other}}));
    let failed = probe(true, 1);
    let v: Value = serde_json::from_str(&failed.stdout).unwrap();
    assert_eq!(v["passed"], false);
    let step = |region: &str| {
        v["probe"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "eventbridge" && s["region"] == region)
            .unwrap_or_else(|| panic!("no step for {region}: {v:#}"))
            .clone()
    };
    let west = step("eu-west-1");
    assert_eq!(west["outcome"], "failed", "{v:#}");
    let detail = west["detail"].as_str().unwrap();
    assert!(
        detail.contains("matches another principal's denial")
            && detail.contains("a throttling error")
            && detail.contains("a successful call"),
        "{detail}"
    );
    assert!(west["fix"].as_str().unwrap().contains("lppg up"));
    let east = step("us-east-1");
    assert_eq!(east["outcome"], "failed", "{v:#}");
    assert!(east["detail"]
        .as_str()
        .unwrap()
        .contains("does not match a denial of the observed user"));

    // eu-west-1 refuses TestEventPattern: named, and us-east-1 is still judged.
    events.configure(json!({"deny": {"eu-west-1": ["TestEventPattern"]}}));
    let denied = probe(false, 1);
    assert!(
        denied.stderr.contains(
            "eventbridge eu-west-1: could not run: testing the rule's pattern in eu-west-1 \
                                 (events:TestEventPattern)"
        ) && denied.stderr.contains("AccessDeniedException"),
        "{}",
        denied.dump()
    );
    assert!(
        denied
            .stderr
            .contains("eventbridge us-east-1: EventBridge matches rule lppg-fast-path"),
        "{}",
        denied.dump()
    );
}

/// Issue 24, defect 1: in role mode the probe record is a session of the role (`assumed-role/<role>/lppg-probe`,
/// as CloudTrail writes an AssumedRole identity), and the function recognises it by the role's sessions
/// (`sessionContext.sessionIssuer.arn`), answering with a probe line and granting nothing. The function's own code
/// runs on the delivery (boundary server, no IAM access: any grant would be an error line). TestMetricFilter is
/// answered at the boundary as its API reference documents (`matches` with `eventNumber`).
#[test]
fn role_mode_probe_passes_and_grants_nothing() {
    let (bdir, moto) = boundary();
    let dir = TempDir::new("probe-role");
    let c = moto.clients();
    block_on(c.iam.create_user().user_name("ci").send()).unwrap();
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--principal",
            "role",
            "--no-probe",
            "--trust",
            "arn:aws:iam::123456789012:user/ci",
        ],
    )
    .run();
    create_trail_and_subscription(&c);
    write_answers(
        bdir.path(),
        "test-metric-filter-responses.json",
        &json!([matches(&[1])]),
    );
    // EventBridge judges the role's rule (sessionContext.sessionIssuer.arn) at the boundary.
    let events = FastPathBoundary::start(&moto, json!({}));
    let r = events
        .env(moto.test(dir.path()))
        .args(["status", "--probe", "--json"])
        .env("LPPG_PROBE_WAIT", "20s")
        .expect_code(0)
        .run();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["passed"], true, "{v:#}\n{}", r.dump());
    let steps = v["probe"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["outcome"] == "ok"), "{v:#}");
    assert_eq!(steps[3]["step"], "eventbridge", "{v:#}");
    assert_eq!(steps[3]["region"], "us-east-1", "{v:#}");
    let judged = events.requests("TestEventPattern");
    let first: Value = serde_json::from_str(judged[0]["body"]["Event"].as_str().unwrap()).unwrap();
    assert_eq!(first["detail"]["userIdentity"]["type"], "AssumedRole");
    assert_eq!(requests(bdir.path(), "deliveries.jsonl").len(), 1);
    // The function's lines for the probe record: one probe line, no grant and no error.
    let lines = block_on(
        c.logs
            .filter_log_events()
            .log_group_name("/aws/lambda/lppg-generator")
            .send(),
    )
    .unwrap();
    let decisions: Vec<Value> = lines
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e.message()?).ok())
        .filter(|l| l["lppg"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0]["decision"], "probe");
    let sample: Value = serde_json::from_str(
        requests(bdir.path(), "test-metric-filter-requests.jsonl")[0]["logEventMessages"][0]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sample["userIdentity"]["type"], "AssumedRole");
}

/// Issue 19, defect 5: each re-run is slow, so the holds of the other messages expire in between (the boundary's
/// `expire_visibility`), messages come back with new receipts, and returning a message whose hold is gone answers
/// `MessageNotInflight` (the fault proxy, in the shape of the SQS API Reference's ChangeMessageVisibility errors).
/// redrive re-runs each batch once, deletes what succeeded, keeps what failed, treats the stale release as done,
/// and prints its per-batch report.
#[test]
fn a_slow_redrive_survives_expired_holds() {
    let (bdir, moto) = boundary();
    let dir = TempDir::new("slowredrive");
    moto.lppg(dir.path(), &["up", "--yes", "--no-password", "--no-probe"])
        .run();
    let c = moto.clients();
    let url = queue_url(&c);
    for (id, data) in [
        ("req-a", "QUFBQQ=="),
        ("req-b", "QkJCQg=="),
        ("req-c", "Q0NDQw=="),
    ] {
        block_on(
            c.sqs
                .send_message()
                .queue_url(&url)
                .message_body(failure_record(id, data))
                .send(),
        )
        .unwrap();
    }
    let failed = json!({"status": 200, "functionError": "Unhandled", "expire_visibility": true,
                        "payload": {"errorMessage": "lppg: policy update not confirmed", "errorType": "RuntimeError"}});
    let ok = json!({"status": 200, "expire_visibility": true, "payload": {"lppg": "batch", "records": 1}});
    // The first batch re-run fails, the others succeed; every re-run outlasts the holds.
    write_answers(
        bdir.path(),
        "invoke-responses.json",
        &json!([failed, ok, ok, ok, ok]),
    );
    let proxy = crate::common::FaultProxy::start(
        &moto,
        json!([{"kind": "error", "service": "sqs", "action": "ChangeMessageVisibility",
                "code": "AWS.SimpleQueueService.MessageNotInflight", "status": 400,
                "message": "The message referred to isn't in flight."}]),
    );
    let run = moto
        .test(dir.path())
        .endpoint(&proxy.url)
        .arg("redrive")
        .expect_code(1)
        .expect_stderr_contains("2 re-run and removed, 1 still queued")
        .run();
    assert_eq!(
        run.stderr.matches("  batch req-").count(),
        3,
        "{}",
        run.dump()
    );
    // Each batch was re-run once: a message received again is not re-run.
    assert_eq!(requests(bdir.path(), "invoke-requests.jsonl").len(), 3);
    // The one that failed is still queued (held or not: the release answered that its hold was gone).
    let n = block_on(lppg::aws::sqs::waiting(&c, &url)).unwrap();
    assert_eq!(n, Some(1), "{}", run.dump());
}
