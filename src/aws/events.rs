//! EventBridge: the fast path's deployed rule (DescribeRule) and the service's own judgement of its pattern
//! (TestEventPattern), for `status --probe`. EventBridge API Reference: DescribeRule (`EventPattern`, a JSON string;
//! `ResourceNotFoundException` when the rule does not exist), TestEventPattern (`EventPattern`, `Event`; answers
//! `{"Result": true|false}`).
use super::{explain, Clients, ErrorKind};
use anyhow::Result;

/// The event pattern of rule `name` on the default bus; `None` when there is no such rule (or it has no pattern).
pub async fn rule_pattern(c: &Clients, name: &str) -> Result<Option<String>> {
    match c
        .events
        .describe_rule()
        .name(name)
        .event_bus_name("default")
        .send()
        .await
    {
        Ok(r) => Ok(r.event_pattern().map(str::to_string)),
        Err(e) if ErrorKind::of(&e) == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(explain(
            e,
            &format!("reading rule {name} in {} (events:DescribeRule)", c.region),
        )),
    }
}

/// Whether `pattern` matches each of `events`, in order: one TestEventPattern call per event (the API judges one).
pub async fn test_pattern(c: &Clients, pattern: &str, events: &[String]) -> Result<Vec<bool>> {
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let r = c
            .events
            .test_event_pattern()
            .event_pattern(pattern)
            .event(event)
            .send()
            .await
            .map_err(|e| {
                explain(
                    e,
                    &format!(
                        "testing the rule's pattern in {} (events:TestEventPattern)",
                        c.region
                    ),
                )
            })?;
        out.push(r.result());
    }
    Ok(out)
}
