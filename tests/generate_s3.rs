//! `lppg generate s3://BUCKET/PREFIX` against moto: the fixture tree uploaded to an emulated bucket gives the same
//! policy as the local path; only the window's days are listed and read (moto's request recorder shows every
//! request); account and region filters; a missing bucket, a corrupt object and access denials are reported and
//! exit as local inputs do (access denials at the boundary: a tiny server answering as S3 does, since moto does
//! not check permissions).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::common::{block_on, AwsBoundary, Moto, TempDir, Test};
use serde_json::Value;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generate")
}

fn logs() -> PathBuf {
    fixtures().join("tree/AWSLogs")
}

/// The two fixture log files: (region, day folder, file name, bytes).
fn fixture_files() -> Vec<(String, String, String, Vec<u8>)> {
    let mut files = Vec::new();
    for region in ["us-east-1", "eu-west-1"] {
        let base = logs().join(ACCOUNT).join("CloudTrail").join(region);
        for entry in walk(&base) {
            let rel = entry.strip_prefix(&base).unwrap();
            let parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let day = parts[..3].join("/");
            files.push((
                region.to_owned(),
                day,
                parts[3].clone(),
                std::fs::read(&entry).unwrap(),
            ));
        }
    }
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Creates `bucket` with `objects` (key, bytes).
fn upload(moto: &Moto, bucket: &str, objects: &[(String, Vec<u8>)]) {
    let c = moto.clients();
    block_on(async {
        c.s3.create_bucket().bucket(bucket).send().await.unwrap();
        for (key, body) in objects {
            c.s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
        }
    });
}

/// The fixture tree's two files at their own keys, under `prefix`.
fn tree_objects(prefix: &str) -> Vec<(String, Vec<u8>)> {
    fixture_files()
        .into_iter()
        .map(|(region, day, name, body)| {
            (
                format!("{prefix}AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day}/{name}"),
                body,
            )
        })
        .collect()
}

fn generate(moto: &Moto, args: &[&str]) -> Test {
    Test::new().moto(moto).arg("generate").args(args)
}

#[test]
fn s3_and_local_paths_give_byte_identical_policies() {
    let moto = Moto::start();
    let mut objects = tree_objects("");
    objects.extend(tree_objects("team/a/"));
    objects.push((
        "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz".into(),
        b"not a log".to_vec(),
    ));
    upload(&moto, "trail", &objects);
    let local = logs().display().to_string();
    for options in [
        vec![],
        vec!["--principal", ALICE],
        vec!["--denied"],
        vec!["--denied", "--principal", ALICE, "--format", "cfn"],
        vec!["--split"],
        vec!["--explain"],
        vec!["--since", "2024-03-02"],
    ] {
        let from_disk = generate(&moto, &[options.as_slice(), &[local.as_str()]].concat()).run();
        for url in ["s3://trail", "s3://trail/AWSLogs/", "s3://trail/team/a"] {
            let from_s3 = generate(&moto, &[options.as_slice(), &[url]].concat()).run();
            assert_eq!(
                from_s3.code,
                from_disk.code,
                "{options:?} {url}\n{}",
                from_s3.dump()
            );
            assert!(
                from_s3.stdout == from_disk.stdout,
                "{options:?} {url}: policies differ\n--- local ---\n{}\n--- s3 ---\n{}",
                from_disk.stdout,
                from_s3.stdout
            );
        }
    }
    // Mixed with a local path: the same as both local.
    let exports = fixtures().join("tree/exports").display().to_string();
    let mixed = generate(&moto, &["s3://trail/", &exports]).run();
    let local_both = generate(
        &moto,
        &[fixtures().join("tree").display().to_string().as_str()],
    )
    .run();
    assert_eq!(mixed.stdout, local_both.stdout, "{}", mixed.dump());
    assert!(
        mixed.stderr.contains("4 files, 14 records"),
        "{}",
        mixed.dump()
    );
}

/// The requests moto recorded: (method, path, decoded query).
fn recorded(file: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            let url = v["url"].as_str().unwrap_or_default();
            let rest = url.splitn(4, '/').nth(3).unwrap_or_default();
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            (
                v["method"].as_str().unwrap_or_default().to_owned(),
                urlencoding::decode(path).unwrap().into_owned(),
                urlencoding::decode(query).unwrap().into_owned(),
            )
        })
        .collect()
}

#[test]
fn only_the_days_of_the_window_are_listed_and_read() {
    let dir = TempDir::new("s3-recording");
    let file = dir.path().join("recording.jsonl");
    let moto = Moto::start_with(&[("MOTO_RECORDER_FILEPATH", file.to_str().unwrap())]);
    let (_, _, name, body) = fixture_files().remove(0);
    let days = [
        "2023/03/01",
        "2024/02/28",
        "2024/03/01",
        "2024/03/02",
        "2024/03/03",
        "2024/04/01",
    ];
    let objects: Vec<(String, Vec<u8>)> = days
        .iter()
        .map(|d| {
            (
                format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{d}/{name}"),
                body.clone(),
            )
        })
        .collect();
    upload(&moto, "trail", &objects);
    moto.http("POST", "/moto-api/recorder/start-recording", "")
        .unwrap();
    let run = generate(
        &moto,
        &[
            "-v",
            "--since",
            "2024-03-01T10:00:00Z",
            "--until",
            "2024-03-02T00:00:00Z",
            "s3://trail/",
        ],
    )
    .expect_code(0)
    .run();
    moto.http("POST", "/moto-api/recorder/stop-recording", "")
        .unwrap();
    let requests = recorded(&file);
    let lists: Vec<String> = requests
        .iter()
        .filter(|(m, _, q)| m == "GET" && q.contains("list-type=2"))
        .map(|(_, _, q)| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("prefix="))
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    // Objects are fetched by parallel workers: the order of the GETs is not the order of the listing.
    let mut gets: Vec<String> = requests
        .iter()
        .filter(|(m, _, q)| m == "GET" && !q.contains("list-type"))
        .map(|(_, p, _)| p.clone())
        .collect();
    gets.sort();
    let root = format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/");
    assert_eq!(
        lists,
        [
            String::new(),
            "AWSLogs/".into(),
            format!("AWSLogs/{ACCOUNT}/"),
            format!("AWSLogs/{ACCOUNT}/CloudTrail/"),
            root.clone(),
            format!("{root}2024/"),
            format!("{root}2024/03/"),
            format!("{root}2024/03/01/"),
            format!("{root}2024/03/02/"),
        ],
        "{}",
        run.dump()
    );
    assert_eq!(
        gets,
        [
            format!("trail/{root}2024/03/01/{name}"),
            format!("trail/{root}2024/03/02/{name}")
        ]
    );
    assert!(run.stderr.contains("9 S3 folders listed"), "{}", run.dump());
}

#[test]
fn accounts_and_regions_are_filtered_in_both_layouts() {
    let dir = TempDir::new("s3-filters");
    let file = dir.path().join("recording.jsonl");
    let moto = Moto::start_with(&[("MOTO_RECORDER_FILEPATH", file.to_str().unwrap())]);
    let mut objects = Vec::new();
    for (region, day, name, body) in fixture_files() {
        for account in [ACCOUNT, OTHER] {
            objects.push((
                format!("AWSLogs/o-abc123/{account}/CloudTrail/{region}/{day}/{name}"),
                body.clone(),
            ));
            objects.push((
                format!("AWSLogs/{account}/CloudTrail/{region}/{day}/{name}"),
                body.clone(),
            ));
        }
    }
    upload(&moto, "org", &objects);
    moto.http("POST", "/moto-api/recorder/start-recording", "")
        .unwrap();
    let region_only = generate(
        &moto,
        &[
            "--account",
            ACCOUNT,
            "--trail-region",
            "eu-west-1",
            "s3://org/",
        ],
    )
    .expect_code(0)
    .run();
    moto.http("POST", "/moto-api/recorder/stop-recording", "")
        .unwrap();
    let gets: Vec<String> = recorded(&file)
        .into_iter()
        .filter(|(m, _, q)| m == "GET" && !q.contains("list-type"))
        .map(|(_, p, _)| p)
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets.iter()
            .all(|g| g.contains(&format!("/{ACCOUNT}/CloudTrail/eu-west-1/"))),
        "{gets:?}"
    );
    // The same policy as the local region folder.
    let local = logs()
        .join(ACCOUNT)
        .join("CloudTrail/eu-west-1")
        .display()
        .to_string();
    let expected = generate(&moto, &[local.as_str()]).expect_code(0).run();
    assert_eq!(region_only.stdout, expected.stdout);
    // Local paths have no folders to select.
    generate(&moto, &["--account", ACCOUNT, local.as_str()])
        .expect_code(2)
        .expect_stderr_contains("--account and --trail-region select folders of s3:// inputs")
        .run();
    // An account not in the bucket: nothing to read.
    generate(&moto, &["--account", "999999999999", "s3://org/"])
        .expect_code(2)
        .expect_stderr_contains("no input could be read")
        .run();
}

#[test]
fn a_missing_bucket_and_a_corrupt_object_are_reported_as_local_inputs_are() {
    let moto = Moto::start();
    let mut objects = tree_objects("");
    let broken = std::fs::read(fixtures().join("broken/truncated.json.gz")).unwrap();
    let broken_key = format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/03/01/truncated.json.gz");
    objects.push((broken_key.clone(), broken));
    upload(&moto, "trail", &objects);

    let missing = generate(&moto, &["s3://no-such-bucket/"])
        .expect_code(2)
        .run();
    assert!(
        missing.stderr.contains("s3://no-such-bucket/"),
        "{}",
        missing.dump()
    );
    assert!(
        missing.stderr.contains("NoSuchBucket"),
        "{}",
        missing.dump()
    );
    assert!(
        missing.stderr.contains("no input could be read"),
        "{}",
        missing.dump()
    );
    let missing_dir = generate(&moto, &["/no/such/dir"]).expect_code(2).run();
    assert!(missing_dir.stderr.contains("no input could be read"));

    let from_s3 = generate(&moto, &["s3://trail/", "s3://no-such-bucket/"])
        .expect_code(2)
        .run();
    let local = generate(
        &moto,
        &[
            logs().display().to_string().as_str(),
            fixtures()
                .join("broken/truncated.json.gz")
                .display()
                .to_string()
                .as_str(),
            "/no/such/dir",
        ],
    )
    .expect_code(2)
    .run();
    assert_eq!(from_s3.stdout, local.stdout);
    assert!(
        from_s3
            .stderr
            .contains("2 input(s) could not be read completely and were skipped"),
        "{}",
        from_s3.dump()
    );
    assert!(
        from_s3
            .stderr
            .contains(&format!("s3://trail/{broken_key}: truncated")),
        "{}",
        from_s3.dump()
    );
    assert!(
        local.stderr.contains("truncated.json.gz: truncated"),
        "{}",
        local.dump()
    );
}

/// A server that answers as S3 does for a caller without permissions: every listing refused (`list` false), or
/// the listing allowed with one key and the object refused.
fn denying_s3(list: bool) -> String {
    denying_s3_with(list, "Access Denied")
}

/// [`denying_s3`] whose 403 carries `message`.
fn denying_s3_with(list: bool, message: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let listing = head.contains("list-type=2");
            let delimited = head.contains("delimiter=");
            let (status, body) = if listing && list {
                let body = if delimited {
                    "<ListBucketResult><Name>trail</Name><Prefix></Prefix><KeyCount>0</KeyCount>\
                     <IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>AWSLogs/</Prefix></CommonPrefixes>\
                     </ListBucketResult>"
                        .to_owned()
                } else {
                    "<ListBucketResult><Name>trail</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>\
                     <Contents><Key>AWSLogs/1/CloudTrail/r/2024/03/01/a.json.gz</Key><Size>10</Size></Contents>\
                     </ListBucketResult>"
                        .to_owned()
                };
                ("200 OK", body)
            } else {
                (
                    "403 Forbidden",
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>\
                         <Message>{message}</Message><RequestId>1</RequestId></Error>"
                    ),
                )
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn access_denied_on_the_bucket_names_the_missing_permission() {
    let url = denying_s3(false);
    let run = Test::new()
        .env("AWS_ENDPOINT_URL", &url)
        .args(["generate", "s3://trail/logs/"])
        .expect_code(2)
        .run();
    assert!(run.stderr.contains("s3://trail/logs/"), "{}", run.dump());
    assert!(run.stderr.contains("AccessDenied"), "{}", run.dump());
    assert!(
        run.stderr
            .contains("lacks s3:ListBucket on arn:aws:s3:::trail"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("no input could be read"),
        "{}",
        run.dump()
    );
}

#[test]
fn access_denied_on_an_object_names_the_missing_permission_and_skips_it() {
    let url = denying_s3(true);
    let run = Test::new()
        .env("AWS_ENDPOINT_URL", &url)
        .args(["generate", "s3://trail/AWSLogs/1/CloudTrail/r/2024/03/01/"])
        .expect_code(2)
        .run();
    assert!(
        run.stderr
            .contains("s3://trail/AWSLogs/1/CloudTrail/r/2024/03/01/a.json.gz"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains(
            "lacks s3:GetObject on arn:aws:s3:::trail/AWSLogs/1/CloudTrail/r/2024/03/01/a.json.gz"
        ),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains("could not be read completely and were skipped"),
        "{}",
        run.dump()
    );
}

/// Issue 19: an SSE-KMS trail object whose key the caller may not use answers GetObject with AccessDenied naming
/// `kms:Decrypt` (S3 User Guide, troubleshooting Access Denied (403 Forbidden) errors: objects encrypted with
/// SSE-KMS need kms:Decrypt on the key); lppg names that permission and the key, not s3:GetObject.
#[test]
fn a_missing_kms_decrypt_is_named_as_such() {
    let url = denying_s3_with(
        true,
        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:Decrypt on resource: \
         arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based \
         policy allows the kms:Decrypt action",
    );
    let run = Test::new()
        .env("AWS_ENDPOINT_URL", &url)
        .args(["generate", "s3://trail/AWSLogs/1/CloudTrail/r/2024/03/01/"])
        .expect_code(2)
        .expect_stderr_contains(
            "lacks kms:Decrypt on arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .run();
    assert!(!run.stderr.contains("lacks s3:GetObject"), "{}", run.dump());
}

/// Issue 19: a trail bucket in another region. S3 answers a request sent to another region's endpoint with HTTP 301
/// `PermanentRedirect` (for HEAD a bare 301) and the bucket's region in the header `x-amz-bucket-region` (S3 API
/// Reference, "Error responses" and HeadBucket's `x-amz-bucket-region`; S3 User Guide, "Making requests", virtual
/// hosting and redirects): the boundary (`tests/support/aws_boundary.py`) answers so, and lppg names that region
/// and the flag to pass, with exit 2 as other input errors.
#[test]
fn a_bucket_in_another_region_names_that_region() {
    let boundary = AwsBoundary::start("eu-west-1");
    let run = Test::new()
        .env("AWS_ENDPOINT_URL_S3", &boundary.url)
        .args(["generate", "s3://trail/AWSLogs/"])
        .expect_code(2)
        .expect_stderr_contains(
            "listing s3://trail/AWSLogs/ failed: bucket trail is in eu-west-1, not us-east-1: pass --region \
             eu-west-1",
        )
        .run();
    assert!(run.stdout.is_empty(), "{}", run.dump());
    let listed = boundary.requests();
    assert!(
        listed
            .iter()
            .any(|r| r["method"] == "GET" && r["path"].as_str().unwrap().contains("list-type=2")),
        "{listed:?}"
    );
    // In the bucket's region there is nothing to say about regions.
    let same = AwsBoundary::start("us-east-1");
    let run = Test::new()
        .env("AWS_ENDPOINT_URL_S3", &same.url)
        .args(["generate", "s3://trail/AWSLogs/"])
        .expect_code(2)
        .run();
    assert!(!run.stderr.contains("pass --region"), "{}", run.dump());
}
