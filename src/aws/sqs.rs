//! SQS: the failed-batches queue (the function's on-failure destination): how many wait, reading and deleting
//! them, its tags, removing it.
use super::{code, explain, Clients};
use anyhow::Result;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

fn missing(c: Option<&str>) -> bool {
    matches!(
        c,
        Some("AWS.SimpleQueueService.NonExistentQueue")
            | Some("QueueDoesNotExist")
            | Some("NonExistentQueue")
    )
}

/// The queue's URL; `None` when it does not exist.
pub async fn url(c: &Clients, queue: &str) -> Result<Option<String>> {
    match c.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(r) => Ok(r.queue_url().map(str::to_string)),
        Err(e) if missing(code(&e)) => Ok(None),
        Err(e) => Err(explain(e, &format!("looking up queue {queue}"))),
    }
}

/// Messages waiting (visible plus in flight); `None` when the queue does not exist.
pub async fn waiting(c: &Clients, url: &str) -> Result<Option<u64>> {
    let r = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) if missing(code(&e)) => return Ok(None),
        Err(e) => return Err(explain(e, &format!("counting the messages of {url}"))),
    };
    let n = |k: QueueAttributeName| {
        r.attributes()
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(Some(
        n(QueueAttributeName::ApproximateNumberOfMessages)
            + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub receipt: String,
    pub body: String,
    /// When SQS received it (ms since the epoch).
    pub sent_ms: Option<i64>,
}

/// Up to 10 messages, hidden from other readers for `hide_secs`; empty when none is visible.
pub async fn receive(c: &Clients, url: &str, hide_secs: i32, max: i32) -> Result<Vec<Message>> {
    let r = c
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .visibility_timeout(hide_secs)
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .map_err(|e| explain(e, &format!("reading the failed batches in {url}")))?;
    Ok(r.messages()
        .iter()
        .map(|m| Message {
            id: m.message_id().unwrap_or_default().to_string(),
            receipt: m.receipt_handle().unwrap_or_default().to_string(),
            body: m.body().unwrap_or_default().to_string(),
            sent_ms: m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|v| v.parse().ok()),
        })
        .collect())
}

/// Deletes one received message.
/// Whether an error says the message is no longer held with this receipt: its hold expired or it was received
/// again (SQS API Reference, ChangeMessageVisibility: `MessageNotInflight`; DeleteMessage and
/// ChangeMessageVisibility: `ReceiptHandleIsInvalid`). A DeleteMessage with an old receipt may also succeed without
/// deleting ("you must use the ReceiptHandle from the most recent time you received the message"): redrive deletes
/// a message received again with its newest receipt.
pub fn is_stale_receipt(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<super::AwsError>())
        .any(|a| {
            a.code.as_deref().is_some_and(|c| {
                matches!(
                    c.trim_start_matches("AWS.SimpleQueueService."),
                    "MessageNotInflight" | "ReceiptHandleIsInvalid"
                )
            })
        })
}

pub async fn delete_message(c: &Clients, url: &str, receipt: &str) -> Result<()> {
    c.sqs
        .delete_message()
        .queue_url(url)
        .receipt_handle(receipt)
        .send()
        .await
        .map_err(|e| explain(e, &format!("deleting a message from {url}")))?;
    Ok(())
}

/// Makes a received message visible again at once (it stays queued).
pub async fn release(c: &Clients, url: &str, receipt: &str) -> Result<()> {
    c.sqs
        .change_message_visibility()
        .queue_url(url)
        .receipt_handle(receipt)
        .visibility_timeout(0)
        .send()
        .await
        .map_err(|e| explain(e, &format!("returning a message to {url}")))?;
    Ok(())
}

/// The queue's tags; `None` when it does not exist.
pub async fn tags(c: &Clients, queue: &str) -> Result<Option<Vec<(String, String)>>> {
    let Some(u) = url(c, queue).await? else {
        return Ok(None);
    };
    match c.sqs.list_queue_tags().queue_url(&u).send().await {
        Ok(r) => Ok(Some(
            r.tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )),
        Err(e) if missing(code(&e)) => Ok(None),
        Err(e) => Err(explain(e, &format!("reading the tags of queue {queue}"))),
    }
}

/// Deletes the queue; `false` when it did not exist.
pub async fn delete(c: &Clients, queue: &str) -> Result<bool> {
    let Some(u) = url(c, queue).await? else {
        return Ok(false);
    };
    match c.sqs.delete_queue().queue_url(&u).send().await {
        Ok(_) => Ok(true),
        Err(e) if missing(code(&e)) => Ok(false),
        Err(e) => Err(explain(e, &format!("deleting queue {queue}"))),
    }
}
