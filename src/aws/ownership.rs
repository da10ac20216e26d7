//! Is a resource the generator's? `down` removes stragglers by name only when they carry lppg's mark: the tags
//! `lppg:stack = <stack>` and `lppg:region = <region>` (the template tags every resource that takes tags, and lppg
//! tags its artifact bucket), or, for managed policies (which CloudFormation cannot tag), a description
//! "lppg … of stack <stack> in <region> …". IAM is global: a user, role or policy marked for a stack of the same
//! name in another region belongs to that stack and is never touched. A resource that merely has a matching name
//! is left alone.
use super::{code, explain, Clients, ErrorKind, Retry};
use crate::naming::ResourceKind;
use anyhow::Result;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

/// The tag keys lppg puts on everything it creates.
pub const TAG_KEY: &str = "lppg:stack";
pub const REGION_TAG_KEY: &str = "lppg:region";

/// What a resource's mark says about whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// This stack's, in this region.
    Ours,
    /// A generator of the same name in another region owns it.
    OtherRegion(String),
    /// lppg's mark for this stack, from a version that did not record the region (IAM only): not provably ours.
    NoRegion,
    /// No mark of this stack.
    NotOurs,
}

/// The mark in a list of (key, value) tags.
pub fn mark_of_tags<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    stack: &str,
    region: &str,
    regional: bool,
) -> Mark {
    let (mut s, mut r) = (None, None);
    for (k, v) in tags {
        match k {
            TAG_KEY => s = Some(v),
            REGION_TAG_KEY => r = Some(v),
            _ => {}
        }
    }
    match (s, r) {
        (Some(s), _) if s != stack => Mark::NotOurs,
        (None, _) => Mark::NotOurs,
        (Some(_), Some(r)) if r != region => Mark::OtherRegion(r.to_string()),
        (Some(_), Some(_)) => Mark::Ours,
        // A regional resource's region is where it is; an IAM entity's is not known.
        (Some(_), None) if regional => Mark::Ours,
        (Some(_), None) => Mark::NoRegion,
    }
}

/// The mark in a managed policy's description: "lppg … of stack <stack> in <region> (…)".
pub fn mark_of_description(description: &str, stack: &str, region: &str) -> Mark {
    if !description.starts_with("lppg ") {
        return Mark::NotOurs;
    }
    let Some(rest) = description.split(" of stack ").nth(1) else {
        return Mark::NoRegion;
    };
    let mut words = rest.split_whitespace();
    let (Some(s), Some("in"), Some(r)) = (words.next(), words.next(), words.next()) else {
        return Mark::NoRegion;
    };
    match (s == stack, r == region) {
        (false, _) => Mark::NotOurs,
        (true, true) => Mark::Ours,
        (true, false) => Mark::OtherRegion(r.to_string()),
    }
}

/// The mark of `name` of `kind`. A resource that vanished reads as not ours; throttling is retried; any other
/// failure to read the mark is an error (never "not ours" by accident).
pub async fn mark(
    c: &Clients,
    kind: ResourceKind,
    name: &str,
    stack: &str,
    account: &str,
    partition: &str,
) -> Result<Mark> {
    Retry::THROTTLING
        .run(|| read_mark(c, kind, name, stack, account, partition))
        .await
}

/// A failed tag read: a resource that vanished (or has no tags) is not ours; anything else is an error.
fn unreadable<E, R>(e: SdkError<E, R>, doing: &str) -> Result<Mark>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if ErrorKind::of(&e) == ErrorKind::NotFound || code(&e) == Some("NoSuchTagSet") {
        return Ok(Mark::NotOurs);
    }
    Err(explain(e, doing))
}

async fn read_mark(
    c: &Clients,
    kind: ResourceKind,
    name: &str,
    stack: &str,
    account: &str,
    partition: &str,
) -> Result<Mark> {
    let doing = format!("reading the tags of {kind} {name}");
    let regional = !matches!(
        kind,
        ResourceKind::User | ResourceKind::Role | ResourceKind::Policy
    );
    if kind == ResourceKind::Policy {
        return match c.iam.get_policy().policy_arn(name).send().await {
            Ok(r) => {
                let d = r.policy().and_then(|p| p.description()).unwrap_or_default();
                Ok(mark_of_description(d, stack, &c.region))
            }
            Err(e) => unreadable(e, &doing),
        };
    }
    let tags = match kind {
        ResourceKind::User | ResourceKind::Role => iam_tags(c, kind, name, &doing).await?,
        _ => regional_tags(c, kind, name, account, partition, &doing).await?,
    };
    Ok(match tags {
        Some(tags) => {
            let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            mark_of_tags(pairs, stack, &c.region, regional)
        }
        None => Mark::NotOurs,
    })
}

/// Tags as (key, value); `None` when the resource vanished or has none.
type Tags = Option<Vec<(String, String)>>;

/// Tags given as a map (Lambda, CloudWatch Logs).
fn map_tags(tags: Option<&std::collections::HashMap<String, String>>) -> Vec<(String, String)> {
    tags.into_iter().flatten().map(|(k, v)| kv(k, v)).collect()
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// `Ok(None)` for a tag read that found nothing to read; an error otherwise.
fn no_tags<E, R>(e: SdkError<E, R>, doing: &str) -> Result<Tags>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    unreadable(e, doing).map(|_| None)
}

async fn iam_tags(c: &Clients, kind: ResourceKind, name: &str, doing: &str) -> Result<Tags> {
    if kind == ResourceKind::User {
        return match c.iam.list_user_tags().user_name(name).send().await {
            Ok(r) => Ok(Some(
                r.tags().iter().map(|t| kv(t.key(), t.value())).collect(),
            )),
            Err(e) => no_tags(e, doing),
        };
    }
    match c.iam.list_role_tags().role_name(name).send().await {
        Ok(r) => Ok(Some(
            r.tags().iter().map(|t| kv(t.key(), t.value())).collect(),
        )),
        Err(e) => no_tags(e, doing),
    }
}

async fn regional_tags(
    c: &Clients,
    kind: ResourceKind,
    name: &str,
    account: &str,
    partition: &str,
    doing: &str,
) -> Result<Tags> {
    let region = &c.region;
    match kind {
        ResourceKind::Bucket => match c.s3.get_bucket_tagging().bucket(name).send().await {
            Ok(r) => Ok(Some(
                r.tag_set().iter().map(|t| kv(t.key(), t.value())).collect(),
            )),
            Err(e) => no_tags(e, doing),
        },
        ResourceKind::Function => {
            let arn = format!("arn:{partition}:lambda:{region}:{account}:function:{name}");
            match c.lambda.list_tags().resource(arn).send().await {
                Ok(r) => Ok(Some(map_tags(r.tags()))),
                Err(e) => no_tags(e, doing),
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
                Ok(r) => Ok(Some(map_tags(r.tags()))),
                Err(e) => no_tags(e, doing),
            }
        }
        ResourceKind::Trail => {
            let arn = format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}");
            match c.trail.list_tags().resource_id_list(arn).send().await {
                Ok(r) => {
                    let tags = r.resource_tag_list().iter().flat_map(|rt| rt.tags_list());
                    Ok(Some(
                        tags.map(|t| kv(t.key(), t.value().unwrap_or_default()))
                            .collect(),
                    ))
                }
                Err(e) => no_tags(e, doing),
            }
        }
        ResourceKind::Queue => super::sqs::tags(c, name).await,
        ResourceKind::User | ResourceKind::Role | ResourceKind::Policy => Ok(None),
    }
}

/// Tags lppg's artifact bucket as the stack's.
pub async fn mark_bucket(c: &Clients, bucket: &str, stack: &str) -> Result<()> {
    use aws_sdk_s3::types::{Tag, Tagging};
    let tags = Tagging::builder()
        .tag_set(Tag::builder().key(TAG_KEY).value(stack).build()?)
        .tag_set(
            Tag::builder()
                .key(REGION_TAG_KEY)
                .value(&c.region)
                .build()?,
        )
        .build()?;
    c.s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tags)
        .send()
        .await
        .map_err(|e| explain(e, &format!("tagging bucket {bucket}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_stack_and_region() {
        let t = |pairs: &[(&'static str, &'static str)], regional| {
            mark_of_tags(pairs.iter().copied(), "lppg", "eu-west-1", regional)
        };
        assert_eq!(
            t(&[(TAG_KEY, "lppg"), (REGION_TAG_KEY, "eu-west-1")], false),
            Mark::Ours
        );
        assert_eq!(
            t(&[(TAG_KEY, "lppg"), (REGION_TAG_KEY, "us-east-1")], false),
            Mark::OtherRegion("us-east-1".into())
        );
        assert_eq!(t(&[(TAG_KEY, "lppg")], false), Mark::NoRegion);
        assert_eq!(t(&[(TAG_KEY, "lppg")], true), Mark::Ours);
        assert_eq!(t(&[(TAG_KEY, "other")], true), Mark::NotOurs);
        assert_eq!(t(&[], true), Mark::NotOurs);
    }

    #[test]
    fn descriptions_name_the_stack_and_region() {
        let d =
            "lppg generator policy 1 of stack lppg in us-east-1 (grown by the generator function)";
        assert_eq!(mark_of_description(d, "lppg", "us-east-1"), Mark::Ours);
        assert_eq!(
            mark_of_description(d, "lppg", "eu-west-1"),
            Mark::OtherRegion("us-east-1".into())
        );
        assert_eq!(
            mark_of_description(d, "lppg-dev", "us-east-1"),
            Mark::NotOurs
        );
        assert_eq!(
            mark_of_description("lppg generator policy 1 (spare)", "lppg", "us-east-1"),
            Mark::NoRegion
        );
        assert_eq!(
            mark_of_description("team policy", "lppg", "us-east-1"),
            Mark::NotOurs
        );
    }
}
