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

/// The console's sign-in host of a partition: GovCloud (US) and the China regions have their own consoles
/// (AWS GovCloud (US) User Guide, "Signing in"; Amazon Web Services in China, console sign-in).
pub fn sign_in_host(partition: &str) -> &'static str {
    match partition {
        "aws-us-gov" => "signin.amazonaws-us-gov.com",
        "aws-cn" => "signin.amazonaws.cn",
        _ => "signin.aws.amazon.com",
    }
}

/// The console's switch-role link, on the role's partition's sign-in host. The console takes the role's path with
/// its name (`roleName=path/Name`).
pub fn switch_role_url(account: &str, role_arn: &str, display: &str) -> String {
    let (name, path) = role_name_and_path(role_arn);
    let role = format!("{}{name}", path.trim_start_matches('/'));
    let host = sign_in_host(role_arn.split(':').nth(1).unwrap_or("aws"));
    format!(
        "https://{host}/switchrole?account={account}&roleName={}&displayName={}",
        urlencoding::encode(&role),
        urlencoding::encode(display)
    )
}

/// A profile for `~/.aws/config` that gets the role's credentials from `lppg credentials`. It always says where the
/// caller's own credentials come from: `--profile` with `source`, else the default chain (`lppg credentials`
/// never follows `AWS_PROFILE`, which names this very profile once it is exported). A `source` equal to `profile`
/// would run itself: it is dropped.
pub fn profile_snippet(profile: &str, stack: &str, region: &str, source: Option<&str>) -> String {
    let mut cmd = format!("lppg credentials --stack-name {stack} --region {region}");
    let source = source.filter(|p| *p != profile);
    let from = match source {
        Some(p) => {
            cmd.push_str(&format!(" --profile {p}"));
            format!("# your own credentials: profile {p}")
        }
        None => "# your own credentials: the default chain (environment, [default] profile, SSO, instance); \
                 AWS_PROFILE is never followed"
            .to_string(),
    };
    format!("[profile {profile}]\n{from}\ncredential_process = {cmd}\nregion = {region}\n")
}

/// The variable `lppg credentials` sets for what it starts (a profile's `credential_process`): found already set
/// for the same stack, a profile has led back into `lppg credentials` itself.
pub const CREDENTIALS_GUARD_VAR: &str = "LPPG_CREDENTIALS_FOR";

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

/// IAM's default quota on a role trust policy's length ("IAM and AWS STS quotas": role trust policy length, 2,048
/// characters; CreateRole/UpdateAssumeRolePolicy fail with LimitExceeded beyond).
pub const TRUST_POLICY_QUOTA: usize = 2048;

/// The generator role's trust policy as the template writes it (`Role.AssumeRolePolicyDocument`), compact.
pub fn trust_policy(accounts: &[String], patterns: &[String]) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "TrustedPrincipals", "Effect": "Allow", "Principal": {"AWS": accounts},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
        "Condition": {"ArnLike": {"aws:PrincipalArn": patterns}}}]})
    .to_string()
}

/// Refuses, before anything changes, a trust policy over IAM's default quota (many `--trust` values).
pub fn check_trust_size(accounts: &[String], patterns: &[String]) -> Result<(), String> {
    let n = trust_policy(accounts, patterns).len();
    if n <= TRUST_POLICY_QUOTA {
        return Ok(());
    }
    Err(format!(
        "the role's trust policy would be {n} characters, over IAM's default quota of {TRUST_POLICY_QUOTA}          (CreateRole would fail): pass fewer --trust principals (a role several people use, or one Identity          Center permission set), or ask for a higher \"Role trust policy length\" quota in Service Quotas"
    ))
}

/// Refuses a root caller without `--trust`, and a root `--trust`: STS refuses AssumeRole with the root user's
/// credentials ("You cannot use AWS account root user credentials to call AssumeRole", STS API Reference), so the
/// role would trust no one who can assume it.
pub fn refuse_root(caller_arn: &str, given: &[String]) -> Result<(), String> {
    let is_root = |a: &str| a.starts_with("arn:") && a.split(':').nth(5) == Some("root");
    if let Some(root) = given.iter().find(|a| is_root(a)) {
        return Err(format!(
            "--trust {root}: the account's root user cannot assume a role (STS refuses AssumeRole with root              credentials): name the IAM users or roles that will assume it"
        ));
    }
    if given.is_empty() && is_root(caller_arn) {
        return Err(format!(
            "you are signed in as the account's root user ({caller_arn}), who cannot assume a role (STS refuses              AssumeRole with root credentials): pass --trust with the IAM user or role that will assume it, or              run lppg as one"
        ));
    }
    Ok(())
}

/// STS's limit on a session started from another role session (role chaining): "if you assume a role using role
/// chaining and provide a DurationSeconds parameter value greater than one hour, the operation fails" (STS API
/// Reference, AssumeRole).
pub const CHAINED_SESSION_SECONDS: i32 = 3600;

/// The session length to ask for: `seconds`, lowered to one hour when the caller is itself a role session
/// (an Identity Center user, anyone who switched roles), with the warning to say once.
pub fn chained_seconds(caller_arn: &str, seconds: i32) -> (i32, Option<String>) {
    let chained = matches!(parse_caller(caller_arn), Ok(Caller::Session { .. }));
    if !chained || seconds <= CHAINED_SESSION_SECONDS {
        return (seconds, None);
    }
    (
        CHAINED_SESSION_SECONDS,
        Some(format!(
            "you are in a role session ({caller_arn}): STS gives a role assumed from it at most 1 hour              (role chaining), so the session lasts 1h, not {}; for longer, run lppg with an IAM user's              credentials",
            humantime::format_duration(std::time::Duration::from_secs(seconds.unsigned_abs().into()))
        )),
    )
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
        // Issue 24: GovCloud (US) and China sign in on their own hosts (AWS GovCloud (US) User Guide, "AWS
        // Identity and Access Management in AWS GovCloud (US)": signin.amazonaws-us-gov.com).
        assert!(switch_role_url(
            "123456789012",
            "arn:aws-us-gov:iam::123456789012:role/R",
            "x"
        )
        .starts_with("https://signin.amazonaws-us-gov.com/switchrole?"));
        assert!(
            switch_role_url("123456789012", "arn:aws-cn:iam::123456789012:role/R", "x")
                .starts_with("https://signin.amazonaws.cn/switchrole?")
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
        let root = "arn:aws:iam::123456789012:root";
        assert!(refuse_root(root, &[]).unwrap_err().contains("root user"));
        assert!(
            refuse_root("arn:aws:iam::123456789012:user/a", &[root.into()])
                .unwrap_err()
                .starts_with("--trust arn:aws:iam::123456789012:root")
        );
        assert!(refuse_root(root, &["arn:aws:iam::123456789012:user/a".into()]).is_ok());
        let accounts = vec!["arn:aws:iam::123456789012:root".to_string()];
        let one = vec![
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Dev_*"
                .to_string(),
        ];
        assert!(check_trust_size(&accounts, &one).is_ok());
        let many: Vec<String> = (0..40)
            .map(|i| format!("arn:aws:iam::123456789012:role/team/deployer-number-{i:03}"))
            .collect();
        let e = check_trust_size(&accounts, &many).unwrap_err();
        assert!(e.contains("over IAM's default quota of 2048"), "{e}");
        let session = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0a1b/alice";
        let (s, note) = chained_seconds(session, 7200);
        assert_eq!(s, 3600);
        assert!(note.unwrap().contains("role chaining"));
        assert_eq!(chained_seconds(session, 1800), (1800, None));
        assert_eq!(
            chained_seconds("arn:aws:iam::1:user/alice", 7200),
            (7200, None)
        );
        let snippet = profile_snippet("lppg-role", "lppg", "us-east-1", Some("admin"));
        assert!(snippet.contains(
            "credential_process = lppg credentials --stack-name lppg --region us-east-1 --profile admin"
        ));
        assert!(snippet.contains("# your own credentials: profile admin"));
        // Issue 24: `up` run with AWS_PROFILE=lppg-role exported must not print a profile that runs itself.
        let own = profile_snippet("lppg-role", "lppg", "us-east-1", Some("lppg-role"));
        assert!(!own.contains("--profile"), "{own}");
        assert!(own.contains("the default chain"), "{own}");
    }
}
