//! Which kind of policy refused a call, read from its access-denied message (`mapping.json` `denial_reason`, the
//! same data and regex as `rules.py` `Rules.denial`).
//!
//! AWS names the kind (IAM User Guide, "Troubleshoot access denied error messages"): "because no <kind> allows the
//! <action> action" for an implicit deny, "with an explicit deny in a <kind>" for an explicit one, since 2025 often
//! followed by ": <policy ARN>" (AWS Security Blog, "Enhanced access denied error messages with policy ARNs"). Only
//! an implicit deny by the principal's own (identity-based) policies, or an unnamed one, is fixed by a grant.

use std::collections::HashMap;
use std::fmt;

use regex::Regex;
use serde::Deserialize;

use crate::policy::with_article;

/// What an implicit deny by a kind of policy means for the generator (`implicit` in `mapping.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implicit {
    /// The principal's own policy lacks the allow: a grant fixes it.
    Grant,
    /// Granted, and the resource's own policy must also allow it (across accounts, KMS keys).
    GrantFlagged,
    /// Another policy (SCP, RCP, permissions boundary, session or VPC endpoint policy) lacks the allow: an identity
    /// policy cannot fix it, so it is not granted.
    Blocked,
}

/// One kind of policy, as `mapping.json` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PolicyKind {
    /// Stable id written on decision lines (`service_control_policy`).
    pub id: String,
    /// How people call it (`service control policy`).
    pub name: String,
    pub implicit: Implicit,
}

/// The raw `denial_reason` object of `mapping.json`.
#[derive(Debug, Deserialize)]
pub(super) struct RawDenialReason {
    regex: String,
    #[serde(default)]
    kinds: HashMap<String, PolicyKind>,
}

/// The compiled `denial_reason`.
#[derive(Debug)]
pub struct DenialReason {
    regex: Regex,
    /// Lower-cased message phrase → kind.
    kinds: HashMap<String, PolicyKind>,
}

impl DenialReason {
    pub(super) fn compile(raw: RawDenialReason) -> Self {
        DenialReason {
            regex: Regex::new(&raw.regex).unwrap_or_else(|e| {
                panic!("assets/function/mapping.json: bad denial_reason regex: {e}")
            }),
            kinds: raw
                .kinds
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        }
    }

    /// The refusal an error message names, or `None` when it names no known kind of policy.
    pub fn read(&self, message: &str) -> Option<Refusal> {
        let c = self.regex.captures(message)?;
        let phrase = c
            .name("kind")?
            .as_str()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let kind = self.kinds.get(&phrase)?;
        Some(Refusal {
            kind: kind.id.clone(),
            policy: c.name("policy").map(|m| m.as_str().to_owned()),
            explicit: c.name("explicit").is_some(),
        })
    }

    /// The kind with this id (as decision lines write it).
    pub fn kind(&self, id: &str) -> Option<&PolicyKind> {
        self.kinds.values().find(|k| k.id == id)
    }
}

/// The policy that refused a call: its kind, its ARN when the message names it, and whether it was an explicit deny.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Refusal {
    /// The kind's id (`service_control_policy`); an id this build does not know is kept as written.
    pub kind: String,
    /// The denying policy's ARN, when the message names it.
    pub policy: Option<String>,
    pub explicit: bool,
}

impl Refusal {
    /// A refusal read back from a decision line's `denied_by` and `denied_by_policy`.
    pub fn from_line(kind: &str, policy: Option<&str>, explicit: bool) -> Self {
        Refusal {
            kind: kind.to_owned(),
            policy: policy.filter(|p| !p.is_empty()).map(str::to_owned),
            explicit,
        }
    }

    /// The kind as `mapping.json` describes it, when this build knows it.
    pub fn policy_kind(&self) -> Option<&'static PolicyKind> {
        super::rules().denial_reason.as_ref()?.kind(&self.kind)
    }

    /// How people call the kind (`service control policy`); the id when unknown.
    pub fn kind_name(&self) -> &str {
        self.policy_kind().map_or(&self.kind, |k| &k.name)
    }

    /// Whether an identity policy cannot fix this implicit deny (the generator does not grant it).
    pub fn blocks(&self) -> bool {
        !self.explicit
            && self
                .policy_kind()
                .is_some_and(|k| k.implicit == Implicit::Blocked)
    }

    /// The policy's short name: the last segment of its ARN (`p-2kgnabcd`).
    pub fn policy_name(&self) -> Option<&str> {
        let arn = self.policy.as_deref()?;
        arn.rsplit(['/', ':']).next()
    }

    /// What would fix an implicit deny an identity policy cannot fix, as `rules.py` `blocked_reason` words it:
    /// "an identity policy cannot fix this: the service control policy p-2kgnabcd must allow sqs:ListQueues".
    pub fn fix(&self, actions: &[&str]) -> String {
        let who = match self.policy_name() {
            Some(name) => format!("the {} {name}", self.kind_name()),
            None => with_article(self.kind_name()),
        };
        format!(
            "an identity policy cannot fix this: {who} must allow {}",
            actions.join(", ")
        )
    }

    /// What `--explain` says about a call this refusal kept out of the policy: [`Refusal::fix`] for a blocked one,
    /// for an explicit deny "an Allow cannot fix this: the service control policy p-2kgnabcd denies it".
    pub fn remedy(&self, actions: &[&str]) -> String {
        if !self.explicit {
            return self.fix(actions);
        }
        match self.policy_name() {
            Some(name) => format!(
                "an Allow cannot fix this: the {} {name} denies it",
                self.kind_name()
            ),
            None => format!(
                "an Allow cannot fix this: {} denies it",
                with_article(self.kind_name())
            ),
        }
    }

    /// The `--explain` row of `action`, refused by this policy `calls` times, first at `first_denied`.
    pub fn row(
        &self,
        action: &str,
        calls: u64,
        first_denied: Option<std::time::SystemTime>,
    ) -> crate::policy::RefusedRow {
        crate::policy::RefusedRow {
            action: action.to_owned(),
            outcome: if self.explicit {
                "explicit_deny"
            } else {
                "blocked"
            },
            kind: Some(self.kind.clone()),
            kind_name: Some(self.kind_name().to_owned()),
            policy: self.policy.clone(),
            calls,
            first_denied,
            fix: self.remedy(&[action]),
        }
    }
}

/// The `--explain` row of an explicit deny whose message names no kind of policy.
pub fn unnamed_explicit_row(
    action: &str,
    calls: u64,
    first_denied: Option<std::time::SystemTime>,
) -> crate::policy::RefusedRow {
    crate::policy::RefusedRow {
        action: action.to_owned(),
        outcome: "explicit_deny",
        kind: None,
        kind_name: None,
        policy: None,
        calls,
        first_denied,
        fix: "an Allow cannot fix this: a policy denies it explicitly".to_owned(),
    }
}

impl fmt::Display for Refusal {
    /// `service control policy arn:aws:organizations::…/p-2kgnabcd`, or the kind alone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.explicit {
            write!(f, "explicit deny in {}", with_article(self.kind_name()))?;
        } else {
            f.write_str(self.kind_name())?;
        }
        if let Some(arn) = &self.policy {
            write!(f, " {arn}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(message: &str) -> Option<Refusal> {
        crate::cloudtrail::rules()
            .denial_reason
            .as_ref()
            .unwrap()
            .read(message)
    }

    #[test]
    fn reads_kind_policy_and_explicitness() {
        let scp = "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd";
        let r = read(&format!(
            "User: u is not authorized to perform: iam:ListRoles on resource: x with an explicit deny in a \
             service control policy: {scp}"
        ))
        .unwrap();
        assert_eq!(r.kind, "service_control_policy");
        assert_eq!(r.policy.as_deref(), Some(scp));
        assert!(r.explicit && !r.blocks());
        assert_eq!(r.policy_name(), Some("p-2kgnabcd"));
        let b = read("is not authorized to perform: sqs:listqueues because no Permissions Boundary allows the sqs:listqueues action").unwrap();
        assert_eq!(
            (b.kind.as_str(), b.explicit, b.blocks()),
            ("permissions_boundary", false, true)
        );
        assert_eq!(
            b.fix(&["sqs:ListQueues"]),
            "an identity policy cannot fix this: a permissions boundary must allow sqs:ListQueues"
        );
        assert!(read("Access Denied").is_none());
        assert!(
            !read("because no identity-based policy allows the s3:ListBucket action")
                .unwrap()
                .blocks()
        );
    }
}
