//! The shared vectors (tests/vectors/*.jsonl): the Rust engine gives each its expected result, and the Rust and
//! Python rule engines agree on every one.
//!
//! Runs `tests/python/rust_agreement_dump.py` with the project's `.venv/bin/python` (CI creates it) and compares its
//! result for every vector (outcome, actions with access level and verified flag, derived_from, resource) with the
//! Rust engine's. Without `.venv/bin/python` it fails, saying how to create it (`bash scripts/setup-venv.sh`): a
//! comparison that silently does not run would pass for the wrong reason.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::vectors;
use lppg::policy::Action;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

#[test]
fn every_shared_vector_gives_the_expected_result() {
    let vectors = vectors::load(&dir()).expect("vectors");
    assert!(!vectors.is_empty(), "no vectors in {}", dir().display());
    let guard = vectors::load_guard(&dir()).expect("guard.json");
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|(file, v)| vectors::check(v, &vectors::decide(file, v, guard.as_ref())).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn the_rules_and_catalogue_compile() {
    let rules = lppg::cloudtrail::rules();
    assert!(!rules.denied_error_codes.is_empty());
    assert!(!rules.message_patterns.is_empty());
    assert!(lppg::policy::catalogue().unwrap().has_service("s3"));
}

#[test]
fn every_table_target_is_a_catalogue_action() {
    let rules = lppg::cloudtrail::rules();
    let catalogue = lppg::policy::catalogue().unwrap();
    for (prefix, table) in rules.event_name_exceptions.iter().chain(&rules.operations) {
        for (event, actions) in table {
            for a in actions {
                assert!(
                    Action::resolve(a, catalogue).is_verified(),
                    "{prefix} {event} -> {a} is not in the catalogue"
                );
            }
        }
    }
}

#[test]
fn every_operation_of_the_source_data_gives_the_reviewed_result() {
    let (checked, failures) = vectors::operation_coverage(&dir()).expect("coverage files");
    assert!(checked > 10_000, "only {checked} operations");
    assert!(
        failures.is_empty(),
        "{} of {checked} operations differ from the data and its review:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rust_and_python_engines_agree_on_every_vector() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash scripts/setup-venv.sh` (scripts/test.sh does) to compare with the Python engine",
        python.display()
    );
    let dir = dir();
    let output = Command::new(&python)
        .arg(root.join("tests/python/rust_agreement_dump.py"))
        .arg(&dir)
        .env_remove("PYTHONPATH")
        .output()
        .expect("run the Python engine");
    assert!(
        output.status.success(),
        "rust_agreement_dump.py failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let python_results: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();

    let all = vectors::load(&dir).expect("vectors");
    let guard = vectors::load_guard(&dir).expect("guard.json");
    assert_eq!(
        python_results.len(),
        all.len(),
        "the Python driver and Rust see different vector counts"
    );
    assert!(!all.is_empty(), "no vectors");

    let mut differences = Vec::new();
    for ((file, vector), theirs) in all.iter().zip(&python_results) {
        let name = vector["name"].as_str().unwrap_or("?");
        let ours = vectors::to_json(file, name, &vectors::decide(file, vector, guard.as_ref()));
        if &ours != theirs {
            differences.push(format!(
                "{file} {name}:\n  rust:   {ours}\n  python: {theirs}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} vectors differ between the engines:\n{}",
        differences.len(),
        all.len(),
        differences.join("\n")
    );
    eprintln!(
        "{} vectors: identical results from the Rust and Python engines",
        all.len()
    );
}
