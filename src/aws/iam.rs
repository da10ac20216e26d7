//! IAM: console login profile, password policy, the generator's policies, and the clean-up CloudFormation cannot
//! do (credentials on the user, non-default policy versions) plus stragglers.
use super::{code, explain, Clients, Retry};
use crate::password::PasswordRules;
use anyhow::Result;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

/// The account's password policy, or AWS's default rules when it has none.
pub async fn password_rules(c: &Clients) -> Result<PasswordRules> {
    match c.iam.get_account_password_policy().send().await {
        Ok(r) => {
            let Some(p) = r.password_policy() else {
                return Ok(PasswordRules::aws_default());
            };
            Ok(PasswordRules {
                min_length: p.minimum_password_length().unwrap_or(8).max(6) as usize,
                require_symbols: p.require_symbols(),
                require_numbers: p.require_numbers(),
                require_uppercase: p.require_uppercase_characters(),
                require_lowercase: p.require_lowercase_characters(),
                three_of_four_classes: false,
            })
        }
        Err(e) if code(&e) == Some("NoSuchEntity") => Ok(PasswordRules::aws_default()),
        Err(e) => Err(explain(e, "reading the account's password policy")),
    }
}

/// `Some(answer)` on success, `None` when IAM answers NoSuchEntity, the explained error otherwise.
fn found<T, E, R>(r: Result<T, SdkError<E, R>>, doing: &str) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(explain(e, doing)),
    }
}

pub async fn user_exists(c: &Clients, user: &str) -> Result<bool> {
    let r = c.iam.get_user().user_name(user).send().await;
    Ok(found(r, &format!("looking up IAM user {user}"))?.is_some())
}

pub async fn has_login_profile(c: &Clients, user: &str) -> Result<bool> {
    let r = c.iam.get_login_profile().user_name(user).send().await;
    Ok(found(r, &format!("reading the login profile of {user}"))?.is_some())
}

/// Creates the login profile, or sets a new password on the existing one. A user created seconds ago (or deleted
/// and created again) can be refused for a while (`NoSuchEntity`, `EntityTemporarilyUnmodifiable`): retried.
pub async fn set_password(c: &Clients, user: &str, password: &str, exists: bool) -> Result<()> {
    Retry::IAM_SETTLING
        .run(|| async move {
            if exists {
                let r = c
                    .iam
                    .update_login_profile()
                    .user_name(user)
                    .password(password);
                r.password_reset_required(false)
                    .send()
                    .await
                    .map_err(|e| explain(e, &format!("setting the console password of {user}")))?;
            } else {
                let r = c
                    .iam
                    .create_login_profile()
                    .user_name(user)
                    .password(password);
                r.password_reset_required(false)
                    .send()
                    .await
                    .map_err(|e| explain(e, &format!("creating the console login of {user}")))?;
            }
            Ok(())
        })
        .await
}

/// A managed policy's versions: (version id, is default, creation time in seconds).
pub async fn policy_versions(c: &Clients, arn: &str) -> Result<Option<Vec<(String, bool, i64)>>> {
    let r = c.iam.list_policy_versions().policy_arn(arn).send().await;
    Ok(
        found(r, &format!("listing the versions of {arn}"))?.map(|r| {
            r.versions()
                .iter()
                .map(|v| {
                    (
                        v.version_id().unwrap_or_default().to_string(),
                        v.is_default_version(),
                        v.create_date().map(|d| d.secs()).unwrap_or(0),
                    )
                })
                .collect()
        }),
    )
}

/// The default version's document of a managed policy (decoded from IAM's URL encoding), `None` when the policy
/// does not exist.
pub async fn default_document(c: &Clients, arn: &str) -> Result<Option<(String, String)>> {
    let r = c.iam.get_policy().policy_arn(arn).send().await;
    let Some(p) = found(r, &format!("reading policy {arn}"))? else {
        return Ok(None);
    };
    let version = p
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_string();
    let v = c
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| explain(e, &format!("reading version {version} of {arn}")))?;
    let doc = v
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or_default();
    let doc = crate::policy::decode_document(doc)
        .map_err(|e| anyhow::anyhow!("version {version} of {arn}: {e}"))?;
    Ok(Some((version, doc)))
}

/// Deletes every non-default version of a policy (CloudFormation cannot delete a policy that has them).
pub async fn delete_non_default_versions(c: &Clients, arn: &str) -> Result<usize> {
    let Some(versions) = policy_versions(c, arn).await? else {
        return Ok(0);
    };
    let mut n = 0;
    for (id, is_default, _) in versions {
        if !is_default {
            let r = c
                .iam
                .delete_policy_version()
                .policy_arn(arn)
                .version_id(&id)
                .send()
                .await;
            gone_ok(r, &format!("deleting version {id} of {arn}"))?;
            n += 1;
        }
    }
    Ok(n)
}

/// The kinds of credential an IAM user can carry that block its deletion and that CloudFormation does not manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CredentialKind {
    LoginProfile,
    AccessKey,
    MfaDevice,
    SigningCertificate,
    SshPublicKey,
    ServiceSpecific,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 6] = [
        CredentialKind::LoginProfile,
        CredentialKind::AccessKey,
        CredentialKind::MfaDevice,
        CredentialKind::SigningCertificate,
        CredentialKind::SshPublicKey,
        CredentialKind::ServiceSpecific,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::LoginProfile => "login profile",
            CredentialKind::AccessKey => "access key",
            CredentialKind::MfaDevice => "MFA device",
            CredentialKind::SigningCertificate => "signing certificate",
            CredentialKind::SshPublicKey => "SSH public key",
            CredentialKind::ServiceSpecific => "service-specific credential",
        }
    }
}

/// Why the credentials of one kind could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlisted {
    /// The endpoint does not implement the listing call (an emulator): nothing of that kind can exist there.
    NotImplemented,
    /// The service refused: `Code: message`.
    Refused(String),
}

/// What a credential sweep did: what it removed, and the kinds it could not list.
#[derive(Debug, Default)]
pub struct CredentialSweep {
    pub removed: Vec<(CredentialKind, String)>,
    pub unlisted: Vec<(CredentialKind, Unlisted)>,
}

fn unlisted<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Unlisted {
    match e {
        SdkError::ResponseError(_) => Unlisted::NotImplemented,
        SdkError::ServiceError(s) if s.err().code().is_none_or(|c| c == "Unknown") => {
            Unlisted::NotImplemented
        }
        _ => Unlisted::Refused(super::brief(e)),
    }
}

/// Lists the ids of one kind of credential on `user`; NoSuchEntity is an empty list.
async fn list_credentials(
    c: &Clients,
    user: &str,
    kind: CredentialKind,
) -> std::result::Result<Vec<String>, Unlisted> {
    macro_rules! ids {
        ($call:expr, $items:ident, $id:expr) => {
            match $call.user_name(user).send().await {
                Ok(r) => Ok(r.$items().iter().map($id).collect()),
                Err(e) if code(&e) == Some("NoSuchEntity") => Ok(Vec::new()),
                Err(e) => Err(unlisted(&e)),
            }
        };
    }
    match kind {
        CredentialKind::LoginProfile => {
            match c.iam.get_login_profile().user_name(user).send().await {
                Ok(_) => Ok(vec![user.to_string()]),
                Err(e) if code(&e) == Some("NoSuchEntity") => Ok(Vec::new()),
                Err(e) => Err(unlisted(&e)),
            }
        }
        CredentialKind::AccessKey => ids!(c.iam.list_access_keys(), access_key_metadata, |k| k
            .access_key_id()
            .unwrap_or_default()
            .to_string()),
        CredentialKind::MfaDevice => ids!(c.iam.list_mfa_devices(), mfa_devices, |d| d
            .serial_number()
            .to_string()),
        CredentialKind::SigningCertificate => {
            ids!(c.iam.list_signing_certificates(), certificates, |x| x
                .certificate_id()
                .to_string())
        }
        CredentialKind::SshPublicKey => ids!(c.iam.list_ssh_public_keys(), ssh_public_keys, |k| k
            .ssh_public_key_id()
            .to_string()),
        CredentialKind::ServiceSpecific => ids!(
            c.iam.list_service_specific_credentials(),
            service_specific_credentials,
            |x| x.service_specific_credential_id().to_string()
        ),
    }
}

/// A delete retried while IAM answers `EntityTemporarilyUnmodifiable` (an entity just changed) or throttles.
async fn settled_delete<F, Fut>(op: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let retry = Retry {
        codes: &["EntityTemporarilyUnmodifiable", "ConcurrentModification"],
        ..Retry::IAM_SETTLING
    };
    retry.run(op).await
}

/// A delete's outcome: one whose target is already gone (NoSuchEntity) counts as done.
fn gone_ok<O, E, R>(r: std::result::Result<O, SdkError<E, R>>, doing: &str) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("NoSuchEntity") => Ok(()),
        Err(e) => Err(explain(e, doing)),
    }
}

/// Deletes one credential; one that is already gone counts as deleted.
async fn delete_credential(c: &Clients, user: &str, kind: CredentialKind, id: &str) -> Result<()> {
    let i = &c.iam;
    let doing = format!("deleting {} {id} of {user}", kind.name());
    match kind {
        CredentialKind::LoginProfile => gone_ok(
            i.delete_login_profile().user_name(user).send().await,
            &doing,
        ),
        CredentialKind::AccessKey => {
            let r = i.delete_access_key().user_name(user).access_key_id(id);
            gone_ok(r.send().await, &doing)
        }
        CredentialKind::MfaDevice => {
            let r = i.deactivate_mfa_device().user_name(user).serial_number(id);
            gone_ok(
                r.send().await,
                &format!("deactivating MFA device {id} of {user}"),
            )?;
            if id.contains(":mfa/") {
                let r = i.delete_virtual_mfa_device().serial_number(id).send().await;
                gone_ok(r, &doing)?;
            }
            Ok(())
        }
        CredentialKind::SigningCertificate => {
            let r = i
                .delete_signing_certificate()
                .user_name(user)
                .certificate_id(id);
            gone_ok(r.send().await, &doing)
        }
        CredentialKind::SshPublicKey => {
            let r = i
                .delete_ssh_public_key()
                .user_name(user)
                .ssh_public_key_id(id);
            gone_ok(r.send().await, &doing)
        }
        CredentialKind::ServiceSpecific => {
            let r = i.delete_service_specific_credential().user_name(user);
            gone_ok(r.service_specific_credential_id(id).send().await, &doing)
        }
    }
}

/// Removes everything on the user that blocks its deletion and that CloudFormation does not manage: login
/// profile, access keys, MFA devices, signing certificates, SSH keys, service-specific credentials. A kind that
/// cannot be listed is reported in the sweep, not as a failure.
pub async fn remove_user_credentials(c: &Clients, user: &str) -> Result<CredentialSweep> {
    let mut sweep = CredentialSweep::default();
    for kind in CredentialKind::ALL {
        match list_credentials(c, user, kind).await {
            Ok(ids) => {
                for id in ids {
                    delete_credential(c, user, kind, &id).await?;
                    sweep.removed.push((kind, id));
                }
            }
            Err(why) => sweep.unlisted.push((kind, why)),
        }
    }
    Ok(sweep)
}

/// Deletes a straggling user: credentials, group memberships, inline and attached policies, then the user.
/// `None` when it did not exist.
pub async fn delete_user(c: &Clients, user: &str) -> Result<Option<CredentialSweep>> {
    if !user_exists(c, user).await? {
        return Ok(None);
    }
    let sweep = remove_user_credentials(c, user).await?;
    let groups = c.iam.list_groups_for_user().user_name(user).send().await;
    let groups = groups.map_err(|e| explain(e, &format!("listing the groups of {user}")))?;
    for g in groups.groups() {
        let req = c.iam.remove_user_from_group().user_name(user);
        let r = req.group_name(g.group_name()).send().await;
        gone_ok(r, &format!("removing {user} from group {}", g.group_name()))?;
    }
    let inline = c.iam.list_user_policies().user_name(user).send().await;
    let inline =
        inline.map_err(|e| explain(e, &format!("listing the inline policies of {user}")))?;
    for p in inline.policy_names() {
        let r = c.iam.delete_user_policy().user_name(user).policy_name(p);
        gone_ok(
            r.send().await,
            &format!("deleting inline policy {p} of {user}"),
        )?;
    }
    let attached = c
        .iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| explain(e, &format!("listing policies attached to {user}")))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            let r = c
                .iam
                .detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await;
            gone_ok(r, &format!("detaching {arn} from {user}"))?;
        }
    }
    settled_delete(|| async {
        gone_ok(
            c.iam.delete_user().user_name(user).send().await,
            &format!("deleting IAM user {user}"),
        )
    })
    .await?;
    Ok(Some(sweep))
}

/// Deletes a straggling managed policy: detach it everywhere, delete its non-default versions, then it.
pub async fn delete_policy(c: &Clients, arn: &str) -> Result<bool> {
    if !policy_exists(c, arn).await? {
        return Ok(false);
    }
    let ents = c
        .iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| explain(e, &format!("listing where {arn} is attached")))?;
    for u in ents.policy_users() {
        if let Some(n) = u.user_name() {
            let r = c.iam.detach_user_policy().user_name(n).policy_arn(arn);
            gone_ok(r.send().await, &format!("detaching {arn} from user {n}"))?;
        }
    }
    for r in ents.policy_roles() {
        if let Some(n) = r.role_name() {
            let r = c.iam.detach_role_policy().role_name(n).policy_arn(arn);
            gone_ok(r.send().await, &format!("detaching {arn} from role {n}"))?;
        }
    }
    for g in ents.policy_groups() {
        if let Some(n) = g.group_name() {
            let r = c.iam.detach_group_policy().group_name(n).policy_arn(arn);
            gone_ok(r.send().await, &format!("detaching {arn} from group {n}"))?;
        }
    }
    delete_non_default_versions(c, arn).await?;
    settled_delete(|| async {
        gone_ok(
            c.iam.delete_policy().policy_arn(arn).send().await,
            &format!("deleting policy {arn}"),
        )
    })
    .await?;
    Ok(true)
}

/// Deletes a straggling role: its inline and attached policies, then the role.
pub async fn delete_role(c: &Clients, role: &str) -> Result<bool> {
    if !role_exists(c, role).await? {
        return Ok(false);
    }
    let inline = c.iam.list_role_policies().role_name(role).send().await;
    let inline =
        inline.map_err(|e| explain(e, &format!("listing the inline policies of {role}")))?;
    for p in inline.policy_names() {
        let r = c.iam.delete_role_policy().role_name(role).policy_name(p);
        gone_ok(
            r.send().await,
            &format!("deleting inline policy {p} of {role}"),
        )?;
    }
    let attached = c
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await;
    let attached =
        attached.map_err(|e| explain(e, &format!("listing policies attached to {role}")))?;
    for arn in attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
    {
        let r = c.iam.detach_role_policy().role_name(role).policy_arn(arn);
        gone_ok(r.send().await, &format!("detaching {arn} from {role}"))?;
    }
    settled_delete(|| async {
        gone_ok(
            c.iam.delete_role().role_name(role).send().await,
            &format!("deleting role {role}"),
        )
    })
    .await?;
    Ok(true)
}

pub async fn role_exists(c: &Clients, role: &str) -> Result<bool> {
    let r = c.iam.get_role().role_name(role).send().await;
    Ok(found(r, &format!("reading role {role}"))?.is_some())
}

pub async fn policy_exists(c: &Clients, arn: &str) -> Result<bool> {
    let r = c.iam.get_policy().policy_arn(arn).send().await;
    Ok(found(r, &format!("reading policy {arn}"))?.is_some())
}

/// A role's ARN (with its path), or `None` when there is no such role.
pub async fn role_arn(c: &Clients, role: &str) -> Result<Option<String>> {
    let r = c.iam.get_role().role_name(role).send().await;
    Ok(found(r, &format!("reading role {role}"))?
        .and_then(|o| o.role().map(|r| r.arn().to_string())))
}

/// A user's ARN (with its path), or `None` when there is no such user.
pub async fn user_arn(c: &Clients, user: &str) -> Result<Option<String>> {
    let r = c.iam.get_user().user_name(user).send().await;
    Ok(found(r, &format!("looking up IAM user {user}"))?
        .and_then(|o| o.user().map(|u| u.arn().to_string())))
}

/// What blocks deleting the generator role but is not the stack's: inline policies (an administrator's "revoke
/// active sessions" adds `AWSRevokeOlderSessions`) and managed policies attached by hand (not in `keep`). Returns
/// what was removed.
pub async fn remove_role_extras(c: &Clients, role: &str, keep: &[String]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let inline = c
        .iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| explain(e, &format!("listing the inline policies of role {role}")))?;
    for p in inline.policy_names() {
        let r = c
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(p)
            .send()
            .await;
        gone_ok(r, &format!("deleting inline policy {p} of role {role}"))?;
        removed.push(format!("inline policy {p} of role {role}"));
    }
    let attached = c
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| explain(e, &format!("listing the policies attached to role {role}")))?;
    for arn in attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
    {
        if keep.iter().any(|k| k == arn) {
            continue;
        }
        let r = c
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await;
        gone_ok(r, &format!("detaching {arn} from role {role}"))?;
        removed.push(format!("{arn} attached to role {role}"));
    }
    Ok(removed)
}
