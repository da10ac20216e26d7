"""EventBridge and Account at the test boundary: moto's TestEventPattern is a stub (it answers without a `Result`)
and moto has no Account ListRegions, so this small server answers them as the API references document them, judges
patterns honestly, and writes down what was asked.

Usage: python tests/support/fast_path_boundary.py --dir DIR   (prints its port on the first line of stdout)

DIR/config.json, read on every request (a test may rewrite it between runs):
  {"moto": "http://127.0.0.1:PORT",            the emulator DescribeRule reads the deployed rules from
   "patterns": {"REGION": "<pattern JSON>"},    DescribeRule answers this pattern instead of the deployed one
   "deny": {"REGION": ["TestEventPattern"]},    these EventBridge operations answer AccessDeniedException there
   "regions": [{"RegionName": "...", "RegionOptStatus": "ENABLED"|"ENABLED_BY_DEFAULT"|"DISABLED"|...}],
   "page_size": 2,                              ListRegions answers this many per page (default 50)
   "deny_account": false}                       ListRegions answers AccessDeniedException
Each request is appended to DIR/requests.jsonl as {"service", "operation", "region", "body"}.

EventBridge API Reference (awsJson1.1, X-Amz-Target AWSEvents.<Operation>; errors as {"__type", "message"}):
- DescribeRule (Name, EventBusName) -> Name, Arn, EventPattern (a JSON string), State, EventBusName;
  ResourceNotFoundException when the rule does not exist.
- TestEventPattern (EventPattern, Event) -> {"Result": true|false}. Judged here with moto's own matcher
  (moto.events.models.EventPattern, the one its rules use: prefix, anything-but, exists, $or ...).
Account API Reference (restJson1, POST /listRegions; errors in the x-amzn-ErrorType header):
- ListRegions (RegionOptStatusContains, MaxResults, NextToken) -> {"Regions": [{"RegionName",
  "RegionOptStatus"}], "NextToken"} while there are more; AccessDeniedException 403.
"""
import argparse
import json
import os
import re
from http.server import BaseHTTPRequestHandler

import boto3
from moto.events.models import EventPattern

from boundary_server import serve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    directory = parser.parse_args().dir

    def config():
        path = os.path.join(directory, "config.json")
        if not os.path.exists(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def region_of(headers):
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", headers.get("Authorization") or "")
        return m.group(1) if m else None

    def describe_rule(conf, region, body):
        name = body.get("Name")
        events = boto3.client("events", region_name=region, endpoint_url=conf["moto"],
                              aws_access_key_id="test", aws_secret_access_key="test")
        try:
            rule = events.describe_rule(Name=name, EventBusName=body.get("EventBusName") or "default")
        except events.exceptions.ResourceNotFoundException:
            return 400, {"__type": "ResourceNotFoundException",
                         "message": "Rule %s does not exist on EventBus default." % name}
        answer = {k: rule[k] for k in ("Name", "Arn", "EventPattern", "State", "EventBusName") if k in rule}
        if region in conf.get("patterns", {}):
            answer["EventPattern"] = conf["patterns"][region]
        return 200, answer

    def test_event_pattern(body):
        pattern = EventPattern.load(body["EventPattern"])
        return 200, {"Result": bool(pattern.matches_event(json.loads(body["Event"])))}

    def list_regions(conf, body):
        wanted = body.get("RegionOptStatusContains")
        regions = [r for r in conf.get("regions", []) if not wanted or r["RegionOptStatus"] in wanted]
        size = min(int(body.get("MaxResults") or 50), int(conf.get("page_size", 50)))
        start = int(body.get("NextToken") or 0)
        answer = {"Regions": regions[start:start + size]}
        if start + size < len(regions):
            answer["NextToken"] = str(start + size)
        return answer

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, payload, error=None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-amzn-RequestId", "boundary")
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            target = self.headers.get("X-Amz-Target") or ""
            region = region_of(self.headers)
            conf = config()
            if target.startswith("AWSEvents."):
                service, operation = "events", target.split(".", 1)[1]
            elif self.path.startswith("/listRegions"):
                service, operation = "account", "ListRegions"
            else:
                service, operation = "unknown", self.path
            with open(os.path.join(directory, "requests.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps({"service": service, "operation": operation, "region": region,
                                    "body": body}) + "\n")
            if service == "account":
                if conf.get("deny_account"):
                    message = "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: " \
                              "account:ListRegions"
                    return self.reply(403, {"message": message}, "AccessDeniedException")
                return self.reply(200, list_regions(conf, body))
            if service != "events":
                return self.reply(404, {"message": "not at this boundary: " + self.path}, "UnknownOperation")
            if operation in conf.get("deny", {}).get(region, []):
                message = "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: events:%s " \
                          "with an explicit deny in a service control policy" % operation
                return self.reply(400, {"__type": "AccessDeniedException", "message": message})
            if operation == "DescribeRule":
                return self.reply(*describe_rule(conf, region, body))
            if operation == "TestEventPattern":
                return self.reply(*test_event_pattern(body))
            return self.reply(400, {"__type": "UnknownOperationException", "message": operation})

    serve(Handler)


if __name__ == "__main__":
    main()
