//! Concrete IAM actions and the merged set of actions the generator granted.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::catalogue::{AccessLevel, Catalogue};
use super::document::{ActionClause, Effect, Policy, ResourceClause};
use super::{PLACEHOLDER_SID, START_SID};

/// One concrete IAM action, `prefix:Name`, without wildcards, with its access level when the catalogue knows it.
///
/// The one action type of lppg: the policy writer's and the CloudTrail engine's. The prefix is stored in lower
/// case; the name keeps its spelling. Equality, ordering and hashing ignore the name's case and the level, and sort
/// by `(prefix, lower-case name)`.
#[derive(Debug, Clone)]
pub struct Action {
    /// `prefix:Name`.
    text: String,
    /// Where the `:` is in `text`.
    colon: usize,
    /// From the catalogue, when it was consulted and knows the action ([`Action::canonical`]).
    level: Option<AccessLevel>,
}

/// Text that is not a concrete `prefix:Name` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseActionError(pub String);

impl fmt::Display for ParseActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an IAM action (expected service:ActionName, letters, digits and '-' in the service, no wildcards)",
            self.0
        )
    }
}

impl std::error::Error for ParseActionError {}

impl Action {
    /// Parses `prefix:Name`: the prefix of ASCII letters, digits and `-`, the name of
    /// ASCII letters, digits, `-` and `_`. Wildcards are refused.
    pub fn parse(text: &str) -> Result<Action, ParseActionError> {
        let error = || ParseActionError(text.to_string());
        let (prefix, name) = text.split_once(':').ok_or_else(error)?;
        let prefix_ok = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !prefix_ok || !name_ok {
            return Err(error());
        }
        Ok(Action::from_parts(&prefix.to_ascii_lowercase(), name, None))
    }

    /// Canonicalises `prefix:Name` against the catalogue without checking its form, as the generator function
    /// does (`rules.py` `Rules.lookup`): prefix in lower case, the name in the catalogue's spelling and with its
    /// level when known, else as given. The CloudTrail engine checks the form itself afterwards.
    pub fn resolve(full: &str, catalogue: &Catalogue) -> Action {
        let (prefix, name) = full.split_once(':').unwrap_or((full, ""));
        let prefix = prefix.to_lowercase();
        match catalogue.lookup(&prefix, name) {
            Some((canonical, level)) => Action::from_parts(&prefix, canonical, Some(level)),
            None => Action::from_parts(&prefix, name, None),
        }
    }

    fn from_parts(prefix: &str, name: &str, level: Option<AccessLevel>) -> Action {
        Action {
            text: format!("{prefix}:{name}"),
            colon: prefix.len(),
            level,
        }
    }

    /// The service prefix, lower case: `s3`.
    pub fn prefix(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The action name as spelled: `GetObject`.
    pub fn name(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// `prefix:Name`, as spelled.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The access level, when the catalogue was consulted and knows the action.
    pub fn level(&self) -> Option<AccessLevel> {
        self.level
    }

    /// Whether the catalogue knows the action. Unknown actions are still granted (catalogues lag AWS).
    pub fn is_verified(&self) -> bool {
        self.level.is_some()
    }

    /// The same action spelled as the catalogue spells it, with its level, when the catalogue knows it.
    pub fn canonical(&self, catalogue: &Catalogue) -> Action {
        match catalogue.lookup(self.prefix(), self.name()) {
            Some((name, level)) => Action::from_parts(self.prefix(), name, Some(level)),
            None => self.clone(),
        }
    }

    /// The key equality and ordering use: the prefix, then the name's bytes in lower case.
    fn key(&self) -> (&str, impl Iterator<Item = u8> + '_) {
        (
            self.prefix(),
            self.name().bytes().map(|b| b.to_ascii_lowercase()),
        )
    }
}

impl FromStr for Action {
    type Err = ParseActionError;

    fn from_str(text: &str) -> Result<Action, ParseActionError> {
        Action::parse(text)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Action) -> bool {
        self.prefix() == other.prefix() && self.name().eq_ignore_ascii_case(other.name())
    }
}

impl Eq for Action {}

impl PartialOrd for Action {
    fn partial_cmp(&self, other: &Action) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Action {
    fn cmp(&self, other: &Action) -> Ordering {
        let ((prefix, name), (other_prefix, other_name)) = (self.key(), other.key());
        prefix.cmp(other_prefix).then_with(|| name.cmp(other_name))
    }
}

impl std::hash::Hash for Action {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (prefix, name) = self.key();
        prefix.hash(state);
        for b in name {
            state.write_u8(b);
        }
        state.write_u8(0xff);
    }
}

/// A set of concrete actions, deduplicated ignoring case and sorted by
/// `(prefix, lower-case name)`. When two spellings of one action are inserted,
/// the first one stays (use [`ActionSet::canonicalize`] for the catalogue's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionSet {
    actions: BTreeSet<Action>,
}

impl ActionSet {
    /// An empty set.
    pub fn new() -> ActionSet {
        ActionSet::default()
    }

    /// Parses each text as an [`Action`].
    pub fn parse<I, S>(texts: I) -> Result<ActionSet, ParseActionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        texts
            .into_iter()
            .map(|text| Action::parse(text.as_ref()))
            .collect()
    }

    /// Adds an action; false when it (in any case) was already there.
    pub fn insert(&mut self, action: Action) -> bool {
        self.actions.insert(action)
    }

    /// Removes an action (in any case); false when it was not there.
    pub fn remove(&mut self, action: &Action) -> bool {
        self.actions.remove(action)
    }

    /// True when the set holds the action, in any case.
    pub fn contains(&self, action: &Action) -> bool {
        self.actions.contains(action)
    }

    /// Looks up the stored spelling of an action.
    pub fn get(&self, action: &Action) -> Option<&Action> {
        self.actions.get(action)
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The actions in order.
    pub fn iter(&self) -> impl Iterator<Item = &Action> + '_ {
        self.actions.iter()
    }

    /// Every action of `self` and of `other`; `self`'s spelling wins.
    pub fn union(&self, other: &ActionSet) -> ActionSet {
        let mut merged = self.clone();
        merged.actions.extend(other.actions.iter().cloned());
        merged
    }

    /// The actions of `self` that are not in `other`.
    pub fn without(&self, other: &ActionSet) -> ActionSet {
        self.actions.difference(&other.actions).cloned().collect()
    }

    /// The same set with every action the catalogue knows spelled as the catalogue spells it.
    pub fn canonicalize(&self, catalogue: &Catalogue) -> ActionSet {
        self.actions
            .iter()
            .map(|a| a.canonical(catalogue))
            .collect()
    }

    /// The actions grouped by service prefix, in order: `[("ec2", [..]), ("s3", [..])]`.
    pub fn by_service(&self) -> Vec<(&str, Vec<&Action>)> {
        let mut groups: Vec<(&str, Vec<&Action>)> = Vec::new();
        for action in &self.actions {
            match groups.last_mut() {
                Some((prefix, list)) if *prefix == action.prefix() => list.push(action),
                _ => groups.push((action.prefix(), vec![action])),
            }
        }
        groups
    }
}

impl FromIterator<Action> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Action>>(iter: I) -> ActionSet {
        let mut set = ActionSet::new();
        for action in iter {
            set.insert(action);
        }
        set
    }
}

impl Extend<Action> for ActionSet {
    fn extend<I: IntoIterator<Item = Action>>(&mut self, iter: I) {
        for action in iter {
            self.insert(action);
        }
    }
}

impl<'a> IntoIterator for &'a ActionSet {
    type Item = &'a Action;
    type IntoIter = std::collections::btree_set::Iter<'a, Action>;

    fn into_iter(self) -> Self::IntoIter {
        self.actions.iter()
    }
}

/// What the generator policies grant, read from their documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneratedActions {
    /// Actions granted by the generator's ordinary statements (not `LppgStart`).
    pub granted: ActionSet,
    /// Actions of `LppgStart` statements: needed to start the session.
    pub start: ActionSet,
    /// One line per statement or entry that was not taken, saying why
    /// (`LppgPlaceholder` filler statements are skipped silently).
    pub skipped: Vec<String>,
}

impl GeneratedActions {
    /// Merges the generator's policy documents, in the order given.
    ///
    /// A statement counts when it is `Allow` with `Action` (not `NotAction`),
    /// `Resource: "*"` and no `Condition`. Statements with `Sid` `LppgPlaceholder`
    /// are ignored; those with `Sid` `LppgStart` go to [`GeneratedActions::start`].
    /// Entries that are not concrete actions (wildcards) are skipped and reported.
    pub fn from_documents<'a, I>(documents: I) -> GeneratedActions
    where
        I: IntoIterator<Item = &'a Policy>,
    {
        let mut result = GeneratedActions::default();
        for (d, policy) in documents.into_iter().enumerate() {
            for (s, statement) in policy.statements.iter().enumerate() {
                let sid = statement.sid.as_deref();
                if sid == Some(PLACEHOLDER_SID) {
                    continue;
                }
                let place = match sid {
                    Some(sid) => format!("document {}, statement {s} ({sid})", d + 1),
                    None => format!("document {}, statement {s}", d + 1),
                };
                let ActionClause::Action(list) = &statement.actions else {
                    result
                        .skipped
                        .push(format!("{place}: NotAction is not a grant lppg writes"));
                    continue;
                };
                if statement.effect != Effect::Allow {
                    result
                        .skipped
                        .push(format!("{place}: not an Allow statement"));
                    continue;
                }
                if !statement.is_unconditional_everywhere() {
                    result.skipped.push(format!(
                        "{place}: has a Condition or a Resource other than \"*\""
                    ));
                    continue;
                }
                let target = if sid == Some(START_SID) {
                    &mut result.start
                } else {
                    &mut result.granted
                };
                for text in list {
                    match Action::parse(text) {
                        Ok(action) => {
                            target.insert(action);
                        }
                        Err(error) => result.skipped.push(format!("{place}: {error}")),
                    }
                }
            }
        }
        result
    }

    /// Reads back a policy lppg wrote (`--from FILE`): what [`GeneratedActions::from_documents`] takes, plus the
    /// statements `--resources observed|scoped` write (unconditional `Allow` + `Action` on a list of ARNs), whose
    /// resources come back as each action's scope. An action granted on `"*"` somewhere keeps `"*"`.
    /// (The function's "already present" check stays with `from_documents`: a scoped statement does not grant
    /// an action everywhere.)
    pub fn read_back<'a, I>(documents: I) -> (GeneratedActions, super::Scope)
    where
        I: IntoIterator<Item = &'a Policy> + Clone,
    {
        let mut result = GeneratedActions::from_documents(documents.clone());
        let everywhere = result.merged(true);
        let mut scope = super::Scope::new();
        let mut taken: Vec<String> = Vec::new();
        for (d, policy) in documents.into_iter().enumerate() {
            for (s, statement) in policy.statements.iter().enumerate() {
                let (ActionClause::Action(list), ResourceClause::Resource(resources)) =
                    (&statement.actions, &statement.resources)
                else {
                    continue;
                };
                if statement.effect != Effect::Allow
                    || statement.condition.is_some()
                    || resources.iter().any(|r| r == "*")
                {
                    continue;
                }
                taken.push(match statement.sid.as_deref() {
                    Some(sid) => format!("document {}, statement {s} ({sid}):", d + 1),
                    None => format!("document {}, statement {s}:", d + 1),
                });
                for action in list.iter().filter_map(|t| Action::parse(t).ok()) {
                    if !everywhere.contains(&action) {
                        let entry = scope.entry(action.clone()).or_default();
                        for r in resources {
                            if !entry.contains(r) {
                                entry.push(r.clone());
                            }
                        }
                    }
                    if statement.sid.as_deref() == Some(START_SID) {
                        result.start.insert(action);
                    } else {
                        result.granted.insert(action);
                    }
                }
            }
        }
        result
            .skipped
            .retain(|line| !taken.iter().any(|place| line.starts_with(place.as_str())));
        (result, scope)
    }

    /// The final set: granted actions plus, when `include_start`, the start actions.
    /// Without them, a start action stays only if an ordinary statement granted it too.
    pub fn merged(&self, include_start: bool) -> ActionSet {
        if include_start {
            self.granted.union(&self.start)
        } else {
            self.granted.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: &ActionSet) -> Vec<String> {
        set.iter().map(Action::to_string).collect()
    }

    #[test]
    fn parses_actions() {
        let action = Action::parse("S3:GetObject").unwrap();
        assert_eq!(action.prefix(), "s3");
        assert_eq!(action.name(), "GetObject");
        assert_eq!(action.to_string(), "s3:GetObject");
        assert!(Action::parse("execute-api:Invoke").is_ok());
        assert!("ec2:DescribeInstances".parse::<Action>().is_ok());
        for bad in [
            "",
            "s3",
            "s3:",
            ":Get",
            "s3:Get*",
            "*",
            "s3:Get Object",
            "s 3:Get",
            "s3:a:b",
        ] {
            assert!(Action::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Action::parse("s3:*")
            .unwrap_err()
            .to_string()
            .starts_with("\"s3:*\" is not an IAM action"));
    }

    #[test]
    fn dedups_ignoring_case_and_sorts() {
        let set = ActionSet::parse([
            "s3:PutObject",
            "ec2:DescribeInstances",
            "S3:getobject",
            "s3:GetObject",
            "s3:GETOBJECT",
            "iam:ListRoles",
            "s3:getBucketAcl",
        ])
        .unwrap();
        assert_eq!(
            names(&set),
            [
                "ec2:DescribeInstances",
                "iam:ListRoles",
                "s3:getBucketAcl",
                "s3:getobject",
                "s3:PutObject"
            ]
        );
        assert!(set.contains(&Action::parse("s3:GETOBJECT").unwrap()));
    }

    #[test]
    fn canonicalize_uses_catalogue_spelling() {
        let catalogue = Catalogue::parse(r#"{"s3":{"GetObject":"R","GetBucketAcl":"R"}}"#).unwrap();
        let set = ActionSet::parse(["s3:getobject", "s3:getBucketAcl", "sqs:sendmessage"])
            .unwrap()
            .canonicalize(&catalogue);
        assert_eq!(
            names(&set),
            ["s3:GetBucketAcl", "s3:GetObject", "sqs:sendmessage"]
        );
        let levels: Vec<Option<AccessLevel>> = set.iter().map(Action::level).collect();
        assert_eq!(
            levels,
            [Some(AccessLevel::Read), Some(AccessLevel::Read), None]
        );
        assert!(set.iter().next().unwrap().is_verified());
    }

    #[test]
    fn resolves_like_the_function_without_checking_the_form() {
        let catalogue = Catalogue::parse(r#"{"s3":{"GetObject":"R"}}"#).unwrap();
        let known = Action::resolve("S3:getobject", &catalogue);
        assert_eq!(known.as_str(), "s3:GetObject");
        assert_eq!(known.level(), Some(AccessLevel::Read));
        let unknown = Action::resolve("Foo:Bar Baz", &catalogue);
        assert_eq!(unknown.as_str(), "foo:Bar Baz");
        assert_eq!((unknown.prefix(), unknown.name()), ("foo", "Bar Baz"));
        assert!(!unknown.is_verified());
        assert_eq!(Action::resolve("nocolon", &catalogue).as_str(), "nocolon:");
    }

    #[test]
    fn equality_ordering_and_hash_ignore_name_case_and_level() {
        use std::collections::HashSet;
        let catalogue = Catalogue::parse(r#"{"s3":{"GetObject":"R"}}"#).unwrap();
        let plain = Action::parse("s3:getOBJECT").unwrap();
        let resolved = plain.canonical(&catalogue);
        assert_eq!(plain, resolved);
        let set: HashSet<Action> = [plain, resolved].into_iter().collect();
        assert_eq!(set.len(), 1);
        let a = Action::parse("s3:ab").unwrap();
        let b = Action::parse("s3:B").unwrap();
        assert!(a < b, "lower-case order: ab < b");
        assert!(Action::parse("ec2:Z").unwrap() < a, "prefix first");
        assert!(Action::parse("s3:a").unwrap() < a, "a prefix sorts first");
    }

    #[test]
    fn groups_by_service() {
        let set = ActionSet::parse(["s3:B", "ec2:A", "s3:A"]).unwrap();
        let groups: Vec<(String, usize)> = set
            .by_service()
            .into_iter()
            .map(|(p, l)| (p.to_string(), l.len()))
            .collect();
        assert_eq!(groups, [("ec2".to_string(), 1), ("s3".to_string(), 2)]);
        assert!(ActionSet::new().by_service().is_empty());
    }

    #[test]
    fn set_operations() {
        let a = ActionSet::parse(["s3:GetObject", "s3:PutObject"]).unwrap();
        let b = ActionSet::parse(["S3:GETOBJECT", "sqs:SendMessage"]).unwrap();
        assert_eq!(
            names(&a.union(&b)),
            ["s3:GetObject", "s3:PutObject", "sqs:SendMessage"]
        );
        assert_eq!(names(&a.without(&b)), ["s3:PutObject"]);
        let mut c = a.clone();
        assert!(c.remove(&Action::parse("s3:getobject").unwrap()));
        assert!(!c.insert(Action::parse("s3:putobject").unwrap()));
        assert_eq!(
            c.get(&Action::parse("S3:PUTOBJECT").unwrap())
                .unwrap()
                .name(),
            "PutObject"
        );
    }

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    #[test]
    fn merges_generator_documents() {
        let first = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"LppgStart","Effect":"Allow","Action":["sts:GetCallerIdentity","s3:ListAllMyBuckets"],"Resource":"*"},
            {"Sid":"S3","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"*"},
            {"Sid":"Ec2","Effect":"Allow","Action":"ec2:DescribeInstances","Resource":["*"]}]}"#,
        );
        let second = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"S3","Effect":"Allow","Action":["s3:getobject","s3:ListAllMyBuckets"],"Resource":"*"}]}"#,
        );
        let spare = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"LppgPlaceholder","Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
        );
        let generated = GeneratedActions::from_documents([&first, &second, &spare]);
        assert!(generated.skipped.is_empty(), "{:?}", generated.skipped);
        assert_eq!(
            names(&generated.start),
            ["s3:ListAllMyBuckets", "sts:GetCallerIdentity"]
        );
        assert_eq!(
            names(&generated.merged(true)),
            [
                "ec2:DescribeInstances",
                "s3:GetObject",
                "s3:ListAllMyBuckets",
                "s3:ListBucket",
                "sts:GetCallerIdentity"
            ]
        );
        // Without start: sts:GetCallerIdentity goes (only the start and the
        // placeholder had it); s3:ListAllMyBuckets stays (granted later too).
        assert_eq!(
            names(&generated.merged(false)),
            [
                "ec2:DescribeInstances",
                "s3:GetObject",
                "s3:ListAllMyBuckets",
                "s3:ListBucket"
            ]
        );
    }

    #[test]
    fn placeholder_only_documents_give_nothing() {
        let spare = policy(
            r#"{"Statement":[{"Sid":"LppgPlaceholder","Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
        );
        let generated = GeneratedActions::from_documents([&spare]);
        assert!(generated.merged(true).is_empty());
        assert!(GeneratedActions::from_documents(std::iter::empty())
            .merged(true)
            .is_empty());
    }

    #[test]
    fn reads_back_scoped_statements_with_their_resources() {
        let written = policy(
            r#"{"Statement":[
            {"Sid":"S3","Effect":"Allow","Action":["s3:ListBucket"],"Resource":"*"},
            {"Sid":"S3Resources","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]},
            {"Sid":"S3Resources2","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::c/*"]},
            {"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:1:q","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
        );
        let (generated, scope) = GeneratedActions::read_back([&written]);
        assert_eq!(
            names(&generated.granted),
            ["s3:GetObject", "s3:ListBucket", "s3:PutObject"]
        );
        let get = Action::parse("s3:GetObject").unwrap();
        assert_eq!(scope[&get], ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"]);
        // Granted on "*" somewhere: stays on "*".
        assert!(!scope.contains_key(&Action::parse("s3:ListBucket").unwrap()));
        // A conditional statement is still not read, and said so.
        assert_eq!(generated.skipped.len(), 1, "{:?}", generated.skipped);
        assert!(generated.skipped[0].starts_with("document 1, statement 3:"));
        // The contract reader is unchanged: scoped statements grant nothing there.
        assert_eq!(
            names(&GeneratedActions::from_documents([&written]).granted),
            ["s3:ListBucket"]
        );
    }

    #[test]
    fn reports_statements_it_does_not_take() {
        let odd = policy(
            r#"{"Statement":[
            {"Sid":"D","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},
            {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
            {"Sid":"S3","Effect":"Allow","Action":["s3:*","s3:ListBucket"],"Resource":"*"}]}"#,
        );
        let generated = GeneratedActions::from_documents([&odd]);
        assert_eq!(names(&generated.granted), ["s3:ListBucket"]);
        assert_eq!(
            generated.skipped,
            [
                "document 1, statement 0 (D): not an Allow statement",
                "document 1, statement 1: NotAction is not a grant lppg writes",
                "document 1, statement 2: has a Condition or a Resource other than \"*\"",
                "document 1, statement 3: has a Condition or a Resource other than \"*\"",
                "document 1, statement 4 (S3): \"s3:*\" is not an IAM action (expected service:ActionName, letters, digits and '-' in the service, no wildcards)",
            ]
        );
    }
}
