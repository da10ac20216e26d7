//! The IAM action catalogue: each action's canonical spelling and access level.

use std::collections::BTreeMap;
use std::fmt;

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

/// The IAM action catalogue, looked up case-insensitively.
///
/// Built from `assets/function/iam-actions.json`, shaped
/// `{"<prefix>": {"<ActionName>": "L|R|W|P|T"}}`; the caller passes the text
/// (usually with `include_str!`). [`Catalogue::default`] is an empty catalogue
/// that knows nothing, which every function here accepts.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// lower-case prefix → lower-case name → (canonical name, level)
    services: BTreeMap<String, BTreeMap<String, (String, AccessLevel)>>,
}

impl Catalogue {
    /// Parses the catalogue JSON text.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let value: Value = serde_json::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| CatalogueError("expected an object of services".into()))?;
        let mut services = BTreeMap::new();
        for (prefix, actions) in object {
            let actions = actions.as_object().ok_or_else(|| {
                CatalogueError(format!("{prefix}: expected an object of actions"))
            })?;
            let entry: &mut BTreeMap<String, (String, AccessLevel)> =
                services.entry(prefix.to_ascii_lowercase()).or_default();
            for (name, code) in actions {
                let level = code.as_str().and_then(AccessLevel::from_code).ok_or_else(|| {
                    CatalogueError(format!(
                        "{prefix}.{name}: expected \"L\", \"R\", \"W\", \"P\" or \"T\", found {code}"
                    ))
                })?;
                entry.insert(name.to_ascii_lowercase(), (name.clone(), level));
            }
        }
        Ok(Catalogue { services })
    }

    /// True when the catalogue holds no actions.
    pub fn is_empty(&self) -> bool {
        self.services.values().all(BTreeMap::is_empty)
    }

    /// The canonical spelling of an action name and its access level, when known.
    /// `prefix` and `name` may be in any case.
    pub fn lookup(&self, prefix: &str, name: &str) -> Option<(&str, AccessLevel)> {
        self.services
            .get(&prefix.to_ascii_lowercase())?
            .get(&name.to_ascii_lowercase())
            .map(|(canonical, level)| (canonical.as_str(), *level))
    }

    /// True when the catalogue has the service prefix.
    pub fn has_service(&self, prefix: &str) -> bool {
        self.services.contains_key(&prefix.to_ascii_lowercase())
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
        let catalogue = Catalogue::parse(include_str!("../../assets/function/iam-actions.json"))
            .expect("assets/function/iam-actions.json parses");
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
