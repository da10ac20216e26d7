"""Adding actions to the generator's managed policies without losing concurrent updates.

The function only ever adds actions, and every writer sets its new version as the default, so the
default is always the most recently created version. Protocol, per policy, for one invocation:

  R := own new actions (+ actions carried over from the previous policy), kept in memory across retries.
  loop (bounded attempts, jittered exponential backoff on Throttling/ConcurrentModification/
        LimitExceeded/NoSuchEntity of a vanished version):
    1. ListPolicyVersions; GetPolicyVersion for every version not seen yet (versions are immutable:
       cached per container by (policy ARN, version id, create date)). R |= every action of every
       retained version (so content of versions created concurrently, or left behind by a writer that
       crashed, is never dropped).
    2. D := the default version. New document := D's content in full (the chain of defaults only ever
       grows) + what R still lacks, others' actions first, then our own, while it fits in 6,144
       characters. Whatever does not fit is carried to the next policy.
    3. If nothing is to be added: done (re-delivered events end here: no write at all).
    4. At 5 versions delete the oldest non-default version by CreateDate (ties: version number),
       preferring one whose content D already holds (in the uncontended case, the oldest always is);
       its content is in R anyway.
    5. CreatePolicyVersion(SetAsDefault=True), then back to 1 to verify against concurrent writers.

ListPolicyVersions is eventually consistent: right after a CreatePolicyVersion it can still answer with the
list as it was before. Such a list must not be planned from (it would write an identical version again, or
prune and hit LimitExceeded at 5 versions). So, once this invocation has created version vN of a policy, a list
is trusted only when its newest version number is >= N (it reflects a state after our create, so it also holds
everything created before it); an older one is read again after bounded jittered backoff (at most
max_stale_lists reads, never past the deadline; then the invocation fails and Lambda retries it). LimitExceeded
means the list it was planned from missed a newer version: after our own create the next list must show one;
before it, the next list should (a quarter of those reads, then the newest answer is used).
No lost updates with stale lists: every writer's last check is made on a list at least as new as its own
version, so the last writer to create sees, and keeps, every version created before it.
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


LIMIT_EXCEEDED = frozenset({"LimitExceeded", "LimitExceededException"})
# An attempt that finds a version newer than the previous attempt saw (another writer got through) is not charged
# to max_attempts; attempts in all stay under max_attempts * PROGRESS_FACTOR (and the deadline).
PROGRESS_FACTOR = 5


class WriteError(Exception):
    def __init__(self, message, transient, final=False):
        super().__init__(message)
        self.transient = transient
        self.final = final  # transient, but not worth another attempt in this invocation


class _Attempt:
    """What one write_policy call carries across its attempts."""

    def __init__(self, mine, adopted):
        self.mine = set(mine)
        self.R = set(mine) | set(adopted)
        self.carried = set()
        self.own_actions = set()  # own actions that made it into a version we created
        self.floor = 0  # a list must hold a version numbered at least this to be written on
        self.hint = 0  # ... and should (LimitExceeded said a version this new exists)
        self.seen_top = 0  # newest version number seen in a list
        self.first = True
        self.live = []


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


def _top(versions):
    return max((_vnum(v.vid) for v in versions), default=0)


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
                 backoff_base=0.05, backoff_cap=2.0, max_stale_lists=20):
        self.iam = iam
        self.arns = list(policy_arns)
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.deadline = deadline  # time.monotonic() value after which no new attempt starts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_stale_lists = max_stale_lists  # lists older than our own version read before giving up
        self.stale_lists = 0  # how many such lists this invocation read
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
        """Every version of the policy. IAM may page even 5 versions (it "might return fewer than the MaxItems
        number of results even when there are more results available": follow Marker while IsTruncated)."""
        versions, kw = [], {"PolicyArn": arn}
        for _ in range(20):
            resp = self._retrying(lambda: self.iam.list_policy_versions(**kw), "list")
            versions += [Version(v["VersionId"], v.get("CreateDate"), bool(v.get("IsDefaultVersion")))
                         for v in resp.get("Versions", [])]
            if not resp.get("IsTruncated") or not resp.get("Marker"):
                break
            kw = {"PolicyArn": arn, "Marker": resp["Marker"]}
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

    # -- writing ---------------------------------------------------------------------------------------
    def write_policy(self, arn, mine, adopted=()):
        """Make the default version of `arn` hold `mine` (and everything any retained version holds).

        R = own actions + adopted actions + every action of every version seen, kept across retries.
        The new document always keeps the current default's content in full, then adds what R still lacks,
        others' actions before our own, while it fits; whatever does not fit is carried to the next policy
        (our own and, rarely, others').

        ListPolicyVersions is eventually consistent: after our own CreatePolicyVersion a list is trusted only
        when it is at least as new as that version (see `_fresh_list`); LimitExceeded after our own create
        means the list it was based on was stale, so the next one must be newer than it.

        Returns (results, carried_own, carried_adopted); results maps action -> (status, version),
        status 'granted' or 'already_present'. Raises WriteError when it cannot confirm.
        """
        st = _Attempt(mine, adopted)
        spent = tries = 0  # attempts charged / made: one is refunded when another writer made progress
        while spent < self.max_attempts and tries < self.max_attempts * PROGRESS_FACTOR:
            if tries and self._out_of_time():
                break
            tries += 1
            spent += 1
            versions = None
            try:
                versions = self._listing_for(arn, st)
                if _top(versions) > st.seen_top:
                    spent -= 1 if st.seen_top else 0  # a newer version since our last attempt: contention
                    st.seen_top = _top(versions)
                dv, draft, added = self._extend(arn, versions, st)
                if not added:
                    results = {a: ("granted" if a in st.own_actions else "already_present", dv.vid)
                               for a in st.mine - st.carried}
                    return (results, sorted(st.carried & st.mine, key=policydoc.sort_key),
                            sorted(st.carried - st.mine, key=policydoc.sort_key))
                if len(versions) >= MAX_VERSIONS:
                    self._delete_victim(arn, st.live, self.content[(arn, dv.vid)])
                self._create(arn, draft, added, st)
            except WriteError as exc:
                if not exc.transient or exc.final:
                    raise
                self._backoff(spent + 1)
            except Exception as exc:  # noqa: BLE001
                code = _code(exc)
                if code == "NoSuchEntity" and not self._policy_exists(arn):
                    raise WriteError("policy %s does not exist" % arn, transient=False)
                if code in LIMIT_EXCEEDED and versions:
                    # a version the list did not show fills the fifth slot: wait for a list that shows it
                    # (a hard requirement after our own create, else a preference)
                    newer = _top(versions) + 1
                    if st.floor:
                        st.floor = max(st.floor, newer)
                    st.hint = max(st.hint, newer)
                if code == "NoSuchEntity" or code == "DeleteConflict" or _is_transient(exc):
                    self._backoff(spent + 1)
                    continue
                raise WriteError("%s: %s" % (code or type(exc).__name__, exc), transient=False)
        raise WriteError("could not confirm %d action(s) in %s after %d attempts (concurrent writers or "
                         "throttling); the invocation will be retried" % (len(st.mine - st.carried), arn, tries),
                         transient=True)

    def _listing_for(self, arn, st):
        """The versions to plan from: the listing read_defaults made (first attempt), else a fresh one."""
        if st.first and arn in self.listing:
            st.first = False
            return self.listing[arn]
        st.first = False
        return self._fresh_list(arn, st.floor, st.hint)

    def _fresh_list(self, arn, floor, hint=0):
        """ListPolicyVersions until the answer is at least as new as version number `floor` (0: any answer).

        IAM may answer with the list as it was before a recent CreatePolicyVersion. A list that holds version
        `floor` or a later one (numbers only grow) reflects a state after it, so it holds every version created
        before it too. An older list is not written on: bounded jittered backoff and list again. `hint` (a
        version that LimitExceeded says exists) is waited for too, but only for a quarter of the reads."""
        stale = 0
        while True:
            versions = self.list_versions(arn)
            top = _top(versions)
            if top >= max(floor, hint) or (top >= floor and stale >= self.max_stale_lists // 4):
                return versions
            stale += 1
            self.stale_lists += 1
            if stale >= self.max_stale_lists or self._out_of_time():
                raise WriteError("IAM still lists the versions of %s as they were before v%d after %d reads "
                                 "(eventual consistency); the invocation will be retried" % (arn, floor, stale),
                                 transient=True, final=True)
            self._backoff(min(stale, 6))

    def _extend(self, arn, versions, st):
        """Reads every listed version into R; returns (default version, draft of the new default, added)."""
        st.live = []
        for v in versions:
            c = self.get_content(arn, v)
            if c is not None:
                st.live.append((v, c))
                st.R |= c.actions
        default = next(((v, c) for v, c in st.live if v.default), None)
        if default is None:
            raise WriteError("policy %s has no default version" % arn, transient=True)
        dv, dc = default
        draft = policydoc.Draft(dc.kept, dc.actions - dc.kept_actions)
        extra = [a for a in st.R if a not in draft and a not in st.carried]
        others = sorted((a for a in extra if a not in st.mine), key=policydoc.sort_key)
        own = sorted((a for a in extra if a in st.mine), key=policydoc.sort_key)
        added = []
        for a in others + own:
            if a in draft:
                continue
            if draft.fits(a):
                draft.add(a)
                added.append(a)
            else:
                st.carried.add(a)
        return dv, draft, added

    def _create(self, arn, draft, added, st):
        text = draft.render()
        if policydoc.size_of(text) > policydoc.MAX_SIZE:  # cannot happen: Draft keeps count
            raise WriteError("internal: document for %s would exceed the size limit" % arn, False)
        resp = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
        pv = resp["PolicyVersion"]
        nv = Version(pv["VersionId"], pv.get("CreateDate"), True)
        content = policydoc.parse(text)
        self.content[(arn, nv.vid)] = content
        _VERSION_CACHE[nv.key(arn)] = content
        st.own_actions |= set(added) & st.mine
        st.floor = max(st.floor, _vnum(nv.vid))
        self.written.append({"policy": arn, "version": nv.vid,
                             "actions": len(content.actions), "size": content.size})

    def _policy_exists(self, arn):
        try:
            self.iam.get_policy(PolicyArn=arn)
            return True
        except Exception as exc:  # noqa: BLE001
            return _code(exc) != "NoSuchEntity"

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
        carry, adopted = [], []
        for arn in readable:
            mine = plan.get(arn, []) + carry
            if not mine and not adopted:
                continue
            try:
                results, carry, adopted = self.write_policy(arn, mine, adopted)
            except WriteError as exc:
                for a in mine:
                    out[a] = ("error", arn, None, str(exc))
                carry, adopted = [], []
                if exc.transient:
                    self.transient_failure = True
                continue
            for a, (status, vid) in results.items():
                out[a] = (status, arn, vid, "")
        full = "all %d generator policies are full (6,144 characters each)" % len(self.arns)
        if self.read_errors:
            full += "; unreadable: " + "; ".join(self.read_errors.values())
        for a in carry + unplaced:
            out[a] = ("error", None, None, full + "; %s was not granted" % a)
        self.orphans = [(a, full + "; %s (added by an overlapping invocation) could not be kept" % a)
                        for a in adopted]
        return out

    transient_failure = False
    orphans = ()

    def sizes(self):
        out = []
        for arn in self.arns:
            c = self.default_content(arn)
            if c is None:
                continue
            out.append({"policy": arn, "size": c.size, "actions": len(c.actions)})
        return out
