//! CloudTrail: whether the generator's trail exists and logs; stopping and removing it.
use super::{code, explain, Clients};
use anyhow::Result;

fn not_found(c: Option<&str>) -> bool {
    matches!(c, Some("TrailNotFoundException") | Some("TrailNotFound"))
}

/// `None` when the trail does not exist, else whether it is logging.
pub async fn is_logging(c: &Clients, trail: &str) -> Result<Option<bool>> {
    match c.trail.get_trail_status().name(trail).send().await {
        Ok(r) => Ok(Some(r.is_logging().unwrap_or(false))),
        Err(e) if not_found(code(&e)) => Ok(None),
        Err(e) => Err(explain(e, &format!("reading the status of trail {trail}"))),
    }
}

/// When the trail last stopped logging and last delivered to CloudWatch Logs (ms since the epoch); `None` when
/// the trail does not exist.
pub async fn delivery(c: &Clients, trail: &str) -> Result<Option<(Option<i64>, Option<i64>)>> {
    match c.trail.get_trail_status().name(trail).send().await {
        Ok(r) => {
            let ms = |t: Option<&aws_sdk_cloudtrail::primitives::DateTime>| {
                t.and_then(|t| t.to_millis().ok())
            };
            Ok(Some((
                ms(r.stop_logging_time()),
                ms(r.latest_cloud_watch_logs_delivery_time()),
            )))
        }
        Err(e) if not_found(code(&e)) => Ok(None),
        Err(e) => Err(explain(e, &format!("reading the status of trail {trail}"))),
    }
}

/// Stops logging so nothing more lands in the trail bucket while it is emptied; `false` when no trail.
pub async fn stop(c: &Clients, trail: &str) -> Result<bool> {
    match c.trail.stop_logging().name(trail).send().await {
        Ok(_) => Ok(true),
        Err(e) if not_found(code(&e)) => Ok(false),
        Err(e) => Err(explain(e, &format!("stopping trail {trail}"))),
    }
}

/// Deletes a straggling trail; `false` when it did not exist.
pub async fn delete(c: &Clients, trail: &str) -> Result<bool> {
    if is_logging(c, trail).await?.is_none() {
        return Ok(false);
    }
    match c.trail.delete_trail().name(trail).send().await {
        Ok(_) => Ok(true),
        // Gone between the read and the delete (CloudTrail reads are eventually consistent): already done.
        Err(e) if not_found(code(&e)) => Ok(false),
        Err(e) => Err(explain(e, &format!("deleting trail {trail}"))),
    }
}

/// Every trail `DescribeTrails` shows in this region, shadow trails included (multi-region trails of other home
/// regions and organization trails), with whether each delivers management events.
pub async fn list(c: &Clients) -> Result<Vec<crate::preflight::Trail>> {
    let r = c
        .trail
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| explain(e, "listing the region's trails (cloudtrail:DescribeTrails)"))?;
    let mut out = Vec::new();
    for t in r.trail_list() {
        let arn = t.trail_arn().unwrap_or_default().to_string();
        let logs_management_events = if t.has_custom_event_selectors().unwrap_or(false) {
            logs_management_events(c, &arn).await
        } else {
            // Without custom selectors a trail logs all management events (CloudTrail API Reference, Trail).
            Some(true)
        };
        out.push(crate::preflight::Trail {
            name: t.name().unwrap_or_default().to_string(),
            home_region: t.home_region().unwrap_or_default().to_string(),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            arn,
            logs_management_events,
        });
    }
    Ok(out)
}

/// Whether a trail's selectors include management events; `None` when they cannot be read.
async fn logs_management_events(c: &Clients, trail_arn: &str) -> Option<bool> {
    let r = c
        .trail
        .get_event_selectors()
        .trail_name(trail_arn)
        .send()
        .await
        .ok()?;
    let basic = r
        .event_selectors()
        .iter()
        .any(|s| s.include_management_events().unwrap_or(true));
    let advanced = r.advanced_event_selectors().iter().any(|s| {
        s.field_selectors()
            .iter()
            .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"))
    });
    Some(basic || advanced)
}

/// What `GetTrailStatus` says about delivery to CloudWatch Logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CwlStatus {
    pub is_logging: bool,
    /// Last delivery of a record to the CloudWatch Logs group (ms since the epoch).
    pub latest_delivery_ms: Option<i64>,
    /// The error of the last failed delivery, as CloudTrail reports it.
    pub latest_delivery_error: Option<String>,
}

/// Logging and CloudWatch Logs delivery of the trail; `None` when the trail does not exist.
pub async fn cwl_status(c: &Clients, trail: &str) -> Result<Option<CwlStatus>> {
    match c.trail.get_trail_status().name(trail).send().await {
        Ok(r) => Ok(Some(CwlStatus {
            is_logging: r.is_logging().unwrap_or(false),
            latest_delivery_ms: r
                .latest_cloud_watch_logs_delivery_time()
                .and_then(|t| t.to_millis().ok()),
            latest_delivery_error: r
                .latest_cloud_watch_logs_delivery_error()
                .filter(|e| !e.is_empty())
                .map(str::to_string),
        })),
        Err(e) if not_found(code(&e)) => Ok(None),
        Err(e) => Err(explain(e, &format!("reading the status of trail {trail}"))),
    }
}
