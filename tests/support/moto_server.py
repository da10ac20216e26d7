"""Starts moto server for the tests, with one fix to its debug endpoint.

`GET /moto-api/data.json` (the tests read IAM login passwords from it) fails with HTTP 500 once a Lambda function
exists on a machine without docker: reading the function's `docker_client` attribute raises DockerException, which
moto's serialiser does not catch. This wrapper skips attributes that raise anything. Everything else is moto as is.
Usage: python tests/support/moto_server.py -H 127.0.0.1 -p PORT

With LPPG_MOTO_BOUNDARY=<dir> in its environment, three calls moto cannot answer get answers shaped as the API
reference documents them, and what was asked is written down for the test to check (tests/probe_redrive.rs):
- Lambda Invoke: each request is appended to <dir>/invoke-requests.jsonl; the answer is the next of
  <dir>/invoke-responses.json ([{"status": 200, "functionError": "Unhandled"|null, "payload": {...}}, ...]);
  `"expire_visibility": true` in an answer makes the re-run slow: every held SQS message becomes visible again.
- CloudWatch Logs TestMetricFilter: each request is appended to <dir>/test-metric-filter-requests.jsonl; the answer
  is the next of <dir>/test-metric-filter-responses.json ([{"matches": [{"eventNumber": 1, ...}]}, ...]).
- Delivery through a subscription filter to a function: moto builds the payload as CloudWatch Logs does; instead of
  running the function in docker, the function's own code (assets/function/handler.py) runs here with the deployed
  function's environment and no IAM access, and its lines go to the function's log group, as Lambda would put them.
"""
import base64
import gzip
import json
import os
import sys
import time

from moto.moto_api._internal.responses import MotoAPIResponse


def _model_data(self, request, full_url, headers):
    from moto.core.model_instances import model_data

    results = {}
    for service in sorted(model_data):
        models = model_data[service]
        results[service] = {}
        for name in sorted(models):
            results[service][name] = []
            for instance in models[name].instances_tracked:
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except Exception:  # noqa: BLE001 - skip whatever cannot be read or serialised
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


MotoAPIResponse.model_data = _model_data

BOUNDARY = os.environ.get("LPPG_MOTO_BOUNDARY")
FUNCTION_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "assets", "function")


def _note(name, obj):
    with open(os.path.join(BOUNDARY, name), "a", encoding="utf-8") as f:
        f.write(json.dumps(obj) + "\n")


def _next_answer(name):
    path = os.path.join(BOUNDARY, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        answers = json.load(f)
    if not answers:
        return None
    with open(path, "w", encoding="utf-8") as f:
        json.dump(answers[1:], f)
    return answers[0]


def _invoke(self):
    from urllib.parse import unquote

    body = self.body.decode() if isinstance(self.body, bytes) else self.body
    _note("invoke-requests.jsonl", {"function": unquote(self.path.rsplit("/", 2)[-2]),
                                    "invocation_type": self.headers.get("X-Amz-Invocation-Type"),
                                    "payload": json.loads(body) if body else None})
    answer = _next_answer("invoke-responses.json") or {"status": 200, "payload": None}
    if answer.get("expire_visibility"):
        _expire_visibility()
    headers = {"content-type": "application/json"}
    if answer.get("functionError"):
        headers["x-amz-function-error"] = answer["functionError"]
    return answer.get("status", 200), headers, json.dumps(answer.get("payload"))


def _expire_visibility():
    """A slow re-run: every message held in any queue becomes visible again, as when its visibility timeout runs out
    while the invocation lasts (SQS Developer Guide, "Amazon SQS visibility timeout")."""
    from moto.sqs.models import sqs_backends

    for regions in sqs_backends.values():
        for backend in regions.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    message.visible_at = 0
                queue.pending_messages.clear()


def _test_metric_filter(self):
    _note("test-metric-filter-requests.jsonl", json.loads(self.body))
    answer = _next_answer("test-metric-filter-responses.json")
    if answer is None:
        return 400, {}, json.dumps({"__type": "InvalidParameterException", "message": "no recorded answer"})
    return json.dumps(answer)


class _NoIam:
    def __getattr__(self, name):
        raise RuntimeError("no IAM access at the test boundary")


def _send_log_event(self, function_arn, filter_name, log_group_name, log_stream_name, log_events):
    from moto.logs.models import logs_backends

    data = {"messageType": "DATA_MESSAGE", "owner": self.account_id, "logGroup": log_group_name,
            "logStream": log_stream_name, "subscriptionFilters": [filter_name], "logEvents": log_events}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}
    fn = self._lambdas.get_arn(function_arn)
    if FUNCTION_DIR not in sys.path:
        sys.path.insert(0, FUNCTION_DIR)
    import handler

    lines = []
    handler.process(event, env=dict(fn.environment_vars), iam=_NoIam(),
                    emit=lambda obj: lines.append(json.dumps(obj, separators=(",", ":"))))
    _note("deliveries.jsonl", {"function": function_arn, "events": len(log_events)})
    group = logs_backends[self.account_id][self.region_name].groups["/aws/lambda/" + fn.function_name]
    stream = "2026/01/01/[$LATEST]boundary"
    if stream not in group.streams:
        group.create_log_stream(stream)
    now = int(time.time() * 1000)
    group.put_log_events(stream, [{"timestamp": now, "message": line} for line in lines])


if BOUNDARY:
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse
    from moto.logs.responses import LogsResponse

    LambdaResponse.invoke = _invoke
    LogsResponse.test_metric_filter = _test_metric_filter
    LambdaBackend.send_log_event = _send_log_event

def _end_with_parent():
    """With LPPG_MOTO_PARENT_PID, ends this server once that process (the test binary, whose pool of idle servers
    is never dropped) is gone: a reparented process sees another parent."""
    parent = os.environ.get("LPPG_MOTO_PARENT_PID")
    if not parent or os.getppid() != int(parent):
        return
    import threading

    def watch():
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    from moto.server import main

    _end_with_parent()

    sys.exit(main(sys.argv[1:]))
