#!/usr/bin/env python3
"""Prints the Python engine's result for every shared vector, one JSON object per line, for the Rust engine's
agreement test (tests/engine_agreement.rs). Not a pytest module.

    .venv/bin/python tests/python/rust_agreement_dump.py [VECTORS_DIR]

Vectors of success.jsonl go through Rules.used (successful calls); every other *.jsonl through Rules.classify with
the guard in guard.json (when present; a vector's own `guard` keys laid over it). Output per vector:
{"file", "name", "outcome", "actions": [{"action", "level", "verified"}], "derived_from", "resource", "denied_by",
"denied_by_policy", "reason"} (reason only for blocked and grant outcomes, whose wording both engines share; else null).
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "assets", "function"))

import rules  # noqa: E402  (the function's engine, imported from assets/function)


def main():
    vectors = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "vectors")
    engine = rules.load_rules()
    guard_path = os.path.join(vectors, "guard.json")
    spec = None
    if os.path.exists(guard_path):
        with open(guard_path, encoding="utf-8") as f:
            spec = json.load(f)
    out = sys.stdout
    for file in sorted(os.listdir(vectors)):
        if not file.endswith(".jsonl"):
            continue
        with open(os.path.join(vectors, file), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                v = json.loads(line)
                if file == "success.jsonl":
                    got = engine.used(v["record"], v.get("principal"))
                else:
                    # a vector's own `guard` keys are laid over guard.json's
                    guard = rules.Guard(dict(spec, **v.get("guard", {}))) if spec is not None else None
                    got = engine.classify(v["record"], v.get("principal"), guard)
                out.write(json.dumps({
                    "file": file,
                    "name": v["name"],
                    "outcome": got["outcome"],
                    "actions": [{"action": a["action"], "level": a["level"], "verified": a["verified"]}
                                for a in got["actions"]],
                    "derived_from": got.get("derived_from"),
                    "resource": got.get("resource"),
                    "denied_by": got.get("denied_by"),
                    "denied_by_policy": got.get("denied_by_policy"),
                    "reason": got.get("reason") if got["outcome"] in ("blocked", "grant") else None,
                }, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
