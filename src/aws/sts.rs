//! STS: assuming the generator role (role mode's `credentials` and `exec`). Who is calling is in `aws/mod.rs`.
use super::{explain, Clients};
use crate::role::SessionCredentials;
use anyhow::{Context, Result};
use aws_sdk_sts::primitives::DateTimeFormat;

/// Assumes `role_arn` for `seconds` (at most the role's MaxSessionDuration; one hour when chaining roles).
pub async fn assume_role(
    c: &Clients,
    role_arn: &str,
    session_name: &str,
    seconds: i32,
) -> Result<SessionCredentials> {
    let r = c
        .sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .duration_seconds(seconds)
        .send()
        .await
        .map_err(|e| explain(e, &format!("assuming role {role_arn} (sts:AssumeRole)")))?;
    let cr = r
        .credentials()
        .context("sts:AssumeRole returned no credentials")?;
    Ok(SessionCredentials {
        access_key_id: cr.access_key_id().to_string(),
        secret_access_key: cr.secret_access_key().to_string(),
        session_token: cr.session_token().to_string(),
        expiration: cr
            .expiration()
            .fmt(DateTimeFormat::DateTime)
            .context("formatting the credentials' expiration")?,
    })
}
