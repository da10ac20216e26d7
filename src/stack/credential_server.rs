//! `lppg exec`'s credentials endpoint: a container-credentials server on the loopback interface, as the AWS SDKs
//! read it from `AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN` in the
//! `Authorization` header (the way ECS and aws-vault's `--server` serve them). It answers only a request carrying
//! the token, and assumes the role again once the session it holds is about to expire, so the child's SDKs refresh
//! by themselves and a command may run for hours. It lives in lppg's process: it dies with the command.
use crate::role::SessionCredentials;
use anyhow::{Context, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// Gets a new session of the role (an AssumeRole).
pub type Fetch =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<SessionCredentials>> + Send>> + Send + Sync>;
/// The time the endpoint judges expiry by (the system clock, or a test's).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// A running endpoint: what the child's environment names.
pub struct Endpoint {
    pub url: String,
    pub token: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endpoint {
    /// The variables that point a child's SDKs at this endpoint.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI".to_string(),
                self.url.clone(),
            ),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN".to_string(),
                self.token.clone(),
            ),
        ]
    }
}

/// Variables a child of the endpoint must not inherit: static keys and other container settings would win over it.
pub const REMOVED_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// Whether a session expiring at `expiration` must be replaced at `now`: less than `margin` left (SDKs ask again
/// some minutes before expiry, botocore from 15 minutes; a session they are given must outlast that).
pub fn needs_refresh(expiration: &str, now: SystemTime, margin: Duration) -> bool {
    crate::time::parse_rfc3339(expiration).is_none_or(|until| until < now + margin)
}

/// The refresh margin for sessions of `seconds`: 15 minutes, or half the session when it is shorter than 30.
pub fn margin_for(seconds: i32) -> Duration {
    Duration::from_secs(u64::from(seconds.unsigned_abs()) / 2).min(Duration::from_secs(15 * 60))
}

/// The container-credentials document (the shape ECS's endpoint serves).
pub fn document(c: &SessionCredentials) -> String {
    serde_json::json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "Token": c.session_token,
        "Expiration": c.expiration,
    })
    .to_string()
}

struct State {
    fetch: Fetch,
    clock: Clock,
    margin: Duration,
    token: String,
    held: Mutex<Option<SessionCredentials>>,
}

/// Starts the endpoint on 127.0.0.1 (a port the system picks) with a new random token.
pub async fn start(fetch: Fetch, clock: Clock, margin: Duration) -> Result<Endpoint> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("opening the credentials endpoint on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    let token: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let state = Arc::new(State {
        fetch,
        clock,
        margin,
        token: token.clone(),
        held: Mutex::new(None),
    });
    let task = tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let _ = serve(conn, &state).await;
            });
        }
    });
    Ok(Endpoint {
        url: format!("http://127.0.0.1:{port}/"),
        token,
        task,
    })
}

/// The value of header `name` (case-insensitive) in a request's head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn serve(mut conn: tokio::net::TcpStream, state: &State) -> Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let (status, body) = if header(&head, "authorization") != Some(state.token.as_str()) {
        (
            "403 Forbidden",
            r#"{"message":"wrong or missing authorization token"}"#.to_string(),
        )
    } else {
        match current(state).await {
            Ok(c) => ("200 OK", document(&c)),
            Err(e) => (
                "500 Internal Server Error",
                serde_json::json!({"message": format!("{e:#}")}).to_string(),
            ),
        }
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes()).await?;
    conn.shutdown().await?;
    Ok(())
}

/// The session to hand out: the one held, or a new one when it is about to expire.
async fn current(state: &State) -> Result<SessionCredentials> {
    let mut held = state.held.lock().await;
    let now = (state.clock)();
    match held.as_ref() {
        Some(c) if !needs_refresh(&c.expiration, now, state.margin) => Ok(c.clone()),
        _ => {
            let c = (state.fetch)().await?;
            *held = Some(c.clone());
            Ok(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn at(s: &str) -> SystemTime {
        crate::time::parse_rfc3339(s).unwrap()
    }

    async fn get(url: &str, token: Option<&str>) -> (String, String) {
        let addr = url.trim_start_matches("http://").trim_end_matches('/');
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = token
            .map(|t| format!("Authorization: {t}\r\n"))
            .unwrap_or_default();
        s.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_string(), body.to_string())
    }

    /// A new session each fetch, one hour long from the (fake) clock's time; the clock is moved by the test.
    #[tokio::test]
    async fn hands_out_the_session_and_a_new_one_before_it_expires() {
        let now = Arc::new(AtomicU64::new(0));
        let fetched = Arc::new(AtomicU64::new(0));
        let t0 = at("2026-01-01T10:00:00Z");
        let clock: Clock = {
            let now = now.clone();
            Arc::new(move || t0 + Duration::from_secs(now.load(Ordering::SeqCst)))
        };
        let fetch: Fetch = {
            let (fetched, clock) = (fetched.clone(), clock.clone());
            Arc::new(move || {
                let n = fetched.fetch_add(1, Ordering::SeqCst) + 1;
                let until = clock() + Duration::from_secs(3600);
                Box::pin(async move {
                    Ok(SessionCredentials {
                        access_key_id: format!("ASIA{n}"),
                        secret_access_key: "s".into(),
                        session_token: "t".into(),
                        expiration: crate::time::format_secs(until),
                    })
                })
            })
        };
        let ep = start(fetch, clock, margin_for(3600)).await.unwrap();
        assert!(ep.url.starts_with("http://127.0.0.1:"), "loopback only");
        let (status, body) = get(&ep.url, Some(&ep.token)).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["AccessKeyId"], "ASIA1");
        assert_eq!(v["Token"], "t");
        assert_eq!(v["Expiration"], "2026-01-01T11:00:00Z");
        // 40 minutes on: the same session (20 minutes left).
        now.store(40 * 60, Ordering::SeqCst);
        assert!(get(&ep.url, Some(&ep.token)).await.1.contains("ASIA1"));
        // 50 minutes on: 10 minutes left, less than the 15-minute margin: a new session.
        now.store(50 * 60, Ordering::SeqCst);
        assert!(get(&ep.url, Some(&ep.token)).await.1.contains("ASIA2"));
        // Hours later, still new sessions: a command may run for hours.
        now.store(5 * 3600, Ordering::SeqCst);
        let (_, body) = get(&ep.url, Some(&ep.token)).await;
        assert!(
            body.contains("ASIA3") && body.contains("2026-01-01T16:00:00Z"),
            "{body}"
        );
        // A wrong or missing token gets nothing (and costs no AssumeRole).
        assert_eq!(
            get(&ep.url, Some("wrong")).await.0,
            "HTTP/1.1 403 Forbidden"
        );
        assert_eq!(get(&ep.url, None).await.0, "HTTP/1.1 403 Forbidden");
        assert_eq!(fetched.load(Ordering::SeqCst), 3);
        // Dropped with the command: the port is closed.
        let addr = ep
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        drop(ep);
        let mut closed = false;
        for _ in 0..1000 {
            tokio::task::yield_now().await;
            if tokio::net::TcpStream::connect(&addr).await.is_err() {
                closed = true;
                break;
            }
        }
        assert!(closed, "the endpoint outlived its command");
    }

    #[test]
    fn margins() {
        assert_eq!(margin_for(3600), Duration::from_secs(900));
        assert_eq!(margin_for(900), Duration::from_secs(450));
        let t = at("2026-01-01T10:00:00Z");
        assert!(needs_refresh("2026-01-01T10:14:59Z", t, margin_for(3600)));
        assert!(!needs_refresh("2026-01-01T10:15:01Z", t, margin_for(3600)));
        assert!(needs_refresh("garbage", t, margin_for(3600)));
    }
}
