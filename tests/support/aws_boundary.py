"""S3 and Athena at the test boundary, where moto cannot show what the services do: a bucket in another region, and
an Athena query that keeps running. Answers are shaped as the API references document them; every request is
written down for the test to check.

Usage: python tests/support/aws_boundary.py --dir DIR [--bucket-region REGION]   (prints its port on the first
line of stdout, then serves until killed)

Each request is appended to DIR/requests.jsonl as {"method", "path", "target", "body"} (`target`: the
X-Amz-Target header of JSON-protocol calls, `body`: the parsed JSON body or null).

S3 (REST, path-style: /BUCKET/KEY?...): every request is answered as S3 answers a request sent to the wrong
regional endpoint for a bucket in REGION (S3 API Reference, "Error responses": PermanentRedirect, 301 Moved
Permanently, "The bucket you are attempting to access must be addressed using the specified endpoint"; HeadBucket:
the response header x-amz-bucket-region names the bucket's region; S3 User Guide, "Making requests", virtual
hosting and redirects):
    HTTP 301, x-amz-bucket-region: REGION, and for anything but HEAD the body
    <Error><Code>PermanentRedirect</Code><Message>...</Message><Endpoint>BUCKET.s3.REGION.amazonaws.com</Endpoint>
    <Bucket>BUCKET</Bucket><RequestId>...</RequestId><HostId>...</HostId></Error>
    (HEAD has no body: a bare 301 with the header).

Athena (JSON 1.1 protocol, X-Amz-Target AmazonAthena.*; Athena API Reference):
    StartQueryExecution  -> {"QueryExecutionId": "q-boundary-1"}
    GetQueryExecution    -> {"QueryExecution": {"QueryExecutionId", "Query", "Status": {"State": "RUNNING",
                             "SubmissionDateTime"}, "Statistics": {"DataScannedInBytes"}}}, RUNNING for ever until
                             the query is stopped, then "CANCELLED"
    StopQueryExecution   -> {} (the query is then CANCELLED)
    anything else        -> 400 InvalidRequestException
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler

from boundary_server import serve

QUERY_ID = "q-boundary-1"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bucket-region", default="eu-west-1")
    args = parser.parse_args()
    log_path = os.path.join(args.dir, "requests.jsonl")
    lock = threading.Lock()
    stopped = set()

    class Handler(BaseHTTPRequestHandler):
        def _read(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target")
            try:
                body = json.loads(raw) if raw and target else None
            except ValueError:
                body = None
            with lock, open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"method": self.command, "path": self.path, "target": target,
                                    "body": body}) + "\n")
            return target, body or {}

        def _send(self, status, headers, data):
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _handle(self):
            target, body = self._read()
            if target and target.startswith("AmazonAthena."):
                return self._athena(target.rpartition(".")[2], body)
            return self._s3()

        def _s3(self):
            bucket = self.path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
            region = args.bucket_region
            headers = {"x-amz-bucket-region": region, "x-amz-request-id": "boundary",
                       "Content-Type": "application/xml"}
            data = b""
            if self.command != "HEAD":
                data = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code><Message>The '
                    "bucket you are attempting to access must be addressed using the specified endpoint. Please "
                    f"send all future requests to this endpoint.</Message><Endpoint>{bucket}.s3.{region}"
                    f".amazonaws.com</Endpoint><Bucket>{bucket}</Bucket><RequestId>boundary</RequestId>"
                    "<HostId>boundary</HostId></Error>"
                ).encode()
            self._send(301, headers, data)

        def _athena(self, action, body):
            status, answer = 200, {}
            if action == "StartQueryExecution":
                answer = {"QueryExecutionId": QUERY_ID}
            elif action == "GetQueryExecution":
                qid = body.get("QueryExecutionId", "")
                state = "CANCELLED" if qid in stopped else "RUNNING"
                answer = {"QueryExecution": {
                    "QueryExecutionId": qid, "Query": "SELECT ...", "StatementType": "DML",
                    "Status": {"State": state, "SubmissionDateTime": time.time()},
                    "Statistics": {"DataScannedInBytes": 1_000_000}}}
            elif action == "StopQueryExecution":
                stopped.add(body.get("QueryExecutionId", ""))
            else:
                status, answer = 400, {"__type": "InvalidRequestException", "message": f"{action}: not here"}
            headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "boundary"}
            if status != 200:
                headers["x-amzn-ErrorType"] = answer["__type"]
            self._send(status, headers, json.dumps(answer).encode())

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle  # noqa: N815 - the http.server API

    serve(Handler)


if __name__ == "__main__":
    main()
