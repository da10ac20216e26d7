"""A CloudTrail record as EventBridge delivers it: the envelope around the record (its `detail`).

EventBridge User Guide, "Events from AWS services" and "AWS service events delivered via AWS CloudTrail": an API call
arrives as {"version": "0", "id", "detail-type": "AWS API Call via CloudTrail", "source": "aws.<service>",
"account", "time", "region", "resources": [], "detail": <the CloudTrail record>}; console sign-ins as "AWS Console
Sign In via CloudTrail". The envelope's `id` is EventBridge's own; the record's `eventID` identifies the call on both
paths.
"""
import uuid

DETAIL_TYPES = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
}


def event_of(record):
    """The EventBridge event that carries one CloudTrail record."""
    source = str(record.get("eventSource") or "")
    if source.endswith(".amazonaws.com"):
        source = source[: -len(".amazonaws.com")]
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "eventbridge:" + str(record.get("eventID")))),
        "detail-type": DETAIL_TYPES.get(record.get("eventType"), "AWS API Call via CloudTrail"),
        "source": "aws." + source.split(".")[0],
        "account": record.get("recipientAccountId") or "123456789012",
        "time": record.get("eventTime"),
        "region": record.get("awsRegion") or "us-east-1",
        "resources": [],
        "detail": record,
    }
