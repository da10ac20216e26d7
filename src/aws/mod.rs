//! The only code that calls the AWS SDK: the flags that choose an account and endpoint, one client set built
//! from them, and thin wrappers per service. Nothing here prints or prompts: errors carry a [`ErrorKind`] taken
//! from the service's error code (callers branch on it) and a message that says what to do.
pub mod analyzer;
pub mod athena;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod ownership;
pub mod s3;
pub mod sqs;
pub mod stack;
pub mod sts;
pub mod trail;

use anyhow::{anyhow, Result};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

/// The flags that choose the account, region and endpoint; the CLI flattens them into every command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile to use (default: the standard credential chain).
    #[arg(
        long,
        global = true,
        env = "AWS_PROFILE",
        help_heading = "Global options"
    )]
    pub profile: Option<String>,
    /// AWS region (default: the profile's or AWS_REGION).
    #[arg(long, global = true, help_heading = "Global options")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator); AWS_ENDPOINT_URL works too.
    #[arg(
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        help_heading = "Global options"
    )]
    pub endpoint_url: Option<String>,
}

/// One client per service, all from the same configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    /// IAM Access Analyzer's policy checks ([`analyzer`]).
    pub analyzer: aws_sdk_accessanalyzer::Client,
    pub athena: aws_sdk_athena::Client,
    pub cfn: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub trail: aws_sdk_cloudtrail::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sts: aws_sdk_sts::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub region: String,
    pub endpoint: Option<String>,
}

/// Who is calling, from `sts:GetCallerIdentity`.
#[derive(Clone, Debug)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

impl Clients {
    /// Builds the clients from the standard credential chain, honouring `--profile`, `--region` and
    /// `--endpoint-url` (or `AWS_ENDPOINT_URL`).
    pub async fn connect(g: &AwsArgs) -> Result<Self> {
        let mut loader = config_loader();
        if let Some(p) = &g.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &g.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &g.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let conf = loader.load().await;
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            anyhow!("no AWS region: pass --region, set AWS_REGION, or set a region in your profile")
        })?;
        Ok(Clients::from_config(&conf, region, g.endpoint_url.clone()))
    }

    /// One client per service from a loaded configuration. With an endpoint override (an emulator), S3 uses
    /// path-style addressing, since `bucket.localhost` does not resolve.
    pub fn from_config(
        conf: &aws_config::SdkConfig,
        region: String,
        endpoint: Option<String>,
    ) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(endpoint.is_some())
            .build();
        Clients {
            analyzer: analyzer::client(conf),
            athena: aws_sdk_athena::Client::new(conf),
            cfn: aws_sdk_cloudformation::Client::new(conf),
            iam: aws_sdk_iam::Client::new(conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(conf),
            trail: aws_sdk_cloudtrail::Client::new(conf),
            lambda: aws_sdk_lambda::Client::new(conf),
            sts: aws_sdk_sts::Client::new(conf),
            sqs: aws_sdk_sqs::Client::new(conf),
            region,
            endpoint,
        }
    }

    /// The same clients (credentials, endpoint, settings) in another region: the fast path's forwarder stacks.
    pub fn in_region(&self, region: &str) -> Clients {
        let r = Region::new(region.to_string());
        macro_rules! moved {
            ($client:expr, $krate:ident) => {
                $krate::Client::from_conf($client.config().to_builder().region(r.clone()).build())
            };
        }
        Clients {
            analyzer: moved!(self.analyzer, aws_sdk_accessanalyzer),
            athena: moved!(self.athena, aws_sdk_athena),
            cfn: moved!(self.cfn, aws_sdk_cloudformation),
            iam: self.iam.clone(),
            s3: moved!(self.s3, aws_sdk_s3),
            logs: moved!(self.logs, aws_sdk_cloudwatchlogs),
            trail: moved!(self.trail, aws_sdk_cloudtrail),
            lambda: moved!(self.lambda, aws_sdk_lambda),
            sts: moved!(self.sts, aws_sdk_sts),
            sqs: moved!(self.sqs, aws_sdk_sqs),
            region: region.to_string(),
            endpoint: self.endpoint.clone(),
        }
    }

    /// The caller's account and ARN; the first call every command makes, so credential and endpoint problems
    /// surface here with a clear message.
    pub async fn identity(&self) -> Result<Identity> {
        let r = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| explain(e, "finding out who you are (sts:GetCallerIdentity)"))?;
        let arn = r.arn().unwrap_or_default().to_string();
        Ok(Identity {
            account: r.account().unwrap_or_default().to_string(),
            partition: crate::naming::partition_of(&arn),
            arn,
        })
    }
}

/// The HTTPS client every AWS call goes through: the SDK's default client (hyper, rustls, the platform's
/// certificate store, `HTTPS_PROXY`/`NO_PROXY` from the environment, the SDK's timeouts) with rustls's ring crypto
/// provider instead of aws-lc, so the build needs no aws-lc C build and no cmake. The SDK crates are built without
/// their `default-https-client` feature: a configuration without this client cannot send anything.
pub fn https_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{proxy::ProxyConfig, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// The SDK configuration loader every client set starts from (the standard credential chain, the latest
/// behaviour version, [`https_client`]); tests that build their own clients start here too.
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// How long to keep retrying a call that failed with a transient error, and on which errors.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Error codes worth retrying (besides throttling, which always is).
    pub codes: &'static [&'static str],
    /// First delay; each next one doubles, up to `max_delay`.
    pub first: std::time::Duration,
    pub max_delay: std::time::Duration,
    /// Give up once this much time has been spent waiting.
    pub budget: std::time::Duration,
}

impl Retry {
    /// Throttling only, for about a minute.
    pub const THROTTLING: Retry = Retry {
        codes: &[],
        first: std::time::Duration::from_millis(500),
        max_delay: std::time::Duration::from_secs(8),
        budget: std::time::Duration::from_secs(60),
    };

    /// IAM right after a create or delete: `EntityTemporarilyUnmodifiable`, a fresh entity not yet visible
    /// (`NoSuchEntity`), and throttling, for a few minutes.
    pub const IAM_SETTLING: Retry = Retry {
        codes: &[
            "EntityTemporarilyUnmodifiable",
            "NoSuchEntity",
            "ConcurrentModification",
        ],
        first: std::time::Duration::from_secs(1),
        max_delay: std::time::Duration::from_secs(15),
        budget: std::time::Duration::from_secs(180),
    };

    /// Whether an error is worth another attempt.
    pub fn retries(&self, e: &anyhow::Error) -> bool {
        let Some(a) = e.chain().find_map(|c| c.downcast_ref::<AwsError>()) else {
            return false;
        };
        a.kind == ErrorKind::Throttled || a.code.as_deref().is_some_and(|c| self.codes.contains(&c))
    }

    /// The delays between attempts, in order, until the budget is spent ([`crate::clock::Backoff`]).
    pub fn delays(&self) -> impl Iterator<Item = std::time::Duration> {
        self.backoff().delays()
    }

    /// The schedule of delays, the one backoff of [`crate::clock`].
    pub fn backoff(&self) -> crate::clock::Backoff {
        crate::clock::Backoff {
            first: self.first,
            max_delay: self.max_delay,
            budget: self.budget,
        }
    }

    /// Runs `op` until it succeeds, fails with an error not worth retrying, or the budget is spent.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut delays = self.delays();
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if self.retries(&e) => match delays.next() {
                    Some(d) => crate::clock::sleep(d).await,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

/// The service error code of an SDK error, if the service answered.
pub fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// A one-line description of an SDK error (`Code: message`), for warnings.
pub fn brief<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(s) => format!(
            "{}: {}",
            s.err().code().unwrap_or("Unknown"),
            s.err().message().unwrap_or("")
        ),
        SdkError::ResponseError(_) => {
            "the service's answer could not be read (an emulator may not implement this call)"
                .into()
        }
        SdkError::DispatchFailure(_) => "could not send the request".into(),
        SdkError::TimeoutError(_) => "the request timed out".into(),
        _ => "unknown error".into(),
    }
}

/// Turns an SDK error into one message that names what we were doing, the service's `Code: message`, and what
/// to do about it. The full chain (with the raw response) stays available for `-v`.
pub fn explain<E, R>(e: SdkError<E, R>, doing: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (what, hint) = match &e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("Unknown");
            let msg = err.message().unwrap_or("");
            let hint = hint_for(code, msg);
            (format!("{code}: {msg}"), hint)
        }
        SdkError::DispatchFailure(d) => {
            let hint = if d.is_io() || d.is_timeout() {
                "check the network, the region and --endpoint-url / AWS_ENDPOINT_URL".to_string()
            } else {
                "check your AWS credentials (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
                    .to_string()
            };
            let text = source_text(&e);
            if text.contains("no credentials found") {
                (
                    "no AWS credentials found (environment, profile, SSO, container or instance role)".to_string(),
                    "set AWS_PROFILE (and `aws sso login`), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; -v shows \
                     every place that was tried"
                        .to_string(),
                )
            } else {
                (format!("could not send the request: {text}"), hint)
            }
        }
        SdkError::TimeoutError(_) => (
            "the request timed out".to_string(),
            "check the network and the endpoint, then try again".to_string(),
        ),
        SdkError::ResponseError(_) => (
            format!(
                "the service's answer could not be read: {}",
                source_text(&e)
            ),
            "if you use an emulator, this call may not be implemented there".to_string(),
        ),
        _ => (source_text(&e), String::new()),
    };
    let mut text = format!("{doing} failed: {what}");
    if !hint.is_empty() {
        text.push_str(&format!("\n  hint: {hint}"));
    }
    anyhow::Error::new(AwsError {
        kind: ErrorKind::of(&e),
        code: code(&e).map(str::to_string),
        text,
        source: Box::new(e),
    })
}

/// [`explain`] for a call a specific permission governs: an access denial names `permission` on `resource`
/// (services such as S3 answer only "Access Denied", without the action).
pub fn explain_denied<E, R>(
    e: SdkError<E, R>,
    doing: &str,
    permission: &str,
    resource: &str,
) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if ErrorKind::of(&e) != ErrorKind::AccessDenied {
        return explain(e, doing);
    }
    let (code, msg) = match &e {
        SdkError::ServiceError(s) => (
            s.err().code().unwrap_or("AccessDenied").to_string(),
            s.err().message().unwrap_or("").to_string(),
        ),
        _ => ("AccessDenied".to_string(), String::new()),
    };
    // A message that names the permission says what is missing better than the call does: an SSE-KMS object's
    // GetObject answers "… is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:… because …". It is
    // read with the records' own message patterns (mapping.json).
    let (permission, resource) = match crate::cloudtrail::rules().from_message(&msg) {
        Some((action, named)) => (action.to_string(), named.unwrap_or(resource).to_string()),
        None => (permission.to_string(), resource.to_string()),
    };
    anyhow::Error::new(AwsError {
        kind: ErrorKind::AccessDenied,
        code: Some(code.clone()),
        text: format!(
            "{doing} failed: {code}: {msg}\n  hint: your identity lacks {permission} on {resource}: grant it"
        ),
        source: Box::new(e),
    })
}

/// What kind of failure an AWS call met, from the service's error code (never from message text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service asked us to slow down.
    Throttled,
    /// Missing, expired or invalid credentials.
    Credentials,
    /// The thing asked about does not exist.
    NotFound,
    /// The caller lacks a permission (or an SCP or resource policy refused it).
    AccessDenied,
    /// The request could not be sent or the answer not read (network, endpoint, an emulator's gap).
    Transport,
    Other,
}

impl ErrorKind {
    /// The kind of a service error code.
    pub fn of_code(code: &str) -> ErrorKind {
        match code {
            "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "RequestThrottled"
            | "RequestThrottledException" => ErrorKind::Throttled,
            "ExpiredToken"
            | "ExpiredTokenException"
            | "RequestExpired"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "InvalidToken"
            | "MissingAuthenticationToken" => ErrorKind::Credentials,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "Client.UnauthorizedOperation"
            | "AuthorizationError" => ErrorKind::AccessDenied,
            c if c.starts_with("NoSuch")
                || c.ends_with("NotFoundException")
                || c.ends_with("NotFound") =>
            {
                ErrorKind::NotFound
            }
            _ => ErrorKind::Other,
        }
    }

    /// The kind of a failed call.
    pub fn of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> ErrorKind {
        match e {
            SdkError::ServiceError(s) => ErrorKind::of_code(s.err().code().unwrap_or_default()),
            SdkError::DispatchFailure(d) if !d.is_io() && !d.is_timeout() => ErrorKind::Credentials,
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => ErrorKind::Transport,
            _ => ErrorKind::Other,
        }
    }

    /// The kind of an error anywhere in an `anyhow` chain (`Other` when no AWS call failed).
    pub fn of_error(e: &anyhow::Error) -> ErrorKind {
        e.chain()
            .find_map(|c| c.downcast_ref::<AwsError>())
            .map_or(ErrorKind::Other, |a| a.kind)
    }
}

/// An AWS call that failed: its message says everything a person needs; the SDK error behind it (with the raw
/// response) is its source, shown with `-v`.
#[derive(Debug)]
pub struct AwsError {
    pub kind: ErrorKind,
    /// The service's error code, when it answered.
    pub code: Option<String>,
    text: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for AwsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// What to do about a service error code.
pub fn hint_for(code: &str, message: &str) -> String {
    match ErrorKind::of_code(code) {
        ErrorKind::Credentials if code.contains("Expired") => {
            "your credentials have expired: refresh them (e.g. `aws sso login`) and run the command again".into()
        }
        ErrorKind::Credentials => {
            "the credentials are not valid for this account or region: check AWS_PROFILE / the access key".into()
        }
        ErrorKind::AccessDenied => match missing_action(message) {
            Some(a) => format!("your identity lacks permission {a}: grant it (lppg needs an administrator-like role in the test account)"),
            None => "your identity lacks a permission lppg needs: use an administrator-like role in the test account".into(),
        },
        ErrorKind::Throttled => "AWS is throttling the calls: wait a minute and run the command again".into(),
        _ if code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" => {
            "the bucket is in another region: pass that region with --region".into()
        }
        _ => String::new(),
    }
}

/// The action named in an access-denied message (`... not authorized to perform: iam:CreateUser on ...`).
pub fn missing_action(message: &str) -> Option<String> {
    let rest = message.split("perform: ").nth(1)?;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
        .collect();
    action.contains(':').then_some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first TLS record a client sends on `listener`'s first connection: 5-byte header and body (RFC 8446
    /// section 5.1: type 22 = handshake, a 2-byte version, a 2-byte length).
    fn first_record(listener: std::net::TcpListener) -> Vec<u8> {
        use std::io::Read;
        let (mut conn, _) = listener.accept().unwrap();
        let mut record = vec![0; 5];
        conn.read_exact(&mut record).unwrap();
        let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        record.resize(5 + len, 0);
        conn.read_exact(&mut record[5..]).unwrap();
        record
    }

    /// The `supported_groups` extension (type 10) of a ClientHello record (RFC 8446 section 4.1.2 for the
    /// message's layout, 4.2.7 for the extension).
    fn supported_groups(record: &[u8]) -> Vec<u16> {
        let u16_at = |at: usize| usize::from(u16::from_be_bytes([record[at], record[at + 1]]));
        assert_eq!(record[5], 1, "a ClientHello");
        // Record header 5, handshake header 4, legacy_version 2, random 32.
        let mut at = 5 + 4 + 2 + 32;
        at += 1 + usize::from(record[at]); // legacy_session_id
        at += 2 + u16_at(at); // cipher_suites
        at += 1 + usize::from(record[at]); // legacy_compression_methods
        let end = at + 2 + u16_at(at);
        at += 2;
        while at < end {
            let (kind, len) = (u16_at(at), u16_at(at + 2));
            if kind == 10 {
                let list = &record[at + 6..at + 4 + len];
                return list
                    .chunks(2)
                    .map(|g| u16::from_be_bytes([g[0], g[1]]))
                    .collect();
            }
            at += 4 + len;
        }
        panic!("no supported_groups extension");
    }

    /// The clients speak TLS through rustls's ring provider, whatever other crate features the SDK has: ring
    /// offers exactly X25519 (0x001d), secp256r1 (0x0017) and secp384r1 (0x0018), while the aws-lc provider the
    /// SDK's `default-https-client` feature brings also offers, and prefers, the hybrid X25519MLKEM768 (0x11ec,
    /// draft-ietf-tls-ecdhe-mlkem; rustls's `prefer-post-quantum`). No server answers: the listener reads the
    /// ClientHello and closes, so nothing leaves the machine.
    #[tokio::test]
    async fn https_goes_through_rustls_with_ring() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || first_record(listener));
        let conf = config_loader()
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("https://127.0.0.1:{port}"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        let sent = aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await;
        assert!(sent.is_err(), "the listener never answers");
        let hello = server.join().unwrap();
        assert_eq!(hello[0], 22, "a TLS handshake record, not plain HTTP");
        assert_eq!(supported_groups(&hello), [0x001d, 0x0017, 0x0018]);
    }

    #[test]
    fn names_the_missing_action() {
        let m = "User: arn:aws:iam::1:user/x is not authorized to perform: iam:CreateUser on resource: arn";
        assert_eq!(missing_action(m).as_deref(), Some("iam:CreateUser"));
        assert_eq!(missing_action("Access Denied"), None);
        assert!(hint_for("AccessDenied", m).contains("iam:CreateUser"));
        assert!(hint_for("ExpiredToken", "").contains("expired"));
        assert_eq!(hint_for("Whatever", ""), "");
        assert!(hint_for("PermanentRedirect", "").contains("--region"));
    }

    #[test]
    fn retry_delays_double_within_the_budget() {
        let r = Retry {
            codes: &["EntityTemporarilyUnmodifiable"],
            first: std::time::Duration::from_secs(1),
            max_delay: std::time::Duration::from_secs(4),
            budget: std::time::Duration::from_secs(12),
        };
        let secs: Vec<u64> = r.delays().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 4, 1]);
        let aws = |code: &str, kind| {
            anyhow::Error::new(AwsError {
                kind,
                code: Some(code.to_string()),
                text: String::new(),
                source: Box::new(std::io::Error::other("x")),
            })
        };
        assert!(r.retries(&aws("EntityTemporarilyUnmodifiable", ErrorKind::Other)));
        assert!(r.retries(&aws("Throttling", ErrorKind::Throttled)));
        assert!(!r.retries(&aws("ValidationError", ErrorKind::Other)));
        assert!(!r.retries(&anyhow::anyhow!(
            "EntityTemporarilyUnmodifiable in a message"
        )));
    }

    #[test]
    fn kinds_come_from_codes() {
        assert_eq!(
            ErrorKind::of_code("ThrottlingException"),
            ErrorKind::Throttled
        );
        assert_eq!(ErrorKind::of_code("ExpiredToken"), ErrorKind::Credentials);
        assert_eq!(ErrorKind::of_code("NoSuchEntity"), ErrorKind::NotFound);
        assert_eq!(
            ErrorKind::of_code("ResourceNotFoundException"),
            ErrorKind::NotFound
        );
        assert_eq!(
            ErrorKind::of_code("TrailNotFoundException"),
            ErrorKind::NotFound
        );
        assert_eq!(ErrorKind::of_code("AccessDenied"), ErrorKind::AccessDenied);
        // A message that mentions credentials does not make a credentials error.
        assert_eq!(ErrorKind::of_code("ValidationError"), ErrorKind::Other);
        let plain = anyhow::anyhow!("the credentials file says hello");
        assert_eq!(ErrorKind::of_error(&plain), ErrorKind::Other);
    }
}
