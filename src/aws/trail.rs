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
    c.trail
        .delete_trail()
        .name(trail)
        .send()
        .await
        .map_err(|e| explain(e, &format!("deleting trail {trail}")))?;
    Ok(true)
}
