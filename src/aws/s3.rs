//! S3: lppg's artifact bucket (the function's zip) and emptying the buckets lppg owns before they are deleted.
use super::{code, explain, Clients};
use anyhow::{bail, Result};
use aws_sdk_s3::config::http::HttpResponse;
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

/// Per-key error codes of DeleteObjects worth another attempt (S3 API Reference, DeleteObjects: the response
/// holds an `Error` per key that could not be deleted; `SlowDown` and `InternalError` are transient).
const RETRYABLE_KEY_ERRORS: [&str; 4] = [
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
];

/// What to do about the per-key errors of one DeleteObjects call.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyErrors {
    None,
    /// Only transient errors: list and delete again after a pause.
    Retry,
    /// A key that will not go away by retrying (AccessDenied from an SCP or Object Lock, …): (key, code, message).
    Stop(String, String, String),
}

/// Classifies DeleteObjects' per-key errors as (key, code, message).
pub fn key_errors(errors: &[(String, String, String)]) -> KeyErrors {
    match errors
        .iter()
        .find(|(_, code, _)| !RETRYABLE_KEY_ERRORS.contains(&code.as_str()))
    {
        Some((k, c, m)) => KeyErrors::Stop(k.clone(), c.clone(), m.clone()),
        None if errors.is_empty() => KeyErrors::None,
        None => KeyErrors::Retry,
    }
}

/// The object versions and delete markers of one listing page.
async fn list_versions(c: &Clients, bucket: &str) -> Result<Option<Vec<ObjectIdentifier>>> {
    let r = match c.s3.list_object_versions().bucket(bucket).send().await {
        Ok(r) => r,
        Err(e) if code(&e) == Some("NoSuchBucket") => return Ok(None),
        Err(e) => return Err(explain(e, &format!("listing objects in {bucket}"))),
    };
    let versions = r.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = r.delete_markers().iter().map(|m| (m.key(), m.version_id()));
    let mut ids = Vec::new();
    for (key, version) in versions.chain(markers) {
        if let Some(k) = key {
            let id = ObjectIdentifier::builder()
                .key(k)
                .set_version_id(version.map(str::to_string));
            ids.push(id.build()?);
        }
    }
    Ok(Some(ids))
}

/// Deletes every object and object version in the bucket; returns how many were really deleted. Keys refused
/// with a transient error are retried with backoff; any other refusal stops with the key and the code.
pub async fn empty_bucket(c: &Clients, bucket: &str) -> Result<usize> {
    let mut deleted = 0;
    let mut delays = super::Retry::THROTTLING.delays();
    loop {
        let Some(ids) = list_versions(c, bucket).await? else {
            return Ok(deleted);
        };
        if ids.is_empty() {
            return Ok(deleted);
        }
        let n = ids.len();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()?;
        let r =
            c.s3.delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await;
        let r = r.map_err(|e| explain(e, &format!("deleting objects in {bucket}")))?;
        let errors: Vec<(String, String, String)> = r
            .errors()
            .iter()
            .map(|e| {
                let field = |v: Option<&str>| v.unwrap_or_default().to_string();
                (field(e.key()), field(e.code()), field(e.message()))
            })
            .collect();
        deleted += n - errors.len();
        match key_errors(&errors) {
            KeyErrors::None => {}
            KeyErrors::Retry => match delays.next() {
                Some(d) => crate::clock::sleep(d).await,
                None => anyhow::bail!(
                    "S3 kept refusing to delete {} object(s) in {bucket} ({}): run `lppg down` again later",
                    errors.len(),
                    errors[0].1
                ),
            },
            KeyErrors::Stop(key, code, message) => anyhow::bail!(
                "S3 refused to delete s3://{bucket}/{key}: {code}: {message}; an SCP, a bucket policy or Object Lock \
                 may protect it: remove the protection (or the object) and run `lppg down` again"
            ),
        }
    }
}

/// Empties and deletes a bucket; `false` when it did not exist.
pub async fn delete_bucket(c: &Clients, bucket: &str) -> Result<bool> {
    if bucket_state(c, bucket).await? != Some(true) {
        return Ok(false);
    }
    empty_bucket(c, bucket).await?;
    match c.s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if code(&e) == Some("NoSuchBucket") => Ok(false),
        Err(e) => Err(explain(e, &format!("deleting bucket {bucket}"))),
    }
}

/// The folders right under `prefix` (ListObjectsV2 with the delimiter `/`, every page), as key prefixes ending in
/// `/`. An access denial names `s3:ListBucket`.
pub async fn list_folders(c: &Clients, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    let mut pages =
        c.s3.list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .delimiter("/")
            .into_paginator()
            .send();
    let mut folders = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| listing_error(e, c, bucket, prefix))?;
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
    }
    Ok(folders)
}

/// Every object under `prefix` (keys and sizes, folder markers left out), in key order.
pub async fn list_objects(c: &Clients, bucket: &str, prefix: &str) -> Result<Vec<(String, i64)>> {
    let mut pages =
        c.s3.list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
    let mut objects = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| listing_error(e, c, bucket, prefix))?;
        objects.extend(page.contents().iter().filter_map(|o| {
            let key = o.key()?;
            (!key.ends_with('/')).then(|| (key.to_owned(), o.size().unwrap_or(0)))
        }));
    }
    Ok(objects)
}

fn listing_error<E>(
    e: aws_sdk_s3::error::SdkError<E, HttpResponse>,
    c: &Clients,
    bucket: &str,
    prefix: &str,
) -> anyhow::Error
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let doing = format!("listing s3://{bucket}/{prefix}");
    if let Some(e) = wrong_region(&e, c, bucket, &doing) {
        return e;
    }
    super::explain_denied(
        e,
        &doing,
        "s3:ListBucket",
        &format!("arn:aws:s3:::{bucket}"),
    )
}

/// The region a bucket is in, when S3 answered that it is not `ours`: a request to another region's endpoint gets
/// HTTP 301 `PermanentRedirect` (or 400 `AuthorizationHeaderMalformed`, whose signature names the wrong region; for
/// HEAD a bare 301 or 400, without a body) with the bucket's region in the header `x-amz-bucket-region` (S3 API
/// Reference, HeadBucket, "x-amz-bucket-region"; S3 User Guide, "Making requests", virtual hosting and
/// redirects). The header, not the error code, decides: HEAD has no code to read.
pub fn other_region(status: u16, bucket_region: Option<&str>, ours: &str) -> Option<String> {
    let region = bucket_region.map(str::trim).filter(|r| !r.is_empty())?;
    let redirected = (300..400).contains(&status) || status == 400;
    (redirected && region != ours).then(|| region.to_string())
}

/// [`other_region`] for a failed S3 call: the error that says which region to pass, or `None`.
fn wrong_region<E>(
    e: &aws_sdk_s3::error::SdkError<E, HttpResponse>,
    c: &Clients,
    bucket: &str,
    doing: &str,
) -> Option<anyhow::Error> {
    let raw = e.raw_response()?;
    let region = other_region(
        raw.status().as_u16(),
        raw.headers().get("x-amz-bucket-region"),
        &c.region,
    )?;
    Some(anyhow::anyhow!(
        "{doing} failed: bucket {bucket} is in {region}, not {}: pass --region {region}",
        c.region
    ))
}

/// Opens an object for reading: its body arrives as it is read, never whole. An access denial names
/// `s3:GetObject`; a bucket in another region names that region.
pub async fn get_object(c: &Clients, bucket: &str, key: &str) -> Result<ByteStream> {
    let r = c.s3.get_object().bucket(bucket).key(key).send().await;
    let r = r.map_err(|e| {
        let doing = format!("reading s3://{bucket}/{key}");
        if let Some(e) = wrong_region(&e, c, bucket, &doing) {
            return e;
        }
        super::explain_denied(
            e,
            &doing,
            "s3:GetObject",
            &format!("arn:aws:s3:::{bucket}/{key}"),
        )
    })?;
    Ok(r.body)
}

/// An object's body as a blocking reader, for the scanner's worker threads (never called on the runtime's own
/// threads): each read waits for the next piece of the body on `handle`. Memory: one piece at a time.
pub struct ObjectReader {
    handle: tokio::runtime::Handle,
    body: ByteStream,
    piece: bytes::Bytes,
}

impl ObjectReader {
    pub fn new(handle: tokio::runtime::Handle, body: ByteStream) -> Self {
        ObjectReader {
            handle,
            body,
            piece: bytes::Bytes::new(),
        }
    }
}

impl std::io::Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.piece.is_empty() {
            match self.handle.block_on(self.body.next()) {
                Some(Ok(piece)) => self.piece = piece,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.piece.len());
        buf[..n].copy_from_slice(&self.piece.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_in_another_region_is_named_by_the_header() {
        assert_eq!(
            other_region(301, Some("eu-west-1"), "us-east-1").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            other_region(400, Some("eu-west-1"), "us-east-1").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(other_region(301, Some("us-east-1"), "us-east-1"), None);
        assert_eq!(other_region(301, None, "us-east-1"), None);
        assert_eq!(other_region(403, Some("eu-west-1"), "us-east-1"), None);
    }

    #[test]
    fn per_key_errors_are_retried_or_stop() {
        let e = |code: &str| (format!("k-{code}"), code.to_string(), "m".to_string());
        assert_eq!(key_errors(&[]), KeyErrors::None);
        assert_eq!(
            key_errors(&[e("SlowDown"), e("InternalError")]),
            KeyErrors::Retry
        );
        assert_eq!(
            key_errors(&[e("SlowDown"), e("AccessDenied")]),
            KeyErrors::Stop("k-AccessDenied".into(), "AccessDenied".into(), "m".into())
        );
    }
}
