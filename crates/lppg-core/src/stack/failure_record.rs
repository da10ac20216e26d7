//! Lambda's on-failure invocation record, as it lands in the failed-batches queue (Lambda Developer Guide,
//! "Asynchronous invocation", invocation records):
//! `{"version":"1.0","timestamp":…,"requestContext":{"requestId","functionArn","condition","approximateInvokeCount"},
//! "requestPayload":{…the original event…},"responseContext":{"statusCode","executedVersion","functionError"},
//! "responsePayload":{…}}`. Pure.
use serde_json::Value;

/// One failed batch, read from its record.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedBatch {
    pub request_id: String,
    /// When Lambda gave up (RFC 3339), as the record says.
    pub timestamp: String,
    /// `RetriesExhausted`, `EventAgeExceeded`, …
    pub condition: String,
    pub attempts: u64,
    /// Why the last attempt failed: the function's error message or type, when the record has one.
    pub error: Option<String>,
    /// The event the function was invoked with (the CloudWatch Logs subscription payload), to invoke it again.
    pub payload: Option<Value>,
}

/// Reads a message body as an invocation record; `Err` says why it is not one.
pub fn parse(body: &str) -> Result<FailedBatch, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
    let ctx = v
        .get("requestContext")
        .filter(|c| c.is_object())
        .ok_or("no requestContext: not a Lambda invocation record")?;
    let s = |x: Option<&Value>| x.and_then(Value::as_str).unwrap_or_default().to_string();
    let response = v.get("responsePayload");
    let error = response
        .and_then(|r| r.get("errorMessage").or_else(|| r.get("errorType")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            v.get("responseContext")
                .and_then(|r| r.get("functionError"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    Ok(FailedBatch {
        request_id: s(ctx.get("requestId")),
        timestamp: s(v.get("timestamp")),
        condition: s(ctx.get("condition")),
        attempts: ctx
            .get("approximateInvokeCount")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        error,
        payload: v.get("requestPayload").filter(|p| !p.is_null()).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Lambda Developer Guide, with a CloudWatch Logs payload.
    const RECORD: &str = r#"{"version":"1.0","timestamp":"2026-11-14T18:16:05.568Z",
      "requestContext":{"requestId":"e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn":"arn:aws:lambda:us-east-1:123456789012:function:lppg-generator:$LATEST",
        "condition":"RetriesExhausted","approximateInvokeCount":3},
      "requestPayload":{"awslogs":{"data":"H4sI"}},
      "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
      "responsePayload":{"errorMessage":"lppg: policy update not confirmed","errorType":"RuntimeError"}}"#;

    #[test]
    fn reads_the_documented_record() {
        let b = parse(RECORD).unwrap();
        assert_eq!(b.request_id, "e4b46cbf-b738-xmpl-8880-a18cdf61200e");
        assert_eq!(b.condition, "RetriesExhausted");
        assert_eq!(b.attempts, 3);
        assert_eq!(b.timestamp, "2026-11-14T18:16:05.568Z");
        assert_eq!(
            b.error.as_deref(),
            Some("lppg: policy update not confirmed")
        );
        assert_eq!(
            b.payload,
            Some(serde_json::json!({"awslogs":{"data":"H4sI"}}))
        );
    }

    #[test]
    fn a_timeout_has_no_response_payload_and_other_bodies_are_refused() {
        let t = r#"{"version":"1.0","timestamp":"t","requestContext":{"requestId":"r","condition":"RetriesExhausted",
          "approximateInvokeCount":3},"requestPayload":{"awslogs":{"data":"x"}},
          "responseContext":{"statusCode":200,"functionError":"Unhandled"}}"#;
        assert_eq!(parse(t).unwrap().error.as_deref(), Some("Unhandled"));
        assert!(parse("hello").is_err());
        assert!(parse(r#"{"Records":[]}"#).is_err());
        let no_payload = r#"{"requestContext":{"requestId":"r"}}"#;
        assert_eq!(parse(no_payload).unwrap().payload, None);
    }
}
