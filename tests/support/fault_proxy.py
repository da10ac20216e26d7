#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of moto server: real AWS failure modes on demand.

moto answers instantly, consistently, in one page and without quotas. This proxy forwards every request to an
upstream moto server and, by rules, injects the faults real AWS produces, per API call. Pure stdlib.

Command line (the Rust tests spawn it; the first line on stdout is the bound port, then it serves until SIGTERM):

    python tests/support/fault_proxy.py --upstream http://127.0.0.1:5100 --port 0 [--host 127.0.0.1]
                                        [--rules FILE.json] [--rules-json '[{...}]']

In Python: `FaultProxy(upstream, rules).start()` → `.url`, `.set_rules(rules)`, `.stats()`, `.stop()`.

Control API (on the proxy's own port, never forwarded):

    GET    /__faults/stats   {"requests": n, "calls": {"iam:ListPolicyVersions": n}, "injected": {kind: n},
                              "log": [{"kind", "call", "detail"}...] (last 500)}
    GET    /__faults/rules   the rules, each with its counters "seen" and "fired"
    POST   /__faults/rules   body [rule...] or {"rules": [rule...]}: replaces the rules (`?append=1` appends)
    DELETE /__faults/rules   removes every rule
    POST   /__faults/reset   removes every rule and zeroes the stats

The call is identified as real AWS front ends do: the service from the SigV4 credential scope (Authorization
header `Credential=AKID/DATE/REGION/SERVICE/aws4_request`, or X-Amz-Credential in a presigned query); the action
from `Action=` in the query or the form body (Query protocol: IAM, STS, CloudFormation), from `X-Amz-Target`
(JSON protocol: logs `Logs_20140328.FilterLogEvents`, cloudtrail `...CloudTrail_20131101.GetTrail`), or from the
REST method and path (S3: `POST /bucket?delete` = DeleteObjects, `GET /bucket?list-type=2` = ListObjectsV2, ...).

Rules (JSON objects). Common fields: `kind`; `service` (e.g. "iam"; omitted = any); `action` (a name or a list of
names; "*" or omitted = any); `params` ({name: glob} that the call's parameters must match); `every` N (fire on
every Nth matching request, default 1); `times` K (fire at most K times; default unlimited). Kinds:

- `throttle`: the service's throttling error. Query protocol: HTTP 400 `<ErrorResponse><Error><Type>Sender</Type>
  <Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>…</RequestId></ErrorResponse>`
  (IAM/STS/CloudFormation "Common Errors": ThrottlingException/Throttling, HTTP 400,
  https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html). JSON protocol: HTTP 400
  `{"__type":"ThrottlingException","message":"Rate exceeded"}` with header `x-amzn-ErrorType` (awsJson1_1 error
  serialisation, https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization).
  S3: HTTP 503 `<Error><Code>SlowDown</Code>…`
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
  `code`, `status`, `message` override.
- `error`: any error in the call's protocol shape: `code` (required), `status` (400), `message`, `fault`
  ("Sender").
- `unmodifiable`: IAM `EntityTemporarilyUnmodifiable`, HTTP 409 (listed for CreateUser, CreateLoginProfile,
  DeleteUser, ... in the IAM API reference, e.g.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html#API_CreateLoginProfile_Errors).
  With `times` K: "the first K times".
- `termination_protection`: CloudFormation DeleteStack refused: HTTP 400 ValidationError
  "Stack [NAME] cannot be deleted while TerminationProtection is enabled" (the text CloudFormation returns; see
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html).
- `access_denied`: Query protocol `AccessDenied` HTTP 403, JSON protocol `AccessDeniedException` HTTP 400, S3
  `AccessDenied` 403, with the modern message "User: ARN is not authorized to perform: svc:Action on resource: R
  because no identity-based policy allows the svc:Action action" (`principal`, `resource` and `message` override).
- `stale`: eventual consistency. `action` names the reads (List/Get, Query or JSON protocol), `after` the writes
  (a name or list). Just before a matching write is forwarded, the proxy performs each read itself (same
  credentials, the one parameter `key`, default: the first of PolicyArn, UserName, RoleName, GroupName,
  StackName, Name, TrailName, logGroupName found in the write) and keeps the answer; if the write succeeds, the
  next `requests` reads with the same key value (default 1; and/or for `seconds`) get that pre-write answer.
  Examples: ListPolicyVersions after CreatePolicyVersion answers without the new version; GetUser after
  DeleteUser still answers. The stale answer is the read's whole first page; reads of later pages (Marker,
  NextToken) are forwarded. Relies on the upstream not
  checking signatures (moto does not).
- `delete_errors`: S3 DeleteObjects (HTTP 200 with per-key errors,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html): `keys` {key glob: code}, codes such
  as AccessDenied, SlowDown, InternalError. Those keys are removed from the forwarded request (so not deleted) and
  reported as `<Error><Key/><Code/><Message/></Error>` in the 200 answer. `times` counts per key here (a key
  fails its first K deletions). Content-MD5, CRC32 and the SigV4 payload hash are recomputed.
- `page`: page list calls in pages of `size` (default 1): sets the page-size parameter (`param`, default by
  protocol: Query `MaxItems`; JSON `limit` for logs, `MaxResults` otherwise; S3 `max-keys`). When a Query
  protocol answer holds more members than that anyway (moto ignores MaxItems on e.g. ListPolicyVersions), the
  proxy cuts the page itself and returns `IsTruncated=true` with a `Marker` it understands on the next call.

Stats count faults per kind: one per error answer, one per stale answer, one per failed key, one per paged call.

Order: error-like rules (throttle, error, unmodifiable, termination_protection, access_denied) in list order, the
first due one answers (later ones do not count that request); then a stale answer; else the request is forwarded,
rewritten by delete_errors and page rules. Limits: S3 is identified path-style only (what botocore and the Rust SDK
use against 127.0.0.1); stale prefetches are built for Query and JSON protocol reads only.
"""
import argparse
import base64
import fnmatch
import hashlib
import http.client
import json
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "content-length", "expect"}
QUERY_NS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/", "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
            "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/"}
KEY_PARAMS = ("PolicyArn", "UserName", "RoleName", "GroupName", "StackName", "Name", "TrailName", "logGroupName")
S3_MESSAGES = {"AccessDenied": "Access Denied", "SlowDown": "Please reduce your request rate.",
               "InternalError": "We encountered an internal error. Please try again."}
MARKER_PREFIX = "fault-proxy-offset:"
PAGE_TOKENS = ("Marker", "NextToken", "nextToken")
S3_SUBRESOURCES = {  # (method, subresource) -> bucket-level action
    ("GET", "policy"): "GetBucketPolicy", ("PUT", "policy"): "PutBucketPolicy",
    ("DELETE", "policy"): "DeleteBucketPolicy", ("GET", "tagging"): "GetBucketTagging",
    ("PUT", "tagging"): "PutBucketTagging", ("DELETE", "tagging"): "DeleteBucketTagging",
    ("GET", "versioning"): "GetBucketVersioning", ("PUT", "versioning"): "PutBucketVersioning",
    ("GET", "location"): "GetBucketLocation", ("GET", "versions"): "ListObjectVersions",
    ("GET", "lifecycle"): "GetBucketLifecycleConfiguration",
    ("PUT", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("GET", "encryption"): "GetBucketEncryption", ("PUT", "encryption"): "PutBucketEncryption",
    ("GET", "acl"): "GetBucketAcl", ("PUT", "acl"): "PutBucketAcl", ("POST", "delete"): "DeleteObjects",
    ("GET", "uploads"): "ListMultipartUploads", ("GET", "notification"): "GetBucketNotificationConfiguration",
    ("PUT", "notification"): "PutBucketNotificationConfiguration",
}


class Call:
    """One request, identified: service, action, protocol, parameters."""

    def __init__(self, method, path, headers, body):
        self.method, self.headers, self.body = method, headers, body
        url = urllib.parse.urlsplit(path)
        self.path, self.query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.service = _service(headers, self.query)
        self.protocol, self.action, self.params, self.target_prefix = None, None, {}, None
        target = headers.get("X-Amz-Target")
        form = {}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded" and body:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if target:
            self.protocol = "json"
            self.target_prefix, _, self.action = target.rpartition(".")
            try:
                self.params = json.loads(body or b"{}")
            except ValueError:
                self.params = {}
        elif "Action" in self.query or "Action" in form:
            self.protocol = "query"
            merged = dict(self.query)
            merged.update(form)
            self.params = {k: v[0] for k, v in merged.items()}
            self.action = self.params.get("Action")
            self.form = bool(form)
        elif self.service == "s3":
            self.protocol = "rest-xml"
            self.action = self._s3_action()
            self.params = {k: v[0] for k, v in self.query.items()}
        self.name = "%s:%s" % (self.service or "?", self.action or "%s %s" % (method, self.path))

    def _s3_action(self):
        parts = [p for p in self.path.split("/") if p]
        m = self.method
        if not parts:
            return "ListBuckets" if m == "GET" else None
        self.bucket = urllib.parse.unquote(parts[0])
        if len(parts) > 1:
            if "uploadId" in self.query or "uploads" in self.query:
                return {"POST": "CreateMultipartUpload" if "uploads" in self.query else "CompleteMultipartUpload",
                        "PUT": "UploadPart", "DELETE": "AbortMultipartUpload", "GET": "ListParts"}.get(m)
            if m == "PUT" and self.headers.get("x-amz-copy-source"):
                return "CopyObject"
            return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(m)
        for sub in self.query:
            if (m, sub) in S3_SUBRESOURCES:
                return S3_SUBRESOURCES[(m, sub)]
        if m == "GET":
            return "ListObjectsV2" if self.query.get("list-type") == ["2"] else "ListObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(m)


def _service(headers, query):
    auth = headers.get("Authorization") or ""
    m = re.search(r"Credential=([^,\s]+)", auth)
    cred = m.group(1) if m else (query.get("X-Amz-Credential") or [""])[0]
    parts = cred.split("/")
    return parts[3] if len(parts) >= 5 else None


# -- answers ------------------------------------------------------------------------------------------------
class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, list(headers), body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def error_answer(call, code, status, message, fault="Sender"):
    """An error in the shape the call's protocol uses."""
    rid = str(uuid.uuid4())
    if call.protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        ctype = call.headers.get("Content-Type") or "application/x-amz-json-1.1"
        return Answer(status, [("Content-Type", ctype), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", rid)],
                      body)
    if call.protocol == "query":
        ns = QUERY_NS.get(call.service, "https://%s.amazonaws.com/doc/" % call.service)
        body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>'
                '<RequestId>%s</RequestId></ErrorResponse>' % (ns, fault, _x(code), _x(message), rid))
        return Answer(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>%s</RequestId><HostId>%s</HostId></Error>' % (_x(code), _x(message), rid[:16], rid))
    return Answer(status, [("Content-Type", "application/xml"), ("x-amz-request-id", rid[:16])], body.encode())


def _x(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _kind_error(rule, call):
    """The error answer of an error-like rule, or None for other kinds."""
    kind = rule["kind"]
    if kind == "throttle":
        if call.protocol == "rest-xml":
            code, status, msg = "SlowDown", 503, S3_MESSAGES["SlowDown"]
        else:
            code, status, msg = ("ThrottlingException" if call.protocol == "json" else "Throttling"), 400, \
                "Rate exceeded"
        return error_answer(call, rule.get("code", code), rule.get("status", status), rule.get("message", msg))
    if kind == "error":
        return error_answer(call, rule["code"], rule.get("status", 400), rule.get("message", rule["code"]),
                            rule.get("fault", "Sender"))
    if kind == "unmodifiable":
        name = next((call.params.get(k) for k in KEY_PARAMS if call.params.get(k)), "entity")
        msg = rule.get("message", "The entity %s is temporarily unmodifiable: it was recently deleted and "
                                  "recreated. Retry after several minutes." % name)
        return error_answer(call, "EntityTemporarilyUnmodifiable", 409, msg)
    if kind == "termination_protection":
        msg = "Stack [%s] cannot be deleted while TerminationProtection is enabled" % call.params.get("StackName")
        return error_answer(call, "ValidationError", 400, rule.get("message", msg))
    if kind == "access_denied":
        act = "%s:%s" % (call.service, call.action)
        principal = rule.get("principal", "arn:aws:iam::123456789012:user/lppg-test")
        msg = rule.get("message", "User: %s is not authorized to perform: %s on resource: %s because no "
                                  "identity-based policy allows the %s action"
                       % (principal, act, rule.get("resource", "*"), act))
        if call.protocol == "json":
            return error_answer(call, "AccessDeniedException", 400, msg)
        if call.protocol == "rest-xml":
            return error_answer(call, "AccessDenied", 403, rule.get("message", "Access Denied"))
        return error_answer(call, "AccessDenied", 403, msg)
    return None


# -- rules ---------------------------------------------------------------------------------------------------
def _names(v):
    if v is None or v == "*":
        return None
    return {v} if isinstance(v, str) else set(v)


class Rule:
    KINDS = {"throttle", "error", "unmodifiable", "termination_protection", "access_denied", "stale",
             "delete_errors", "page"}

    def __init__(self, spec):
        if spec.get("kind") not in self.KINDS:
            raise ValueError("unknown rule kind %r (known: %s)" % (spec.get("kind"), ", ".join(sorted(self.KINDS))))
        if spec["kind"] == "error" and not spec.get("code"):
            raise ValueError("an error rule needs a code")
        if spec["kind"] == "stale" and not spec.get("after"):
            raise ValueError("a stale rule needs 'after' (the writes that make reads stale)")
        self.spec = dict(spec)
        self.kind = spec["kind"]
        self.actions = _names(spec.get("action"))
        if self.kind == "delete_errors":
            self.actions = {"DeleteObjects"}
        self.after = _names(spec.get("after"))
        self.seen = self.fired = 0
        self.per_key = {}  # delete_errors: key -> times failed
        self.windows = {}  # stale: key value -> {"answers": {action: Answer}, "left": n, "until": t}

    def matches(self, call, actions=None):
        s = self.spec
        if s.get("service") and s["service"] != call.service:
            return False
        names = self.actions if actions is None else actions
        if names is not None and call.action not in names:
            return False
        for k, pat in (s.get("params") or {}).items():
            v = call.params.get(k)
            if v is None or not fnmatch.fnmatchcase(str(v), str(pat)):
                return False
        return True

    def due(self):
        """Counts a matching request; True when this one gets the fault."""
        self.seen += 1
        times = self.spec.get("times")
        if times is not None and self.fired >= times:
            return False
        if self.seen % max(1, int(self.spec.get("every", 1))) != 0:
            return False
        self.fired += 1
        return True

    def public(self):
        return dict(self.spec, seen=self.seen, fired=self.fired)


# -- the proxy -----------------------------------------------------------------------------------------------
class FaultProxy:
    def __init__(self, upstream, rules=(), host="127.0.0.1", port=0):
        u = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port or 80
        self.lock = threading.RLock()
        self.rules = [Rule(r) for r in rules]
        self._zero()
        proxy = self

        class Handler(_Handler):
            pass

        Handler.proxy = proxy
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self.thread = None

    def _zero(self):
        self.requests, self.calls, self.injected, self.log = 0, {}, {}, []

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set_rules(self, rules, append=False):
        new = [Rule(r) for r in rules]
        with self.lock:
            self.rules = (self.rules if append else []) + new

    def reset(self):
        with self.lock:
            self.rules = []
            self._zero()

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "calls": dict(self.calls), "injected": dict(self.injected),
                    "log": list(self.log)}

    def note(self, kind, call, detail="", n=1):
        with self.lock:
            self.injected[kind] = self.injected.get(kind, 0) + n
            self.log.append({"kind": kind, "call": call.name, "detail": detail})
            del self.log[:-500]

    # -- forwarding --------------------------------------------------------------------------------------
    def forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self.up_host, self.up_port, timeout=120)
        try:
            hdrs = {k: v for k, v in headers.items() if k.lower() not in HOP}
            if body or method in ("POST", "PUT"):
                hdrs["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
            if method == "HEAD":
                cl = resp.getheader("Content-Length")
                if cl is not None:
                    out.append(("Content-Length", cl))
            return Answer(resp.status, out, data)
        finally:
            conn.close()

    def handle(self, method, path, headers, body):
        call = Call(method, path, headers, body)
        with self.lock:
            self.requests += 1
            self.calls[call.name] = self.calls.get(call.name, 0) + 1
            rules = list(self.rules)
        for rule in rules:
            if rule.kind in ("stale", "delete_errors", "page") or not rule.matches(call):
                continue
            with self.lock:
                due = rule.due()
            if due:
                self.note(rule.kind, call, rule.spec.get("code", ""))
                return _kind_error(rule.spec, call)
        stale = self._stale_read(call, rules)
        if stale is not None:
            return stale
        pending = self._stale_prefetch(call, rules)
        req = _Request(method, path, dict(headers), body)
        post = []
        for rule in rules:
            if rule.kind == "delete_errors" and rule.matches(call):
                post.append(self._delete_errors(rule, call, req))
            elif rule.kind == "page" and rule.matches(call):
                post.append(self._page(rule, call, req))
        answer = req.answer if req.answer is not None else self.forward(req.method, req.path, req.headers, req.body)
        for fn in post:
            if fn is not None:
                answer = fn(answer)
        if 200 <= answer.status < 300:
            self._stale_commit(pending)
        return answer

    # -- stale ---------------------------------------------------------------------------------------------
    def _key_of(self, rule, call):
        key = rule.spec.get("key")
        names = [key] if key else KEY_PARAMS
        for k in names:
            v = call.params.get(k)
            if isinstance(v, str) and v:
                return k, v
        return None, None

    def _stale_read(self, call, rules):
        if any(call.params.get(k) for k in PAGE_TOKENS):
            return None  # a later page: the stale answer is a whole first page already
        for rule in rules:
            if rule.kind != "stale" or not rule.matches(call):
                continue
            _, value = self._key_of(rule, call)
            with self.lock:
                w = rule.windows.get(value)
                if not w or call.action not in w["answers"]:
                    continue
                if w["left"] <= 0 or time.monotonic() > w["until"]:
                    rule.windows.pop(value, None)
                    continue
                w["left"] -= 1
                rule.seen += 1
                rule.fired += 1
                ans = w["answers"][call.action]
            self.note("stale", call, value)
            return Answer(ans.status, ans.headers, ans.body)
        return None

    def _stale_prefetch(self, call, rules):
        """Before a write: the reads its stale rules will answer with afterwards (as of now)."""
        pending = []
        for rule in rules:
            if rule.kind != "stale" or not rule.matches(call, rule.after):
                continue
            key, value = self._key_of(rule, call)
            if value is None or rule.actions is None:
                continue
            answers = {}
            for read in sorted(rule.actions):
                ans = self._read(call, read, key, value)
                if ans is not None and 200 <= ans.status < 300:
                    answers[read] = ans
            if answers:
                pending.append((rule, value, answers))
        return pending

    def _read(self, call, action, key, value):
        """Performs the read `action` for one key value, with the write's credentials, as of now."""
        drop = HOP | {"x-amz-target", "content-type", "content-md5", "x-amz-content-sha256"}
        headers = {k: v for k, v in call.headers.items() if k.lower() not in drop}
        if call.protocol == "json":
            headers["X-Amz-Target"] = "%s.%s" % (call.target_prefix, action)
            headers["Content-Type"] = call.headers.get("Content-Type") or "application/x-amz-json-1.1"
            body = json.dumps({key: value}).encode()
        elif call.protocol == "query":
            form = {"Action": action, key: value}
            if call.params.get("Version"):
                form["Version"] = call.params["Version"]
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        else:
            return None
        return self.forward("POST", "/", headers, body)

    def _stale_commit(self, pending):
        with self.lock:
            for rule, value, answers in pending:
                secs = rule.spec.get("seconds")
                left = rule.spec.get("requests", 1 if secs is None else 10 ** 9)
                until = time.monotonic() + secs if secs is not None else float("inf")
                rule.windows[value] = {"answers": answers, "left": left, "until": until}

    # -- S3 DeleteObjects ----------------------------------------------------------------------------------
    def _delete_errors(self, rule, call, req):
        try:
            root = ET.fromstring(req.body)
        except ET.ParseError:
            return None
        ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        failed = []
        times = rule.spec.get("times")
        with self.lock:
            for obj in list(root.findall(ns + "Object")):
                key = obj.findtext(ns + "Key")
                code = next((c for pat, c in rule.spec.get("keys", {}).items() if fnmatch.fnmatchcase(key, pat)),
                            None)
                if code is None or (times is not None and rule.per_key.get(key, 0) >= times):
                    continue
                rule.per_key[key] = rule.per_key.get(key, 0) + 1
                rule.fired += 1
                failed.append((key, obj.findtext(ns + "VersionId"), code))
                root.remove(obj)
            rule.seen += 1
        if not failed:
            return None
        for key, _, code in failed:
            self.note("delete_errors", call, "%s %s" % (key, code))
        if root.findall(ns + "Object"):
            req.set_body(_delete_body(root, ns))
        else:
            ok = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>')
            req.answer = Answer(200, [("Content-Type", "application/xml")], ok.encode())

        def rewrite(answer):
            if answer.status != 200:
                return answer
            text = answer.body.decode("utf-8")
            errors = "".join("<Error><Key>%s</Key>%s<Code>%s</Code><Message>%s</Message></Error>"
                             % (_x(k), "<VersionId>%s</VersionId>" % _x(v) if v else "", _x(c),
                                _x(S3_MESSAGES.get(c, c))) for k, v, c in failed)
            i = text.rfind("</DeleteResult>")
            text = text[:i] + errors + text[i:] if i >= 0 else text
            return Answer(200, [(k, v) for k, v in answer.headers if k.lower() != "content-md5"], text.encode())
        return rewrite

    # -- paging --------------------------------------------------------------------------------------------
    def _page(self, rule, call, req):
        size = int(rule.spec.get("size", 1))
        if call.protocol == "query":
            return self._page_query(rule, call, req, size)
        if call.protocol == "json":
            param = rule.spec.get("param") or ("limit" if call.service == "logs" else "MaxResults")
            params = dict(call.params)
            params[param] = min(int(params.get(param) or size), size)
            req.set_body(json.dumps(params).encode())
        elif call.protocol == "rest-xml":
            param = rule.spec.get("param", "max-keys")
            q = {k: v[0] for k, v in call.query.items()}
            q[param] = str(min(int(q.get(param) or size), size))
            req.path = call.path + "?" + urllib.parse.urlencode(q)
        else:
            return None
        with self.lock:
            rule.seen += 1
            rule.fired += 1
        self.note("page", call, "%s=%d" % (param, size))
        return None

    def _page_query(self, rule, call, req, size):
        param = rule.spec.get("param", "MaxItems")
        params = dict(call.params)
        offset = 0
        marker = params.get("Marker", "")
        if marker.startswith(MARKER_PREFIX):
            offset = int(marker[len(MARKER_PREFIX):])
            del params["Marker"]
        params[param] = str(min(int(params.get(param) or size), size))
        req.set_form(call, params)
        with self.lock:
            rule.seen += 1
            rule.fired += 1
        self.note("page", call, "%s=%d" % (param, size))

        def cut(answer):
            return _cut_page(answer, offset, size) if answer.status == 200 else answer
        return cut


def _delete_body(root, ns):
    """The DeleteObjects request body for the objects left in `root` (serialised by hand: moto's parser wants
    the default namespace, which ElementTree would rewrite to a prefix)."""
    parts = []
    for obj in root.findall(ns + "Object"):
        vid = obj.findtext(ns + "VersionId")
        parts.append("<Object><Key>%s</Key>%s</Object>" % (_x(obj.findtext(ns + "Key")),
                                                           "<VersionId>%s</VersionId>" % _x(vid) if vid else ""))
    quiet = root.findtext(ns + "Quiet")
    if quiet:
        parts.append("<Quiet>%s</Quiet>" % _x(quiet))
    xmlns = ' xmlns="%s"' % ns[1:-1] if ns else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Delete%s>%s</Delete>' % (xmlns, "".join(parts))).encode()


def _cut_page(answer, offset, size):
    """Slices a Query-protocol list answer the upstream did not page itself."""
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError:
        return answer
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    result = next((c for c in root if c.tag.endswith("Result")), None)
    if result is None:
        return answer
    lst = next((c for c in result if len(c) and all(m.tag == ns + "member" for m in c)), None)
    truncated = result.find(ns + "IsTruncated")
    if lst is None or (truncated is not None and truncated.text == "true" and offset == 0):
        return answer
    members = list(lst)
    if len(members) <= size and offset == 0:
        return answer
    for m in members:
        lst.remove(m)
    for m in members[offset:offset + size]:
        lst.append(m)
    more = offset + size < len(members)
    for tag in ("IsTruncated", "Marker"):
        el = result.find(ns + tag)
        if el is not None:
            result.remove(el)
    ET.SubElement(result, ns + "IsTruncated").text = "true" if more else "false"
    if more:
        ET.SubElement(result, ns + "Marker").text = "%s%d" % (MARKER_PREFIX, offset + size)
    if ns:
        ET.register_namespace("", ns[1:-1])
    return Answer(200, answer.headers, ET.tostring(root, encoding="utf-8"))


class _Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.answer = None

    def set_body(self, body):
        self.body = body
        for k in list(self.headers):
            kl = k.lower()
            if kl == "content-md5":
                self.headers[k] = base64.b64encode(hashlib.md5(body).digest()).decode()
            elif kl == "x-amz-checksum-crc32":
                self.headers[k] = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
            elif kl.startswith("x-amz-checksum-") or kl == "x-amz-sdk-checksum-algorithm" and \
                    self.headers[k].upper() != "CRC32":
                del self.headers[k]
            elif kl == "x-amz-content-sha256" and not self.headers[k].startswith(("UNSIGNED", "STREAMING")):
                self.headers[k] = hashlib.sha256(body).hexdigest()

    def set_form(self, call, params):
        if getattr(call, "form", False):
            self.set_body(urllib.parse.urlencode(params).encode())
        else:
            url = urllib.parse.urlsplit(self.path)
            self.path = url.path + "?" + urllib.parse.urlencode(params)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy = None

    def log_message(self, *args):
        pass

    def _body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _any(self):
        body = self._body()
        try:
            if self.path.startswith("/__faults/"):
                answer = self._control(body)
            else:
                answer = self.proxy.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            answer = Answer(502, [("Content-Type", "text/plain")], ("fault proxy: %s: %s" % (
                type(exc).__name__, exc)).encode())
        self.send_response(answer.status)
        for k, v in answer.headers:
            if k.lower() not in ("content-length", "server", "date"):
                self.send_header(k, v)
        if self.command == "HEAD":
            cl = answer.header("Content-Length")
            self.send_header("Content-Length", cl if cl is not None else "0")
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

    def _control(self, body):
        p = self.proxy
        route = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(route.query)

        def ok(obj, status=200):
            return Answer(status, [("Content-Type", "application/json")], json.dumps(obj).encode())
        try:
            if route.path == "/__faults/stats" and self.command == "GET":
                return ok(p.stats())
            if route.path == "/__faults/rules" and self.command == "GET":
                with p.lock:
                    return ok({"rules": [r.public() for r in p.rules]})
            if route.path == "/__faults/rules" and self.command == "POST":
                spec = json.loads(body or b"[]")
                p.set_rules(spec["rules"] if isinstance(spec, dict) else spec, append=q.get("append") == ["1"])
                return ok({"rules": len(p.rules)})
            if route.path == "/__faults/rules" and self.command == "DELETE":
                p.set_rules([])
                return ok({"rules": 0})
            if route.path == "/__faults/reset" and self.command == "POST":
                p.reset()
                return ok({"reset": True})
        except (ValueError, KeyError, TypeError) as exc:
            return ok({"error": str(exc)}, 400)
        return ok({"error": "unknown control endpoint %s %s" % (self.command, route.path)}, 404)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="moto server URL, e.g. http://127.0.0.1:5100")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port (printed on stdout's first line)")
    ap.add_argument("--rules", help="JSON file: [rule...] or {\"rules\": [rule...]}")
    ap.add_argument("--rules-json", help="the same, inline")
    args = ap.parse_args(argv)
    rules = []
    for text in ([open(args.rules).read()] if args.rules else []) + ([args.rules_json] if args.rules_json else []):
        spec = json.loads(text)
        rules += spec["rules"] if isinstance(spec, dict) else spec
    proxy = FaultProxy(args.upstream, rules, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=proxy.server.shutdown).start())
    print(proxy.port, flush=True)
    try:
        proxy.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
