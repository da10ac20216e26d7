#!/usr/bin/env python3
"""Local trial: replay recorded CloudTrail records through the deployed generator function's code.

moto cannot run Lambda code without docker, so this stands in for the CloudWatch Logs -> Lambda
delivery: it reads the deployed function's environment (GetFunctionConfiguration), imports the handler
*from the zip* that was deployed (zipimport, so the exact embedded code runs), wraps the fixture records
into CloudWatch Logs subscription payloads (gzip + base64, --batch-size records each), invokes the handler
in-process with the function's environment and AWS_ENDPOINT_URL pointed at the emulator, and writes
everything the handler printed to /aws/lambda/<function> (one log stream named like the Lambda
runtime's, YYYY/MM/DD/[$LATEST]<32 hex>), with START/END/REPORT lines as the runtime writes them.

  scripts/replay.py --endpoint-url http://127.0.0.1:5100 --region us-east-1 \
      --function-name lppg-generator --zip function.zip \
      --fixture tests/fixtures/console-session.jsonl [--batch-size 25]

Exit status: 0 when every batch ran (decisions may include errors), 1 when an invocation raised,
2 on bad arguments or when the function/zip cannot be read. A summary goes to stderr.
"""
import argparse
import base64
import collections
import contextlib
import datetime
import gzip
import io
import json
import os
import sys
import time
import uuid

MODULES = ("handler", "rules", "store", "policydoc")


class Context:
    def __init__(self, name, region, account, log_group, log_stream, timeout_s):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:%s:%s:function:%s" % (region, account, name)
        self.memory_limit_in_mb = "256"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = log_group
        self.log_stream_name = log_stream
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self):
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def subscription_event(records, owner, log_group, start_ms):
    events = [{"id": str(37000000000000000000000000000000000000000000000000000000 + start_ms + i),
               "timestamp": start_ms + i, "message": json.dumps(r, separators=(",", ":"))}
              for i, r in enumerate(records)]
    body = {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": log_group,
            "logStream": "%s_CloudTrail_%s" % (owner, os.environ.get("AWS_REGION", "us-east-1")),
            "subscriptionFilters": ["lppg-denied"], "logEvents": events}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}}


def import_from_zip(zip_path):
    for m in MODULES:
        sys.modules.pop(m, None)
    sys.path.insert(0, zip_path)
    try:
        import handler  # noqa: WPS433 - deliberately imported from the zip
    finally:
        sys.path.remove(zip_path)
    if not os.path.abspath(handler.__file__).startswith(os.path.abspath(zip_path)):
        raise SystemExit("handler was not imported from %s (got %s)" % (zip_path, handler.__file__))
    return handler


def load_fixture(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError as exc:
                    raise SystemExit("%s:%d: not JSON (%s)" % (path, n, exc))
    return out


def shift_to_now(records, lag_s=300):
    """Move every record's eventTime by the same amount so the last one happened `lag_s` seconds ago (CloudTrail's
    typical delivery delay), keeping the spacing: the replay then reads like a session that just took place."""
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    times = [datetime.datetime.strptime(r["eventTime"], fmt) for r in records if isinstance(r.get("eventTime"), str)]
    if not times:
        return records
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    delta = now - datetime.timedelta(seconds=lag_s) - max(times)
    for r in records:
        if isinstance(r.get("eventTime"), str):
            r["eventTime"] = (datetime.datetime.strptime(r["eventTime"], fmt) + delta).strftime(fmt)
    return records


def put_lines(logs, group, stream, lines):
    """Write (timestamp_ms, text) lines in order, in chunks put_log_events accepts."""
    chunk, size = [], 0
    for ts, text in lines:
        n = len(text.encode()) + 26
        if chunk and (len(chunk) >= 5000 or size + n > 900_000):
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=chunk)
            chunk, size = [], 0
        chunk.append({"timestamp": ts, "message": text})
        size += n
    if chunk:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=chunk)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Replay CloudTrail records through the generator function.")
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--function-name", required=True)
    ap.add_argument("--zip", required=True, help="the function zip that was deployed")
    ap.add_argument("--fixture", required=True, help="JSON lines, one CloudTrail record per line")
    ap.add_argument("--batch-size", type=int, default=25)
    ap.add_argument("--shift-to-now", action="store_true",
                    help="move the records' event times so the session ended 5 minutes ago (as a live one would)")
    args = ap.parse_args(argv)
    if args.batch_size < 1:
        ap.error("--batch-size must be at least 1")
    if not os.path.isfile(args.zip):
        ap.error("no such zip: %s" % args.zip)

    os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    import boto3

    lam = boto3.client("lambda")
    logs = boto3.client("logs")
    try:
        cfg = lam.get_function_configuration(FunctionName=args.function_name)
    except Exception as exc:  # noqa: BLE001
        print("replay: cannot read function %s: %s" % (args.function_name, exc), file=sys.stderr)
        return 2
    env_vars = (cfg.get("Environment") or {}).get("Variables") or {}
    account = cfg.get("FunctionArn", "arn:aws:lambda:r:123456789012:").split(":")[4]
    timeout_s = int(cfg.get("Timeout") or 60)
    os.environ.update(env_vars)
    handler = import_from_zip(os.path.abspath(args.zip))
    records = load_fixture(args.fixture)
    if args.shift_to_now:
        shift_to_now(records)

    group = "/aws/lambda/%s" % args.function_name
    stream = "%s/[$LATEST]%s" % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d"), uuid.uuid4().hex)
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    trail_group = env_vars.get("LPPG_TRAIL_LOG_GROUP", "/lppg/trail")

    counts = collections.Counter()
    written, granted, failures = [], [], 0
    out_lines = []
    for start in range(0, len(records), args.batch_size):
        batch = records[start:start + args.batch_size]
        ctx = Context(args.function_name, args.region, account, group, stream, timeout_s)
        now = int(time.time() * 1000)
        event = subscription_event(batch, account, trail_group, now)
        out_lines.append((now, "START RequestId: %s Version: $LATEST" % ctx.aws_request_id))
        buf = io.StringIO()
        t0 = time.monotonic()
        with contextlib.redirect_stdout(buf):
            try:
                handler.lambda_handler(event, ctx)
            except Exception as exc:  # noqa: BLE001 - report as the runtime would
                failures += 1
                print(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                                  "requestId": ctx.aws_request_id}))
        ms = (time.monotonic() - t0) * 1000
        ts = int(time.time() * 1000)
        for text in buf.getvalue().splitlines():
            if not text.strip():
                continue
            out_lines.append((ts, text))
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if obj.get("lppg") == "decision":
                counts[obj["decision"]] += 1
                if obj["decision"] in ("granted", "unverified"):
                    granted.append(obj["action"])
            elif obj.get("lppg") == "batch":
                written.extend(obj.get("policies_written", []))
        out_lines.append((ts, "END RequestId: %s" % ctx.aws_request_id))
        out_lines.append((ts, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\t"
                              "Memory Size: 256 MB\tMax Memory Used: 80 MB" % (ctx.aws_request_id, ms, int(ms) + 1)))
    put_lines(logs, group, stream, out_lines)

    n_batches = (len(records) + args.batch_size - 1) // args.batch_size
    print("replayed %d records in %d invocation(s) of %s (code from %s)"
          % (len(records), n_batches, args.function_name, args.zip), file=sys.stderr)
    print("decisions: " + (", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none"), file=sys.stderr)
    if granted:
        print("granted: " + ", ".join(sorted(set(granted))), file=sys.stderr)
    for w in written:
        print("wrote %s %s (%d actions, %d characters)" % (w["policy"], w["version"], w["actions"], w["size"]),
              file=sys.stderr)
    print("function log: %s stream %s" % (group, stream), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
