//! Test support: the one harness for running the binary ([`Test`], with a clean environment, so no real AWS
//! credentials can leak in) and the one snapshot helper ([`snapshot`]); a moto server of the test's own on a free
//! loopback port, and SDK clients pointed at it; the shared vectors as the Rust engine sees them ([`vectors`]).
#![allow(dead_code)]
pub mod test;
pub mod vectors;

#[allow(unused_imports)]
pub use test::{snapshot, Test};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The project's virtual environment (created by `scripts/setup-venv.sh`).
pub fn venv_bin(tool: &str) -> PathBuf {
    let p = repo().join(".venv/bin").join(tool);
    assert!(
        p.exists(),
        "{} is missing: run `bash scripts/setup-venv.sh` first (the README's test command does)",
        p.display()
    );
    p
}

/// A moto server for one test. A plain one ([`Moto::start`]) comes from a pool of idle servers when there is one,
/// and goes back to it, reset, when the test ends; one with its own environment ([`Moto::start_with`]) lives as
/// long as this value.
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    pooled: bool,
}

/// Idle plain servers, each reset (`POST /moto-api/reset`: every backend and tracked model emptied) when its test
/// ended. A warm server answers a test's first calls without importing moto's service modules again: about 1.5 s
/// of CPU a test, most of what a cold server costs. Servers left here when the test binary exits end themselves
/// (`LPPG_MOTO_PARENT_PID`, tests/support/moto_server.py).
static POOL: std::sync::Mutex<Vec<(Child, u16)>> = std::sync::Mutex::new(Vec::new());

impl Moto {
    pub fn start() -> Moto {
        let idle = POOL.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some((child, port)) = idle {
            return Moto {
                child: Some(child),
                port,
                url: format!("http://127.0.0.1:{port}"),
                pooled: true,
            };
        }
        let mut m = Moto::start_with(&[]);
        m.pooled = true;
        m
    }

    /// A moto server with these variables in its environment (e.g. `LPPG_MOTO_BOUNDARY`, see
    /// tests/support/moto_server.py, or `MOTO_RECORDER_FILEPATH`), never shared.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(venv_bin("python"))
            .arg(repo().join("tests/support/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("LPPG_MOTO_PARENT_PID", std::process::id().to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let m = Moto {
            child: Some(child),
            port,
            url: format!("http://127.0.0.1:{port}"),
            pooled: false,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if m.http("GET", "/moto-api/", "").is_some() {
                return m;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto server did not start on port {port}");
    }

    /// A plain HTTP request to the emulator's control API; the body on success.
    pub fn http(&self, method: &str, path: &str, body: &str) -> Option<String> {
        http_to(self.port, method, path, body)
    }

    /// The emulator's whole state (includes IAM login passwords in plain text).
    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(
            &self
                .http("GET", "/moto-api/data.json", "")
                .expect("data.json"),
        )
        .unwrap()
    }

    /// The console password the emulator holds for `user`.
    pub fn password_of(&self, user: &str) -> Option<String> {
        let st = self.state();
        let users = st["iam"]["User"].as_array()?.clone();
        users
            .iter()
            .find(|u| u["name"] == user)
            .and_then(|u| u["password"].as_str().map(str::to_string))
    }

    /// SDK clients on this emulator.
    pub fn clients(&self) -> lppg::aws::Clients {
        self.clients_in("us-east-1")
    }

    /// SDK clients on this emulator, in another region.
    pub fn clients_in(&self, region: &str) -> lppg::aws::Clients {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let conf = lppg::aws::config_loader()
                .region(aws_config::Region::new(region.to_string()))
                .endpoint_url(&self.url)
                .credentials_provider(aws_sdk_sts::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .load()
                .await;
            lppg::aws::Clients::from_config(&conf, region.into(), Some(self.url.clone()))
        })
    }

    /// A [`Test`] of the lppg binary against this emulator in `dir`.
    pub fn test(&self, dir: &Path) -> Test {
        Test::new().current_dir(dir).moto(self)
    }

    /// A [`Test`] of `lppg ARGS` against this emulator in `dir`, with no standard input.
    pub fn lppg(&self, dir: &Path, args: &[&str]) -> Test {
        self.test(dir).args(args)
    }

    /// [`Moto::lppg`] with standard input when `stdin` is given.
    pub fn lppg_stdin(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Test {
        match stdin {
            Some(text) => self.test(dir).args(args).stdin(text),
            None => self.lppg(dir, args),
        }
    }
}

impl Drop for Moto {
    /// A plain server whose test passed goes back to the pool once it is reset; any other is ended.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let reusable = self.pooled
            && !std::thread::panicking()
            && matches!(child.try_wait(), Ok(None))
            && self.http("POST", "/moto-api/reset", "").is_some();
        if reusable {
            POOL.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((child, self.port));
            return;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The binary with a clean environment: no AWS_* variables or config files of the person running the tests.
pub fn lppg_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lppg"));
    cmd.current_dir(dir).env_clear();
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    cmd.env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // moto cannot run the function, so `up`'s probe would wait its full 45 s for an answer that never comes.
        .env("LPPG_PROBE_WAIT", "1s")
        // The emulator answers at once: retries and polls wait on lppg's virtual clock, not in real time.
        .env("LPPG_VIRTUAL_CLOCK", "1");
    cmd
}

/// What a run printed, with a readable dump for assertion messages.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub cmd: String,
}

impl Run {
    pub fn dump(&self) -> String {
        format!(
            "command: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs a prepared command (see [`lppg_command`]), feeding `stdin` (otherwise closed). [`Test`] is the usual way.
pub fn run(cmd: Command, stdin: Option<&str>) -> Run {
    run_bytes(cmd, stdin.map(str::as_bytes))
}

/// [`run`] with binary standard input.
pub fn run_bytes(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    let desc = format!("{cmd:?}");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run lppg");
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let o: Output = child.wait_with_output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        cmd: desc,
    }
}

/// A fresh temporary directory under target/ (removed at drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = repo()
            .join("target/test-tmp")
            .join(format!("{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a future to completion on a small runtime (tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A plain HTTP/1.0 request to a loopback port; the body on success.
pub fn http_to(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_string())
}

/// The fault-injecting proxy (`tests/support/fault_proxy.py`) in front of a moto server: real AWS failure modes
/// (throttling, stale reads, per-key DeleteObjects errors, refusals) by rules, counted per kind.
pub struct FaultProxy {
    server: Server,
    pub port: u16,
    pub url: String,
}

impl FaultProxy {
    pub fn start(moto: &Moto, rules: serde_json::Value) -> FaultProxy {
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(repo().join("tests/support/fault_proxy.py")).args([
            "--upstream",
            &moto.url,
            "--port",
            "0",
            "--rules-json",
            &rules.to_string(),
        ]);
        let server = Server::start(cmd, "the fault proxy");
        FaultProxy {
            port: server.port,
            url: server.url(),
            server,
        }
    }

    /// Faults injected so far, per kind, and calls seen per API call.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&http_to(self.port, "GET", "/__faults/stats", "").expect("stats"))
            .unwrap()
    }

    /// How many faults of `kind` were injected.
    pub fn injected(&self, kind: &str) -> u64 {
        self.stats()["injected"][kind].as_u64().unwrap_or(0)
    }

    /// How many requests of `call` (e.g. `logs:FilterLogEvents`) went through.
    pub fn calls(&self, call: &str) -> u64 {
        self.stats()["calls"][call].as_u64().unwrap_or(0)
    }

    pub fn set_rules(&self, rules: serde_json::Value) {
        http_to(self.port, "POST", "/__faults/rules", &rules.to_string()).expect("set rules");
    }
}

/// IAM Access Analyzer at the boundary (`tests/support/analyzer_boundary.py`): answers ValidatePolicy and the
/// access checks from `responses.json` in its directory, shaped as the API reference documents them, and writes
/// each request to `requests.jsonl`. Point lppg at it with `AWS_ENDPOINT_URL_ACCESSANALYZER` (the SDK's
/// service-specific endpoint variable).
pub struct AnalyzerBoundary {
    _server: Server,
    pub dir: TempDir,
    pub url: String,
}

impl AnalyzerBoundary {
    /// Started with these answers, in order (then the defaults: no findings, PASS).
    pub fn start(responses: serde_json::Value) -> AnalyzerBoundary {
        let dir = TempDir::new("analyzer-boundary");
        std::fs::write(dir.path().join("responses.json"), responses.to_string()).unwrap();
        let server = boundary(
            "analyzer_boundary.py",
            &dir,
            &[],
            "the Access Analyzer boundary",
        );
        AnalyzerBoundary {
            url: server.url(),
            _server: server,
            dir,
        }
    }

    /// The requests received, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        requests_in(&self.dir)
    }
}

/// S3 and Athena at the boundary (`tests/support/aws_boundary.py`): a bucket in another region (every S3 request
/// answered 301 `PermanentRedirect` with `x-amz-bucket-region`) and an Athena query that keeps running until it is
/// stopped, shaped as the API references document them; each request is written to `requests.jsonl`. Point lppg
/// at it with `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL_ATHENA`.
pub struct AwsBoundary {
    _server: Server,
    pub dir: TempDir,
    pub url: String,
}

impl AwsBoundary {
    /// Started with S3 answering that every bucket is in `bucket_region`.
    pub fn start(bucket_region: &str) -> AwsBoundary {
        let dir = TempDir::new("aws-boundary");
        let server = boundary(
            "aws_boundary.py",
            &dir,
            &["--bucket-region", bucket_region],
            "the S3 and Athena boundary",
        );
        AwsBoundary {
            url: server.url(),
            _server: server,
            dir,
        }
    }

    /// The requests received so far, in order: {"method", "path", "target", "body"}.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        requests_in(&self.dir)
    }

    /// The JSON-protocol requests whose X-Amz-Target ends with `.action`.
    pub fn calls(&self, action: &str) -> Vec<serde_json::Value> {
        let suffix = format!(".{action}");
        self.requests()
            .into_iter()
            .filter(|r| r["target"].as_str().is_some_and(|t| t.ends_with(&suffix)))
            .collect()
    }
}

/// EventBridge and Account at the boundary (`tests/support/fast_path_boundary.py`): DescribeRule reads the rules
/// moto deployed (or a pattern the test sets per region), TestEventPattern judges with moto's own pattern matcher
/// and answers `{"Result": …}` as the EventBridge API Reference documents, ListRegions answers the regions the test
/// sets (paged); operations can be denied per region. Point lppg at it with `AWS_ENDPOINT_URL_EVENTBRIDGE` and
/// `AWS_ENDPOINT_URL_ACCOUNT` ([`FastPathBoundary::env`]).
pub struct FastPathBoundary {
    _server: Server,
    pub dir: TempDir,
    pub url: String,
    moto: String,
}

impl FastPathBoundary {
    /// Started for `moto`, with `config` (see the script: `patterns`, `deny`, `regions`, `page_size`,
    /// `deny_account`).
    pub fn start(moto: &Moto, config: serde_json::Value) -> FastPathBoundary {
        let dir = TempDir::new("fast-path-boundary");
        let server = boundary(
            "fast_path_boundary.py",
            &dir,
            &[],
            "the EventBridge and Account boundary",
        );
        let b = FastPathBoundary {
            url: server.url(),
            _server: server,
            dir,
            moto: moto.url.clone(),
        };
        b.configure(config);
        b
    }

    /// Replaces the configuration (read on every request).
    pub fn configure(&self, mut config: serde_json::Value) {
        config["moto"] = serde_json::Value::String(self.moto.clone());
        std::fs::write(self.dir.path().join("config.json"), config.to_string()).unwrap();
    }

    /// The endpoint variables that send EventBridge and Account calls here.
    pub fn env(&self, t: Test) -> Test {
        t.env("AWS_ENDPOINT_URL_EVENTBRIDGE", &self.url)
            .env("AWS_ENDPOINT_URL_ACCOUNT", &self.url)
    }

    /// The requests received, in order; `operation` keeps only those.
    pub fn requests(&self, operation: &str) -> Vec<serde_json::Value> {
        requests_in(&self.dir)
            .into_iter()
            .filter(|r| r["operation"] == operation)
            .collect()
    }
}

/// A helper server of tests/support/ (the fault proxy, a boundary server): it prints its port on its first line,
/// and ends with the value.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(mut cmd: Command, what: &str) -> Server {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("the port of {what}: {e}"));
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("a port on the first line of {what}, not {line:?}"));
        Server { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A boundary server (`tests/support/SCRIPT --dir DIR ARGS`): its answers are configured in `dir`, and it writes
/// each request it receives to `requests.jsonl` there.
fn boundary(script: &str, dir: &TempDir, args: &[&str], what: &str) -> Server {
    let mut cmd = Command::new(venv_bin("python"));
    cmd.arg(repo().join("tests/support").join(script))
        .arg("--dir")
        .arg(dir.path())
        .args(args);
    Server::start(cmd, what)
}

/// The requests a boundary server wrote down, in order.
fn requests_in(dir: &TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.path().join("requests.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
