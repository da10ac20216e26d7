//! Errors of AWS calls: an [`ErrorKind`] taken from the service's error code (callers branch on it, never on
//! message text) and one message that says what was being done, what the service answered, and what to do.
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

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
        SdkError::ServiceError(s) => match s.err().code() {
            Some(code) => format!("{code}: {}", s.err().message().unwrap_or("")),
            None => "the endpoint's answer is not an AWS response for this service (an emulator may not \
                     implement it)"
                .into(),
        },
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
        // An answer with no error code is not an AWS error response at all (an HTML page, an empty body): the
        // endpoint does not speak this service's protocol.
        SdkError::ServiceError(s) if s.err().code().is_none() => (
            "the endpoint's answer is not an AWS response for this service".to_string(),
            "check --endpoint-url / AWS_ENDPOINT_URL (or this service's AWS_ENDPOINT_URL_<SERVICE>): an emulator \
             may not implement this service"
                .to_string(),
        ),
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
            SdkError::ServiceError(s) => match s.err().code() {
                Some(code) => ErrorKind::of_code(code),
                // Not an AWS error response: the endpoint is not this service.
                None => ErrorKind::Transport,
            },
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
    pub(super) text: String,
    pub(super) source: Box<dyn std::error::Error + Send + Sync>,
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
