//! `lppg watch` and `lppg mark` end to end against a moto server of the test's own. The test writes into the
//! function's log group what the Lambda runtime would (START/END/REPORT, decision and batch lines, an error, an
//! unreadable line, a timeout), records markers with `lppg mark`, and compares `watch --once` (text and JSON) with
//! the snapshots in tests/snapshots/watch/ (times replaced by names; `LPPG_UPDATE_SNAPSHOTS=1` rewrites them).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, Moto, TempDir};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use std::process::Stdio;
use std::time::{Duration, Instant};

const GROUP: &str = "/aws/lambda/lppg-generator";
const STREAM: &str = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef";

use lppg::time::now_ms;

fn rfc(ms: i64) -> String {
    lppg::time::format_secs_ms(ms)
}

fn decision(d: &str, action: Option<&str>, event_time: Option<i64>, reason: &str) -> String {
    let granted = d == "granted" || d == "unverified";
    serde_json::json!({
        "lppg": "decision", "v": 1, "decision": d, "action": action, "derived_from": null,
        "access_level": action.map(|_| "Write"), "event_time": event_time.map(rfc),
        "event_id": action.map(|a| format!("ev-{a}")), "event_source": action.map(|_| "ec2.amazonaws.com"),
        "event_name": action.map(|a| a.split(':').nth(1).unwrap_or_default().to_string()),
        "policy": granted.then_some("arn:aws:iam::123456789012:policy/lppg-policy-1"),
        "version": granted.then_some("v2"), "reason": reason,
    })
    .to_string()
}

fn put(c: &lppg::aws::Clients, stream: &str, events: &[(i64, String)]) {
    block_on(async {
        let _ = c
            .logs
            .create_log_stream()
            .log_group_name(GROUP)
            .log_stream_name(stream)
            .send()
            .await;
        let mut req = c
            .logs
            .put_log_events()
            .log_group_name(GROUP)
            .log_stream_name(stream);
        for (ts, msg) in events {
            req = req.log_events(
                InputLogEvent::builder()
                    .timestamp(*ts)
                    .message(msg)
                    .build()
                    .unwrap(),
            );
        }
        let r = req.send().await.unwrap();
        assert!(r.rejected_log_events_info().is_none(), "{r:?}");
    });
}

/// Replaces each known instant (as RFC 3339 with or without ms, and as HH:MM:SS) by its name, and the date.
fn normalise(text: &str, instants: &[(i64, String)]) -> String {
    let mut t = text.to_string();
    for (ms, name) in instants {
        let secs = rfc(*ms);
        let millis = lppg::time::format_millis_ms(*ms);
        t = t.replace(&millis, &format!("<{name}>"));
        if ms % 1000 == 0 {
            t = t.replace(&secs, &format!("<{name}>"));
            t = t.replace(&secs[11..19], &format!("<{name}>"));
        }
    }
    let date = regex::Regex::new(r"\d{4}-\d\d-\d\d \(times in UTC\)").unwrap();
    let t = date.replace_all(&t, "<date> (times in UTC)").into_owned();
    // The number of generator policies is the template's business; check the share against it, then name it.
    let budget =
        regex::Regex::new(r"of (\d+) policies in use · ([\d.]+)% of the size budget").unwrap();
    let policies = regex::Regex::new(r#""policy_count":(\d+),"budget_percent":([\d.]+)"#).unwrap();
    for re in [&budget, &policies] {
        for cap in re.captures_iter(&t) {
            let n: f64 = cap[1].parse().unwrap();
            let share: f64 = cap[2].parse().unwrap();
            let expected = BATCH_SIZE as f64 * 100.0 / (n * lppg::policy::MAX_POLICY_SIZE as f64);
            assert!(
                (share - expected).abs() < 0.051,
                "{share}% for {n} policies: expected {expected:.1}%"
            );
        }
    }
    let t = budget
        .replace_all(&t, "of <N> policies in use · <share>% of the size budget")
        .into_owned();
    policies
        .replace_all(&t, r#""policy_count":<N>,"budget_percent":<share>"#)
        .into_owned()
}

/// The size of the one policy the batch line reports.
const BATCH_SIZE: usize = 1843;

/// Compares `actual` with tests/snapshots/watch/<name> (see [`crate::common::snapshot`]).
fn snapshot(name: &str, actual: &str) {
    crate::common::snapshot(&format!("watch/{name}"), actual);
}

fn no_control_chars(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        bad.is_empty(),
        "{what} has control characters {bad:?}:\n{text}"
    );
}

#[test]
fn watch_shows_decisions_markers_and_failures() {
    let moto = Moto::start();
    let dir = TempDir::new("watch");
    let c = moto.clients();
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .run();

    // One invocation 5 minutes after a console click at B+10s: a burst of three denied calls, one more a minute
    // later, a record the function could not read; then an unreadable line and a timeout.
    let b = (now_ms() / 60_000) * 60_000 - 20 * 60_000;
    let inv = b + 300_000;
    put(
        &c,
        STREAM,
        &[
            (inv, "START RequestId: r-1 Version: $LATEST".into()),
            (inv + 10, decision("granted", Some("ec2:CreateVpc"), Some(b + 10_000), "")),
            (inv + 10, decision("already_present", Some("ec2:CreateTags"), Some(b + 12_000), "")),
            (inv + 11, decision("withheld", Some("iam:CreateUser"), Some(b + 14_000), "the guard keeps iam:CreateUser out")),
            (inv + 12, decision("unverified", Some("ec2:CreateVpcThing"), Some(b + 70_000), "not in the IAM action catalogue (granted anyway; check the name)")),
            (inv + 13, decision("error", None, None, "log event 42 is not a CloudTrail JSON record (Expecting value)")),
            (inv + 14, serde_json::json!({"lppg": "batch", "v": 1, "records": 5, "denied": 4, "granted": 2,
                "already_present": 1, "withheld": 1, "errors": 1, "policies_written": ["arn:aws:iam::123456789012:policy/lppg-policy-1"],
                "policy_sizes": [{"policy": "arn:aws:iam::123456789012:policy/lppg-policy-1", "size": BATCH_SIZE, "actions": 12}],
                "iam_calls": 3, "duration_ms": 412}).to_string()),
            (inv + 15, "END RequestId: r-1".into()),
            (inv + 16, "REPORT RequestId: r-1\tDuration: 412.00 ms\tBilled Duration: 413 ms".into()),
            (inv + 100_000, "{\"lppg\":\"decision\",\"v\":1,\"decision\":\"granted\",\"action\":".into()),
            (inv + 200_000, format!("{} r-2 Task timed out after 300.00 seconds", rfc(inv + 200_000))),
        ],
    );

    // Two markers, in order, then a grant for a call made after the first.
    let m1 = moto
        .lppg(dir.path(), &["mark", "Step one", "--json"])
        .expect_stderr_contains("marked step \"Step one\"")
        .run();
    let marker: serde_json::Value =
        serde_json::from_str(m1.stdout.trim()).unwrap_or_else(|_| panic!("{}", m1.dump()));
    assert_eq!(marker["label"], "Step one");
    assert_eq!(marker["lppg"], "marker");
    let m1_ms = lppg::time::parse_rfc3339_ms(marker["time"].as_str().unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let m2 = moto.lppg(dir.path(), &["mark"]).run();
    assert!(m2.stdout.is_empty(), "{}", m2.dump());
    assert!(m2.stderr.contains("unlabelled"), "{}", m2.dump());
    let m2_ms = {
        let st = block_on(
            c.logs
                .get_log_events()
                .log_group_name(GROUP)
                .log_stream_name("lppg-markers")
                .send(),
        )
        .unwrap();
        let last = st.events().last().unwrap().message().unwrap().to_string();
        let v: serde_json::Value = serde_json::from_str(&last).unwrap();
        assert_eq!(v["label"], "");
        lppg::time::parse_rfc3339_ms(v["time"].as_str().unwrap()).unwrap()
    };
    assert!(m2_ms > m1_ms);
    put(
        &c,
        STREAM,
        &[(
            m1_ms + 30_000,
            decision("granted", Some("ec2:CreateSubnet"), Some(m1_ms + 5_000), ""),
        )],
    );

    let instants: Vec<(i64, String)> = vec![
        (b + 10_000, "B+10s".into()),
        (b + 12_000, "B+12s".into()),
        (b + 14_000, "B+14s".into()),
        (b + 70_000, "B+70s".into()),
        (inv + 13, "I+0.013".into()),
        (inv + 14, "I+0.014".into()),
        (inv + 10, "I+0.010".into()),
        (inv + 11, "I+0.011".into()),
        (inv + 12, "I+0.012".into()),
        (inv + 100_000, "I+100s".into()),
        (inv + 200_000, "I+200s".into()),
        (inv, "I".into()),
        (m1_ms + 30_000, "M1+30s".into()),
        (m1_ms + 5_000, "M1+5s".into()),
        (m1_ms, "M1".into()),
        (m2_ms, "M2".into()),
    ];

    let text = moto
        .lppg(dir.path(), &["watch", "--once", "--since", "1h"])
        .run();
    no_control_chars("watch --once stdout", &text.stdout);
    no_control_chars("watch --once stderr", &text.stderr);
    assert!(
        text.stderr
            .contains("watching /aws/lambda/lppg-generator from"),
        "{}",
        text.dump()
    );
    let pos = |s: &str| {
        text.stdout
            .find(s)
            .unwrap_or_else(|| panic!("no {s:?}\n{}", text.dump()))
    };
    assert!(pos("ec2:CreateVpc ") < pos("\"Step one\""));
    assert!(pos("\"Step one\"") < pos("step boundary marked"));
    assert!(pos("step boundary marked") < pos("ec2:CreateSubnet"));
    // `watch` prints a date line whenever the UTC date changes. When this test's 20-minute window spans midnight
    // it rightly prints one more: check that it does, then compare the rest with the snapshot.
    let day = |ms: i64| ms.div_euclid(86_400_000);
    let headers = text.stdout.matches("(times in UTC)").count();
    let mut shown = normalise(&text.stdout, &instants);
    if day(b) != day(m2_ms) {
        assert_eq!(headers, 2, "a date line for each day\n{}", text.dump());
        let line = "<date> (times in UTC)\n";
        let second = shown.rfind(line).unwrap();
        shown.replace_range(second..second + line.len(), "");
        // The blank line that separated it from the previous block goes with it.
        if shown[..second].ends_with("\n\n") && shown[second..].starts_with('\n') {
            shown.remove(second);
        }
    } else {
        assert_eq!(headers, 1, "one date line\n{}", text.dump());
    }
    snapshot("once.txt", &shown);

    let js = moto
        .lppg(dir.path(), &["watch", "--json", "--once", "--since", "1h"])
        .run();
    no_control_chars("watch --json stdout", &js.stdout);
    for l in js.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["type"].is_string(), "{l}");
    }
    assert!(js
        .stdout
        .lines()
        .last()
        .unwrap()
        .contains("\"type\":\"summary\""));
    // A date is a --since too (generate's grammar): from 2024-03-01 there is what there is from an hour ago.
    let by_date = moto
        .lppg(
            dir.path(),
            &["watch", "--json", "--once", "--since", "2024-03-01"],
        )
        .run();
    let events = |out: &str| {
        out.lines()
            .filter(|l| !l.contains("\"type\":\"summary\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(events(&by_date.stdout), events(&js.stdout));
    snapshot("once.jsonl", &normalise(&js.stdout, &instants));

    // By default watch starts at the stack's creation: the test's back-dated lines are before it.
    let dflt = moto.lppg(dir.path(), &["watch", "--once"]).run();
    assert!(dflt.stdout.contains("\"Step one\""), "{}", dflt.dump());
    assert!(!dflt.stdout.contains("ec2:CreateVpc "), "{}", dflt.dump());

    // --until-idle exits on its own once nothing new came for that long: 2 s on lppg's clock (the tests' virtual
    // clock, so no real wait), as `-v`'s count of calls over the watch's time says.
    let t0 = Instant::now();
    let idle = moto
        .lppg(
            dir.path(),
            &["-v", "watch", "--until-idle", "2s", "--since", "1h"],
        )
        .run();
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t0.elapsed()
    );
    let watched: f64 = idle
        .stderr
        .split("FilterLogEvents calls: ")
        .nth(1)
        .and_then(|rest| rest.split(" in ").nth(1))
        .and_then(|rest| rest.split('s').next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no call count\n{}", idle.dump()));
    assert!(
        (2.0..4.0).contains(&watched),
        "watched {watched} s\n{}",
        idle.dump()
    );
    no_control_chars("watch --until-idle stdout", &idle.stdout);
    no_control_chars("watch --until-idle stderr", &idle.stderr);
    assert!(idle.stdout.contains("ec2:CreateSubnet"), "{}", idle.dump());
    assert!(
        idle.stdout.trim_end().ends_with("of the size budget"),
        "{}",
        idle.dump()
    );

    // Ctrl-C: exit 0 after the one-line summary.
    let mut cmd = crate::common::lppg_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", &moto.url)
        .args(["watch", "--since", "1h"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Interrupt once the watch has printed its first read (no fixed wait): stdout is read on a thread, line by line.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout_pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout_pipe)
            .lines()
            .map_while(Result::ok)
        {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("watch printed nothing within a minute");
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("3 granted · 1 withheld · 2 errors · 2 markers"),
        "{stdout}"
    );

    // A deleted log group: say so and what to do.
    block_on(c.logs.delete_log_group().log_group_name(GROUP).send()).unwrap();
    moto.lppg(dir.path(), &["watch", "--once", "--since", "1h"])
        .expect_code(2)
        .expect_stderr_contains("does not exist")
        .expect_stderr_contains("lppg up")
        .run();
    moto.lppg(dir.path(), &["mark", "x"])
        .expect_code(2)
        .expect_stderr_contains("lppg up")
        .run();
}

#[test]
fn without_a_stack_watch_and_mark_say_run_up() {
    let moto = Moto::start();
    let dir = TempDir::new("watch-nostack");
    moto.lppg(dir.path(), &["watch", "--once"])
        .expect_code(2)
        .expect_stderr_contains("run `lppg up` first")
        .run();
    moto.lppg(dir.path(), &["mark", "Create the VPC"])
        .expect_code(2)
        .expect_stderr_contains("run `lppg up` first")
        .run();
    moto.lppg(dir.path(), &["watch", "--since", "yesterday"])
        .expect_code(2)
        .expect_stderr_contains("cannot read --since \"yesterday\": use an age (30m, 7d)")
        .run();
    // One grammar with generate's --since: a date is read, so watch gets as far as looking for the stack.
    moto.lppg(dir.path(), &["watch", "--once", "--since", "2024-03-01"])
        .expect_code(2)
        .expect_stderr_contains("run `lppg up` first")
        .run();
}
