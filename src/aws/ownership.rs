//! Is a resource the generator's? `down` removes stragglers by name only when they carry lppg's mark: the tag
//! `lppg:stack = <stack>` (the template tags every resource that takes tags, and lppg tags its artifact bucket), or,
//! for managed policies (which CloudFormation cannot tag), a description that starts with "lppg ". A resource that
//! merely has a matching name is left alone.
use super::Clients;
use crate::naming::ResourceKind;
use anyhow::Result;

/// The tag key lppg puts on everything it creates.
pub const TAG_KEY: &str = "lppg:stack";

/// Whether `name` of `kind` carries the mark of stack `stack`. Errors while reading tags count as "not marked".
pub async fn is_marked(
    c: &Clients,
    kind: ResourceKind,
    name: &str,
    stack: &str,
    account: &str,
    partition: &str,
) -> Result<bool> {
    let region = &c.region;
    let hit = |k: Option<&str>, v: Option<&str>| k == Some(TAG_KEY) && v == Some(stack);
    Ok(match kind {
        ResourceKind::User => match c.iam.list_user_tags().user_name(name).send().await {
            Ok(r) => r.tags().iter().any(|t| hit(Some(t.key()), Some(t.value()))),
            Err(_) => false,
        },
        ResourceKind::Role => match c.iam.list_role_tags().role_name(name).send().await {
            Ok(r) => r.tags().iter().any(|t| hit(Some(t.key()), Some(t.value()))),
            Err(_) => false,
        },
        ResourceKind::Policy => match c.iam.get_policy().policy_arn(name).send().await {
            Ok(r) => r
                .policy()
                .and_then(|p| p.description())
                .is_some_and(|d| d.starts_with("lppg ")),
            Err(_) => false,
        },
        ResourceKind::Bucket => match c.s3.get_bucket_tagging().bucket(name).send().await {
            Ok(r) => r
                .tag_set()
                .iter()
                .any(|t| hit(Some(t.key()), Some(t.value()))),
            Err(_) => false,
        },
        ResourceKind::Function => {
            let arn = format!("arn:{partition}:lambda:{region}:{account}:function:{name}");
            match c.lambda.list_tags().resource(arn).send().await {
                Ok(r) => r
                    .tags()
                    .and_then(|t| t.get(TAG_KEY))
                    .is_some_and(|v| v == stack),
                Err(_) => false,
            }
        }
        ResourceKind::LogGroup => {
            #[allow(deprecated)]
            let r = c
                .logs
                .list_tags_log_group()
                .log_group_name(name)
                .send()
                .await;
            match r {
                Ok(r) => r
                    .tags()
                    .and_then(|t| t.get(TAG_KEY))
                    .is_some_and(|v| v == stack),
                Err(_) => false,
            }
        }
        ResourceKind::Trail => {
            let arn = format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}");
            match c.trail.list_tags().resource_id_list(arn).send().await {
                Ok(r) => r
                    .resource_tag_list()
                    .iter()
                    .flat_map(|rt| rt.tags_list())
                    .any(|t| hit(Some(t.key()), t.value())),
                Err(_) => false,
            }
        }
    })
}

/// Tags lppg's artifact bucket as the stack's.
pub async fn mark_bucket(c: &Clients, bucket: &str, stack: &str) -> Result<()> {
    use aws_sdk_s3::types::{Tag, Tagging};
    c.s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key(TAG_KEY).value(stack).build()?)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| super::explain(e, &format!("tagging bucket {bucket}")))?;
    Ok(())
}
