"""Adding actions to the generator's managed policies without losing concurrent updates.

Invariant: the function only ever adds actions. So the true content of a policy is the union of all
its retained versions plus whatever writers hold in memory. Each writer
  1. lists the policy's versions and reads every version it has not seen (versions are immutable, so
     documents are cached by (policy ARN, version id, create date) for the life of the container);
  2. keeps U = its own new actions + every action of every version it has ever seen, in memory,
     across all retries (a version deleted by someone else was already unioned by its deleter);
  3. is done when the default version already holds U (minus actions it moved on to the next policy);
  4. otherwise, at 5 versions deletes the oldest non-default version by CreateDate (preferring one
     whose content the default already holds: the uncontended case always has one), then creates
     U as the new default version, and goes back to 1 to verify.
Throttling, ConcurrentModification, LimitExceeded and NoSuchEntity on a vanished version are
retried with jittered exponential backoff, for a bounded number of attempts.
If U does not fit in 6,144 characters, the writer moves its *own* new actions (never someone else's)
to the next policy, in order.
"""
import random
import time

import policydoc

MAX_VERSIONS = 5
RETRYABLE = frozenset({
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "ConcurrentModification", "ConcurrentModificationException",
    "LimitExceeded", "LimitExceededException",
    "ServiceFailure", "ServiceUnavailable", "InternalFailure", "InternalError",
})

# (policy arn, version id, create date iso) -> policydoc.Content. Versions never change.
_VERSION_CACHE = {}
_CACHE_MAX = 512


class WriteError(Exception):
    def __init__(self, message, transient):
        super().__init__(message)
        self.transient = transient


def _code(exc):
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return resp.get("Error", {}).get("Code", "") or ""
    return ""


def _is_transient(exc):
    code = _code(exc)
    if code:
        return code in RETRYABLE
    # connection/read timeouts from botocore have no response
    return type(exc).__name__ in {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                                  "ConnectionClosedError"}


def _vnum(vid):
    try:
        return int(str(vid).lstrip("vV"))
    except ValueError:
        return 0


class Version:
    __slots__ = ("vid", "date", "default")

    def __init__(self, vid, date, default):
        self.vid, self.date, self.default = vid, date, default

    @property
    def order(self):
        d = self.date
        return (d.timestamp() if hasattr(d, "timestamp") else str(d), _vnum(self.vid))

    def key(self, arn):
        d = self.date
        return (arn, self.vid, d.isoformat() if hasattr(d, "isoformat") else str(d))


class PolicyWriter:
    def __init__(self, iam, policy_arns, sleep=time.sleep, max_attempts=10, deadline=None,
                 backoff_base=0.05, backoff_cap=2.0):
        self.iam = iam
        self.arns = list(policy_arns)
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.deadline = deadline  # time.monotonic() value after which no new attempt starts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.listing = {}  # arn -> [Version]
        self.content = {}  # (arn, vid) -> Content, this invocation
        self.written = []  # [{"policy","version","actions","size"}]
        self.read_errors = {}  # arn -> reason

    # -- IAM reads -------------------------------------------------------------------------------
    def _retrying(self, fn, what):
        attempt = 0
        while True:
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - classified below
                attempt += 1
                if not _is_transient(exc) or attempt >= self.max_attempts or self._out_of_time():
                    raise
                self._backoff(attempt)

    def _out_of_time(self):
        return self.deadline is not None and time.monotonic() > self.deadline

    def _backoff(self, attempt):
        delay = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        self.sleep(delay * random.uniform(0.5, 1.0))

    def list_versions(self, arn):
        resp = self._retrying(lambda: self.iam.list_policy_versions(PolicyArn=arn), "list")
        versions = [Version(v["VersionId"], v.get("CreateDate"), bool(v.get("IsDefaultVersion")))
                    for v in resp.get("Versions", [])]
        self.listing[arn] = versions
        return versions

    def get_content(self, arn, version):
        """Content of a version, or None if it no longer exists."""
        key = version.key(arn)
        c = _VERSION_CACHE.get(key)
        if c is None:
            try:
                resp = self._retrying(
                    lambda: self.iam.get_policy_version(PolicyArn=arn, VersionId=version.vid), "get")
            except Exception as exc:  # noqa: BLE001
                if _code(exc) == "NoSuchEntity":
                    return None
                raise
            c = policydoc.parse(resp["PolicyVersion"]["Document"])
            if len(_VERSION_CACHE) >= _CACHE_MAX:
                _VERSION_CACHE.clear()
            _VERSION_CACHE[key] = c
        self.content[(arn, version.vid)] = c
        return c

    def default_of(self, arn):
        for v in self.listing.get(arn, []):
            if v.default:
                return v
        return None

    def read_defaults(self):
        """List every policy and read its default version. Errors are recorded, not raised."""
        for arn in self.arns:
            try:
                self.list_versions(arn)
                d = self.default_of(arn)
                if d is None or self.get_content(arn, d) is None:
                    self.read_errors[arn] = "policy has no readable default version"
            except Exception as exc:  # noqa: BLE001
                self.read_errors[arn] = "cannot read %s: %s" % (arn, exc)

    def default_content(self, arn):
        d = self.default_of(arn)
        return self.content.get((arn, d.vid)) if d else None

    def holder(self, action):
        """(policy arn, version id) of the first policy whose default version grants `action`."""
        low = action.lower()
        for arn in self.arns:
            c = self.default_content(arn)
            if c is not None and any(a.lower() == low for a in c.actions):
                return arn, self.default_of(arn).vid
        return None

    # -- planning --------------------------------------------------------------------------------
    def plan(self, actions):
        """Assign new actions to policies, filling in order. Returns ({arn: [actions]}, [unplaced])."""
        drafts = {}
        for arn in self.arns:
            c = self.default_content(arn)
            if c is None:
                continue
            drafts[arn] = policydoc.Draft(c.kept, c.actions - c.kept_actions)
        plan = {arn: [] for arn in self.arns}
        unplaced = []
        for a in sorted(actions, key=policydoc.sort_key):
            for arn in self.arns:
                d = drafts.get(arn)
                if d is not None and d.fits(a):
                    d.add(a)
                    plan[arn].append(a)
                    break
            else:
                unplaced.append(a)
        return plan, unplaced

    # -- writing ---------------------------------------------------------------------------------
    def write_policy(self, arn, mine):
        """Make the default version of `arn` hold `mine` (and everything any version holds).

        Returns (results, evicted): results maps action -> (status, version) with status
        'granted' or 'already_present'; evicted lists own actions that did not fit.
        Raises WriteError when it cannot confirm.
        """
        mine = set(mine)
        union = set(mine)
        own_versions = set()
        own_actions = set()  # actions that made it into a version we created
        evicted = set()
        seen = set()
        first = True
        for attempt in range(self.max_attempts):
            if attempt and self._out_of_time():
                break
            try:
                versions = self.listing[arn] if first and arn in self.listing else self.list_versions(arn)
                first = False
                live = []
                for v in versions:
                    c = self.get_content(arn, v)
                    if c is not None:
                        live.append((v, c))
                        union |= c.actions
                        seen.add(v.vid)
                default = next(((v, c) for v, c in live if v.default), None)
                if default is None:
                    raise WriteError("policy %s has no default version" % arn, transient=True)
                dv, dc = default
                others = set()
                for v, c in live:
                    if v.vid not in own_versions:
                        others |= c.actions
                draft = self._fit(dc, union - evicted, mine - others, evicted)
                target_low = {a.lower() for a in draft.actions}
                have_low = {a.lower() for a in dc.actions}
                if target_low <= have_low:
                    results = {}
                    for a in mine - evicted:
                        status = "granted" if a in own_actions else "already_present"
                        results[a] = (status, dv.vid)
                    return results, sorted(evicted, key=policydoc.sort_key)
                if len(versions) >= MAX_VERSIONS:
                    self._delete_victim(arn, live, dc)
                text = draft.render()
                resp = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
                pv = resp["PolicyVersion"]
                nv = Version(pv["VersionId"], pv.get("CreateDate"), True)
                content = policydoc.parse(text)
                self.content[(arn, nv.vid)] = content
                _VERSION_CACHE[nv.key(arn)] = content
                own_versions.add(nv.vid)
                own_actions |= draft.actions & mine
                self.written.append({"policy": arn, "version": nv.vid,
                                     "actions": len(content.actions), "size": policydoc.size_of(text)})
            except WriteError as exc:
                if not exc.transient:
                    raise
                self._backoff(attempt + 1)
            except Exception as exc:  # noqa: BLE001
                code = _code(exc)
                if code == "NoSuchEntity" and not self._policy_exists(arn):
                    raise WriteError("policy %s does not exist" % arn, transient=False)
                if code == "NoSuchEntity" or code == "DeleteConflict" or _is_transient(exc):
                    self._backoff(attempt + 1)
                    continue
                raise WriteError("%s: %s" % (code or type(exc).__name__, exc), transient=False)
        raise WriteError("could not confirm %d action(s) in %s after %d attempts (concurrent writers or "
                         "throttling); the invocation will be retried" % (len(mine - evicted), arn,
                                                                          self.max_attempts), transient=True)

    def _policy_exists(self, arn):
        try:
            self.iam.get_policy(PolicyArn=arn)
            return True
        except Exception as exc:  # noqa: BLE001
            return _code(exc) != "NoSuchEntity"

    def _fit(self, default_content, target, removable, evicted):
        """Draft holding `target` within the size limit, evicting own actions (sorted last first)."""
        draft = policydoc.Draft(default_content.kept)
        fixed = sorted(target - removable, key=policydoc.sort_key)
        for a in fixed:
            draft.add(a)
        for a in sorted(target & removable, key=policydoc.sort_key):
            if draft.fits(a):
                draft.add(a)
            else:
                evicted.add(a)
        return draft

    def _delete_victim(self, arn, live, default_content):
        have_low = {a.lower() for a in default_content.actions}
        candidates = sorted((v for v, c in live if not v.default), key=lambda v: v.order)
        if not candidates:
            return
        victim = candidates[0]
        for v in candidates:
            c = self.content.get((arn, v.vid))
            if c is not None and {a.lower() for a in c.actions} <= have_low:
                victim = v
                break
        try:
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=victim.vid)
        except Exception as exc:  # noqa: BLE001
            if _code(exc) != "NoSuchEntity":
                raise

    def write(self, actions):
        """Add `actions` (canonical names) to the policies.

        Returns {action: (status, policy_arn, version, reason)} with status granted | already_present | error.
        """
        out = {}
        pending = []
        for a in sorted(set(actions), key=policydoc.sort_key):
            h = self.holder(a)
            if h:
                out[a] = ("already_present", h[0], h[1], "")
            else:
                pending.append(a)
        if not pending:
            return out
        readable = [arn for arn in self.arns if arn not in self.read_errors]
        plan, unplaced = self.plan(pending)
        carry = []
        for arn in readable:
            mine = plan.get(arn, []) + carry
            carry = []
            if not mine:
                continue
            try:
                results, evicted = self.write_policy(arn, mine)
            except WriteError as exc:
                for a in mine:
                    out[a] = ("error", arn, None, str(exc))
                if exc.transient:
                    self.transient_failure = True
                continue
            for a, (status, vid) in results.items():
                out[a] = (status, arn, vid, "")
            carry = evicted
        for a in carry + unplaced:
            full = "all %d generator policies are full (6,144 characters each); %s was not granted" % (
                len(self.arns), a)
            if self.read_errors:
                full += "; unreadable: " + "; ".join(self.read_errors.values())
            out[a] = ("error", None, None, full)
        return out

    transient_failure = False

    def sizes(self):
        out = []
        for arn in self.arns:
            c = self.default_content(arn)
            if c is None:
                continue
            out.append({"policy": arn, "size": c.size, "actions": len(c.actions)})
        return out
