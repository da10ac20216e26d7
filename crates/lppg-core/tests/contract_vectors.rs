//! The function↔CLI contract, from the CLI's side: every decision-line vector (tests/vectors/decision_lines.json)
//! parses into the typed model with the kind it names, the schema's kinds are exactly [`DecisionKind::KNOWN`], and
//! every policy-document vector (tests/vectors/policy_documents.json) gives the granted actions it names. The
//! function's side reads the same files (tests/python/test_contract.py, tests/python/test_policy_vectors.py).
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::collections::BTreeSet;

use lppg_core::policy::{decode_document, GeneratedActions, Policy};
use lppg_core::stack::decisions::{parse_line, DecisionKind, Line};
use serde_json::Value;

fn vectors_file(name: &str) -> String {
    let path = crate::vectors_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decision_vectors() -> Vec<Value> {
    let file: Value = serde_json::from_str(&vectors_file("decision_lines.json")).unwrap();
    file["vectors"]
        .as_array()
        .expect("a list of vectors")
        .clone()
}

#[test]
fn every_decision_vector_parses_with_its_kind() {
    let vectors = decision_vectors();
    assert!(vectors.len() >= 10);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let text = v["line"].to_string();
        let line = parse_line(&text);
        match (&v["kind"], line) {
            (Value::Null, Line::Unparsed(_)) => {}
            (Value::String(kind), Line::Decision(d)) => {
                let expected = if kind == "unknown" {
                    let written = v["line"]["decision"].as_str().unwrap();
                    assert!(
                        matches!(&d.decision, DecisionKind::Unknown(t) if t == written),
                        "{name}"
                    );
                    DecisionKind::Unknown(written.to_string())
                } else {
                    let known = DecisionKind::from(kind.as_str());
                    assert!(!matches!(known, DecisionKind::Unknown(_)), "{name}: {kind}");
                    known
                };
                assert_eq!(d.decision, expected, "{name}");
                assert_eq!(d.action.as_deref(), v["line"]["action"].as_str(), "{name}");
                assert_eq!(d.reason.as_deref(), v["line"]["reason"].as_str(), "{name}");
                let resources: Vec<&str> = match &v["line"]["resources"] {
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                assert_eq!(d.resource_items(), resources, "{name}");
                assert_eq!(d.path.as_deref(), v["line"]["path"].as_str(), "{name}");
                // what `watch --json` passes on: the kind written back as the function spelled it
                let again = serde_json::to_value(&d).unwrap();
                assert_eq!(again["decision"], v["line"]["decision"], "{name}");
            }
            (kind, other) => panic!("{name}: expected kind {kind}, read {other:?}"),
        }
    }
}

#[test]
fn the_schema_kinds_are_the_clis_kinds() {
    let schema: Value = serde_json::from_str(&vectors_file("decision_schema.json")).unwrap();
    let listed: Vec<&str> = schema["decision"]["fields"]["decision"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let known: Vec<&str> = DecisionKind::KNOWN
        .iter()
        .map(DecisionKind::as_str)
        .collect();
    assert_eq!(listed, known);
    let vectors = decision_vectors();
    let emitted: BTreeSet<&str> = vectors
        .iter()
        .filter(|v| v["emitted"] == Value::Bool(true))
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(emitted, known.iter().copied().collect());
}

fn lower(actions: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    actions.into_iter().map(|a| a.to_lowercase()).collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_policy_document_vector_grants_what_it_names() {
    let file: Value = serde_json::from_str(&vectors_file("policy_documents.json")).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let policy = match &case["document"] {
            Value::String(text) => Policy::parse(&decode_document(text).unwrap()),
            object => Policy::from_value(object),
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let generated = GeneratedActions::from_documents([&policy]);
        let granted = generated.merged(true);
        assert_eq!(
            lower(granted.iter().map(|a| a.to_string())),
            lower(strings(&case["granted"])),
            "{name}"
        );
        assert_eq!(
            lower(generated.start.iter().map(|a| a.to_string())),
            lower(strings(&case["start"])),
            "{name}"
        );
    }
}
