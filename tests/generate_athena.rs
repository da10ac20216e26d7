//! `lppg generate --athena`: the query's text for each option combination (snapshots in tests/snapshots/athena/),
//! its rows mapped with the same rules as the records themselves (the shared vectors, grouped as the query groups
//! them), results injected into moto's Athena end to end, and result paging at the boundary (moto returns every
//! row on one page, so a tiny server answers as Athena does, page after page).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::common::{snapshot, AwsBoundary, Moto, TempDir, Test};
use lppg::cloudtrail::athena::{self, COLUMNS};
use lppg::cloudtrail::scan::{self, Counters, Mode, ScanOptions};
use serde_json::{json, Value};

const USER: &str = "arn:aws:iam::123456789012:user/lppg-user";

fn sql_of(args: &[&str]) -> String {
    let run = Test::new()
        .args(["generate", "--athena", "logs.trail", "--print-sql"])
        .args(args)
        .run();
    assert!(run.stderr.is_empty(), "{}", run.dump());
    run.stdout
}

#[test]
fn the_query_for_each_option_combination() {
    let role_session = "arn:aws:sts::111122223333:assumed-role/deploy";
    let cases: [(&str, Vec<&str>); 8] = [
        ("plain", vec![]),
        ("principal", vec!["--principal", USER]),
        (
            "principals_and_session",
            vec!["--principal", USER, "--principal", role_session],
        ),
        ("denied", vec!["--denied"]),
        (
            "window",
            vec!["--since", "2024-03-01", "--until", "2024-03-05T12:00:00Z"],
        ),
        ("since_only", vec!["--since", "2024-03-01T10:00:00Z"]),
        (
            "accounts_regions",
            vec![
                "--account",
                "111122223333",
                "--account",
                "444455556666",
                "--trail-region",
                "eu-west-1",
            ],
        ),
        (
            "everything_denied",
            vec![
                "--denied",
                "--principal",
                USER,
                "--since",
                "2024-12-30",
                "--until",
                "2025-01-02",
                "--account",
                "111122223333",
                "--trail-region",
                "us-east-1",
                "--trail-region",
                "eu-west-1",
            ],
        ),
    ];
    for (name, args) in cases {
        snapshot(&format!("athena/{name}.sql"), &sql_of(&args));
    }
    // The workgroup and result location do not change the query; output options do not either.
    assert_eq!(
        sql_of(&[
            "--workgroup",
            "w",
            "--output-location",
            "s3://r/",
            "--format",
            "cfn",
            "--split"
        ]),
        sql_of(&[])
    );
}

#[test]
fn athena_arguments_are_checked() {
    Test::new()
        .args(["generate", "--athena", "trail", "--print-sql"])
        .expect_code(2)
        .expect_stderr_contains("expected DATABASE.TABLE")
        .run();
    Test::new()
        .args(["generate", "--athena", "a.b", "some/path"])
        .expect_code(2)
        .expect_stderr_contains("cannot be used with")
        .run();
    Test::new()
        .args(["generate", "--print-sql", "x"])
        .expect_code(2)
        .run();
}

/// The shared vectors' records (tests/vectors/*.jsonl).
fn vector_records() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut records = Vec::new();
    for file in ["success.jsonl", "denied.jsonl"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).unwrap();
            if v["record"].is_object() {
                records.push(v["record"].clone());
            }
        }
    }
    records
}

/// The records grouped as the query groups them, as Athena's rows (header first; null fields absent).
fn rows_of(records: &[Value]) -> Vec<Vec<Option<String>>> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut groups: BTreeMap<Vec<Option<String>>, (u64, String, String)> = BTreeMap::new();
    for r in records {
        let u = &r["userIdentity"];
        let key = vec![
            text(&r["eventSource"]),
            text(&r["eventName"]),
            text(&r["eventType"]),
            text(&r["errorCode"]),
            text(&r["errorMessage"]),
            text(&u["type"]),
            text(&u["arn"]),
            text(&u["sessionContext"]["sessionIssuer"]["arn"]),
        ];
        let t = r["eventTime"].as_str().unwrap_or_default().to_owned();
        let g = groups.entry(key).or_insert((0, t.clone(), t.clone()));
        g.0 += 1;
        if t < g.1 {
            g.1 = t.clone();
        }
        if t > g.2 {
            g.2 = t;
        }
    }
    let mut rows = vec![COLUMNS.iter().map(|c| Some((*c).to_owned())).collect()];
    for (mut key, (count, first, last)) in groups {
        key.extend([Some(count.to_string()), Some(first), Some(last)]);
        rows.push(key);
    }
    rows
}

fn options(mode: Mode, principals: &[&str]) -> ScanOptions {
    ScanOptions {
        mode,
        principals: principals.iter().map(|p| (*p).to_owned()).collect(),
        since: None,
        until: None,
        threads: 1,
        catalogue: lppg::policy::catalogue().unwrap(),
    }
}

fn write_records(dir: &Path, records: &[Value]) -> PathBuf {
    let path = dir.join("records.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for r in records {
        writeln!(f, "{r}").unwrap();
    }
    path
}

#[test]
fn rows_map_to_the_same_actions_as_the_records_on_the_shared_vectors() {
    let records = vector_records();
    assert!(records.len() > 20, "{} vector records", records.len());
    let dir = TempDir::new("athena-vectors");
    let file = write_records(dir.path(), &records).display().to_string();
    let groups = athena::groups(&rows_of(&records)).unwrap();
    assert!(groups.len() < records.len() + 1);
    for (mode, principals) in [
        (Mode::Used, vec![]),
        (Mode::Denied, vec![]),
        (Mode::Used, vec![USER]),
        (Mode::Denied, vec![USER]),
    ] {
        let o = options(mode, &principals);
        let scanned = scan::scan(std::slice::from_ref(&file), &o, &Counters::default());
        let mapped = scan::tally_groups(
            groups.iter().map(|g| (g.record(), g.count, g.last.clone())),
            &o,
        );
        let view = |s: &scan::ScanSummary| {
            let tallies = |m: &BTreeMap<String, scan::ActionTally>| {
                m.iter()
                    .map(|(k, t)| {
                        (
                            k.clone(),
                            t.count,
                            t.from_message,
                            t.first_seen.clone(),
                            t.last_seen.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            (
                tallies(&s.actions),
                tallies(&s.explicit_denies),
                s.matched,
                s.selected,
                s.not_permission,
            )
        };
        assert!(
            !scanned.actions.is_empty(),
            "{mode:?} {principals:?}: no action"
        );
        assert_eq!(view(&mapped), view(&scanned), "{mode:?} {principals:?}");
        assert_eq!(mapped.records, scanned.records);
    }
}

/// Athena's JSON for rows (a null is a datum without VarCharValue).
fn athena_rows(rows: &[Vec<Option<String>>]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                let data: Vec<Value> = row
                    .iter()
                    .map(|v| match v {
                        Some(s) => json!({"VarCharValue": s}),
                        None => json!({}),
                    })
                    .collect();
                json!({"Data": data})
            })
            .collect(),
    )
}

#[test]
fn injected_results_give_the_policy_of_a_local_scan() {
    let moto = Moto::start();
    let records = vector_records();
    let dir = TempDir::new("athena-moto");
    let file = write_records(dir.path(), &records).display().to_string();
    let rows = rows_of(&records);
    // The shared vectors' calls make a policy over IAM's size limit: --split, on both sides.
    let cases: [&[&str]; 4] = [
        &["--split"],
        &["--denied", "--split"],
        &["--principal", USER, "--split"],
        // Not --explain: its RESOURCES SEEN column shows evidence that Athena's grouped rows carry only from the
        // error message (resources[] and request parameters are not grouped on), see the README.
        &[
            "--denied",
            "--principal",
            USER,
            "--format",
            "cfn",
            "--split",
        ],
    ];
    let results: Vec<Value> = cases
        .iter()
        .map(|_| json!({"rows": athena_rows(&rows), "column_info": COLUMNS.iter().map(|c| json!({"Name": c, "Type": "varchar"})).collect::<Vec<_>>()}))
        .collect();
    moto.http(
        "POST",
        "/moto-api/static/athena/query-results",
        &json!({"results": results}).to_string(),
    )
    .expect("inject results");
    for args in cases {
        let local = Test::new().arg("generate").args(args).arg(&file).run();
        let athena = Test::new()
            .moto(&moto)
            .args([
                "generate",
                "--athena",
                "logs.trail",
                "--output-location",
                "s3://results/",
            ])
            .args(args)
            .run();
        assert_eq!(athena.code, local.code, "{args:?}\n{}", athena.dump());
        assert!(
            athena.stdout == local.stdout,
            "{args:?}: policies differ\n--- local ---\n{}\n--- athena ---\n{}",
            local.stdout,
            athena.stdout
        );
        assert!(
            athena.stderr.contains("Athena scanned 0.0 MB"),
            "{}",
            athena.dump()
        );
    }
    // No result queued: no row, reported as no record.
    Test::new()
        .moto(&moto)
        .args(["generate", "--athena", "logs.trail", "--principal", USER])
        .expect_code(2)
        .expect_stderr_contains("no record of")
        .run();
}

/// A server answering as Athena does: the query succeeds at once and its results come in three pages.
fn paging_athena(pages: Vec<Value>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = s.read_exact(&mut body);
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let target = head
                .lines()
                .find_map(|l| l.strip_prefix("x-amz-target:"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            log.lock().unwrap().push(format!(
                "{target} {}",
                body["NextToken"].as_str().unwrap_or("-")
            ));
            let answer = if target.ends_with("startqueryexecution") {
                json!({"QueryExecutionId": "q-1"})
            } else if target.ends_with("getqueryexecution") {
                json!({"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"},
                    "Statistics": {"DataScannedInBytes": 2_500_000}}})
            } else {
                let page: usize = body["NextToken"].as_str().and_then(|t| t.strip_prefix("page-")).and_then(|n| n.parse().ok()).unwrap_or(0);
                let mut p = pages[page].clone();
                if page + 1 < pages.len() {
                    p["NextToken"] = json!(format!("page-{}", page + 1));
                }
                p
            }
            .to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn every_result_page_is_read_and_only_the_first_row_is_a_header() {
    let records = vector_records();
    let dir = TempDir::new("athena-pages");
    let file = write_records(dir.path(), &records).display().to_string();
    let rows = rows_of(&records);
    // Athena's pages: the header and the first rows, then the rest in two pages.
    let third = rows.len() / 3;
    let pages: Vec<Value> = [&rows[..third], &rows[third..2 * third], &rows[2 * third..]]
        .iter()
        .map(|chunk| json!({"ResultSet": {"Rows": athena_rows(chunk)}}))
        .collect();
    let (url, seen) = paging_athena(pages);
    let athena = Test::new()
        .env("AWS_ENDPOINT_URL", &url)
        // --no-validate: this server counts every call; Access Analyzer's check is tested in tests/generate.rs.
        .args([
            "generate",
            "--athena",
            "logs.trail",
            "--workgroup",
            "w",
            "--no-validate",
        ])
        .run();
    let local = Test::new().args(["generate", &file]).run();
    assert_eq!(athena.stdout, local.stdout);
    assert!(
        athena.stderr.contains("Athena scanned 2.5 MB"),
        "{}",
        athena.dump()
    );
    assert!(
        athena
            .stderr
            .contains(&format!("{} result rows", rows.len() - 1)),
        "{}",
        athena.dump()
    );
    let calls = seen.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            "amazonathena.startqueryexecution -",
            "amazonathena.getqueryexecution -",
            "amazonathena.getqueryresults -",
            "amazonathena.getqueryresults page-1",
            "amazonathena.getqueryresults page-2",
        ]
    );
}

/// Issue 19: Ctrl-C while the Athena query runs stops it (StopQueryExecution with its QueryExecutionId, Athena API
/// Reference) and says so on stderr; nothing is written to stdout, and the exit is 2, as for `down` interrupted.
/// The boundary (`tests/support/aws_boundary.py`) answers GetQueryExecution with `QueryExecution.Status.State`
/// RUNNING until the query is stopped, as Athena does for a long query; moto's Athena finishes every query at once.
#[test]
fn ctrl_c_stops_the_running_query() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let boundary = AwsBoundary::start("us-east-1");
    let dir = TempDir::new("athena-ctrl-c");
    let mut cmd = crate::common::lppg_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL_ATHENA", &boundary.url)
        .args(["generate", "--athena", "logs.trail", "--no-validate"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Interrupt once the query is running: the boundary has been asked for its state.
    let deadline = Instant::now() + Duration::from_secs(60);
    while boundary.calls("GetQueryExecution").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the query was never polled: {:?}",
            boundary.requests()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    let dump = format!(
        "exit {:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        o.status
    );
    assert_eq!(o.status.code(), Some(2), "{dump}");
    assert!(
        stderr.contains("interrupted: stopped Athena query q-boundary-1; nothing was written"),
        "{dump}"
    );
    assert!(stdout.is_empty(), "a policy was written:\n{dump}");
    let stops = boundary.calls("StopQueryExecution");
    assert_eq!(stops.len(), 1, "{:?}", boundary.requests());
    assert_eq!(stops[0]["body"]["QueryExecutionId"], "q-boundary-1");
    assert!(boundary.calls("GetQueryResults").is_empty());
}
