//! The IAM action catalogue: each action's canonical spelling and access level.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

/// An action's access level, as the IAM service authorization reference names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// Reads the catalogue's one-letter code: `L`, `R`, `W`, `P` or `T`.
    pub fn from_code(code: &str) -> Option<AccessLevel> {
        match code {
            "L" => Some(AccessLevel::List),
            "R" => Some(AccessLevel::Read),
            "W" => Some(AccessLevel::Write),
            "P" => Some(AccessLevel::PermissionsManagement),
            "T" => Some(AccessLevel::Tagging),
            _ => None,
        }
    }

    /// The name shown to people: `List`, `Read`, `Write`, `Permissions management`, `Tagging`.
    pub fn name(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// The catalogue's one-letter code: `L`, `R`, `W`, `P` or `T`.
    pub fn code(self) -> &'static str {
        match self {
            AccessLevel::List => "L",
            AccessLevel::Read => "R",
            AccessLevel::Write => "W",
            AccessLevel::PermissionsManagement => "P",
            AccessLevel::Tagging => "T",
        }
    }

    /// List and Read: actions that change nothing.
    pub fn is_read_only(self) -> bool {
        matches!(self, AccessLevel::List | AccessLevel::Read)
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The catalogue JSON could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid IAM action catalogue: {}", self.0)
    }
}

impl std::error::Error for CatalogueError {}

/// `assets/function/iam-actions.json`, verbatim: `{"<prefix>": {"<Action>": "L|R|W|P|T"}}`. The generator function
/// ships the same file, so the CLI and the function cannot drift apart.
pub const CATALOGUE_JSON: &str = include_str!("../../../../assets/function/iam-actions.json");

/// The catalogue compiled into the binary, parsed on first use. A corrupt embedded catalogue is an error here, on
/// every call, never an empty catalogue.
pub fn catalogue() -> Result<&'static Catalogue, CatalogueError> {
    static CATALOGUE: OnceLock<Result<Catalogue, CatalogueError>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| Catalogue::parse(CATALOGUE_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

/// One service's actions.
#[derive(Debug, Clone, Default)]
struct Service {
    /// The catalogue's spelling → level.
    exact: HashMap<String, AccessLevel>,
    /// Lower-case name → the catalogue's spelling (the last in file order, as the function's dict keeps).
    lower: HashMap<String, String>,
}

/// The IAM action catalogue.
///
/// Built from `assets/function/iam-actions.json` (see [`catalogue`]), shaped `{"<prefix>": {"<ActionName>":
/// "L|R|W|P|T"}}`. Lookups match the name exactly first, then ignoring case, as the function's `Rules.lookup` does.
/// [`Catalogue::default`] is an empty catalogue that knows nothing, which every function here accepts.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Lower-case prefix → its actions.
    services: HashMap<String, Service>,
}

impl Catalogue {
    /// Parses the catalogue JSON text.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        // serde_json keeps the file's order (`preserve_order`), so the lower-case index matches the function's.
        let value: Value = serde_json::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| CatalogueError("expected an object of services".into()))?;
        let mut services: HashMap<String, Service> = HashMap::new();
        for (prefix, actions) in object {
            let actions = actions.as_object().ok_or_else(|| {
                CatalogueError(format!("{prefix}: expected an object of actions"))
            })?;
            let service = services.entry(prefix.to_ascii_lowercase()).or_default();
            for (name, code) in actions {
                let level = code.as_str().and_then(AccessLevel::from_code).ok_or_else(|| {
                    CatalogueError(format!(
                        "{prefix}.{name}: expected \"L\", \"R\", \"W\", \"P\" or \"T\", found {code}"
                    ))
                })?;
                service.lower.insert(name.to_lowercase(), name.clone());
                service.exact.insert(name.clone(), level);
            }
        }
        Ok(Catalogue { services })
    }

    /// True when the catalogue holds no actions.
    pub fn is_empty(&self) -> bool {
        self.services.values().all(|s| s.exact.is_empty())
    }

    /// The catalogue's spelling of an action name and its access level, when known: the name exactly first, then
    /// ignoring case. `prefix` may be in any case.
    pub fn lookup(&self, prefix: &str, name: &str) -> Option<(&str, AccessLevel)> {
        let service = self.service(prefix)?;
        if let Some((canonical, level)) = service.exact.get_key_value(name) {
            return Some((canonical, *level));
        }
        let canonical = service.lower.get(&name.to_lowercase())?;
        Some((canonical, service.exact[canonical]))
    }

    /// Whether the catalogue has exactly `prefix:name` (the name's case counts; the prefix's does not).
    pub fn contains_exact(&self, prefix: &str, name: &str) -> bool {
        self.service(prefix)
            .is_some_and(|s| s.exact.contains_key(name))
    }

    /// True when the catalogue has the service prefix (in any case).
    pub fn has_service(&self, prefix: &str) -> bool {
        self.service(prefix).is_some()
    }

    fn service(&self, prefix: &str) -> Option<&Service> {
        match self.services.get(prefix) {
            Some(s) => Some(s),
            None => self.services.get(&prefix.to_ascii_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"s3":{"GetObject":"R","ListBucket":"L","PutObject":"W",
        "PutBucketPolicy":"P","PutObjectTagging":"T"},"EC2":{"DescribeInstances":"L"}}"#;

    #[test]
    fn looks_up_case_insensitively_with_canonical_spelling() {
        let catalogue = Catalogue::parse(SAMPLE).unwrap();
        assert_eq!(
            catalogue.lookup("S3", "getobject"),
            Some(("GetObject", AccessLevel::Read))
        );
        assert_eq!(
            catalogue.lookup("ec2", "DESCRIBEINSTANCES"),
            Some(("DescribeInstances", AccessLevel::List))
        );
        assert_eq!(catalogue.lookup("s3", "Nope"), None);
        assert_eq!(catalogue.lookup("nope", "GetObject"), None);
        assert!(catalogue.has_service("Ec2"));
        assert!(!catalogue.is_empty());
        assert!(Catalogue::default().is_empty());
    }

    #[test]
    fn exact_spelling_wins_then_the_last_in_file_order() {
        let catalogue =
            Catalogue::parse(r#"{"s3":{"getObject":"R","GetObject":"W","GETOBJECT":"L"}}"#)
                .unwrap();
        assert_eq!(
            catalogue.lookup("s3", "GetObject"),
            Some(("GetObject", AccessLevel::Write))
        );
        assert_eq!(
            catalogue.lookup("s3", "getobject"),
            Some(("GETOBJECT", AccessLevel::List))
        );
        for level in [
            AccessLevel::List,
            AccessLevel::Read,
            AccessLevel::Write,
            AccessLevel::PermissionsManagement,
            AccessLevel::Tagging,
        ] {
            assert_eq!(AccessLevel::from_code(level.code()), Some(level));
        }
    }

    #[test]
    fn reads_every_level() {
        let catalogue = Catalogue::parse(SAMPLE).unwrap();
        let level = |name| catalogue.lookup("s3", name).unwrap().1;
        assert_eq!(level("PutObject"), AccessLevel::Write);
        assert_eq!(level("PutBucketPolicy"), AccessLevel::PermissionsManagement);
        assert_eq!(level("PutObjectTagging"), AccessLevel::Tagging);
        assert_eq!(
            AccessLevel::PermissionsManagement.to_string(),
            "Permissions management"
        );
        assert!(AccessLevel::List.is_read_only());
        assert!(AccessLevel::Read.is_read_only());
        assert!(!AccessLevel::Tagging.is_read_only());
    }

    #[test]
    fn reads_the_shipped_catalogue() {
        let catalogue = catalogue().expect("assets/function/iam-actions.json parses");
        assert!(
            std::ptr::eq(catalogue, super::catalogue().unwrap()),
            "loaded once"
        );
        assert!(catalogue.has_service("s3"));
        assert!(catalogue.contains_exact("apigateway", "GET"));
        assert!(!catalogue.contains_exact("s3", "getobject"));
        assert_eq!(
            catalogue.lookup("s3", "getobject"),
            Some(("GetObject", AccessLevel::Read))
        );
        assert_eq!(
            catalogue.lookup("iam", "PassRole").map(|(_, level)| level),
            Some(AccessLevel::PermissionsManagement)
        );
    }

    #[test]
    fn rejects_malformed_catalogues() {
        assert!(Catalogue::parse("not json").is_err());
        assert!(Catalogue::parse("[]").is_err());
        assert!(Catalogue::parse(r#"{"s3":[]}"#).is_err());
        let err = Catalogue::parse(r#"{"s3":{"GetObject":"X"}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid IAM action catalogue: s3.GetObject: expected "L", "R", "W", "P" or "T", found "X""#
        );
    }
}
