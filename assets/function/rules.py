"""Pure mapping rules: CloudTrail record -> IAM action(s).

No AWS calls and no boto3 here. All rules are data in mapping.json; the operation map generated from
public data (scripts/gen_operation_map.py) is operations.json; the IAM action catalogue is
iam-actions.json. All are read lazily from next to this file (also inside a zip via the module
loader), so importing this module is cheap.

The same rules are implemented by the Rust CLI; tests/vectors/ pins the behaviour of both.
Evaluation order (documented in README.md, keep in sync):
  1. principal      userIdentity.arn != principal, and for a role principal sessionContext.sessionIssuer.arn
                    != principal too (its assumed-role sessions)  -> other_principal
  2. not-permission eventSource/eventName in not_permission_events -> not_permission
  3. error code     absent / in not_denied_error_codes / unknown -> not_denied
  4. action         first message pattern naming an action ("message"), else eventSource/eventName ("event"):
                    mapping.json's exceptions, then operations.json, then API Gateway verbs, then prefix:EventName
  5. canonical form prefix lower-case, name in catalogue casing; permissionless actions dropped
                    (all permissionless -> not_permission)
  6. guard          target matches LPPG_GUARD                     -> withheld
  7. explicit deny  errorMessage matches explicit_deny_regex       -> explicit_deny (with the kind and ARN of
                    the denying policy when denial_reason reads them)
  8. blocked        denial_reason names an implicit deny by a kind marked "blocked" (SCP, RCP, permissions
                    boundary, session policy, VPC endpoint policy): an identity policy cannot fix it -> blocked
  9. otherwise                                                     -> grant (a resource-based policy's
                    implicit deny is granted and flagged: the resource's own policy must also allow it)
"""
import json
import os
import re

_HERE = os.path.dirname(os.path.abspath(__file__))
ACTION_RE = re.compile(r"^[a-z0-9][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9_-]*$")
ACCESS_LEVELS = {"L": "List", "R": "Read", "W": "Write", "P": "Permissions management", "T": "Tagging"}

_cache = {}


def _read_data(name):
    """Read a data file that sits next to this module, on disk or inside a zip."""
    path = os.path.join(_HERE, name)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        loader = globals().get("__loader__")
        get_data = getattr(loader, "get_data", None)
        if get_data is None:
            raise
        return get_data(path)


class Rules:
    """Compiled form of mapping.json (plus the catalogue, loaded on first use)."""

    def __init__(self, mapping, catalogue=None, operations=None):
        self.raw = mapping
        self.operations = {k.lower(): v for k, v in (operations or {}).items()}
        self.denied_codes = frozenset(mapping["denied_error_codes"])
        self.not_denied_codes = frozenset(mapping.get("not_denied_error_codes", []))
        self.patterns = [(p["id"], re.compile(p["regex"])) for p in mapping["message_patterns"]]
        self.explicit_deny = re.compile(mapping["explicit_deny_regex"])
        reason = mapping.get("denial_reason") or {}
        self.denial_regex = re.compile(reason["regex"]) if reason.get("regex") else None
        self.denial_kinds = {k.lower(): v for k, v in (reason.get("kinds") or {}).items()}
        self.source_prefix = dict(mapping.get("source_prefix_exceptions", {}))
        self.event_exceptions = {k.lower(): v for k, v in mapping.get("event_name_exceptions", {}).items()}
        self.date_suffix = re.compile(mapping["date_suffix_regex"])
        self.permissionless = frozenset(a.lower() for a in mapping.get("permissionless_actions", []))
        self.not_permission_events = [
            (e["event_source"], e.get("event_name")) for e in mapping.get("not_permission_events", [])
        ]
        self.apigw = mapping.get("apigateway") or {}
        self._catalogue = catalogue
        self._lower_index = {}

    # -- catalogue -----------------------------------------------------------------------------
    @property
    def catalogue(self):
        if self._catalogue is None:
            self._catalogue = json.loads(_read_data("iam-actions.json"))
        return self._catalogue

    def lookup(self, action):
        """(canonical action, access level letter or None). Prefix lower-cased; name in catalogue casing."""
        prefix, _, name = action.partition(":")
        prefix = prefix.lower()
        service = self.catalogue.get(prefix)
        if service is None:
            return prefix + ":" + name, None
        if name in service:
            return prefix + ":" + name, service[name]
        index = self._lower_index.get(prefix)
        if index is None:
            index = self._lower_index[prefix] = {k.lower(): k for k in service}
        canon = index.get(name.lower())
        if canon is None:
            return prefix + ":" + name, None
        return prefix + ":" + canon, service[canon]

    # -- steps ---------------------------------------------------------------------------------
    def is_not_permission_event(self, source, name):
        for src, ev in self.not_permission_events:
            if src == source and (ev is None or ev == name):
                return True
        return False

    def from_message(self, message):
        """(action, resource) named by errorMessage, or (None, None)."""
        if not isinstance(message, str) or not message:
            return None, None
        for _id, rx in self.patterns:
            m = rx.search(message)
            if m and m.group("action"):
                gd = m.groupdict()
                return m.group("action"), gd.get("resource")
        return None, None

    def denial(self, message):
        """The kind of policy that refused the call, read from errorMessage: {"id", "name", "implicit", "explicit",
        "policy"} (policy: the denying policy's ARN, or None), or None when the message names no known kind."""
        if not isinstance(message, str) or self.denial_regex is None:
            return None
        m = self.denial_regex.search(message)
        if not m:
            return None
        kind = self.denial_kinds.get(" ".join(m.group("kind").lower().split()))
        if kind is None:
            return None
        return {"id": kind["id"], "name": kind["name"], "implicit": kind["implicit"],
                "explicit": m.group("explicit") is not None, "policy": m.group("policy")}

    def prefix_for_source(self, source):
        if source in self.source_prefix:
            return self.source_prefix[source]
        if source.endswith(".amazonaws.com"):
            return source[: -len(".amazonaws.com")]
        return source

    def strip_date_suffix(self, name):
        m = self.date_suffix.match(name)
        return m.group("base") if m else name

    def apigateway_action(self, name):
        if self.apigw.get("prefer_catalogue_action") and name in self.catalogue.get("apigateway", {}):
            return "apigateway:" + name
        verb = self.apigw.get("verb_by_event_name", {}).get(name)
        if verb is None:
            best = ""
            for pfx, v in self.apigw.get("verb_by_event_prefix", {}).items():
                if name.startswith(pfx) and len(pfx) > len(best):
                    rest = name[len(pfx):]
                    if rest == "" or rest[0].isupper():
                        best, verb = pfx, v
        return "apigateway:" + verb if verb else None

    def from_event(self, source, name):
        """List of actions derived from eventSource/eventName (may be empty)."""
        if not source or not name:
            return []
        name = self.strip_date_suffix(name)
        prefix = self.prefix_for_source(source)
        for table in (self.event_exceptions, self.operations):
            mapped = table.get(prefix.lower(), {}).get(name)
            if mapped is not None:
                return list(mapped)
        if self.apigw and source == self.apigw.get("event_source"):
            a = self.apigateway_action(name)
            return [a] if a else []
        return [prefix + ":" + name]

    def classify(self, record, principal, guard=None):
        """Classify one CloudTrail record. Returns a dict:
        outcome: other_principal | not_permission | not_denied | grant | withheld | explicit_deny | blocked | error
        actions: [{"action", "level", "verified"}] (canonical), derived_from, resource, reason,
        denied_by (the refusing policy's kind id, when the message names it), denied_by_policy (its ARN)
        """
        out = {"outcome": None, "actions": [], "derived_from": None, "resource": None, "reason": "",
               "denied_by": None, "denied_by_policy": None}
        if not isinstance(record, dict):
            out.update(outcome="error", reason="record is not a JSON object")
            return out
        if not made_by(record.get("userIdentity"), principal):
            out["outcome"] = "other_principal"
            return out
        source = record.get("eventSource")
        name = record.get("eventName")
        source = source if isinstance(source, str) else ""
        name = name if isinstance(name, str) else ""
        if self.is_not_permission_event(source, name):
            out.update(outcome="not_permission", reason="%s is not governed by IAM permissions" % source)
            return out
        code = record.get("errorCode")
        if not isinstance(code, str) or not code or code in self.not_denied_codes or code not in self.denied_codes:
            out["outcome"] = "not_denied"
            return out
        message = record.get("errorMessage")
        action, resource = self.from_message(message)
        if action:
            raw, derived = [action], "message"
        else:
            raw, derived = self.from_event(source, name), "event"
        out["derived_from"] = derived
        out["resource"] = resource
        if not raw:
            out.update(outcome="error", reason="cannot derive an IAM action from eventSource %r eventName %r"
                       % (source, name))
            return out
        actions, dropped = [], []
        for a in raw:
            canon, level = self.lookup(a)
            if not ACTION_RE.match(canon):
                out.update(outcome="error", reason="derived action %r is not a valid IAM action name" % canon)
                return out
            if canon.lower() in self.permissionless:
                dropped.append(canon)
                continue
            if all(x["action"] != canon for x in actions):
                actions.append({"action": canon, "level": level, "verified": level is not None})
        if not actions:
            out.update(outcome="not_permission", actions=[],
                       reason="%s needs no IAM permission" % ", ".join(dropped))
            return out
        out["actions"] = actions
        if guard is not None:
            why = guard.check_actions([a["action"] for a in actions], resource, record.get("requestParameters"))
            if why:
                out.update(outcome="withheld", reason=why)
                return out
        denial = self.denial(message)
        if denial:
            out.update(denied_by=denial["id"], denied_by_policy=denial["policy"])
        if isinstance(message, str) and self.explicit_deny.search(message):
            out.update(outcome="explicit_deny",
                       reason="explicitly denied (%s); an Allow cannot fix this" % message[:300])
            return out
        if denial and denial["implicit"] == "blocked":
            out.update(outcome="blocked", reason=blocked_reason(denial, [a["action"] for a in actions]))
            return out
        if denial and denial["implicit"] == "grant_flagged":
            out["reason"] = RESOURCE_POLICY_FLAG
        out["outcome"] = "grant"
        return out


    def used(self, record, principal):
        """Permissions a *successful* call used (the CLI's `generate`): event source/name only.

        outcome: other_principal | not_permission | used | error; errorCode/errorMessage are ignored.
        """
        out = {"outcome": None, "actions": [], "derived_from": None, "reason": ""}
        ident = record.get("userIdentity") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not made_by(ident, principal):
            out["outcome"] = "other_principal"
            return out
        source = record.get("eventSource") if isinstance(record.get("eventSource"), str) else ""
        name = record.get("eventName") if isinstance(record.get("eventName"), str) else ""
        if self.is_not_permission_event(source, name):
            out["outcome"] = "not_permission"
            return out
        actions = []
        for a in self.from_event(source, name):
            canon, level = self.lookup(a)
            if canon.lower() not in self.permissionless and canon not in [x["action"] for x in actions]:
                actions.append({"action": canon, "level": level, "verified": level is not None})
        if not actions:
            out["outcome"] = "not_permission"
            return out
        out.update(outcome="used", actions=actions, derived_from="event")
        return out


RESOURCE_POLICY_FLAG = "the resource's own policy must also allow it"


def blocked_reason(denial, actions):
    """What would fix an implicit deny that an identity policy cannot fix: "an identity policy cannot fix this: the
    service control policy p-2kgnabcd must allow sqs:ListQueues" (the policy's last ARN segment when the message
    names it, else "a <kind>")."""
    policy = denial.get("policy")
    who = "the %s %s" % (denial["name"], re.split(r"[/:]", policy)[-1]) if policy else "a %s" % denial["name"]
    return "an identity policy cannot fix this: %s must allow %s" % (who, ", ".join(actions))


def is_role_arn(arn):
    """Whether `arn` names an IAM role (arn:PARTITION:iam::ACCOUNT:role/PATH/NAME)."""
    return isinstance(arn, str) and re.match(r"^arn:[a-z-]+:iam::\d{12}:role/", arn) is not None


def made_by(ident, principal):
    """Whether a record's userIdentity is the principal: the same ARN, or, for a role, one of its sessions
    (sessionContext.sessionIssuer.arn, which carries the role's path; the assumed-role ARN does not)."""
    if not principal or not isinstance(ident, dict):
        return False
    if ident.get("arn") == principal:
        return True
    if not is_role_arn(principal):
        return False
    ctx = ident.get("sessionContext")
    issuer = ctx.get("sessionIssuer") if isinstance(ctx, dict) else None
    return isinstance(issuer, dict) and issuer.get("arn") == principal


def glob_to_regex(pattern):
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$")


# Denied calls that would let the observed principal leave observation (`Guard.check_actions`).
ROLE_SWITCH_ACTIONS = frozenset(("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"))
GROUP_POLICY_ACTIONS = frozenset(("iam:AttachGroupPolicy", "iam:PutGroupPolicy"))
JOIN_GROUP_ACTION = "iam:AddUserToGroup"
ROLE_SWITCH_FIX = "observe that role (`--trust`/`up --principal role` on it) or allow switching with " \
                  "`up --allow-role-switch`"
GROUP_FIX = "the group's permissions would hide the procedure's needs: grant this yourself after the run, " \
            "or observe without the group"


def _last_segment(value):
    return re.split(r"[/:]", value)[-1] if isinstance(value, str) and value else None


class Guard:
    """The generator's own resources (LPPG_GUARD). Matching is case-sensitive.

    guarded if: the resource named in errorMessage matches an `arns` glob ('*' = any run of characters),
    or requestParameters[key] (key listed under `names`) is a string that equals a listed value,
    matches an `arns` glob, or is an ARN whose last '/' or ':' segment is a listed value.

    Leaving observation (`check_actions`): a role switch (`ROLE_SWITCH_ACTIONS`) unless `allow_role_switch`;
    `iam:AddUserToGroup` naming `observed_user`; `GROUP_POLICY_ACTIONS` on one of the user's `groups` (given in the
    spec, or read once through `group_lookup(user)` when a record needs them).
    """

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("guard must be a JSON object")
        arns = spec.get("arns", [])
        names = spec.get("names", {})
        if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
            raise ValueError("guard.arns must be a list of strings")
        if not isinstance(names, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in names.values()
        ):
            raise ValueError("guard.names must map keys to lists of strings")
        self.arns = [(a, glob_to_regex(a)) for a in arns]
        self.names = {k: frozenset(v) for k, v in names.items()}
        self.allow_role_switch = spec.get("allow_role_switch", False)
        self.observed_user = spec.get("observed_user", "")
        groups = spec.get("groups")
        if not isinstance(self.allow_role_switch, bool):
            raise ValueError("guard.allow_role_switch must be true or false")
        if not isinstance(self.observed_user, str):
            raise ValueError("guard.observed_user must be a string")
        if groups is not None and (not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)):
            raise ValueError("guard.groups must be a list of strings")
        self.groups = frozenset(groups) if groups is not None else None
        self.group_lookup = None

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text))

    def _arn_match(self, value):
        for pat, rx in self.arns:
            if rx.match(value):
                return pat
        return None

    def _user_groups(self):
        """The observed user's groups, or None when they cannot be read."""
        if self.groups is None and self.group_lookup is not None:
            try:
                self.groups = frozenset(self.group_lookup(self.observed_user))
            except Exception:  # noqa: BLE001 - unknown membership is treated as membership (withheld)
                return None
        return self.groups if self.groups is not None else frozenset()

    def _leaves_by_group(self, actions, resource, params):
        """Reason when the call puts the observed user in a group or changes a group it is in, else None."""
        if not self.observed_user:
            return None
        group = params.get("groupName") if isinstance(params.get("groupName"), str) else None
        group = group or (_last_segment(resource) if isinstance(resource, str) and ":group/" in resource else None)
        if JOIN_GROUP_ACTION in actions and params.get("userName") == self.observed_user:
            return "the procedure adds user %s to group %s; %s" % (self.observed_user, group or "?", GROUP_FIX)
        if not GROUP_POLICY_ACTIONS.intersection(actions) or not group:
            return None
        groups = self._user_groups()
        if groups is None:
            return ("the procedure changes the policies of group %s, and the groups of user %s could not be read; "
                    "%s" % (group, self.observed_user, GROUP_FIX))
        if group in groups:
            return "the procedure changes the policies of group %s, which user %s is in; %s" % (
                group, self.observed_user, GROUP_FIX)
        return None

    def check_actions(self, actions, resource, params):
        """Reason string when the call must not be granted: it lets the principal leave observation or its target is
        guarded (`check`), else None."""
        params = params if isinstance(params, dict) else {}
        why = self._leaves_by_group(actions, resource, params) or self.check(resource, params)
        if why or self.allow_role_switch or not ROLE_SWITCH_ACTIONS.intersection(actions):
            return why
        role = resource if isinstance(resource, str) and ":role/" in resource else params.get("roleArn")
        role = role if isinstance(role, str) and role else "another role"
        return "the procedure switches to role %s: %s" % (role, ROLE_SWITCH_FIX)

    def check(self, resource, params):
        """Reason string when the target is guarded, else None."""
        if isinstance(resource, str) and resource:
            pat = self._arn_match(resource)
            if pat:
                return "target %s is part of the generator (guard pattern %s)" % (resource, pat)
        if isinstance(params, dict):
            for key, values in self.names.items():
                v = params.get(key)
                if not isinstance(v, str) or not v:
                    continue
                if v in values:
                    return "requestParameters.%s=%s is part of the generator" % (key, v)
                pat = self._arn_match(v)
                if pat:
                    return "requestParameters.%s=%s is part of the generator (guard pattern %s)" % (key, v, pat)
                if v.startswith("arn:"):
                    last = re.split(r"[/:]", v)[-1]
                    if last in values:
                        return "requestParameters.%s=%s is part of the generator" % (key, v)
        return None


def load_rules():
    r = _cache.get("rules")
    if r is None:
        r = _cache["rules"] = Rules(json.loads(_read_data("mapping.json")),
                                    operations=json.loads(_read_data("operations.json"))["operations"])
    return r


# requestParameters fields that name a resource: their string values are resource evidence on decision lines.
# The same list, in the same order, as the CLI's `policy::RESOURCE_PARAMS` (tests/vectors/resources.json).
RESOURCE_PARAMS = ("bucketName", "key", "functionName", "tableName", "queueUrl", "topicArn", "roleName", "userName",
                   "policyArn", "keyId", "name", "secretId", "logGroupName", "stateMachineArn", "repositoryName",
                   "clusterName", "cluster", "instanceId", "streamName", "resourceArn", "roleArn", "arn")


def evidence(record, message_resource=None):
    """The resources a denied call was seen on, as written in a decision line's `resources`: the ARN named by
    errorMessage, then `resources[].ARN`, then RESOURCE_PARAMS of requestParameters as `name=value` (string values
    only), without duplicates, empty values or `*`."""
    items = []

    def push(item):
        if isinstance(item, str) and item and item != "*" and item not in items:
            items.append(item)

    if isinstance(message_resource, str):
        push(message_resource.strip().strip('"'))
    record = record if isinstance(record, dict) else {}
    resources = record.get("resources")
    for r in resources if isinstance(resources, list) else []:
        push(r.get("ARN") if isinstance(r, dict) else None)
    params = record.get("requestParameters")
    params = params if isinstance(params, dict) else {}
    for name in RESOURCE_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value:
            push("%s=%s" % (name, value))
    return items
