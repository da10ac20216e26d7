//! CloudWatch Logs: the function's log group (decisions, markers), the trail's group and its subscription.
use super::{code, explain, Clients, Retry};

/// At most 4 FilterLogEvents pages a second from one read (the account's quota is 5 per second).
const PAGE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);
use anyhow::Result;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    pub stream: String,
    pub message: String,
    pub id: String,
}

pub async fn group_exists(c: &Clients, group: &str) -> Result<bool> {
    Ok(group_created_ms(c, group).await?.is_some())
}

/// Events of a log group from `start_ms` on (all pages, at most `max` events), oldest first. `None` when the
/// group does not exist.
pub async fn read_events(
    c: &Clients,
    group: &str,
    start_ms: i64,
    max: usize,
) -> Result<Option<Vec<LogLine>>> {
    Ok(filter_events(c, group, start_ms, None, 2_000, max)
        .await?
        .events)
}

/// Events of a log group from `start_ms` on that match a filter pattern (the service filters), oldest first, at
/// most `max`; `None` when the group does not exist. Paced and retried as [`read_events`].
pub async fn read_matching(
    c: &Clients,
    group: &str,
    start_ms: i64,
    pattern: Option<&str>,
    max: usize,
) -> Result<Option<Vec<LogLine>>> {
    Ok(filter_events(c, group, start_ms, pattern, 100_000, max)
        .await?
        .events)
}

/// Each stream of a log group and its last ingestion time (ms since the epoch; `None` before the first event);
/// `None` when the group does not exist.
pub async fn stream_ingestion(
    c: &Clients,
    group: &str,
) -> Result<Option<Vec<(String, Option<i64>)>>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c
            .logs
            .describe_log_streams()
            .log_group_name(group)
            .set_next_token(token.clone());
        let r = match Retry::THROTTLING
            .run(|| {
                let req = req.clone();
                async move { Ok(req.send().await) }
            })
            .await?
        {
            Ok(r) => r,
            Err(e) if code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(explain(e, &format!("listing the streams of {group}"))),
        };
        for s in r.log_streams() {
            let name = s.log_stream_name().unwrap_or_default().to_string();
            out.push((name, s.last_ingestion_time()));
        }
        match r.next_token() {
            Some(t) if Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => return Ok(Some(out)),
        }
    }
}

/// Appends one message to a stream, creating the stream when missing.
pub async fn put_line(
    c: &Clients,
    group: &str,
    stream: &str,
    timestamp_ms: i64,
    message: &str,
) -> Result<()> {
    match c
        .logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if code(&e) == Some("ResourceAlreadyExistsException") => {}
        Err(e) => {
            return Err(explain(
                e,
                &format!("creating log stream {stream} in {group}"),
            ))
        }
    }
    c.logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .log_events(
            InputLogEvent::builder()
                .timestamp(timestamp_ms)
                .message(message)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| explain(e, &format!("writing to log group {group}")))?;
    Ok(())
}

/// The destination ARNs of the group's subscription filters, by filter name.
pub async fn subscription_filters(c: &Clients, group: &str) -> Result<Vec<(String, String)>> {
    match c
        .logs
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
    {
        Ok(r) => Ok(r
            .subscription_filters()
            .iter()
            .map(|f| {
                (
                    f.filter_name().unwrap_or_default().to_string(),
                    f.destination_arn().unwrap_or_default().to_string(),
                )
            })
            .collect()),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(Vec::new()),
        Err(e) => Err(explain(
            e,
            &format!("reading the subscription filters of {group}"),
        )),
    }
}

/// Deletes a log group; `false` when it did not exist.
pub async fn delete_group(c: &Clients, group: &str) -> Result<bool> {
    match c.logs.delete_log_group().log_group_name(group).send().await {
        Ok(_) => Ok(true),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(explain(e, &format!("deleting log group {group}"))),
    }
}

/// When the log group was created (ms since the epoch); `None` when it does not exist. `lppg watch` starts
/// from here, as the function's group is created with the stack.
pub async fn group_created_ms(c: &Clients, group: &str) -> Result<Option<i64>> {
    let r = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .map_err(|e| explain(e, &format!("looking up log group {group}")))?;
    Ok(r.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .map(|g| g.creation_time().unwrap_or(0)))
}

/// What one poll of a log group found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Poll {
    /// Events from the start time on, oldest first; `None` when the group does not exist.
    pub events: Option<Vec<LogLine>>,
    /// FilterLogEvents calls made.
    pub calls: u32,
}

/// One poll for `lppg watch`: FilterLogEvents from `start_ms`, at most `max_pages` calls.
pub async fn poll_events(c: &Clients, group: &str, start_ms: i64, max_pages: u32) -> Result<Poll> {
    filter_events(c, group, start_ms, None, max_pages, usize::MAX).await
}

/// FilterLogEvents from `start_ms`, following `nextToken` even through empty pages (the service returns those
/// while it searches streams), until there is no token, `max_pages` calls or `max_events` events.
async fn filter_events(
    c: &Clients,
    group: &str,
    start_ms: i64,
    pattern: Option<&str>,
    max_pages: u32,
    max_events: usize,
) -> Result<Poll> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut calls = 0;
    let mut last_call: Option<tokio::time::Instant> = None;
    loop {
        // FilterLogEvents allows 5 requests per second per account and region, shared with a running `watch`:
        // pages are paced, and throttling is retried with backoff rather than failing the read.
        if let Some(t) = last_call {
            crate::clock::sleep(
                (t + PAGE_INTERVAL).saturating_duration_since(tokio::time::Instant::now()),
            )
            .await;
        }
        let page = Retry::THROTTLING
            .run(|| {
                calls += 1;
                last_call = Some(tokio::time::Instant::now());
                let req = c
                    .logs
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(start_ms)
                    .set_filter_pattern(pattern.map(str::to_string))
                    .set_next_token(token.clone());
                async move {
                    match req.send().await {
                        Ok(r) => Ok(Some(r)),
                        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
                        Err(e) => Err(explain(e, &format!("reading log group {group}"))),
                    }
                }
            })
            .await?;
        let Some(r) = page else {
            return Ok(Poll {
                events: None,
                calls,
            });
        };
        out.extend(r.events().iter().map(|ev| LogLine {
            timestamp_ms: ev.timestamp().unwrap_or(0),
            ingestion_ms: ev.ingestion_time().unwrap_or(0),
            stream: ev.log_stream_name().unwrap_or_default().to_string(),
            message: ev.message().unwrap_or_default().to_string(),
            id: ev.event_id().unwrap_or_default().to_string(),
        }));
        let next = r.next_token().map(str::to_string);
        if next.is_none() || next == token || calls >= max_pages || out.len() >= max_events {
            break;
        }
        token = next;
    }
    out.sort_by(|a, b| (a.timestamp_ms, &a.id).cmp(&(b.timestamp_ms, &b.id)));
    Ok(Poll {
        events: Some(out),
        calls,
    })
}

/// The filter pattern of one subscription filter of a group; `None` when there is no such filter.
pub async fn subscription_pattern(
    c: &Clients,
    group: &str,
    filter: &str,
) -> Result<Option<String>> {
    match c
        .logs
        .describe_subscription_filters()
        .log_group_name(group)
        .filter_name_prefix(filter)
        .send()
        .await
    {
        Ok(r) => Ok(r
            .subscription_filters()
            .iter()
            .find(|f| f.filter_name() == Some(filter))
            .map(|f| f.filter_pattern().unwrap_or_default().to_string())),
        Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(explain(
            e,
            &format!("reading the subscription filter {filter} of {group}"),
        )),
    }
}

/// Which of `messages` the service says `pattern` matches (TestMetricFilter): their 1-based event numbers.
pub async fn test_pattern(c: &Clients, pattern: &str, messages: &[String]) -> Result<Vec<i64>> {
    let r = c
        .logs
        .test_metric_filter()
        .filter_pattern(pattern)
        .set_log_event_messages(Some(messages.to_vec()))
        .send()
        .await
        .map_err(|e| {
            explain(
                e,
                "testing the subscription's filter pattern (logs:TestMetricFilter)",
            )
        })?;
    Ok(r.matches().iter().map(|m| m.event_number()).collect())
}
