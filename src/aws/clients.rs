//! The flags that choose an account and endpoint, and the one client set built from them (every client through
//! [`https_client`], each honouring its service's own endpoint variable).
use super::{analyzer, explain};
use anyhow::{anyhow, Result};
use aws_config::{BehaviorVersion, Region};

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
    /// Account: the regions enabled in the account ([`super::account`]).
    pub account: aws_sdk_account::Client,
    /// EventBridge: the fast path's rules, judged by the probe ([`super::events`]).
    pub events: aws_sdk_eventbridge::Client,
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

    /// One client per service from a loaded configuration. A service's own endpoint variable
    /// (`AWS_ENDPOINT_URL_<SERVICE>`, e.g. `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`) beats `--endpoint-url` and
    /// `AWS_ENDPOINT_URL` for that service, as the AWS SDKs and Tools Reference Guide ("Service-specific endpoints")
    /// says; lppg hands the shared endpoint to the SDK explicitly, so the service's variable is read here. With
    /// any endpoint override (an emulator), S3 uses path-style addressing, since `bucket.localhost` does not resolve.
    pub fn from_config(
        conf: &aws_config::SdkConfig,
        region: String,
        endpoint: Option<String>,
    ) -> Self {
        macro_rules! built {
            ($krate:ident, $id:literal) => {
                built!($krate, $id, |b| b)
            };
            ($krate:ident, $id:literal, $extra:expr) => {{
                let b = $krate::config::Builder::from(conf);
                let b = match service_endpoint($id) {
                    Some(url) => b.endpoint_url(url),
                    None => b,
                };
                $krate::Client::from_conf(($extra)(b).build())
            }};
        }
        let path_style = endpoint.is_some() || service_endpoint("S3").is_some();
        Clients {
            analyzer: built!(
                aws_sdk_accessanalyzer,
                "ACCESSANALYZER",
                analyzer::one_attempt
            ),
            athena: built!(aws_sdk_athena, "ATHENA"),
            account: built!(aws_sdk_account, "ACCOUNT"),
            events: built!(aws_sdk_eventbridge, "EVENTBRIDGE"),
            cfn: built!(aws_sdk_cloudformation, "CLOUDFORMATION"),
            iam: built!(aws_sdk_iam, "IAM"),
            s3: built!(aws_sdk_s3, "S3", |b: aws_sdk_s3::config::Builder| b
                .force_path_style(path_style)),
            logs: built!(aws_sdk_cloudwatchlogs, "CLOUDWATCH_LOGS"),
            trail: built!(aws_sdk_cloudtrail, "CLOUDTRAIL"),
            lambda: built!(aws_sdk_lambda, "LAMBDA"),
            sts: built!(aws_sdk_sts, "STS"),
            sqs: built!(aws_sdk_sqs, "SQS"),
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
            account: self.account.clone(),
            events: moved!(self.events, aws_sdk_eventbridge),
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

/// The endpoint a service's own variable names (`AWS_ENDPOINT_URL_<SERVICE_ID>`, the service ID in capitals with
/// spaces as underscores), unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true (AWS SDKs and Tools Reference
/// Guide, "Service-specific endpoints").
fn service_endpoint(service_id: &str) -> Option<String> {
    endpoint_in(service_id, |k| std::env::var(k).ok())
}

/// [`service_endpoint`] over any environment.
fn endpoint_in(service_id: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    env(&format!("AWS_ENDPOINT_URL_{service_id}")).filter(|u| !u.is_empty())
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
///
/// The SDK retries a transient failure itself (standard mode: 3 attempts, backoff from 1 s) with its own sleeps, which
/// cannot go through [`crate::clock`] (the same sleeps time out connections, and a virtual sleep returns at once).
/// On the virtual clock, its backoff is cut to a millisecond instead, with the same attempts: an emulator's
/// unimplemented call (HTTP 500) then costs no real seconds.
pub fn config_loader() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if !crate::clock::is_virtual() {
        return loader;
    }
    let instant = std::time::Duration::from_millis(1);
    loader.retry_config(
        aws_config::retry::RetryConfig::standard()
            .with_initial_backoff(instant)
            .with_max_backoff(instant),
    )
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
    fn a_service_endpoint_variable_names_one_service() {
        fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        }
        let logs = [("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:9")];
        assert_eq!(
            endpoint_in("CLOUDWATCH_LOGS", env(&logs)).as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(endpoint_in("S3", env(&logs)), None);
        assert_eq!(endpoint_in("S3", env(&[("AWS_ENDPOINT_URL_S3", "")])), None);
        let ignored = [
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
        ];
        assert_eq!(endpoint_in("S3", env(&ignored)), None);
    }
}
