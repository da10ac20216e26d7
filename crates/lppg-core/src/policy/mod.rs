//! Pure IAM policy logic: the one model of actions ([`Action`], [`Derivation`], the IAM action [`catalogue`]),
//! the document model, the merged action set, rendering, size accounting and splitting, output formats, diff,
//! explain rows and validation.
//!
//! Nothing here talks to AWS or touches the file system: callers pass in the text
//! they read (generator policy documents, a baseline file, the IAM action catalogue)
//! and get back values or strings to print. Callers add file names to errors.
//!
//! The usual flow of `lppg export-policy`:
//!
//! 1. [`decode_document`] + [`Policy::parse`] each generator policy's default version;
//! 2. [`GeneratedActions::from_documents`] then [`GeneratedActions::merged`] for the
//!    final [`ActionSet`], canonicalised with [`ActionSet::canonicalize`] and a [`Catalogue`];
//! 3. a [`Writer`] of that set (with its evidence, steps and metadata), the one writer of `export-policy`,
//!    `generate` and `down`: [`render_policy`] (or [`split`] when [`policy_size`] exceeds [`MAX_POLICY_SIZE`]),
//!    [`render_documents`] in the chosen [`Format`], each document checked with [`validate_policy`].
//!
//! `--by-step` builds its [`Step`]s with [`steps_from_markers`]; `--diff` parses the
//! baseline with [`Policy::parse_documents`] and calls [`Writer::diff`]; `--explain` uses [`Writer::explain`];
//! `--from FILE` reads a saved export with [`Policy::parse_documents`].

mod actions;
mod catalogue;
mod derivation;
mod diff;
mod document;
mod explain;
mod findings;
mod format;
mod hcl;
mod pattern;
mod refused;
mod render;
mod resources;
mod risks;
mod size;
mod steps;
mod validate;
mod writer;

pub use actions::{Action, ActionSet, GeneratedActions, ParseActionError};
pub use catalogue::{catalogue, AccessLevel, Catalogue, CatalogueError, CATALOGUE_JSON};
pub use derivation::Derivation;
pub use diff::{diff, diff_scoped, PolicyDiff, ResourcePair, WildcardCoverage};
pub use document::{
    decode_document, ActionClause, Effect, Policy, PolicyError, ResourceClause, Statement,
};
pub use explain::{
    background_flags, explain_json, explain_rows, explain_table, ActionMeta, ExplainRow,
    BURST_MIN_ACTIONS, BURST_WINDOW,
};
pub use findings::{finding_lines, statement_of, Finding, FindingKind};
pub use format::{render_documents, Format, FormatOptions};
pub use pattern::action_matches;
pub use refused::{
    explain_with_refused, refused_table, with_article, with_refused_json, RefusedRow,
};
pub use render::{
    render_policy, render_scoped, service_sid, sid_from_label, to_pretty_json, Grouping, Scope,
    Step,
};
pub use resources::{
    arn_matches, evidence_items, resource_data, scope_of, Evidence, EvidenceMap, ResourceChoice,
    ResourceData, ResourceMode, RESOURCE_PARAMS,
};
pub use risks::{flagged, review_line, risk_actions, risks_of, Risk};
pub use size::{policy_size, split, split_scoped, SplitError};
pub use steps::{steps_from_markers, Marker};
pub use validate::validate_policy;
pub use writer::{thousands, Oversize, WriteError, WriteOptions, Writer, Written};

/// The only policy language version lppg writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// IAM's limit for a customer managed policy, in characters, whitespace not counted.
pub const MAX_POLICY_SIZE: usize = 6_144;

/// What an IAM Identity Center permission set's inline policy can hold, in characters, whitespace not counted:
/// Identity Center provisions it as an inline policy of a role in each account, and IAM limits a role's inline
/// policies to 10,240 characters in total (IAM quotas: "Role policy size"); `PutInlinePolicyToPermissionSet`
/// itself accepts up to 32,768 characters with whitespace.
pub const MAX_PERMISSION_SET_INLINE_SIZE: usize = 10_240;

/// `Sid` of the generator statement that holds the actions needed to start a session.
pub const START_SID: &str = "LppgStart";

/// `Sid` of the filler statement in spare generator policies: not a real grant.
pub const PLACEHOLDER_SID: &str = "LppgPlaceholder";

#[cfg(test)]
mod tests {
    //! The whole flow, end to end, as `export-policy` runs it.
    use super::*;

    const CATALOGUE: &str = r#"{"s3":{"GetObject":"R","ListAllMyBuckets":"L","PutObject":"W"},
        "ec2":{"DescribeInstances":"L"},"sts":{"GetCallerIdentity":"R"}}"#;

    fn generator_documents() -> Vec<String> {
        let first = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"LppgStart","Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":"*"},
            {"Sid":"S3","Effect":"Allow","Action":["s3:getobject","s3:ListAllMyBuckets"],"Resource":"*"}]}"#;
        let second = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Ec2","Effect":"Allow","Action":["ec2:DescribeInstances"],"Resource":"*"},
            {"Sid":"S3","Effect":"Allow","Action":["s3:PutObject"],"Resource":"*"}]}"#;
        let spare = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"LppgPlaceholder","Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#;
        vec![
            urlencoding::encode(first).into_owned(),
            second.to_string(),
            spare.to_string(),
        ]
    }

    fn export(texts: &[String], include_start: bool) -> ActionSet {
        let policies: Vec<Policy> = texts
            .iter()
            .map(|t| Policy::parse(&decode_document(t).unwrap()).unwrap())
            .collect();
        let generated = GeneratedActions::from_documents(&policies);
        assert!(generated.skipped.is_empty(), "{:?}", generated.skipped);
        generated
            .merged(include_start)
            .canonicalize(&Catalogue::parse(CATALOGUE).unwrap())
    }

    #[test]
    fn export_then_from_gives_the_same_bytes() {
        let set = export(&generator_documents(), true);
        let document = render_policy(&set, Grouping::ByService);
        validate_policy(&document).unwrap();
        let first = render_documents(Format::Json, &[document], &FormatOptions::default());
        assert!(first.contains(r#""s3:GetObject""#));
        assert!(first.contains(r#""sts:GetCallerIdentity""#));

        let again = export(std::slice::from_ref(&first), true);
        let second = render_documents(
            Format::Json,
            &[render_policy(&again, Grouping::ByService)],
            &FormatOptions::default(),
        );
        assert_eq!(first, second);
    }

    #[test]
    fn without_start_drops_start_only_actions() {
        let set = export(&generator_documents(), false);
        assert!(!set.contains(&Action::parse("sts:GetCallerIdentity").unwrap()));
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn split_documents_read_back_as_the_same_set() {
        let names: Vec<String> = (0..1500)
            .map(|i| format!("svc{}:ActionNumber{i:04}", i % 7))
            .collect();
        let set = ActionSet::parse(&names).unwrap();
        assert!(policy_size(&render_policy(&set, Grouping::ByService)) > MAX_POLICY_SIZE);
        let documents = split(&set, Grouping::ByService, MAX_POLICY_SIZE).unwrap();
        for document in &documents {
            validate_policy(document).unwrap();
        }
        let saved = render_documents(Format::Json, &documents, &FormatOptions::default());
        let policies = Policy::parse_documents(&saved).unwrap();
        assert_eq!(policies.len(), documents.len());
        assert_eq!(
            GeneratedActions::from_documents(&policies).merged(true),
            set
        );
    }
}
