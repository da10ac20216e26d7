"""IAM Access Analyzer at the test boundary: moto has no Access Analyzer, so this small server answers its policy
checks with responses shaped as the API reference documents them (restJson1), and writes down what was asked.

Usage: python tests/support/analyzer_boundary.py --dir DIR   (prints its port on the first line of stdout)

Each request is appended to DIR/requests.jsonl as {"path", "query", "body"}. The answer is the next of
DIR/responses.json, a list of {"status": 200, "body": {...}}, {"status": 404, "html": "..."} (not an AWS answer),
or errors {"status": 429|403,
"error": "ThrottlingException"|"AccessDeniedException", "message": "..."} (the error code goes in the
x-amzn-ErrorType header, as the service sends it). With no answer left, 200 and {"findings": []} for
ValidatePolicy (POST /policy/validation) and {"result": "PASS"} for the access checks.

API reference: ValidatePolicy (POST /policy/validation?maxResults&nextToken; findings[] of findingDetails,
findingType, issueCode, learnMoreLink, locations[].path/span; nextToken), CheckAccessNotGranted
(POST /policy/check-access-not-granted; result PASS|FAIL, message, reasons[]), CheckNoNewAccess
(POST /policy/check-no-new-access; same result shape); errors AccessDeniedException 403, ThrottlingException 429.
"""
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from boundary_server import serve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    directory = args.dir

    def next_answer():
        path = os.path.join(directory, "responses.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            answers = json.load(f)
        if not answers:
            return None
        with open(path, "w", encoding="utf-8") as f:
            json.dump(answers[1:], f)
        return answers[0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            with open(os.path.join(directory, "requests.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": url.path, "query": parse_qs(url.query), "body": body}) + "\n")
            answer = next_answer()
            if answer is None:
                default = {"findings": []} if url.path == "/policy/validation" else {"result": "PASS", "reasons": []}
                answer = {"status": 200, "body": default}
            status = answer.get("status", 200)
            headers = {"Content-Type": "application/json", "x-amzn-RequestId": "boundary"}
            if "html" in answer:
                # Not an AWS answer at all: what a web server (or an emulator without the service) sends.
                headers = {"Content-Type": "text/html; charset=utf-8"}
                data = answer["html"].encode()
            elif "error" in answer:
                headers["x-amzn-ErrorType"] = answer["error"]
                data = json.dumps({"message": answer.get("message", "")}).encode()
            else:
                data = json.dumps(answer.get("body", {})).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    serve(Handler)


if __name__ == "__main__":
    main()
