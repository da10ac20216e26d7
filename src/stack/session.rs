//! Role mode: who the generator observes, whom its role trusts, and sessions of the role for `credentials` and
//! `exec`. The pure rules (trust patterns, links, the `credential_process` document) are in [`crate::role`].
use super::Generator;
use crate::aws::{iam, sts};
use crate::naming::Principal;
use crate::role::{self, Caller, SessionCredentials};
use anyhow::{bail, Result};

/// Whom the generator role trusts: the accounts (`arn:PARTITION:iam::ACCOUNT:root`) named in `Principal` and the
/// `aws:PrincipalArn` patterns of the condition (the template's `TrustAccounts` and `TrustPrincipalArns`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    pub accounts: Vec<String>,
    pub patterns: Vec<String>,
}

impl Trust {
    fn add(&mut self, partition: &str, pattern: String) {
        let root = format!("arn:{partition}:iam::{}:root", role::account_of(&pattern));
        if !self.accounts.contains(&root) {
            self.accounts.push(root);
        }
        if !self.patterns.contains(&pattern) {
            self.patterns.push(pattern);
        }
    }
}

impl Generator {
    /// What the deployed stack observes (a stack from before role mode observes a user).
    pub fn principal(&self) -> Principal {
        self.stack
            .as_ref()
            .and_then(|s| s.output("Principal"))
            .and_then(Principal::parse)
            .unwrap_or_default()
    }

    /// The observed principal's ARN: the generator user's or, in role mode, the generator role's.
    pub fn principal_arn(&self) -> String {
        let out = |k: &str| self.stack.as_ref().and_then(|s| s.output(k));
        out("PrincipalArn")
            .or_else(|| out("UserArn"))
            .map(str::to_string)
            .unwrap_or_else(|| self.names.user_arn())
    }

    /// The generator role's ARN; an error naming the way out when the stack observes a user.
    pub fn role_arn(&self) -> Result<String> {
        let st = self.require_stack()?;
        match (self.principal(), st.output("RoleArn")) {
            (Principal::Role, Some(arn)) => Ok(arn.to_string()),
            _ => bail!(
                "stack {} observes the IAM user {}, not a role: sign in as the user, or save the policy, \
                 `lppg down` and `lppg up --principal role`",
                self.names.stack,
                self.user_name()
            ),
        }
    }

    /// Whom the role trusts: each `--trust` ARN, else the caller. An assumed-role session is resolved to its role's
    /// ARN with its path (an Identity Center role to a pattern that survives re-provisioning); a `--trust`
    /// principal of this account that does not exist is refused, as IAM refuses it in a trust policy.
    pub async fn resolve_trust(&self, given: &[String]) -> Result<Trust> {
        let mut trust = Trust::default();
        role::refuse_root(&self.id.arn, given).map_err(anyhow::Error::msg)?;
        if given.is_empty() {
            let caller = role::parse_caller(&self.id.arn).map_err(anyhow::Error::msg)?;
            for p in self.caller_patterns(&caller, false).await? {
                trust.add(&self.id.partition, p);
            }
            return Ok(trust);
        }
        for arn in given {
            let caller =
                role::parse_caller(arn).map_err(|m| anyhow::anyhow!("--trust {arn}: {m}"))?;
            let partition = crate::naming::partition_of(arn);
            for p in self.caller_patterns(&caller, true).await? {
                trust.add(&partition, p);
            }
        }
        Ok(trust)
    }

    /// The trust patterns of one principal; `check` refuses one of this account that does not exist.
    async fn caller_patterns(&self, caller: &Caller, check: bool) -> Result<Vec<String>> {
        let here = |account: &str| account == self.id.account;
        match caller {
            Caller::Iam { arn, account } => {
                let name = arn.rsplit('/').next().unwrap_or("");
                if check && here(account) && arn.contains(":user/") {
                    match iam::user_arn(&self.c, name).await? {
                        Some(real) if &real == arn => {}
                        _ => bail!("--trust {arn}: no such IAM user in account {account}"),
                    }
                }
                Ok(vec![arn.clone()])
            }
            Caller::Role { arn, account } => {
                let name = arn.rsplit('/').next().unwrap_or("");
                if check && here(account) && !arn.contains('*') {
                    match iam::role_arn(&self.c, name).await? {
                        Some(real) if &real == arn => {}
                        Some(real) => {
                            bail!("--trust {arn}: the role {name} is {real} (path included)")
                        }
                        None => bail!("--trust {arn}: no such IAM role in account {account}"),
                    }
                }
                Ok(vec![role::trust_pattern(arn)])
            }
            Caller::Session {
                partition,
                account,
                role: name,
            } => {
                let looked_up = if here(account) {
                    iam::role_arn(&self.c, name).await
                } else {
                    Ok(None)
                };
                match looked_up {
                    Ok(Some(arn)) => Ok(vec![role::trust_pattern(&arn)]),
                    Ok(None) if check && here(account) => {
                        bail!("no such IAM role {name} in account {account}")
                    }
                    // Not readable (no iam:GetRole, or another account): the role under any path.
                    _ => Ok(role::session_fallback_patterns(partition, account, name)),
                }
            }
        }
    }

    /// The region and lppg's endpoint for a command (`exec`), without credentials.
    pub fn region_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("AWS_REGION".to_string(), self.c.region.clone()),
            ("AWS_DEFAULT_REGION".to_string(), self.c.region.clone()),
        ];
        if let Some(e) = &self.c.endpoint {
            env.push(("AWS_ENDPOINT_URL".to_string(), e.clone()));
        }
        env
    }

    /// Temporary credentials of a session of the generator role, named after the caller.
    pub async fn role_credentials(&self, seconds: i32) -> Result<SessionCredentials> {
        let arn = self.role_arn()?;
        let name = role::session_name(&self.id.arn);
        sts::assume_role(&self.c, &arn, &name, seconds).await
    }

    /// [`Generator::role_credentials`] through the user's cache (`cache`: its directory; `None` skips it): a
    /// cached session of the same account, region, stack, role and caller is handed out until about 5 minutes
    /// before it expires; a new one is stored. A cache that cannot be written costs nothing but the reuse.
    pub async fn cached_role_credentials(
        &self,
        seconds: i32,
        cache: Option<&std::path::Path>,
    ) -> Result<SessionCredentials> {
        use crate::stack::credential_cache as cc;
        let key = cc::Key {
            account: self.id.account.clone(),
            region: self.c.region.clone(),
            stack: self.names.stack.clone(),
            role_arn: self.role_arn()?,
            caller_arn: self.id.arn.clone(),
        };
        let now = std::time::SystemTime::now();
        if let Some(hit) = cache.and_then(|dir| cc::load(dir, &key, now)) {
            return Ok(hit);
        }
        let creds = self.role_credentials(seconds).await?;
        if let Some(dir) = cache {
            let _ = cc::store(dir, &key, &creds);
        }
        Ok(creds)
    }
}

/// The AWS flags `credentials` and `exec` use for the caller's own credentials: a profile only when `--profile`
/// was given on the command line (`explicit`), never one inherited from `AWS_PROFILE`, which, once a user exports
/// the `lppg-<stack>` profile, names the profile whose `credential_process` is this very command (the AWS CLI had
/// the same loop, aws/aws-cli#7398). `AWS_PROFILE` is also removed from this process's environment so the SDK's
/// default chain does not read it either, and [`role::CREDENTIALS_GUARD_VAR`] is set for whatever the chain starts:
/// found already set for this stack, an explicit profile led back here, and that is refused instead of looping.
pub fn own_credentials(
    aws: &crate::aws::AwsArgs,
    stack: &str,
    explicit: bool,
) -> Result<crate::aws::AwsArgs> {
    let mut aws = aws.clone();
    if std::env::var(role::CREDENTIALS_GUARD_VAR).ok().as_deref() == Some(stack) {
        bail!(
            "lppg credentials for stack {stack} was started by its own profile's credential_process{}: name the              profile with your own credentials (`--profile NAME` in the credential_process line), not the lppg              one",
            aws.profile
                .as_deref()
                .map(|p| format!(" (--profile {p})"))
                .unwrap_or_default()
        );
    }
    if !explicit {
        aws.profile = None;
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_DEFAULT_PROFILE");
    }
    std::env::set_var(role::CREDENTIALS_GUARD_VAR, stack);
    Ok(aws)
}
