//! What the binary embeds: the CloudFormation template, the generator function's files and the rules. Building the
//! function's zip and rendering the template are pure and deterministic (same source, same bytes).
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::Write;

include!(concat!(env!("OUT_DIR"), "/function_files.rs"));

/// The template as committed; see [`render_template`].
pub const TEMPLATE: &str = include_str!("../assets/template.yaml");
/// The mapping rules shared with the function (and `generate`).
pub const MAPPING_JSON: &str = include_str!("../assets/function/mapping.json");

const CLAUSE_PLACEHOLDER: &str = "__LPPG_ERROR_CODE_CLAUSE__";
const CODE_LIST_PLACEHOLDER: &str = "__LPPG_ERROR_CODE_LIST__";

/// The authorization-failure error codes of the rules (`denied_error_codes`), each checked to hold only characters a
/// filter or event pattern can carry unquoted.
pub fn denied_error_codes(mapping_json: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(mapping_json).context("assets/function/mapping.json is not JSON")?;
    let codes = v
        .get("denied_error_codes")
        .and_then(|c| c.as_array())
        .context("mapping.json has no denied_error_codes list")?;
    let mut out = Vec::new();
    for c in codes {
        let code = c
            .as_str()
            .context("denied_error_codes holds a non-string")?;
        anyhow::ensure!(
            code.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || ch == '-'),
            "error code {code:?} has characters a filter pattern cannot hold"
        );
        out.push(code.to_string());
    }
    anyhow::ensure!(!out.is_empty(), "mapping.json lists no denied error codes");
    Ok(out)
}

/// The CloudWatch Logs filter clause that matches every authorization-failure error code in the rules, e.g.
/// `($.errorCode = "AccessDenied") || ($.errorCode = "AccessDeniedException")`.
pub fn error_code_clause(mapping_json: &str) -> Result<String> {
    let parts: Vec<String> = denied_error_codes(mapping_json)?
        .iter()
        .map(|code| format!("($.errorCode = \"{code}\")"))
        .collect();
    Ok(parts.join(" || "))
}

/// The same codes as an EventBridge event pattern's list of values (a JSON array, also a YAML flow sequence), e.g.
/// `["AccessDenied","AccessDeniedException"]`: the fast path's rule matches `detail.errorCode` against it.
pub fn error_code_list(mapping_json: &str) -> Result<String> {
    Ok(serde_json::to_string(&denied_error_codes(mapping_json)?)?)
}

/// The template with the error-code clause of the rules filled in as the parameter default.
pub fn render_template() -> Result<String> {
    let clause = error_code_clause(MAPPING_JSON)?;
    // The placeholder sits in a single-quoted YAML scalar; the clause holds only double quotes.
    anyhow::ensure!(
        !clause.contains('\''),
        "clause must not contain a single quote"
    );
    // CloudWatch Logs filter patterns are at most 1,024 characters; leave room for the principal condition.
    anyhow::ensure!(
        clause.len() < 800,
        "the error-code clause is too long for a filter pattern"
    );
    let codes = error_code_list(MAPPING_JSON)?;
    Ok(TEMPLATE
        .replace(CLAUSE_PLACEHOLDER, &clause)
        .replace(CODE_LIST_PLACEHOLDER, &codes))
}

/// The fast path's forwarder template (one stack per region besides the generator's), as committed.
pub const FORWARDER_TEMPLATE: &str = include_str!("../assets/forwarder.yaml");

/// The forwarder template with the rules' error codes filled in (the same list as the generator's own rule).
pub fn render_forwarder() -> Result<String> {
    Ok(FORWARDER_TEMPLATE.replace(CODE_LIST_PLACEHOLDER, &error_code_list(MAPPING_JSON)?))
}

/// Builds the function's zip from the embedded files: sorted names, fixed timestamps and permissions, so the
/// same source always gives the same bytes (and CloudFormation only updates the function when the code changed).
pub fn function_zip() -> Result<Vec<u8>> {
    zip_files(FUNCTION_FILES)
}

/// Zips `(name, bytes)` pairs deterministically.
pub fn zip_files(files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut sorted: Vec<&(&str, &[u8])> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        for (name, bytes) in sorted {
            zip.start_file(*name, options)?;
            zip.write_all(bytes)?;
        }
        zip.finish()?;
    }
    Ok(buf.into_inner())
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Base64 SHA-256, the form Lambda reports as `CodeSha256`.
pub fn lambda_code_sha256(bytes: &[u8]) -> String {
    base64_encode(&Sha256::digest(bytes))
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The S3 key of the function's zip: content-addressed, so a code change is a parameter change.
pub fn function_key(zip: &[u8]) -> String {
    format!("lppg/function-{}.zip", &sha256_hex(zip)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_is_deterministic_and_readable() {
        let a = function_zip().unwrap();
        let b = function_zip().unwrap();
        assert_eq!(a, b, "same source, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&a)).unwrap();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let f = archive.by_index(i).unwrap();
            names.push(f.name().to_string());
        }
        assert!(names.contains(&"handler.py".to_string()), "{names:?}");
        assert!(names.contains(&"mapping.json".to_string()), "{names:?}");
        assert!(names.contains(&"operations.json".to_string()), "{names:?}");
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn zip_order_does_not_depend_on_input_order() {
        let x = zip_files(&[("b.py", b"2"), ("a.py", b"1")]).unwrap();
        let y = zip_files(&[("a.py", b"1"), ("b.py", b"2")]).unwrap();
        assert_eq!(x, y);
        let z = zip_files(&[("a.py", b"1"), ("b.py", b"3")]).unwrap();
        assert_ne!(x, z);
    }

    #[test]
    fn template_rendering_fills_the_clause() {
        let t = render_template().unwrap();
        assert!(!t.contains(CLAUSE_PLACEHOLDER));
        assert!(t.contains(r#"($.errorCode = "AccessDenied")"#));
        assert!(t.contains(r#"($.errorCode = "Client.UnauthorizedOperation")"#));
        assert!(!t.contains(CODE_LIST_PLACEHOLDER));
        assert!(t.contains(r#"errorCode: ["AccessDenied","#));
    }

    #[test]
    fn clause_from_rules() {
        let c = error_code_clause(r#"{"denied_error_codes":["A","B.C"]}"#).unwrap();
        assert_eq!(c, r#"($.errorCode = "A") || ($.errorCode = "B.C")"#);
        assert!(error_code_clause(r#"{"denied_error_codes":["a\"b"]}"#).is_err());
        assert!(error_code_clause(r#"{"denied_error_codes":[]}"#).is_err());
        assert!(error_code_clause("nope").is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            lambda_code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert!(function_key(b"x").starts_with("lppg/function-"));
    }
}
