"""lppg generator function: CloudWatch Logs subscription (CloudTrail records) -> IAM managed policies.

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


def _decision(decision, record=None, action=None, derived=None, level=None, policy=None, version=None,
              reason=""):
    r = record if isinstance(record, dict) else {}

    def s(key):
        v = r.get(key)
        return v if isinstance(v, str) else None

    return {"lppg": "decision", "v": 1, "decision": decision, "action": action, "derived_from": derived,
            "access_level": LEVEL_NAMES.get(level) if level else None,
            "event_time": s("eventTime"), "event_id": s("eventID"), "event_source": s("eventSource"),
            "event_name": s("eventName"), "policy": policy, "version": version, "reason": reason}


def process(event, env=None, iam=None, counter=None, sleep=time.sleep, deadline=None, emit=_emit):
    """Handle one invocation; returns the batch summary (also emitted as the last line)."""
    t0 = time.monotonic()
    env = os.environ if env is None else env
    lines = []
    batch = {"lppg": "batch", "v": 1, "records": 0, "denied": 0, "granted": 0, "already_present": 0,
             "withheld": 0, "errors": 0, "explicit_deny": 0, "not_permission": 0, "unverified": 0,
             "not_denied": 0, "other_principal": 0, "policies_written": [], "policy_sizes": [],
             "iam_calls": 0, "duration_ms": 0}
    calls_before = counter.n if counter else 0
    try:
        try:
            mtype, log_events = decode_payload(event)
        except ValueError as exc:
            lines.append(_decision("error", reason=str(exc)))
            log_events, mtype = [], None
        if mtype == "CONTROL_MESSAGE":
            log_events = []
        cfg = Config(env)
        r = rules_mod.load_rules()
        classified = []  # (record, classification)
        for ev in log_events:
            batch["records"] += 1
            ev_id = ev.get("id") if isinstance(ev, dict) else None
            msg = ev.get("message") if isinstance(ev, dict) else None
            try:
                record = json.loads(msg)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except (TypeError, ValueError) as exc:
                lines.append(_decision("error", reason="log event %s is not a CloudTrail JSON record (%s)"
                                       % (ev_id, exc)))
                classified.append(None)
                continue
            if cfg.problems:
                lines.append(_decision("error", record, reason="; ".join(cfg.problems)))
                classified.append(None)
                continue
            try:
                c = r.classify(record, cfg.user_arn, cfg.guard)
            except Exception as exc:  # noqa: BLE001 - one bad record never costs the batch
                c = {"outcome": "error", "actions": [], "derived_from": None,
                     "reason": "unexpected record shape (%s: %s)" % (type(exc).__name__, exc)}
            classified.append((record, c))
        # which actions to write
        wanted = []
        for item in classified:
            if item and item[1]["outcome"] == "grant":
                wanted.extend(a["action"] for a in item[1]["actions"])
        results = {}
        writer = None
        if wanted:
            if iam is None:
                iam, counter = iam_client()
                calls_before = counter.n
            writer = store.PolicyWriter(iam, cfg.policy_arns, sleep=sleep, deadline=deadline)
            writer.read_defaults()
            results = writer.write(wanted)
            for act, why in writer.orphans:
                lines.append(_decision("error", action=act, reason=why))
        reported = set()
        for item in classified:
            if item is None:
                continue
            record, c = item
            outcome = c["outcome"]
            if outcome in ("other_principal", "not_denied"):
                batch[outcome] += 1
                continue
            if record.get("errorCode") in r.denied_codes:
                batch["denied"] += 1
            derived = c.get("derived_from")
            if outcome == "grant":
                for a in c["actions"]:
                    act = a["action"]
                    status, policy, version, reason = results.get(act, ("error", None, None, "not written"))
                    if status == "granted" and act in reported:
                        status = "already_present"
                    if status == "granted" and not a["verified"]:
                        status = "unverified"
                        reason = "not in the IAM action catalogue (granted anyway; check the name)"
                    reported.add(act)
                    lines.append(_decision(status, record, act, derived, a["level"], policy, version, reason))
            else:
                acts = c.get("actions") or [{"action": None, "level": None}]
                for a in acts:
                    lines.append(_decision(outcome, record, a["action"], derived, a["level"],
                                           reason=c.get("reason", "")))
        for ln in lines:
            d = ln["decision"]
            if d in ("granted", "unverified"):
                batch["granted"] += 1
                if d == "unverified":
                    batch["unverified"] += 1
            elif d == "error":
                batch["errors"] += 1
            elif d in batch and d != "denied":
                batch[d] += 1
        if writer is not None:
            batch["policies_written"] = writer.written
            batch["policy_sizes"] = writer.sizes()
            transient = writer.transient_failure
        else:
            transient = False
    except Exception as exc:  # noqa: BLE001 - last resort: report, never lose the batch line
        lines.append(_decision("error", reason="internal error: %s: %s" % (type(exc).__name__, exc)))
        batch["errors"] += 1
        transient = True
    for ln in lines:
        emit(ln)
    batch["iam_calls"] = (counter.n - calls_before) if counter else 0
    batch["duration_ms"] = int((time.monotonic() - t0) * 1000)
    emit(batch)
    batch["_transient_failure"] = transient
    return batch


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
