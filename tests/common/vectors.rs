//! The shared test vectors (`tests/vectors/*.jsonl`) as the Rust engine sees them: `tests/engine_agreement.rs`
//! checks each against its expectation and compares the results with the Python engine's.
//!
//! A vector is `{"name", "record", "principal", "guard"?, "expect": {"outcome", "actions", "derived_from"?,
//! "verified"?, "reason_contains"?}}`. Those of `success.jsonl` are successful calls ([`used`]); the others are
//! classified as denied calls with the guard of `guard.json` (the vector's own `guard` keys laid over it).

use std::path::Path;

use serde_json::{json, Value};

use lppg::cloudtrail::{classify_value, used_value, Decision, Guard};
use lppg::policy::Catalogue;

fn catalogue() -> &'static Catalogue {
    lppg::policy::catalogue().expect("the shipped IAM action catalogue")
}

/// One vector file's vectors, with the file's name.
pub fn load(dir: &Path) -> Result<Vec<(String, Value)>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value =
                serde_json::from_str(line).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
            out.push((file.clone(), v));
        }
    }
    Ok(out)
}

/// The guard spec of `guard.json` in `dir`, if there is one (checked by reading it as a guard).
pub fn load_guard(dir: &Path) -> Result<Option<Value>, String> {
    let path = dir.join("guard.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Guard::from_value(&value)?;
    Ok(Some(value))
}

/// The guard of one vector: `guard.json`'s spec with the vector's own `guard` keys laid over it.
fn guard_for(spec: Option<&Value>, vector: &Value) -> Option<Guard> {
    let mut spec = spec?.clone();
    if let (Some(base), Some(over)) = (
        spec.as_object_mut(),
        vector.get("guard").and_then(Value::as_object),
    ) {
        base.extend(over.clone());
    }
    Some(Guard::from_value(&spec).expect("a vector's guard"))
}

/// The Rust engine's decision for one vector (`guard`: the spec of `guard.json`).
pub fn decide(file: &str, vector: &Value, guard: Option<&Value>) -> Decision {
    // The function always has a principal; a vector without one matches no record, as in Python.
    let principal = vector
        .get("principal")
        .and_then(Value::as_str)
        .unwrap_or("");
    if file == "success.jsonl" {
        used_value(&vector["record"], Some(principal), catalogue())
    } else {
        let guard = guard_for(guard, vector);
        classify_value(
            &vector["record"],
            Some(principal),
            guard.as_ref(),
            catalogue(),
        )
    }
}

/// A decision in the shape `tests/python/rust_agreement_dump.py` prints.
pub fn to_json(file: &str, name: &str, d: &Decision) -> Value {
    json!({
        "file": file,
        "name": name,
        "outcome": d.outcome.as_str(),
        "actions": d.actions.iter().map(|a| json!({
            "action": a.as_str(),
            "level": a.level().map(|l| l.code()),
            "verified": a.is_verified(),
        })).collect::<Vec<_>>(),
        "derived_from": d.derived_from.map(|x| x.as_str()),
        "resource": d.resource,
        "denied_by": d.refusal.as_ref().map(|r| &r.kind),
        "denied_by_policy": d.refusal.as_ref().and_then(|r| r.policy.as_ref()),
        "reason": matches!(d.outcome.as_str(), "blocked" | "grant").then_some(&d.reason),
    })
}

/// Checks a decision against the vector's expectation (as `tests/python/test_vectors.py` does).
pub fn check(vector: &Value, d: &Decision) -> Result<(), String> {
    let expect = &vector["expect"];
    let name = vector["name"].as_str().unwrap_or("?");
    if expect["outcome"].as_str() != Some(d.outcome.as_str()) {
        return Err(format!(
            "{name}: outcome {} ({}), expected {}",
            d.outcome.as_str(),
            d.reason,
            expect["outcome"]
        ));
    }
    let reason = expect
        .get("reason_contains")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !d.reason.contains(reason) {
        return Err(format!("{name}: reason {:?} lacks {reason:?}", d.reason));
    }
    let mut got: Vec<&str> = d.actions.iter().map(|a| a.as_str()).collect();
    got.sort_unstable();
    let mut want: Vec<&str> = expect["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    want.sort_unstable();
    if got != want {
        return Err(format!("{name}: actions {got:?}, expected {want:?}"));
    }
    if let Some(derived) = expect.get("derived_from").and_then(Value::as_str) {
        if d.derived_from.map(|x| x.as_str()) != Some(derived) {
            return Err(format!(
                "{name}: derived_from {:?}, expected {derived}",
                d.derived_from
            ));
        }
    }
    check_refusal(name, expect, d)?;
    if matches!(d.outcome.as_str(), "grant" | "used") {
        let want = expect
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if let Some(a) = d.actions.iter().find(|a| a.is_verified() != want) {
            return Err(format!(
                "{name}: {a} verified={}, expected {want}",
                a.is_verified()
            ));
        }
    }
    Ok(())
}

/// `expect.denied_by`, `expect.denied_by_policy` and `expect.reason`, each checked when the vector gives it (as
/// `tests/python/test_vectors.py` does).
fn check_refusal(name: &str, expect: &Value, d: &Decision) -> Result<(), String> {
    let got = json!({
        "denied_by": d.refusal.as_ref().map(|r| &r.kind),
        "denied_by_policy": d.refusal.as_ref().and_then(|r| r.policy.as_ref()),
        "reason": d.reason,
    });
    for key in ["denied_by", "denied_by_policy", "reason"] {
        if let Some(want) = expect.get(key) {
            if &got[key] != want {
                return Err(format!("{name}: {key} {}, expected {want}", got[key]));
            }
        }
    }
    Ok(())
}

/// The generic denial of the operation-map coverage test: no action in the message, so the engines use the data.
pub fn generic_denial(prefix: &str, event_name: &str) -> Value {
    json!({
        "eventSource": format!("{prefix}.amazonaws.com"),
        "eventName": event_name,
        "errorCode": "AccessDenied",
        "errorMessage": "Access Denied",
        "userIdentity": {"type": "IAMUser", "arn": COVERAGE_PRINCIPAL},
    })
}

/// The principal of [`generic_denial`].
pub const COVERAGE_PRINCIPAL: &str = "arn:aws:iam::123456789012:user/lppg-user";

/// The operation-map coverage test (`operation-coverage.json`, `operation-map-disagreements.json` in `dir`): every
/// operation of the source data, denied generically, must give what the source names, or what the reviewed
/// disagreement says. Returns the number of operations checked and the failures.
pub fn operation_coverage(dir: &Path) -> Result<(usize, Vec<String>), String> {
    let read = |name: &str| -> Result<Value, String> {
        let text = std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))
    };
    let coverage = read("operation-coverage.json")?;
    let review = read("operation-map-disagreements.json")?;
    let mut reviewed = std::collections::HashMap::new();
    for e in review["entries"].as_array().into_iter().flatten() {
        reviewed.insert(
            e["event"].as_str().unwrap_or_default(),
            sorted_strings(&e["lppg"]),
        );
    }
    let services = coverage["source_actions"]
        .as_object()
        .ok_or("operation-coverage.json: no source_actions")?;
    let (mut checked, mut failures) = (0, Vec::new());
    for (prefix, ops) in services {
        for (op, source) in ops.as_object().into_iter().flatten() {
            let event = format!("{prefix}:{op}");
            let want = match (reviewed.get(event.as_str()), source.is_null()) {
                (Some(lppg), _) => lppg.clone(),
                (None, true) => vec![lppg::policy::Action::resolve(&event, catalogue())
                    .as_str()
                    .to_string()],
                (None, false) => sorted_strings(source),
            };
            let d = classify_value(
                &generic_denial(prefix, op),
                Some(COVERAGE_PRINCIPAL),
                None,
                catalogue(),
            );
            let mut got: Vec<String> = d.actions.iter().map(|a| a.as_str().to_string()).collect();
            got.sort_unstable();
            if got != want {
                failures.push(format!("{event}: {got:?}, expected {want:?}"));
            }
            checked += 1;
        }
    }
    Ok((checked, failures))
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    out.sort_unstable();
    out
}
