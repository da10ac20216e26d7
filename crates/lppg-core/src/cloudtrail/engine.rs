//! The rule engine: from a CloudTrail record to the IAM actions it was refused (or, for a successful call, used).
//!
//! This mirrors `assets/function/rules.py` (the generator function) step for step; both read the same data, and
//! `tests/engine_agreement.rs` runs both on every shared vector. The evaluation order of [`classify_denied`]:
//!
//! 1. principal: not [`Record::is_principal`] (`userIdentity.arn`, or a role's sessions) → [`Outcome::OtherPrincipal`];
//! 2. `eventSource`/`eventName` listed as not a permission (console sign-in) → [`Outcome::NotPermission`];
//! 3. `errorCode` absent, not an authorization failure, or a dry run → [`Outcome::NotDenied`];
//! 4. the action: the first message pattern naming one (`message`), else `eventSource`/`eventName` (`event`:
//!    `mapping.json`'s hand-written exceptions, then the generated `operations.json`, then API Gateway's verbs,
//!    then `prefix:EventName`); none → [`Outcome::Error`];
//! 5. canonical form (prefix lower case, the catalogue's casing); a malformed name → [`Outcome::Error`];
//!    permissionless actions dropped, all of them → [`Outcome::NotPermission`];
//! 6. the guard (the generator's own resources, and calls that leave observation: a role switch, joining a group,
//!    changing a group's policies), when one is given → [`Outcome::Withheld`];
//! 7. an explicit deny in `errorMessage` → [`Outcome::ExplicitDeny`] (with the [`Refusal`] when the message names
//!    the kind of policy);
//! 8. an implicit deny by a kind of policy an identity policy cannot fix (SCP, RCP, permissions boundary, session
//!    or VPC endpoint policy: [`Refusal::blocks`]) → [`Outcome::Blocked`];
//! 9. otherwise → [`Outcome::Grant`] (a resource-based policy's implicit deny is flagged in `reason`).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::denial::{Implicit, Refusal};
use super::record::{Record, SessionContext, SessionIssuer, UserIdentity};
use super::rules::{rules, Rules};
use crate::policy::{Action, Catalogue, Derivation};

/// What a record means for the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Another principal's call.
    OtherPrincipal,
    /// Not something an IAM permission governs (console sign-in, permissionless calls).
    NotPermission,
    /// Not an authorization failure (success, throttling, not found, dry run...).
    NotDenied,
    /// The actions that would let the call through.
    Grant,
    /// Would be granted, but the target is part of the generator itself.
    Withheld,
    /// Refused by an explicit deny: an Allow would not help, so it is never granted.
    ExplicitDeny,
    /// Refused because another kind of policy (SCP, RCP, permissions boundary, session or VPC endpoint policy) does
    /// not allow it: an identity policy cannot fix it, so it is never granted.
    Blocked,
    /// No valid IAM action can be derived.
    Error,
    /// A successful call's permissions ([`used`]).
    Used,
}

impl Outcome {
    /// The name used by the shared test vectors and the function's log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::OtherPrincipal => "other_principal",
            Outcome::NotPermission => "not_permission",
            Outcome::NotDenied => "not_denied",
            Outcome::Grant => "grant",
            Outcome::Withheld => "withheld",
            Outcome::ExplicitDeny => "explicit_deny",
            Outcome::Blocked => "blocked",
            Outcome::Error => "error",
            Outcome::Used => "used",
        }
    }
}

/// The full result for one record, field for field what `rules.py` `Rules.classify` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Set for grant, withheld and explicit deny.
    pub actions: Vec<Action>,
    pub derived_from: Option<Derivation>,
    /// The resource named in the error message, when a pattern captured one.
    pub resource: Option<String>,
    pub reason: String,
    /// The policy that refused the call, when the message names its kind (`denied_by`, `denied_by_policy`).
    pub refusal: Option<Refusal>,
}

impl Decision {
    fn new(outcome: Outcome) -> Self {
        Decision {
            outcome,
            actions: Vec::new(),
            derived_from: None,
            resource: None,
            reason: String::new(),
            refusal: None,
        }
    }
}

/// `rules.py` `RESOURCE_POLICY_FLAG`: the reason of a grant refused by a resource-based policy's implicit deny.
pub const RESOURCE_POLICY_FLAG: &str = "the resource's own policy must also allow it";

/// `rules.py` `ACTION_RE`, with Python's `$` (end, or before a final newline) spelled out.
fn action_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\A[a-z0-9][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9_-]*\n?\z").expect("action regex")
    })
}

impl Rules {
    /// Whether `eventSource`/`eventName` is listed as not a permission.
    pub fn is_not_permission_event(&self, source: &str, name: &str) -> bool {
        self.not_permission_events.iter().any(|m| {
            m.event_source.as_deref() == Some(source)
                && m.event_name.as_deref().is_none_or(|n| n == name)
        })
    }

    /// The action (and resource) named by an error message.
    pub fn from_message<'m>(&self, message: &'m str) -> Option<(&'m str, Option<&'m str>)> {
        if message.is_empty() {
            return None;
        }
        self.message_patterns.iter().find_map(|p| {
            let c = p.regex.captures(message)?;
            let action = c
                .name("action")
                .map(|m| m.as_str())
                .filter(|a| !a.is_empty())?;
            Some((action, c.name("resource").map(|m| m.as_str())))
        })
    }

    /// The IAM prefix for an event source (`monitoring.amazonaws.com` → `cloudwatch`).
    pub fn prefix_for_source<'s>(&'s self, source: &'s str) -> &'s str {
        if let Some(prefix) = self.source_prefix_exceptions.get(source) {
            return prefix;
        }
        source.strip_suffix(".amazonaws.com").unwrap_or(source)
    }

    /// The event name without a trailing date suffix (`ListFunctions20150331` → `ListFunctions`).
    pub fn strip_date_suffix<'n>(&self, name: &'n str) -> &'n str {
        match &self.date_suffix {
            Some(re) => re
                .captures(name)
                .and_then(|c| c.name("base"))
                .map_or(name, |m| m.as_str()),
            None => name,
        }
    }

    fn apigateway_action(&self, name: &str, catalogue: &Catalogue) -> Option<String> {
        let api = self.apigateway.as_ref()?;
        if api.prefer_catalogue_action && catalogue.contains_exact("apigateway", name) {
            return Some(format!("apigateway:{name}"));
        }
        let mut verb = api.verb_by_event_name.get(name).map(String::as_str);
        if verb.is_none() {
            let mut best = "";
            for (prefix, v) in &api.verb_by_event_prefix {
                if let Some(rest) = name.strip_prefix(prefix.as_str()) {
                    if prefix.len() > best.len()
                        && rest.chars().next().is_none_or(char::is_uppercase)
                    {
                        best = prefix;
                        verb = Some(v);
                    }
                }
            }
        }
        verb.filter(|v| !v.is_empty())
            .map(|v| format!("apigateway:{v}"))
    }

    /// The raw action names derived from `eventSource`/`eventName` (before canonicalisation); may be empty. Order:
    /// the hand-written exceptions, the generated operation map, API Gateway's verbs, `prefix:EventName`.
    pub fn from_event(&self, source: &str, name: &str, catalogue: &Catalogue) -> Vec<String> {
        if source.is_empty() || name.is_empty() {
            return Vec::new();
        }
        let name = self.strip_date_suffix(name);
        let prefix = self.prefix_for_source(source);
        let key = prefix.to_lowercase();
        for table in [&self.event_name_exceptions, &self.operations] {
            if let Some(mapped) = table.get(&key).and_then(|t| t.get(name)) {
                return mapped.clone();
            }
        }
        if let Some(api) = &self.apigateway {
            if source == api.event_source {
                return self
                    .apigateway_action(name, catalogue)
                    .into_iter()
                    .collect();
            }
        }
        vec![format!("{prefix}:{name}")]
    }
}

/// Canonicalises raw names: `Err(name)` for the first malformed one; permissionless actions dropped (returned
/// second); duplicates removed, order kept.
fn canonical_actions(
    rules: &Rules,
    catalogue: &Catalogue,
    raw: &[String],
) -> Result<(Vec<Action>, Vec<String>), String> {
    let mut actions: Vec<Action> = Vec::new();
    let mut dropped = Vec::new();
    for name in raw {
        let action = Action::resolve(name, catalogue);
        if !action_re().is_match(action.as_str()) {
            return Err(action.to_string());
        }
        if rules
            .permissionless_actions
            .contains(&action.as_str().to_lowercase())
        {
            dropped.push(action.to_string());
            continue;
        }
        if actions.iter().all(|a| a.as_str() != action.as_str()) {
            actions.push(action);
        }
    }
    Ok((actions, dropped))
}

/// The IAM actions a successful call used, from `eventSource`/`eventName` alone (the same tables as for denied
/// calls): canonical, permissionless ones dropped, duplicates removed, order kept. Empty for console sign-in and
/// calls that need no permission. Names are not validated here (as in `rules.py` `Rules.used`): see
/// [`is_valid_action`].
pub fn map_event(event_source: &str, event_name: &str, catalogue: &Catalogue) -> Vec<Action> {
    let rules = rules();
    if rules.is_not_permission_event(event_source, event_name) {
        return Vec::new();
    }
    let mut actions: Vec<Action> = Vec::new();
    for name in rules.from_event(event_source, event_name, catalogue) {
        let action = Action::resolve(&name, catalogue);
        if !rules
            .permissionless_actions
            .contains(&action.as_str().to_lowercase())
            && actions.iter().all(|a| a.as_str() != action.as_str())
        {
            actions.push(action);
        }
    }
    actions
}

/// Whether `name` is a well-formed IAM action name (`prefix:Name`).
pub fn is_valid_action(name: &str) -> bool {
    action_re().is_match(name)
}

/// The permissions a successful call of `principal` used (`rules.py` `Rules.used`); `errorCode` is ignored.
/// `principal`: `Some` selects its records ([`Record::is_principal`]); `None` accepts every principal.
pub fn used(record: &Record, principal: Option<&str>, catalogue: &Catalogue) -> Decision {
    if let Some(p) = principal {
        if record.user_identity.is_none() || !record.is_principal(p) {
            return Decision::new(Outcome::OtherPrincipal);
        }
    }
    let actions = map_event(record.event_source(), record.event_name(), catalogue);
    if actions.is_empty() {
        return Decision::new(Outcome::NotPermission);
    }
    let mut d = Decision::new(Outcome::Used);
    d.actions = actions;
    d.derived_from = Some(Derivation::Event);
    d
}

/// The guard: the generator's own resources, which are never granted (`rules.py` `Guard`), and the calls that would
/// let the observed principal leave observation ([`Guard::check_actions`]).
#[derive(Debug, Clone)]
pub struct Guard {
    arns: Vec<(String, Regex)>,
    names: Vec<(String, Vec<String>)>,
    /// `up --allow-role-switch`: a denied role switch is granted like any other call.
    allow_role_switch: bool,
    /// The observed IAM user's name (user mode; empty in role mode).
    observed_user: String,
    /// The groups the observed user is in (the function reads them from IAM; the vectors give them).
    groups: Vec<String>,
}

/// Denied calls that switch the principal to another role (STS AssumeRole*), and those that change a group's
/// policies: `rules.py`'s `ROLE_SWITCH_ACTIONS`, `GROUP_POLICY_ACTIONS` and `JOIN_GROUP_ACTION`.
const ROLE_SWITCH_ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
];
const GROUP_POLICY_ACTIONS: [&str; 2] = ["iam:AttachGroupPolicy", "iam:PutGroupPolicy"];
const JOIN_GROUP_ACTION: &str = "iam:AddUserToGroup";
const ROLE_SWITCH_FIX: &str = "observe that role (`--trust`/`up --principal role` on it) or allow switching with `up --allow-role-switch`";
const GROUP_FIX: &str = "the group's permissions would hide the procedure's needs: grant this yourself after the run, or observe without the group";

impl Guard {
    /// Reads the guard spec (`LPPG_GUARD`): `{"arns": [glob...], "names": {"<requestParameters key>": [names]}}`.
    pub fn from_value(spec: &Value) -> Result<Self, String> {
        let spec = spec.as_object().ok_or("guard must be a JSON object")?;
        let arns = match spec.get("arns") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("guard.arns must be a list of strings")?,
            Some(_) => return Err("guard.arns must be a list of strings".into()),
        };
        let names = match spec.get("names") {
            None => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    let list = v
                        .as_array()?
                        .iter()
                        .map(|x| x.as_str().map(str::to_owned))
                        .collect::<Option<_>>()?;
                    Some((k.clone(), list))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or("guard.names must map keys to lists of strings")?,
            Some(_) => return Err("guard.names must map keys to lists of strings".into()),
        };
        let arns = arns
            .into_iter()
            .map(|a| {
                let body: Vec<String> = a.split('*').map(regex::escape).collect();
                let re = Regex::new(&format!(r"\A{}\n?\z", body.join(".*"))).expect("escaped glob");
                (a, re)
            })
            .collect();
        let allow_role_switch = match spec.get("allow_role_switch") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or("guard.allow_role_switch must be true or false")?,
        };
        let observed_user = match spec.get("observed_user") {
            None => String::new(),
            Some(v) => v
                .as_str()
                .ok_or("guard.observed_user must be a string")?
                .to_owned(),
        };
        let groups = match spec.get("groups") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|x| x.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or("guard.groups must be a list of strings")?,
        };
        Ok(Guard {
            arns,
            names,
            allow_role_switch,
            observed_user,
            groups,
        })
    }

    /// Why the call must not be granted, if it must not: it lets the principal leave observation (puts the
    /// observed user in a group, changes a group it is in, switches to another role) or its target is guarded
    /// ([`Guard::check`]). `rules.py` `Guard.check_actions`.
    pub fn check_actions(
        &self,
        actions: &[&str],
        resource: Option<&str>,
        params: Option<&Map<String, Value>>,
    ) -> Option<String> {
        let has = |list: &[&str]| actions.iter().any(|a| list.contains(a));
        if let Some(why) = self.leaves_by_group(actions, resource, params) {
            return Some(why);
        }
        if let Some(why) = self.check(resource, params) {
            return Some(why);
        }
        if self.allow_role_switch || !has(&ROLE_SWITCH_ACTIONS) {
            return None;
        }
        let param = |k: &str| params.and_then(|p| p.get(k)).and_then(Value::as_str);
        let role = resource
            .filter(|r| r.contains(":role/"))
            .or_else(|| param("roleArn").filter(|r| !r.is_empty()))
            .unwrap_or("another role");
        Some(format!(
            "the procedure switches to role {role}: {ROLE_SWITCH_FIX}"
        ))
    }

    fn leaves_by_group(
        &self,
        actions: &[&str],
        resource: Option<&str>,
        params: Option<&Map<String, Value>>,
    ) -> Option<String> {
        if self.observed_user.is_empty() {
            return None;
        }
        let param = |k: &str| params.and_then(|p| p.get(k)).and_then(Value::as_str);
        let group = param("groupName").filter(|g| !g.is_empty()).or_else(|| {
            resource
                .filter(|r| r.contains(":group/"))
                .and_then(|r| r.rsplit(['/', ':']).next())
        });
        let user = &self.observed_user;
        if actions.contains(&JOIN_GROUP_ACTION) && param("userName") == Some(user.as_str()) {
            let group = group.unwrap_or("?");
            return Some(format!(
                "the procedure adds user {user} to group {group}; {GROUP_FIX}"
            ));
        }
        let group = group.filter(|_| actions.iter().any(|a| GROUP_POLICY_ACTIONS.contains(a)))?;
        self.groups.iter().any(|g| g == group).then(|| {
            format!("the procedure changes the policies of group {group}, which user {user} is in; {GROUP_FIX}")
        })
    }

    fn arn_match(&self, value: &str) -> Option<&str> {
        // Python's `.*` does not cross newlines.
        self.arns
            .iter()
            .find(|(_, re)| re.is_match(value))
            .map(|(p, _)| p.as_str())
    }

    /// Why the target is guarded, if it is.
    pub fn check(
        &self,
        resource: Option<&str>,
        params: Option<&Map<String, Value>>,
    ) -> Option<String> {
        if let Some(resource) = resource.filter(|r| !r.is_empty()) {
            if let Some(p) = self.arn_match(resource) {
                return Some(format!(
                    "target {resource} is part of the generator (guard pattern {p})"
                ));
            }
        }
        let params = params?;
        for (key, values) in &self.names {
            let Some(v) = params
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            if values.iter().any(|x| x == v) {
                return Some(format!(
                    "requestParameters.{key}={v} is part of the generator"
                ));
            }
            if let Some(p) = self.arn_match(v) {
                return Some(format!(
                    "requestParameters.{key}={v} is part of the generator (guard pattern {p})"
                ));
            }
            if v.starts_with("arn:") {
                let last = v.rsplit(['/', ':']).next().unwrap_or(v);
                if values.iter().any(|x| x == last) {
                    return Some(format!(
                        "requestParameters.{key}={v} is part of the generator"
                    ));
                }
            }
        }
        None
    }
}

/// Classifies one record as the generator function does. `principal`: `Some` selects its records as the function
/// does ([`Record::is_principal`]); `None` accepts every principal (`lppg generate` filters principals itself).
pub fn classify_denied(
    record: &Record,
    principal: Option<&str>,
    catalogue: &Catalogue,
) -> Decision {
    classify_with_guard(record, principal, None, catalogue)
}

/// [`classify_denied`] with the function's guard and the record's `requestParameters`.
pub fn classify_with_guard(
    record: &Record,
    principal: Option<&str>,
    guard: Option<(&Guard, Option<&Map<String, Value>>)>,
    catalogue: &Catalogue,
) -> Decision {
    let rules = rules();
    if let Some(p) = principal {
        if p.is_empty() || !record.is_principal(p) {
            return Decision::new(Outcome::OtherPrincipal);
        }
    }
    let (source, name) = (record.event_source(), record.event_name());
    if rules.is_not_permission_event(source, name) {
        let mut d = Decision::new(Outcome::NotPermission);
        d.reason = format!("{source} is not governed by IAM permissions");
        return d;
    }
    let code = record.error_code.as_deref().unwrap_or("");
    if code.is_empty()
        || rules.not_denied_error_codes.contains(code)
        || !rules.denied_error_codes.contains(code)
    {
        return Decision::new(Outcome::NotDenied);
    }
    let message = record.error_message.as_deref();
    let (raw, derived, resource) = match message.and_then(|m| rules.from_message(m)) {
        Some((action, resource)) => (vec![action.to_owned()], Derivation::Message, resource),
        None => (
            rules.from_event(source, name, catalogue),
            Derivation::Event,
            None,
        ),
    };
    let mut d = Decision::new(Outcome::Error);
    d.derived_from = Some(derived);
    d.resource = resource.map(str::to_owned);
    if raw.is_empty() {
        d.reason =
            format!("cannot derive an IAM action from eventSource {source:?} eventName {name:?}");
        return d;
    }
    let (actions, dropped) = match canonical_actions(rules, catalogue, &raw) {
        Ok(r) => r,
        Err(bad) => {
            d.reason = format!("derived action {bad:?} is not a valid IAM action name");
            return d;
        }
    };
    if actions.is_empty() {
        d.outcome = Outcome::NotPermission;
        d.reason = format!("{} needs no IAM permission", dropped.join(", "));
        return d;
    }
    d.actions = actions;
    if let Some((guard, params)) = guard {
        let names: Vec<&str> = d.actions.iter().map(Action::as_str).collect();
        if let Some(why) = guard.check_actions(&names, resource, params) {
            d.outcome = Outcome::Withheld;
            d.reason = why;
            return d;
        }
    }
    settle_denial(rules, message, d)
}

/// Steps 7 to 9: explicit deny, blocked by another kind of policy, or grant (flagged for a resource-based policy).
fn settle_denial(rules: &Rules, message: Option<&str>, mut d: Decision) -> Decision {
    d.refusal = message.and_then(|m| rules.denial_reason.as_ref()?.read(m));
    if let Some(m) = message.filter(|m| {
        rules
            .explicit_deny
            .as_ref()
            .is_some_and(|re| re.is_match(m))
    }) {
        d.outcome = Outcome::ExplicitDeny;
        let short: String = m.chars().take(300).collect();
        d.reason = format!("explicitly denied ({short}); an Allow cannot fix this");
        return d;
    }
    match d.refusal.as_ref().and_then(Refusal::policy_kind) {
        Some(kind) if kind.implicit == Implicit::Blocked => {
            let names: Vec<&str> = d.actions.iter().map(Action::as_str).collect();
            d.reason = d
                .refusal
                .as_ref()
                .map(|r| r.fix(&names))
                .unwrap_or_default();
            d.outcome = Outcome::Blocked;
            return d;
        }
        Some(kind) if kind.implicit == Implicit::GrantFlagged => {
            d.reason = RESOURCE_POLICY_FLAG.to_owned();
        }
        _ => {}
    }
    d.outcome = Outcome::Grant;
    d
}

/// `sessionContext.sessionIssuer.arn` of a `userIdentity` object, when each part has the right type.
fn session_context_from_value(u: &Map<String, Value>) -> Option<SessionContext<'_>> {
    let issuer = u
        .get("sessionContext")?
        .as_object()?
        .get("sessionIssuer")?
        .as_object()?;
    Some(SessionContext {
        session_issuer: Some(SessionIssuer {
            arn: issuer.get("arn").and_then(Value::as_str).map(Cow::Borrowed),
        }),
    })
}

/// Reads a record from a JSON value with Python's leniency: a field of the wrong type counts as absent.
pub fn record_from_value(value: &Value) -> Option<Record<'_>> {
    let obj = value.as_object()?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(Cow::Borrowed);
    let user_identity = obj
        .get("userIdentity")
        .and_then(Value::as_object)
        .map(|u| UserIdentity {
            kind: u.get("type").and_then(Value::as_str).map(Cow::Borrowed),
            arn: u.get("arn").and_then(Value::as_str).map(Cow::Borrowed),
            session_context: session_context_from_value(u),
        });
    let resources = obj.get("resources").and_then(Value::as_array).map(|list| {
        list.iter()
            .map(|r| super::record::ResourceRef {
                arn: r.get("ARN").and_then(Value::as_str).map(Cow::Borrowed),
            })
            .collect()
    });
    let request_parameters =
        obj.get("requestParameters")
            .and_then(Value::as_object)
            .map(|params| {
                super::record::ResourceParams(
                    crate::policy::RESOURCE_PARAMS
                        .iter()
                        .filter_map(|name| {
                            let value = params.get(*name)?.as_str()?;
                            Some((*name, Cow::Borrowed(value)))
                        })
                        .collect(),
                )
            });
    Some(Record {
        event_source: s("eventSource"),
        event_name: s("eventName"),
        event_time: s("eventTime"),
        event_type: s("eventType"),
        event_id: s("eventID"),
        error_code: s("errorCode"),
        error_message: s("errorMessage"),
        user_identity,
        resources,
        request_parameters,
    })
}

/// [`used`] on a JSON value, as `rules.py` sees it.
pub fn used_value(record: &Value, principal: Option<&str>, catalogue: &Catalogue) -> Decision {
    match record_from_value(record) {
        Some(parsed) => used(&parsed, principal, catalogue),
        None => Decision::new(Outcome::OtherPrincipal),
    }
}

/// [`classify_with_guard`] on a JSON value, as the function sees it (tests, tools). A value that is not an object
/// is an [`Outcome::Error`].
pub fn classify_value(
    record: &Value,
    principal: Option<&str>,
    guard: Option<&Guard>,
    catalogue: &Catalogue,
) -> Decision {
    let Some(parsed) = record_from_value(record) else {
        let mut d = Decision::new(Outcome::Error);
        d.reason = "record is not a JSON object".into();
        return d;
    };
    let params = record.get("requestParameters").and_then(Value::as_object);
    classify_with_guard(&parsed, principal, guard.map(|g| (g, params)), catalogue)
}
