//! The one policy writer: what `export-policy`, `generate` and `down` write, from an action set and what is
//! known about each action.
//!
//! ```text
//! let writer = Writer::new(set)                 // the merged, canonical ActionSet
//!     .evidence(&evidence, ResourceMode::Scoped) // resources of the statements (default: "*")
//!     .by_step(&steps)                           // one statement per step (default: one per service)
//!     .metadata(meta);                           // first denied, step, derivation: for explain
//! let written = writer.write(&WriteOptions { format: Format::Json, oversize: Oversize::Refuse, ..})?;
//! let diff = writer.diff(&baselines);            // every document of a baseline file, merged
//! let table = writer.explain(false)?;            // or explain(true) for JSON
//! ```
//!
//! Pure: no file, no terminal, no AWS. The caller prints [`Written::text`] and [`Written::note`].
use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::{
    catalogue, diff_scoped, explain_json, explain_rows, policy_size, render_documents,
    render_scoped, resource_data, scope_of, split_scoped, to_pretty_json, validate_policy, Action,
    ActionMeta, ActionSet, EvidenceMap, ExplainRow, Format, FormatOptions, Grouping, Policy,
    PolicyDiff, ResourceChoice, ResourceMode, Scope, Step, MAX_PERMISSION_SET_INLINE_SIZE,
    MAX_POLICY_SIZE,
};

/// What to do when the policy is over IAM's limit ([`MAX_POLICY_SIZE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oversize {
    /// Refuse with the size and the way out (`--split`).
    #[default]
    Refuse,
    /// Several documents that each fit (`--split`).
    Split,
    /// One document whatever its size: a record of what was granted (`down` saves this); over the limit it is
    /// not validated (IAM's validation would only repeat that it is too large).
    Keep,
}

/// How to write the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    pub format: Format,
    pub oversize: Oversize,
    /// Names and description of the CloudFormation and Terraform resources.
    pub names: FormatOptions,
}

/// The written policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The text in the chosen format, ending with a newline.
    pub text: String,
    /// The documents, each validated (one unless split).
    pub documents: Vec<Value>,
    /// A line for the user when the policy was split.
    pub note: Option<String>,
}

/// Why the policy could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Over IAM's limit and [`Oversize::Refuse`]: the size, whitespace not counted.
    TooLarge(usize),
    /// Over what a permission set's one inline policy can hold ([`MAX_PERMISSION_SET_INLINE_SIZE`]).
    TooLargeForPermissionSet(usize),
    /// A statement that cannot be cut to fit.
    Split(String),
    /// A generated document that is not a valid IAM policy (1-based) and the problems found.
    Invalid(usize, Vec<String>),
    /// The IAM action catalogue could not be read.
    Catalogue(String),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::TooLarge(size) => write!(
                f,
                "the policy has {} characters (whitespace not counted), more than IAM's limit of {} for a \
                 managed policy: pass --split to write it as several documents that each fit, or prune it \
                 (--explain shows what each action is)",
                thousands(*size),
                thousands(MAX_POLICY_SIZE)
            ),
            WriteError::TooLargeForPermissionSet(size) => write!(
                f,
                "the policy has {} characters (whitespace not counted), more than the {} an Identity Center \
                 permission set's inline policy can hold (it becomes an inline policy of the role in each account, \
                 and IAM limits a role's inline policies to {} characters; a permission set has one, so it \
                 cannot be split): prune it (--explain shows what each action is), or write managed policies \
                 (--format cfn or terraform, with --split) and attach them to the permission set as customer \
                 managed policies",
                thousands(*size),
                thousands(MAX_PERMISSION_SET_INLINE_SIZE),
                thousands(MAX_PERMISSION_SET_INLINE_SIZE)
            ),
            WriteError::Split(e) => f.write_str(e),
            WriteError::Invalid(i, problems) => write!(
                f,
                "the generated document {i} is not a valid IAM policy: {}",
                problems.join("; ")
            ),
            WriteError::Catalogue(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for WriteError {}

/// The policy writer; see the module documentation.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    set: ActionSet,
    steps: Option<&'a [Step]>,
    choices: BTreeMap<Action, ResourceChoice>,
    /// Resources read back from a written policy (`--from`), used as they are.
    fixed: Option<Scope>,
    meta: BTreeMap<Action, ActionMeta>,
    /// Calls refused by a policy an identity policy cannot fix (or explicitly denied): listed by `explain`, never
    /// written into a document.
    refused: Vec<super::RefusedRow>,
}

impl<'a> Writer<'a> {
    /// A writer for these actions, every statement on `"Resource": "*"`, one statement per service.
    pub fn new(set: ActionSet) -> Writer<'a> {
        let choices = resource_data().choose_all(&set, &EvidenceMap::new(), ResourceMode::Any);
        Writer {
            set,
            steps: None,
            choices,
            fixed: None,
            meta: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    /// The refused calls `explain` lists after the granted actions (the policy never holds them).
    pub fn refused(mut self, rows: Vec<super::RefusedRow>) -> Writer<'a> {
        self.refused = rows;
        self
    }

    /// The statements' resources as a written policy had them (`--from`; see
    /// [`super::GeneratedActions::read_back`]): actions absent from `scope` stay on `"*"`.
    pub fn scope(mut self, scope: Scope) -> Writer<'a> {
        self.fixed = Some(scope);
        self
    }

    fn resolved_scope(&self) -> Scope {
        match &self.fixed {
            Some(scope) if self.choices.values().all(ResourceChoice::is_any) => scope.clone(),
            _ => scope_of(&self.choices),
        }
    }

    /// The statements' resources chosen in `mode` from what each action was seen on.
    pub fn evidence(mut self, evidence: &EvidenceMap, mode: ResourceMode) -> Writer<'a> {
        self.choices = resource_data().choose_all(&self.set, evidence, mode);
        self
    }

    /// One statement per step (actions outside every step in `Unassigned`).
    pub fn by_step(mut self, steps: &'a [Step]) -> Writer<'a> {
        self.steps = Some(steps);
        self
    }

    /// What is known of each action, for [`Writer::explain`]; the resources come from [`Writer::evidence`].
    pub fn metadata(mut self, meta: BTreeMap<Action, ActionMeta>) -> Writer<'a> {
        self.meta = meta;
        self
    }

    /// Keeps only these actions (`--interactive`).
    pub fn retain(mut self, kept: ActionSet) -> Writer<'a> {
        self.set = kept;
        self
    }

    /// The actions written.
    pub fn set(&self) -> &ActionSet {
        &self.set
    }

    fn grouping(&self) -> Grouping<'a> {
        match self.steps {
            Some(steps) => Grouping::ByStep(steps),
            None => Grouping::ByService,
        }
    }

    /// The policy's documents: one, or several under [`Oversize::Split`]; each one validated.
    /// The note says when it was split.
    pub fn documents(
        &self,
        oversize: Oversize,
    ) -> Result<(Vec<Value>, Option<String>), WriteError> {
        let scope = self.resolved_scope();
        let whole = render_scoped(&self.set, self.grouping(), &scope);
        let size = policy_size(&whole);
        let (documents, note) = if size > MAX_POLICY_SIZE && oversize == Oversize::Keep {
            // A record of what was granted, over the limit on purpose: not a policy to attach as it is.
            return Ok((vec![whole], None));
        } else if size <= MAX_POLICY_SIZE {
            (vec![whole], None)
        } else if oversize == Oversize::Split {
            let documents = split_scoped(&self.set, self.grouping(), &scope, MAX_POLICY_SIZE)
                .map_err(|e| WriteError::Split(e.to_string()))?;
            let note = format!(
                "the policy has {} characters: split into {} documents of at most {} characters each",
                thousands(size),
                documents.len(),
                thousands(MAX_POLICY_SIZE)
            );
            (documents, Some(note))
        } else {
            return Err(WriteError::TooLarge(size));
        };
        for (i, document) in documents.iter().enumerate() {
            validate_policy(document).map_err(|problems| WriteError::Invalid(i + 1, problems))?;
        }
        Ok((documents, note))
    }

    /// The one document of a permission set's inline policy, within its limit, validated.
    fn permission_set_document(&self) -> Result<(Vec<Value>, Option<String>), WriteError> {
        let (documents, _) = self.documents(Oversize::Keep)?;
        let size = policy_size(&documents[0]);
        if size > MAX_PERMISSION_SET_INLINE_SIZE {
            return Err(WriteError::TooLargeForPermissionSet(size));
        }
        if size > MAX_POLICY_SIZE {
            // Within the inline limit: validate all but the managed policy size.
            let problems: Vec<String> = validate_policy(&documents[0])
                .err()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| !p.contains("more than IAM's limit"))
                .collect();
            if !problems.is_empty() {
                return Err(WriteError::Invalid(1, problems));
            }
        }
        Ok((documents, None))
    }

    /// The policy in a format.
    pub fn write(&self, options: &WriteOptions) -> Result<Written, WriteError> {
        let (documents, note) = if options.format.is_permission_set() {
            self.permission_set_document()?
        } else {
            self.documents(options.oversize)?
        };
        let text = render_documents(options.format, &documents, &options.names);
        Ok(Written {
            text,
            documents,
            note,
        })
    }

    /// The differences with a baseline: every document of a baseline file (one, or a `--split` list) counts;
    /// scoped actions are compared by action-and-resource pairs ([`diff_scoped`]).
    pub fn diff(&self, baselines: &[Policy]) -> PolicyDiff {
        let merged = Policy {
            version: baselines.first().and_then(|p| p.version.clone()),
            statements: baselines
                .iter()
                .flat_map(|p| p.statements.iter().cloned())
                .collect(),
        };
        diff_scoped(&self.set, &self.resolved_scope(), &merged)
    }

    /// One row per action: access level, first denied, step, derivation, resources, risks.
    pub fn explain_rows(&self) -> Result<Vec<ExplainRow>, WriteError> {
        let catalogue = catalogue().map_err(|e| WriteError::Catalogue(e.to_string()))?;
        let meta: BTreeMap<Action, ActionMeta> = self
            .set
            .iter()
            .map(|action| {
                let mut meta = self.meta.get(action).cloned().unwrap_or_default();
                meta.resources = self.choices.get(action).cloned();
                (action.clone(), meta)
            })
            .collect();
        Ok(explain_rows(&self.set, &meta, catalogue))
    }

    /// The reviewer's table, or its JSON, with the refused calls after the granted actions.
    pub fn explain(&self, json: bool) -> Result<String, WriteError> {
        let rows = self.explain_rows()?;
        Ok(if json {
            to_pretty_json(&super::with_refused_json(
                explain_json(&rows),
                &self.refused,
            ))
        } else {
            super::explain_with_refused(&rows, &self.refused)
        })
    }
}

/// `6144` → `6,144`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_set() -> ActionSet {
        let names: Vec<String> = (0..400)
            .map(|i| format!("svc{}:DescribeSomethingRatherLong{i:03}", i % 7))
            .collect();
        ActionSet::parse(names.iter().map(String::as_str)).unwrap()
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(6144), "6,144");
        assert_eq!(thousands(123), "123");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn over_the_limit_refuses_splits_or_keeps() {
        let writer = Writer::new(big_set());
        let refused = writer.documents(Oversize::Refuse).unwrap_err();
        assert!(matches!(refused, WriteError::TooLarge(n) if n > MAX_POLICY_SIZE));
        assert!(refused.to_string().contains("pass --split"));
        let (split, note) = writer.documents(Oversize::Split).unwrap();
        assert!(split.len() > 1);
        assert!(split.iter().all(|d| policy_size(d) <= MAX_POLICY_SIZE));
        assert!(note.unwrap().contains("split into"));
        let (kept, note) = writer.documents(Oversize::Keep).unwrap();
        assert_eq!(kept.len(), 1);
        assert!(note.is_none());
    }

    #[test]
    fn a_permission_set_holds_one_inline_policy_up_to_its_limit() {
        let options = WriteOptions {
            format: Format::PermissionSet,
            oversize: Oversize::Split,
            ..WriteOptions::default()
        };
        // 400 long actions: over 10,240 characters: refused with the reason, never split.
        let refused = Writer::new(big_set()).write(&options).unwrap_err();
        assert!(
            matches!(refused, WriteError::TooLargeForPermissionSet(n) if n > MAX_PERMISSION_SET_INLINE_SIZE)
        );
        assert!(refused.to_string().contains("customer managed policies"));
        // 200: over a managed policy's 6,144 but within the inline limit: one document.
        let names: Vec<String> = (0..200)
            .map(|i| format!("svc{}:DescribeSomethingRatherLong{i:03}", i % 7))
            .collect();
        let set = ActionSet::parse(names.iter().map(String::as_str)).unwrap();
        let written = Writer::new(set).write(&options).unwrap();
        assert_eq!(written.documents.len(), 1);
        let size = policy_size(&written.documents[0]);
        assert!(
            size > MAX_POLICY_SIZE && size <= MAX_PERMISSION_SET_INLINE_SIZE,
            "{size}"
        );
    }

    #[test]
    fn a_split_baseline_is_the_same_policy() {
        let writer = Writer::new(big_set());
        let (split, _) = writer.documents(Oversize::Split).unwrap();
        let baselines: Vec<Policy> = split
            .iter()
            .map(|d| Policy::from_value(d).unwrap())
            .collect();
        assert!(writer.diff(&baselines).same);
        // One document of the list alone is not.
        assert!(!writer.diff(&baselines[..1]).same);
    }

    #[test]
    fn explain_carries_the_chosen_resources() {
        let set = ActionSet::parse(["s3:GetObject"]).unwrap();
        let rows = Writer::new(set).explain_rows().unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].resources.as_ref().is_some_and(|r| r.is_any()));
    }
}
