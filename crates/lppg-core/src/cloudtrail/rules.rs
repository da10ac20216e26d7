//! The mapping rules, compiled into the binary from `assets/function/mapping.json` (the IAM action catalogue is
//! [`crate::policy::catalogue`]).
//!
//! The same files drive the Python generator function, so the CLI and the function cannot drift apart: the data is
//! shared and `tests/engine_agreement.rs` checks that both engines read it the same way.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use super::denial::{DenialReason, RawDenialReason};

/// `assets/function/mapping.json`, verbatim.
pub const MAPPING_JSON: &str = include_str!("../../../../assets/function/mapping.json");
/// `assets/function/operations.json`, verbatim: the event-name map generated from public data by
/// `scripts/gen_operation_map.py` (`{"operations": {"<prefix>": {"<EventName>": ["<action>", ...]}}}`).
pub const OPERATIONS_JSON: &str = include_str!("../../../../assets/function/operations.json");

/// The raw shape of `mapping.json`. Unknown keys are ignored here; the agreement test with the Python engine is what
/// catches a new key that changes behaviour.
#[derive(Debug, Deserialize)]
struct RawRules {
    #[serde(default)]
    denied_error_codes: Vec<String>,
    #[serde(default)]
    not_denied_error_codes: Vec<String>,
    #[serde(default)]
    message_patterns: Vec<RawPattern>,
    #[serde(default)]
    explicit_deny_regex: Option<String>,
    #[serde(default)]
    denial_reason: Option<RawDenialReason>,
    #[serde(default)]
    source_prefix_exceptions: HashMap<String, String>,
    #[serde(default)]
    event_name_exceptions: HashMap<String, HashMap<String, Vec<String>>>,
    #[serde(default)]
    date_suffix_regex: Option<String>,
    #[serde(default)]
    permissionless_actions: Vec<String>,
    #[serde(default)]
    not_permission_events: Vec<RawEventMatch>,
    #[serde(default)]
    apigateway: Option<RawApiGateway>,
}

/// The raw shape of `operations.json` (its `schema` and `sources` are for people).
#[derive(Debug, Deserialize)]
struct RawOperations {
    operations: HashMap<String, HashMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
struct RawPattern {
    #[serde(default)]
    id: String,
    regex: String,
}

#[derive(Debug, Deserialize)]
struct RawEventMatch {
    #[serde(default)]
    event_source: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawApiGateway {
    event_source: String,
    #[serde(default)]
    prefer_catalogue_action: bool,
    #[serde(default)]
    verb_by_event_name: HashMap<String, String>,
    /// An object; its order matters (first matching prefix wins), which `preserve_order` keeps.
    #[serde(default)]
    verb_by_event_prefix: serde_json::Map<String, serde_json::Value>,
}

/// One message pattern: a regex with a named group `action`.
#[derive(Debug)]
pub struct MessagePattern {
    pub id: String,
    pub regex: Regex,
}

/// A record selector for calls that are not IAM permissions (for example console sign-in).
#[derive(Debug)]
pub struct EventMatch {
    pub event_source: Option<String>,
    pub event_name: Option<String>,
}

/// API Gateway: the action is an HTTP verb chosen by the event name's leading word.
#[derive(Debug)]
pub struct ApiGateway {
    pub event_source: String,
    /// Use the event name itself when the catalogue has `apigateway:<eventName>`.
    pub prefer_catalogue_action: bool,
    /// Exact event names with their verb (checked before the prefixes).
    pub verb_by_event_name: HashMap<String, String>,
    /// In file order: the longest matching prefix wins, the first among equals.
    pub verb_by_event_prefix: Vec<(String, String)>,
}

/// The compiled rules.
#[derive(Debug)]
pub struct Rules {
    pub denied_error_codes: HashSet<String>,
    pub not_denied_error_codes: HashSet<String>,
    pub message_patterns: Vec<MessagePattern>,
    pub explicit_deny: Option<Regex>,
    /// Which kind of policy refused a call ([`super::denial`]).
    pub denial_reason: Option<DenialReason>,
    pub source_prefix_exceptions: HashMap<String, String>,
    /// prefix (lower case) → event name → actions: the hand-written exceptions of `mapping.json`.
    pub event_name_exceptions: HashMap<String, HashMap<String, Vec<String>>>,
    /// prefix (lower case) → event name → actions: `operations.json`, consulted after the hand-written exceptions.
    pub operations: HashMap<String, HashMap<String, Vec<String>>>,
    pub date_suffix: Option<Regex>,
    /// Lower-cased `prefix:action` names.
    pub permissionless_actions: HashSet<String>,
    pub not_permission_events: Vec<EventMatch>,
    pub apigateway: Option<ApiGateway>,
}

fn compile(what: &str, re: &str) -> Regex {
    // Python's named groups `(?P<name>...)` are valid Rust regex syntax; the data keeps to the common subset.
    Regex::new(re)
        .unwrap_or_else(|e| panic!("assets/function/mapping.json: bad {what} regex {re:?}: {e}"))
}

impl Rules {
    /// Parses and compiles a `mapping.json` document.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawRules = serde_json::from_str(text)?;
        Ok(Rules {
            denied_error_codes: raw.denied_error_codes.into_iter().collect(),
            not_denied_error_codes: raw.not_denied_error_codes.into_iter().collect(),
            message_patterns: raw
                .message_patterns
                .into_iter()
                .map(|p| MessagePattern {
                    regex: compile("message pattern", &p.regex),
                    id: p.id,
                })
                .collect(),
            explicit_deny: raw
                .explicit_deny_regex
                .as_deref()
                .map(|r| compile("explicit deny", r)),
            denial_reason: raw.denial_reason.map(DenialReason::compile),
            source_prefix_exceptions: raw.source_prefix_exceptions,
            event_name_exceptions: lower_keys(raw.event_name_exceptions),
            operations: HashMap::new(),
            date_suffix: raw
                .date_suffix_regex
                .as_deref()
                .map(|r| compile("date suffix", r)),
            permissionless_actions: raw
                .permissionless_actions
                .iter()
                .map(|a| a.to_lowercase())
                .collect(),
            not_permission_events: raw
                .not_permission_events
                .into_iter()
                .map(|m| EventMatch {
                    event_source: m.event_source,
                    event_name: m.event_name,
                })
                .collect(),
            apigateway: raw.apigateway.map(|a| ApiGateway {
                event_source: a.event_source,
                prefer_catalogue_action: a.prefer_catalogue_action,
                verb_by_event_name: a.verb_by_event_name,
                verb_by_event_prefix: a
                    .verb_by_event_prefix
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            }),
        })
    }

    /// Adds an `operations.json` document (the generated event-name map).
    pub fn with_operations(mut self, text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawOperations = serde_json::from_str(text)?;
        self.operations = lower_keys(raw.operations);
        Ok(self)
    }
}

/// Event-name tables are keyed by the IAM prefix in lower case.
fn lower_keys(
    table: HashMap<String, HashMap<String, Vec<String>>>,
) -> HashMap<String, HashMap<String, Vec<String>>> {
    table
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect()
}

/// The rules compiled into the binary (`mapping.json` and `operations.json`), parsed on first use.
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        Rules::from_json(MAPPING_JSON)
            .expect("assets/function/mapping.json is valid")
            .with_operations(OPERATIONS_JSON)
            .expect("assets/function/operations.json is valid")
    })
}
