"""lppg generator function: CloudTrail records (CloudWatch Logs subscription batches or EventBridge events) -> IAM
managed policies.

Entry point: handler.lambda_handler. Contract: see README.md next to this file.
stdlib + boto3 only; boto3 is imported on first use so importing this module stays cheap.
"""
import base64
import gzip
import json
import os
import sys
import threading
import time

import rules as rules_mod
import store

_clients = {}
LEVEL_NAMES = rules_mod.ACCESS_LEVELS


def _emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")


class CallCounter:
    """Counts HTTP requests sent to IAM, per thread (tests run invocations in threads)."""

    def __init__(self):
        self._by_thread = {}

    def __call__(self, **_kwargs):
        t = threading.get_ident()
        self._by_thread[t] = self._by_thread.get(t, 0) + 1
        # returning None keeps botocore's normal behaviour

    @property
    def n(self):
        return self._by_thread.get(threading.get_ident(), 0)


def iam_client():
    """One IAM client per container (endpoint from AWS_ENDPOINT_URL when set), with a call counter."""
    key = (os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ENDPOINT_URL_IAM"),
           os.environ.get("AWS_ACCESS_KEY_ID"))
    with _clients_lock:
        return _iam_client_locked(key)


_clients_lock = threading.Lock()


def _iam_client_locked(key):
    entry = _clients.get(key)
    if entry is None:
        import boto3
        from botocore.config import Config as BotoConfig

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                            read_timeout=15, max_pool_connections=32)
        client = boto3.client("iam", region_name=region, config=config)
        counter = CallCounter()
        client.meta.events.register("before-send.iam", counter)
        entry = _clients[key] = (client, counter)
    return entry


class Config:
    def __init__(self, env):
        self.problems = []
        self.user_arn = (env.get("LPPG_USER_ARN") or "").strip()
        if not self.user_arn:
            self.problems.append("LPPG_USER_ARN is not set")
        self.policy_arns = [a.strip() for a in (env.get("LPPG_POLICY_ARNS") or "").split(",") if a.strip()]
        if not self.policy_arns:
            self.problems.append("LPPG_POLICY_ARNS is not set")
        self.guard = None
        try:
            self.guard = rules_mod.Guard.from_json(env.get("LPPG_GUARD") or "")
        except (ValueError, TypeError) as exc:
            self.problems.append("LPPG_GUARD is missing or invalid (%s): nothing is granted without the guard"
                                 % exc)


def decode_payload(event):
    """(messageType, [log events]) from a CloudWatch Logs subscription event. Raises ValueError."""
    if not isinstance(event, dict):
        raise ValueError("event is not a JSON object")
    data = (event.get("awslogs") or {}).get("data") if isinstance(event.get("awslogs"), dict) else None
    if not isinstance(data, str):
        raise ValueError("event has no awslogs.data: not a CloudWatch Logs subscription payload")
    try:
        raw = gzip.decompress(base64.b64decode(data, validate=False))
        payload = json.loads(raw)
    except Exception as exc:  # noqa: BLE001 - any decoding problem is reported the same way
        raise ValueError("awslogs.data is not base64-encoded gzip JSON (%s)" % exc.__class__.__name__)
    if not isinstance(payload, dict):
        raise ValueError("awslogs.data does not hold a JSON object")
    events = payload.get("logEvents") or []
    if not isinstance(events, list):
        raise ValueError("logEvents is not a list")
    return payload.get("messageType"), events


# The path that delivered an invocation, written on every decision line and batch summary (`path`): CloudWatch Logs
# (the trail's log group's subscription filter, minutes after the call) or EventBridge (a rule on the default bus,
# seconds after it). One denial may arrive through both; its `event_id` identifies it.
PATH_LOGS = "cloudwatch_logs"
PATH_EVENTBRIDGE = "eventbridge"
# EventBridge's detail-types for CloudTrail records end with this (EventBridge User Guide, "AWS service events
# delivered via AWS CloudTrail": "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", …); the
# CloudTrail record is the event's `detail`. The fast path's rule asks for API calls only.
CLOUDTRAIL_DETAIL_TYPE_SUFFIX = " via CloudTrail"


def is_eventbridge(event):
    """Whether an invocation event came from EventBridge (it has a `detail-type`) rather than CloudWatch Logs."""
    return isinstance(event, dict) and "detail-type" in event and "awslogs" not in event


def decode_eventbridge(event):
    """[(event id, CloudTrail record)] of an EventBridge event: its `detail`. Raises ValueError."""
    kind = event.get("detail-type")
    if not isinstance(kind, str) or not kind.endswith(CLOUDTRAIL_DETAIL_TYPE_SUFFIX):
        raise ValueError("EventBridge event of detail-type %r: not a CloudTrail record (\"… via CloudTrail\")"
                         % (kind,))
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise ValueError("EventBridge event %s has no CloudTrail record in `detail`" % event.get("id"))
    return [(event.get("id"), detail)]


# The `decision` kinds of a decision line: the contract with the CLI (its `DecisionKind`), pinned by
# tests/vectors/decision_schema.json and tests/vectors/decision_lines.json.
GRANTED = "granted"
UNVERIFIED = "unverified"
ALREADY_PRESENT = "already_present"
WITHHELD = "withheld"
EXPLICIT_DENY = "explicit_deny"
BLOCKED = "blocked"
NOT_PERMISSION = "not_permission"
ERROR = "error"
PROBE = "probe"
DECISION_KINDS = (GRANTED, UNVERIFIED, ALREADY_PRESENT, WITHHELD, EXPLICIT_DENY, NOT_PERMISSION, ERROR, PROBE, BLOCKED)
# `lppg status --probe` writes a CloudTrail-shaped record with this event source, for an action no one can hold,
# marked with its probe id; the function answers with a `probe` line and grants nothing.
PROBE_SOURCE = "probe.lppg.invalid"
PROBE_ACTION = "lppg:Probe"
# rules.classify outcomes that are only counted in the batch line, with no decision line.
SILENT_OUTCOMES = ("other_principal", "not_denied")


def _decision(decision, record=None, action=None, derived=None, level=None, policy=None, version=None,
              reason="", resource=None, denied_by=None, denied_by_policy=None, path=None):
    r = record if isinstance(record, dict) else {}

    def s(key):
        v = r.get(key)
        return v if isinstance(v, str) else None

    return {"lppg": "decision", "v": 1, "decision": decision, "action": action, "derived_from": derived,
            "access_level": LEVEL_NAMES.get(level) if level else None,
            "event_time": s("eventTime"), "event_id": s("eventID"), "event_source": s("eventSource"),
            "event_name": s("eventName"), "policy": policy, "version": version, "reason": reason,
            "resources": rules_mod.evidence(r, resource),
            "denied_by": denied_by, "denied_by_policy": denied_by_policy, "path": path}


class Batch:
    """One invocation's decision lines and its summary, counted as each line is added (never re-read)."""

    def __init__(self, path=None):
        self.lines = []
        self.path = path
        self.summary = {"lppg": "batch", "v": 1, "path": path, "records": 0, "denied": 0, "granted": 0, "already_present": 0,
                        "withheld": 0, "errors": 0, "explicit_deny": 0, "not_permission": 0, "unverified": 0,
                        "not_denied": 0, "other_principal": 0, "probe": 0, "blocked": 0, "policies_written": [],
                        "policy_sizes": [],
                        "iam_calls": 0, "duration_ms": 0}

    def count(self, counter):
        """Counts a record: `records`, `denied`, or a silent outcome (`not_denied`, `other_principal`)."""
        self.summary[counter] += 1

    def decide(self, kind, *args, **kwargs):
        """Adds one decision line (arguments as `_decision`) and counts it."""
        self.lines.append(_decision(kind, *args, path=self.path, **kwargs))
        if kind in (GRANTED, UNVERIFIED):
            self.summary["granted"] += 1
            if kind == UNVERIFIED:
                self.summary["unverified"] += 1
        elif kind == ERROR:
            self.summary["errors"] += 1
        elif kind in self.summary:
            self.summary[kind] += 1


class IamAccess:
    """The IAM client, created on first use unless one is given, and the calls made through it."""

    def __init__(self, iam=None, counter=None):
        self.iam, self.counter = iam, counter
        self.calls_before = counter.n if counter else 0

    def client(self):
        if self.iam is None:
            self.iam, self.counter = iam_client()
            self.calls_before = self.counter.n
        return self.iam

    def calls(self):
        return (self.counter.n - self.calls_before) if self.counter else 0


def _log_events(event, batch):
    """[(id, record text or record)] of the invocation: the `detail` of an EventBridge event, or a CloudWatch Logs
    batch's log events (none for a control message); none, after an error line, for a payload of neither shape."""
    try:
        if is_eventbridge(event):
            return decode_eventbridge(event)
        mtype, log_events = decode_payload(event)
    except ValueError as exc:
        batch.decide(ERROR, reason=str(exc))
        return []
    if mtype == "CONTROL_MESSAGE":
        return []
    return [(ev.get("id"), ev.get("message")) if isinstance(ev, dict) else (None, None) for ev in log_events]


def _classify(ev, cfg, r, batch):
    """(record, classification) of one (id, record text or record), or None after an error line."""
    batch.count("records")
    ev_id, msg = ev
    try:
        record = msg if isinstance(msg, dict) else json.loads(msg)
        if not isinstance(record, dict):
            raise ValueError("not an object")
    except (TypeError, ValueError) as exc:
        batch.decide(ERROR, reason="log event %s is not a CloudTrail JSON record (%s)" % (ev_id, exc))
        return None
    if cfg.problems:
        batch.decide(ERROR, record, reason="; ".join(cfg.problems))
        return None
    if _is_probe(record, cfg):
        return record, {"outcome": PROBE, "actions": [], "derived_from": None}
    try:
        return record, r.classify(record, cfg.user_arn, cfg.guard)
    except Exception as exc:  # noqa: BLE001 - one bad record never costs the batch
        return record, {"outcome": "error", "actions": [], "derived_from": None,
                        "reason": "unexpected record shape (%s: %s)" % (type(exc).__name__, exc)}


def _is_probe(record, cfg):
    """A probe record of lppg's caller: its event source, a probe id, and made by the observed principal by the same
    match as its denials (`rules.made_by`: the user's ARN, or in role mode a session of the role). A record with the
    probe's source that is not a probe is never granted either (mapping.json lists the source as not a permission)."""
    return (record.get("eventSource") == PROBE_SOURCE and isinstance(record.get("lppgProbe"), str)
            and rules_mod.made_by(record.get("userIdentity"), cfg.user_arn))


def _groups_of(access, user):
    """The IAM groups `user` is in (ListGroupsForUser, every page): the guard's way to tell whether a denied
    AttachGroupPolicy/PutGroupPolicy would change the observed user's own permissions."""
    names, marker = [], None
    while True:
        kw = {"UserName": user, **({"Marker": marker} if marker else {})}
        page = access.client().list_groups_for_user(**kw)
        names += [g["GroupName"] for g in page.get("Groups", [])]
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return names


def _write(classified, cfg, access, batch, sleep, deadline):
    """Writes every action to grant; (results by action, writer), writer None when there was nothing to write."""
    wanted = [a["action"] for item in classified if item and item[1]["outcome"] == "grant"
              for a in item[1]["actions"]]
    if not wanted:
        return {}, None
    writer = store.PolicyWriter(access.client(), cfg.policy_arns, sleep=sleep, deadline=deadline)
    writer.read_defaults()
    results = writer.write(wanted)
    for act, why in writer.orphans:
        batch.decide(ERROR, action=act, reason=why)
    return results, writer


def _report_grants(record, c, results, reported, batch):
    """One line per action to grant: granted, already present (also: asked for earlier in the batch), unverified."""
    for a in c["actions"]:
        act = a["action"]
        status, policy, version, reason = results.get(act, (ERROR, None, None, "not written"))
        if status == GRANTED and act in reported:
            status = ALREADY_PRESENT
        if status == GRANTED and not a["verified"]:
            status = UNVERIFIED
            reason = "not in the IAM action catalogue (granted anyway; check the name)"
        elif status in (GRANTED, ALREADY_PRESENT) and c.get("reason"):
            reason = c["reason"]  # a resource-based policy's implicit deny: its own policy must also allow it
        reported.add(act)
        batch.decide(status, record, act, c.get("derived_from"), a["level"], policy, version, reason,
                     c.get("resource"), c.get("denied_by"), c.get("denied_by_policy"))


def _report(classified, results, r, batch):
    """The decision lines (and record counters) of every classified record, in record order."""
    reported = set()
    for item in classified:
        if item is None:
            continue
        record, c = item
        outcome = c["outcome"]
        if outcome == PROBE:
            batch.decide(PROBE, record, PROBE_ACTION,
                         reason="probe %s arrived through the subscription; nothing granted" % record["lppgProbe"])
            continue
        if outcome in SILENT_OUTCOMES:
            batch.count(outcome)
            continue
        if record.get("errorCode") in r.denied_codes:
            batch.count("denied")
        if outcome == "grant":
            _report_grants(record, c, results, reported, batch)
            continue
        for a in c.get("actions") or [{"action": None, "level": None}]:
            batch.decide(outcome, record, a["action"], c.get("derived_from"), a["level"],
                         reason=c.get("reason", ""), resource=c.get("resource"),
                         denied_by=c.get("denied_by"), denied_by_policy=c.get("denied_by_policy"))


def _run(event, env, batch, access, sleep, deadline):
    """Decodes, classifies, writes and reports; returns whether a policy update could not be confirmed."""
    log_events = _log_events(event, batch)
    cfg = Config(env)
    if cfg.guard is not None:
        cfg.guard.group_lookup = lambda user: _groups_of(access, user)
    r = rules_mod.load_rules()
    classified = [_classify(ev, cfg, r, batch) for ev in log_events]
    results, writer = _write(classified, cfg, access, batch, sleep, deadline)
    _report(classified, results, r, batch)
    if writer is None:
        return False
    batch.summary["policies_written"] = writer.written
    batch.summary["policy_sizes"] = writer.sizes()
    return writer.transient_failure


def path_of(event):
    """The path that delivered the event (`PATH_EVENTBRIDGE`, `PATH_LOGS`), None for an event of neither shape."""
    if is_eventbridge(event):
        return PATH_EVENTBRIDGE
    if isinstance(event, dict) and isinstance(event.get("awslogs"), dict):
        return PATH_LOGS
    return None


def process(event, env=None, iam=None, counter=None, sleep=time.sleep, deadline=None, emit=_emit):
    """Handle one invocation; returns the batch summary (also emitted as the last line)."""
    t0 = time.monotonic()
    env = os.environ if env is None else env
    batch, access = Batch(path_of(event)), IamAccess(iam, counter)
    try:
        transient = _run(event, env, batch, access, sleep, deadline)
    except Exception as exc:  # noqa: BLE001 - last resort: report, never lose the batch line
        batch.decide(ERROR, reason="internal error: %s: %s" % (type(exc).__name__, exc))
        transient = True
    for ln in batch.lines:
        emit(ln)
    summary = batch.summary
    summary["iam_calls"] = access.calls()
    summary["duration_ms"] = int((time.monotonic() - t0) * 1000)
    emit(summary)
    summary["_transient_failure"] = transient
    return summary


def lambda_handler(event, context):
    deadline = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        deadline = time.monotonic() + max(context.get_remaining_time_in_millis() / 1000.0 - 10.0, 1.0)
    batch = process(event, deadline=deadline)
    transient = batch.pop("_transient_failure", False)
    sys.stdout.flush()
    if transient:
        # IAM could not be updated (throttling/contention/outage): fail the invocation so Lambda's
        # asynchronous retry re-delivers the batch. Re-delivery is harmless (already-present actions).
        raise RuntimeError("lppg: policy update not confirmed; see the decision lines above")
    return batch
