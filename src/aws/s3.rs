//! S3: lppg's artifact bucket (the function's zip) and emptying the buckets lppg owns before they are deleted.
use super::{code, explain, Clients};
use anyhow::{bail, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

/// Whether the bucket exists and is ours (`Some(true)`), exists and belongs to someone else (`Some(false)`), or
/// does not exist (`None`).
pub async fn bucket_state(c: &Clients, bucket: &str) -> Result<Option<bool>> {
    match c.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(Some(true)),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match status {
                Some(404) => Ok(None),
                Some(403) => Ok(Some(false)),
                _ if code(&e) == Some("NotFound") || code(&e) == Some("NoSuchBucket") => Ok(None),
                _ => Err(explain(e, &format!("looking up bucket {bucket}"))),
            }
        }
    }
}

/// Creates lppg's artifact bucket when missing: private (public access blocked) and encrypted.
pub async fn ensure_artifact_bucket(c: &Clients, bucket: &str) -> Result<bool> {
    match bucket_state(c, bucket).await? {
        Some(true) => return Ok(false),
        Some(false) => bail!(
            "bucket {bucket} exists but belongs to another account: choose another --stack-name"
        ),
        None => {}
    }
    let mut req = c.s3.create_bucket().bucket(bucket);
    if c.region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(c.region.as_str()))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if code(&e) == Some("BucketAlreadyOwnedByYou") => {}
        Err(e) if code(&e) == Some("BucketAlreadyExists") => {
            bail!("bucket name {bucket} is taken by another account: choose another --stack-name")
        }
        Err(e) => return Err(explain(e, &format!("creating artifact bucket {bucket}"))),
    }
    c.s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| explain(e, &format!("blocking public access to {bucket}")))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        )
        .build();
    c.s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| explain(e, &format!("encrypting bucket {bucket}")))?;
    Ok(true)
}

/// Uploads `body` to `key` unless an object is already there (keys are content-addressed).
pub async fn upload_if_missing(
    c: &Clients,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<bool> {
    if c.s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
    {
        return Ok(false);
    }
    c.s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .map_err(|e| explain(e, &format!("uploading s3://{bucket}/{key}")))?;
    Ok(true)
}

/// Deletes every object and object version in the bucket; returns how many were deleted.
pub async fn empty_bucket(c: &Clients, bucket: &str) -> Result<usize> {
    let mut deleted = 0;
    loop {
        let r = match c.s3.list_object_versions().bucket(bucket).send().await {
            Ok(r) => r,
            Err(e) if code(&e) == Some("NoSuchBucket") => return Ok(deleted),
            Err(e) => return Err(explain(e, &format!("listing objects in {bucket}"))),
        };
        let mut ids = Vec::new();
        for v in r.versions() {
            if let Some(k) = v.key() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(k)
                        .set_version_id(v.version_id().map(str::to_string))
                        .build()?,
                );
            }
        }
        for m in r.delete_markers() {
            if let Some(k) = m.key() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(k)
                        .set_version_id(m.version_id().map(str::to_string))
                        .build()?,
                );
            }
        }
        if ids.is_empty() {
            return Ok(deleted);
        }
        let n = ids.len();
        c.s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| explain(e, &format!("deleting objects in {bucket}")))?;
        deleted += n;
    }
}

/// Empties and deletes a bucket; `false` when it did not exist.
pub async fn delete_bucket(c: &Clients, bucket: &str) -> Result<bool> {
    if bucket_state(c, bucket).await? != Some(true) {
        return Ok(false);
    }
    empty_bucket(c, bucket).await?;
    c.s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| explain(e, &format!("deleting bucket {bucket}")))?;
    Ok(true)
}
