//! Pure IAM policy logic: the document model, the merged action set, rendering,
//! size accounting and splitting, output formats, diff, explain rows and validation.
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
//! 3. [`render_policy`] (or [`split`] when [`policy_size`] exceeds [`MAX_POLICY_SIZE`]);
//! 4. [`render_documents`] in the chosen [`Format`], checked with [`validate_policy`].

mod actions;
mod catalogue;
mod diff;
mod document;
mod explain;
mod format;
mod pattern;
mod render;
mod size;
mod validate;

pub use actions::{Action, ActionSet, GeneratedActions, ParseActionError};
pub use catalogue::{AccessLevel, Catalogue, CatalogueError};
pub use diff::{diff, PolicyDiff, WildcardCoverage};
pub use document::{
    decode_document, ActionClause, Effect, Policy, PolicyError, ResourceClause, Statement,
};
pub use explain::{
    background_flags, explain_json, explain_rows, explain_table, ActionMeta, Derivation,
    ExplainRow, BURST_MIN_ACTIONS, BURST_WINDOW,
};
pub use format::{render_documents, Format, FormatOptions};
pub use pattern::action_matches;
pub use render::{render_policy, service_sid, sid_from_label, to_pretty_json, Grouping, Step};
pub use size::{policy_size, split, SplitError};
pub use validate::validate_policy;

/// The only policy language version lppg writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// IAM's limit for a customer managed policy, in characters, whitespace not counted.
pub const MAX_POLICY_SIZE: usize = 6_144;

/// `Sid` of the generator statement that holds the actions needed to start a session.
pub const START_SID: &str = "LppgStart";

/// `Sid` of the filler statement in spare generator policies: not a real grant.
pub const PLACEHOLDER_SID: &str = "LppgPlaceholder";
