"""The function↔CLI contract as pytest reads it: tests/vectors/decision_schema.json and decision_lines.json, and a
check of printed lines against the schema (used by test_contract.py and by every run in test_function.py)."""
import functools
import json
import os
from collections import Counter

from conftest import VECTORS_DIR

TYPES = {"string": str, "integer": int, "list": list, "null": type(None)}


@functools.lru_cache(maxsize=None)
def load_schema():
    with open(os.path.join(VECTORS_DIR, "decision_schema.json"), encoding="utf-8") as f:
        return json.load(f)


def load_vectors():
    with open(os.path.join(VECTORS_DIR, "decision_lines.json"), encoding="utf-8") as f:
        return json.load(f)["vectors"]


def _type_ok(value, types):
    # bool is an int in Python, never a JSON integer here
    return any(isinstance(value, TYPES[t]) and not isinstance(value, bool) for t in types)


def problems(line, part):
    """What is wrong with `line` against the schema's `part` ("decision" or "batch"); empty when it conforms."""
    spec = load_schema()[part]
    fields = dict(spec["fields"])
    if part == "decision":
        fields.update(spec["kinds"].get(line.get("decision"), {}))
    out = []
    if set(line) != set(fields):
        out.append("fields %s, expected %s" % (sorted(line), sorted(fields)))
    for key, rule in fields.items():
        if key not in line:
            continue
        if not _type_ok(line[key], rule["type"]):
            out.append("%s: %r is not %s" % (key, line[key], "/".join(rule["type"])))
        elif "values" in rule and line[key] not in rule["values"]:
            out.append("%s: %r is not one of %r" % (key, line[key], rule["values"]))
    return out


def check_lines(lines):
    """Every line conforms; the batch line is last and counts the decision lines. Returns the decision lines."""
    *decisions, batch = lines
    for line in decisions:
        assert line["lppg"] == "decision"
        assert problems(line, "decision") == [], line
    assert problems(batch, "batch") == [], batch
    seen = Counter(line["decision"] for line in decisions)
    for counter, kinds in load_schema()["batch"]["counts"].items():
        assert batch[counter] == sum(seen[k] for k in kinds), counter
    return decisions
