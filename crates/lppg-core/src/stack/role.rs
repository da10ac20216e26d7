//! Role mode, the pure part: which IAM ARN a trust policy should name for a caller, the console's switch-role link,
//! the `~/.aws/config` profile snippet, and the `credential_process` document. No AWS calls here; the generator
//! layer (`stack/session.rs` of the lppg crate) looks roles up and assumes them.

/// Longest role name lppg accepts: the console's switch-role link takes path and name within 64 characters.
pub const MAX_ROLE_NAME: usize = 63;

/// The principal an ARN names, as far as a trust policy is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An IAM user or the account root: trusted as it is.
    Iam { arn: String, account: String },
    /// A session of a role (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`): the role must be looked up for its
    /// path, which the session ARN does not carry.
    Session {
        partition: String,
        account: String,
        role: String,
    },
    /// An IAM role with its path (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
    Role { arn: String, account: String },
}

/// Reads an ARN given as `--trust` or returned by `sts:GetCallerIdentity`.
pub fn parse_caller(arn: &str) -> Result<Caller, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let bad = || {
        format!(
            "{arn:?} is not an IAM user, role, account root or assumed-role session ARN \
             (e.g. arn:aws:iam::123456789012:role/Admin)"
        )
    };
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if prefix != "arn" || partition.is_empty() || !region.is_empty() || !account_ok {
        return Err(bad());
    }
    let owned = |s: &str| s.to_string();
    match service {
        "iam" if resource == "root" || resource.starts_with("user/") => Ok(Caller::Iam {
            arn: owned(arn),
            account: owned(account),
        }),
        "iam" if resource.starts_with("role/") && resource.len() > 5 => Ok(Caller::Role {
            arn: owned(arn),
            account: owned(account),
        }),
        "sts" => {
            let mut it = resource.split('/');
            match (it.next(), it.next()) {
                (Some("assumed-role"), Some(role)) if !role.is_empty() => Ok(Caller::Session {
                    partition: owned(partition),
                    account: owned(account),
                    role: owned(role),
                }),
                _ => Err(format!(
                    "{arn} cannot be named in a trust policy (only IAM users, roles and assumed-role sessions \
                     can): pass --trust with the IAM user or role ARN to trust"
                )),
            }
        }
        _ => Err(bad()),
    }
}

/// The account of an IAM ARN (`arn:aws:iam::123456789012:...` → `123456789012`).
pub fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// The `aws:PrincipalArn` pattern that trusts an IAM user or role: its exact ARN, except an Identity Center
/// permission set's role, which is recreated (with a new suffix) when the permission set is provisioned again:
/// `role/aws-reserved/sso.amazonaws.com/[REGION/]AWSReservedSSO_<PermissionSet>_<hash>` becomes
/// `role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_<PermissionSet>_*`.
pub fn trust_pattern(iam_arn: &str) -> String {
    const SSO: &str = "role/aws-reserved/sso.amazonaws.com/";
    let Some(at) = iam_arn.find(SSO) else {
        return iam_arn.to_string();
    };
    let name = iam_arn.rsplit('/').next().unwrap_or("");
    match name
        .strip_prefix("AWSReservedSSO_")
        .and_then(|rest| rest.rsplit_once('_'))
    {
        Some((permission_set, _hash)) if !permission_set.is_empty() => {
            format!("{}{SSO}*AWSReservedSSO_{permission_set}_*", &iam_arn[..at])
        }
        _ => iam_arn.to_string(),
    }
}

/// Trust patterns for a role session whose role could not be read (no `iam:GetRole`): the role under any path.
pub fn session_fallback_patterns(partition: &str, account: &str, role: &str) -> Vec<String> {
    if role.starts_with("AWSReservedSSO_") {
        let arn =
            format!("arn:{partition}:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role}");
        return vec![trust_pattern(&arn)];
    }
    role_under_any_path(partition, account, role)
}

/// A role by its name alone, at the root or under any path (as `aws:PrincipalArn` patterns).
pub fn role_under_any_path(partition: &str, account: &str, role: &str) -> Vec<String> {
    vec![
        format!("arn:{partition}:iam::{account}:role/{role}"),
        format!("arn:{partition}:iam::{account}:role/*/{role}"),
    ]
}

/// The role's name and path from its ARN (`arn:aws:iam::1:role/a/b/Name` → (`Name`, `/a/b/`)).
pub fn role_name_and_path(role_arn: &str) -> (String, String) {
    let resource = role_arn.split(':').nth(5).unwrap_or("");
    let inner = resource.strip_prefix("role").unwrap_or(resource);
    match inner.rsplit_once('/') {
        Some((path, name)) => (name.to_string(), format!("{path}/")),
        None => (inner.to_string(), "/".to_string()),
    }
}

/// The console's switch-role link. The console takes the role's path with its name (`roleName=path/Name`).
pub fn switch_role_url(account: &str, role_arn: &str, display: &str) -> String {
    let (name, path) = role_name_and_path(role_arn);
    let role = format!("{}{name}", path.trim_start_matches('/'));
    format!(
        "https://signin.aws.amazon.com/switchrole?account={account}&roleName={}&displayName={}",
        urlencoding::encode(&role),
        urlencoding::encode(display)
    )
}

/// A profile for `~/.aws/config` that gets the role's credentials from `lppg credentials`.
pub fn profile_snippet(profile: &str, stack: &str, region: &str, source: Option<&str>) -> String {
    let mut cmd = format!("lppg credentials --stack-name {stack} --region {region}");
    if let Some(p) = source {
        cmd.push_str(&format!(" --profile {p}"));
    }
    format!("[profile {profile}]\ncredential_process = {cmd}\nregion = {region}\n")
}

/// Temporary credentials of a role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// RFC 3339, UTC.
    pub expiration: String,
}

/// The `credential_process` document (Version 1), one line.
pub fn credential_process_json(c: &SessionCredentials) -> String {
    serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "SessionToken": c.session_token,
        "Expiration": c.expiration,
    })
    .to_string()
}

/// A session length for sts:AssumeRole: 15 minutes to the role's 12 hours.
pub fn session_seconds(d: std::time::Duration) -> Result<i32, String> {
    let s = d.as_secs();
    if !(900..=43_200).contains(&s) {
        return Err(format!(
            "--duration must be between 15m and 12h (the role's MaxSessionDuration), not {}",
            humantime::format_duration(d)
        ));
    }
    i32::try_from(s).map_err(|e| e.to_string())
}

/// The environment of a command run as a role session (`lppg exec`).
pub fn session_env(
    c: &SessionCredentials,
    region: &str,
    endpoint: Option<&str>,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.as_str()),
        ("AWS_SESSION_TOKEN", c.session_token.as_str()),
        ("AWS_REGION", region),
        ("AWS_DEFAULT_REGION", region),
    ];
    if let Some(e) = endpoint {
        env.push(("AWS_ENDPOINT_URL", e));
    }
    env.into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A role session name from a caller ARN (its last segment), within STS's 2-64 characters of `[\w+=,.@-]`.
pub fn session_name(caller_arn: &str) -> String {
    let last = caller_arn.rsplit(['/', ':']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
        .take(50)
        .collect();
    if clean.len() < 2 {
        "lppg".to_string()
    } else {
        format!("lppg-{clean}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSO: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_Access_0a1b2c3d4e5f6a7b";

    #[test]
    fn callers() {
        assert_eq!(
            parse_caller(
                "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1a2b/alice@example.com"
            ),
            Ok(Caller::Session {
                partition: "aws".into(),
                account: "123456789012".into(),
                role: "AWSReservedSSO_Dev_1a2b".into()
            })
        );
        assert!(matches!(
            parse_caller("arn:aws:iam::123456789012:user/ops/bob"),
            Ok(Caller::Iam { .. })
        ));
        assert!(matches!(
            parse_caller("arn:aws:iam::123456789012:root"),
            Ok(Caller::Iam { .. })
        ));
        assert!(matches!(parse_caller(SSO), Ok(Caller::Role { .. })));
        for bad in [
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:iam::12345:role/x",
            "arn:aws:s3:::bucket",
            "role/x",
            "arn:aws:iam::123456789012:group/g",
        ] {
            assert!(parse_caller(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trust_patterns() {
        assert_eq!(
            trust_pattern(SSO),
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_Access_*"
        );
        let plain = "arn:aws:iam::123456789012:role/team/Deployer";
        assert_eq!(trust_pattern(plain), plain);
        assert_eq!(
            session_fallback_patterns("aws", "123456789012", "Deployer"),
            [
                "arn:aws:iam::123456789012:role/Deployer",
                "arn:aws:iam::123456789012:role/*/Deployer"
            ]
        );
        assert_eq!(
            session_fallback_patterns("aws", "123456789012", "AWSReservedSSO_Dev_1a2b"),
            ["arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Dev_*"]
        );
    }

    #[test]
    fn switch_role_links_carry_the_path() {
        assert_eq!(
            switch_role_url("123456789012", "arn:aws:iam::123456789012:role/lppg-role", "lppg lppg"),
            "https://signin.aws.amazon.com/switchrole?account=123456789012&roleName=lppg-role&displayName=lppg%20lppg"
        );
        assert_eq!(
            switch_role_url("123456789012", "arn:aws:iam::123456789012:role/a/b/R", "x"),
            "https://signin.aws.amazon.com/switchrole?account=123456789012&roleName=a%2Fb%2FR&displayName=x"
        );
        assert_eq!(
            role_name_and_path("arn:aws:iam::1:role/R"),
            ("R".into(), "/".into())
        );
    }

    #[test]
    fn credential_process_document() {
        let c = SessionCredentials {
            access_key_id: "ASIA".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: "2026-01-01T00:00:00Z".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&credential_process_json(&c)).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["AccessKeyId"], "ASIA");
        assert_eq!(v["Expiration"], "2026-01-01T00:00:00Z");
        assert_eq!(v.as_object().unwrap().len(), 5);
        assert_eq!(
            session_name("arn:aws:sts::1:assumed-role/R/alice@example.com"),
            "lppg-alice@example.com"
        );
        assert_eq!(session_name("arn:aws:iam::1:root"), "lppg-root");
        let snippet = profile_snippet("lppg-role", "lppg", "us-east-1", Some("admin"));
        assert!(snippet.contains(
            "credential_process = lppg credentials --stack-name lppg --region us-east-1 --profile admin"
        ));
    }
}
