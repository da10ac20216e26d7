"""Pure policy-document model: parse any IAM document, group actions per service, size, render.

A generator document is
    {"Version":"2012-10-17","Statement":[<kept statements...>, <one statement per service prefix...>]}
where a per-prefix statement is {"Sid":"<Prefix>","Effect":"Allow","Action":[sorted],"Resource":"*"}.
"Kept" statements are any statement that is not a per-prefix statement and not the spare-policy
placeholder (e.g. CloudFormation's LppgStart statement); they are carried over verbatim.
"""
import json
import re
from urllib.parse import unquote

MAX_SIZE = 6144
PLACEHOLDER_SID = "LppgPlaceholder"
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")
# A concrete action, as the CLI's `Action::parse` reads one: no wildcard (`*`, `?`) is an action.
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_-]+")
_HEAD = '{"Version":"2012-10-17","Statement":['
_TAIL = "]}"
# {"Sid":"<sid>","Effect":"Allow","Action":[<actions>],"Resource":"*"}
_STMT_FIXED = len('{"Sid":"","Effect":"Allow","Action":[],"Resource":"*"}')


def sid_for(prefix):
    s = _NON_ALNUM.sub("", prefix)
    return s[:1].upper() + s[1:]


def sort_key(action):
    return (action.lower(), action)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def size_of(text):
    """IAM's size: characters with whitespace removed."""
    return len("".join(text.split()))


def decode_document(doc):
    """Policy document as returned by IAM (URL-encoded string), moto (raw JSON string) or boto3 (dict)."""
    if isinstance(doc, dict):
        return doc
    if not isinstance(doc, str):
        raise ValueError("policy document is neither a string nor an object")
    text = doc.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    return json.loads(text)


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


class Content:
    """What one policy version holds, as far as the generator is concerned."""

    __slots__ = ("actions", "kept", "kept_actions", "size")

    def __init__(self, actions=(), kept=(), size=None):
        self.size = size  # characters of the document it came from (whitespace removed)
        self.actions = set(actions)  # every action granted Allow on "*" without condition (incl. kept ones)
        self.kept = list(kept)  # verbatim statements carried over
        self.kept_actions = set()
        for st in self.kept:
            self.kept_actions |= _granted_actions(st)
        self.actions |= self.kept_actions


def _granted_actions(st):
    """Actions an unconditional Allow on every resource (Resource "*" or a list holding "*") lists.

    The CLI reads statements the same way; tests/vectors/policy_documents.json pins both.
    """
    if not isinstance(st, dict) or st.get("Effect") != "Allow" or "Condition" in st or "NotAction" in st:
        return set()
    res = _as_list(st.get("Resource"))
    if "*" not in res:
        return set()
    return {a for a in _as_list(st.get("Action")) if isinstance(a, str) and _ACTION.fullmatch(a)}


def _is_managed(st):
    if not isinstance(st, dict) or set(st) != {"Sid", "Effect", "Action", "Resource"}:
        return False
    if st.get("Effect") != "Allow" or st.get("Resource") != "*":
        return False
    acts = _as_list(st.get("Action"))
    if not acts or not all(isinstance(a, str) and ":" in a for a in acts):
        return False
    prefixes = {a.split(":", 1)[0].lower() for a in acts}
    return len(prefixes) == 1 and st.get("Sid") == sid_for(prefixes.pop())


def parse(doc):
    """Content of a policy document (any of the encodings decode_document accepts)."""
    d = decode_document(doc)
    stmts = _as_list(d.get("Statement")) if isinstance(d, dict) else []
    actions, kept = set(), []
    for st in stmts:
        if isinstance(st, dict) and st.get("Sid") == PLACEHOLDER_SID:
            continue
        if _is_managed(st):
            actions |= _granted_actions(st)
        else:
            kept.append(st)
    return Content(actions, kept, size_of(compact(d)))


class Draft:
    """A document being built: kept statements + per-prefix statements, with its size kept up to date."""

    def __init__(self, kept=(), actions=()):
        self.kept = list(kept)
        self.kept_actions = set()
        for st in self.kept:
            self.kept_actions |= _granted_actions(st)
        self.kept_size = sum(size_of(compact(st)) for st in self.kept)
        self.by_prefix = {}  # prefix -> set of actions
        self.prefix_size = {}  # prefix -> characters in its statement
        self.lower = {a.lower() for a in self.kept_actions}
        for a in actions:
            self.add(a)

    def __contains__(self, action):
        return action.lower() in self.lower

    @property
    def actions(self):
        s = set(self.kept_actions)
        for v in self.by_prefix.values():
            s |= v
        return s

    def size(self):
        n = len(self.kept) + len(self.by_prefix)
        body = self.kept_size + sum(self.prefix_size.values()) + max(n - 1, 0)
        return len(_HEAD) + body + len(_TAIL)

    def cost(self, action):
        """Characters added by adding `action` (0 if present)."""
        if action in self:
            return 0
        prefix = action.split(":", 1)[0].lower()
        if prefix in self.by_prefix:
            return len(action) + 3  # ,"a"
        comma = 1 if (self.kept or self.by_prefix) else 0
        return comma + _STMT_FIXED + len(sid_for(prefix)) + len(action) + 2

    def fits(self, action, limit=MAX_SIZE):
        return self.size() + self.cost(action) <= limit

    def add(self, action):
        if action in self:
            return False
        prefix = action.split(":", 1)[0].lower()
        if prefix in self.by_prefix:
            self.by_prefix[prefix].add(action)
            self.prefix_size[prefix] += len(action) + 3
        else:
            self.by_prefix[prefix] = {action}
            self.prefix_size[prefix] = _STMT_FIXED + len(sid_for(prefix)) + len(action) + 2
        self.lower.add(action.lower())
        return True

    def document(self):
        stmts = list(self.kept)
        for prefix in sorted(self.by_prefix):
            stmts.append({"Sid": sid_for(prefix), "Effect": "Allow",
                          "Action": sorted(self.by_prefix[prefix], key=sort_key), "Resource": "*"})
        return {"Version": "2012-10-17", "Statement": stmts}

    def render(self):
        return compact(self.document())
