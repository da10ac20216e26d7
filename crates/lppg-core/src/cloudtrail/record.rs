//! A CloudTrail record, borrowed from the input buffer, with only the fields lppg reads.
//!
//! Every other field is skipped by the parser without being copied, which is what makes scanning months of logs
//! cheap. Strings are `Cow`: borrowed from the input unless they contain JSON escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The fields of a CloudTrail record that the rules and the filters need.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Record<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    pub event_source: Option<Cow<'a, str>>,
    #[serde(rename = "eventName", borrow, default)]
    pub event_name: Option<Cow<'a, str>>,
    #[serde(rename = "eventTime", borrow, default)]
    pub event_time: Option<Cow<'a, str>>,
    #[serde(rename = "eventType", borrow, default)]
    pub event_type: Option<Cow<'a, str>>,
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(rename = "errorCode", borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(rename = "errorMessage", borrow, default)]
    pub error_message: Option<Cow<'a, str>>,
    #[serde(rename = "userIdentity", borrow, default)]
    pub user_identity: Option<UserIdentity<'a>>,
    /// `resources[].ARN`: resource evidence.
    #[serde(borrow, default)]
    pub resources: Option<Vec<ResourceRef<'a>>>,
    /// The `requestParameters` that name a resource (`policy::RESOURCE_PARAMS`, string values): evidence.
    #[serde(rename = "requestParameters", borrow, default)]
    pub request_parameters: Option<ResourceParams<'a>>,
}

/// One entry of a record's `resources`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ResourceRef<'a> {
    #[serde(rename = "ARN", borrow, default)]
    pub arn: Option<Cow<'a, str>>,
}

/// The string values of `requestParameters` whose names are in `policy::RESOURCE_PARAMS`; every other field is
/// skipped without being copied.
#[derive(Debug, Default, Clone)]
pub struct ResourceParams<'a>(pub Vec<(&'static str, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for ResourceParams<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParamsVisitor(std::marker::PhantomData))
    }
}

struct ParamsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ParamsVisitor<'a> {
    type Value = ResourceParams<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("requestParameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut params = Vec::new();
        while let Some(key) = map.next_key::<MaybeStr<'de>>()? {
            let key = key.0.unwrap_or_default();
            match crate::policy::RESOURCE_PARAMS.iter().find(|n| **n == key) {
                Some(name) => {
                    if let Some(value) = map.next_value::<MaybeStr<'de>>()?.0 {
                        params.push((*name, value));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ResourceParams(params))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ResourceParams::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ResourceParams::default())
    }
}

/// A string value, or nothing for any other JSON value (skipped).
struct MaybeStr<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for MaybeStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `userIdentity`, reduced to what identifies the principal.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    #[serde(rename = "sessionContext", borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SessionContext<'a> {
    #[serde(rename = "sessionIssuer", borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SessionIssuer<'a> {
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
}

impl<'a> Record<'a> {
    pub fn event_source(&self) -> &str {
        self.event_source.as_deref().unwrap_or("")
    }

    pub fn event_name(&self) -> &str {
        self.event_name.as_deref().unwrap_or("")
    }

    /// The resource evidence of this record for a decision whose error message named `message_resource`
    /// (`policy::evidence_items`).
    pub fn evidence(&self, message_resource: Option<&str>) -> Vec<String> {
        let arns = self
            .resources
            .iter()
            .flatten()
            .filter_map(|r| r.arn.as_deref());
        let params = self
            .request_parameters
            .iter()
            .flat_map(|p| p.0.iter().map(|(name, value)| (*name, value.as_ref())));
        crate::policy::evidence_items(message_resource, arns, params)
    }

    /// `userIdentity.arn`.
    pub fn identity_arn(&self) -> Option<&str> {
        self.user_identity.as_ref()?.arn.as_deref()
    }

    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role behind an assumed-role session.
    pub fn issuer_arn(&self) -> Option<&str> {
        self.user_identity
            .as_ref()?
            .session_context
            .as_ref()?
            .session_issuer
            .as_ref()?
            .arn
            .as_deref()
            .filter(|a| !a.is_empty())
    }

    /// The ARN that names the principal in summaries: the role for an assumed-role session, else the identity.
    pub fn principal(&self) -> Option<&str> {
        self.issuer_arn()
            .or_else(|| self.identity_arn())
            .filter(|a| !a.is_empty())
    }

    /// Whether the generator function counts this record as `principal`'s (`rules.py` `made_by`): `userIdentity.arn`
    /// is it, or `principal` is an IAM role and `sessionContext.sessionIssuer.arn` is it (an assumed-role session of
    /// that role; the issuer carries the role's path, the `assumed-role` ARN does not).
    pub fn is_principal(&self, principal: &str) -> bool {
        self.identity_arn() == Some(principal)
            || (is_role_arn(principal) && self.issuer_arn() == Some(principal))
    }

    /// Whether this record was made by `principal`. A role ARN matches its sessions, and an assumed-role ARN without
    /// a session name (`arn:aws:sts::1:assumed-role/Role`) matches every session of that role.
    pub fn made_by(&self, principal: &str) -> bool {
        if self.identity_arn() == Some(principal) || self.issuer_arn() == Some(principal) {
            return true;
        }
        match self.identity_arn() {
            Some(arn) => arn
                .strip_prefix(principal)
                .is_some_and(|rest| rest.starts_with('/') && principal.contains(":assumed-role/")),
            None => false,
        }
    }
}

/// Whether `arn` names an IAM role (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
pub fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.starts_with("role/")
}

/// Parses one JSON document (a CloudTrail file `{"Records": [...]}`, a JSON array of records, or a single record)
/// and hands every record to `sink` as soon as it is parsed, without collecting them.
pub struct Document<'s, F> {
    pub sink: &'s mut F,
}

impl<'de, F: FnMut(Record<'de>)> DeserializeSeed<'de> for Document<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum Key {
    Records,
    #[serde(rename = "eventSource")]
    EventSource,
    #[serde(rename = "eventName")]
    EventName,
    #[serde(rename = "eventTime")]
    EventTime,
    #[serde(rename = "eventType")]
    EventType,
    #[serde(rename = "eventID")]
    EventId,
    #[serde(rename = "errorCode")]
    ErrorCode,
    #[serde(rename = "errorMessage")]
    ErrorMessage,
    #[serde(rename = "userIdentity")]
    UserIdentity,
    #[serde(rename = "resources")]
    Resources,
    #[serde(rename = "requestParameters")]
    RequestParameters,
    #[serde(other)]
    Other,
}

/// A string field, borrowed when possible.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Option<Cow<'a, str>>);

impl<'de, F: FnMut(Record<'de>)> Visitor<'de> for Document<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail record, a list of records or {\"Records\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RecordSeq { sink: self.sink }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut record = Record::default();
        let mut is_record = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Records => map.next_value_seed(RecordSeq {
                    sink: &mut *self.sink,
                })?,
                Key::EventSource => {
                    record.event_source = map.next_value::<Str>()?.0;
                    is_record = true;
                }
                Key::EventName => {
                    record.event_name = map.next_value::<Str>()?.0;
                    is_record = true;
                }
                Key::EventTime => record.event_time = map.next_value::<Str>()?.0,
                Key::EventType => record.event_type = map.next_value::<Str>()?.0,
                Key::EventId => record.event_id = map.next_value::<Str>()?.0,
                Key::ErrorCode => record.error_code = map.next_value::<Str>()?.0,
                Key::ErrorMessage => record.error_message = map.next_value::<Str>()?.0,
                Key::UserIdentity => record.user_identity = map.next_value()?,
                Key::Resources => record.resources = map.next_value()?,
                Key::RequestParameters => record.request_parameters = map.next_value()?,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if is_record {
            (self.sink)(record);
        }
        Ok(())
    }
}

struct RecordSeq<'s, F> {
    sink: &'s mut F,
}

impl<'de, F: FnMut(Record<'de>)> DeserializeSeed<'de> for RecordSeq<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Record<'de>)> Visitor<'de> for RecordSeq<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record<'de>>()? {
            (self.sink)(record);
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Parses one JSON document from `input`, calling `sink` for each record. Records parsed before an error have
/// already been passed to `sink` when the error is returned.
pub fn parse_document<'de, F: FnMut(Record<'de>)>(
    input: &'de [u8],
    sink: &mut F,
) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_slice(input);
    Document { sink }.deserialize(&mut de)?;
    de.end()
}

/// Parses every JSON object or array in `input` (whitespace-separated, such as JSON lines, concatenated files or
/// pretty-printed documents).
pub fn parse_documents<'de, F: FnMut(Record<'de>)>(
    mut input: &'de [u8],
    sink: &mut F,
) -> serde_json::Result<()> {
    loop {
        let start = input
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(input.len());
        input = &input[start..];
        if input.is_empty() {
            return Ok(());
        }
        let end = value_end(input).unwrap_or(input.len());
        parse_document(&input[..end], sink)?;
        input = &input[end..];
    }
}

/// The length of the JSON object or array that starts `input`, found by matching brackets outside strings; `None`
/// when it does not start with one or does not end.
pub fn value_end(input: &[u8]) -> Option<usize> {
    if !matches!(input.first(), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in input.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where one record lies in a CloudTrail document, and whether its text holds a backslash (a JSON escape, which
/// could hide any text from a plain substring search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub escaped: bool,
}

/// Splits a document of CloudTrail's own shape, `{"Records":[{...},{...}]}` (any JSON whitespace between tokens),
/// into the spans of its records, by matching brackets outside strings, without parsing them. Returns `false` when
/// `doc` has any other shape (other keys, an element that is not an object, unbalanced brackets, an unterminated
/// string, trailing text): the caller then parses it the ordinary way. The records' own contents are not validated
/// here; whoever needs a record's fields parses its span.
pub fn split_records(doc: &[u8], spans: &mut Vec<Span>) -> bool {
    spans.clear();
    let mut i = skip_ws(doc, 0);
    for token in [&b"{"[..], b"\"Records\"", b":", b"["] {
        if !doc[i..].starts_with(token) {
            return false;
        }
        i = skip_ws(doc, i + token.len());
    }
    if doc.get(i) == Some(&b']') {
        i = skip_ws(doc, i + 1);
    } else {
        loop {
            if doc.get(i) != Some(&b'{') {
                return false;
            }
            let Some((end, escaped)) = object_end(doc, i) else {
                return false;
            };
            spans.push(Span {
                start: i,
                end,
                escaped,
            });
            i = skip_ws(doc, end);
            match doc.get(i) {
                Some(b',') => i = skip_ws(doc, i + 1),
                Some(b']') => {
                    i = skip_ws(doc, i + 1);
                    break;
                }
                _ => return false,
            }
        }
    }
    doc.get(i) == Some(&b'}') && skip_ws(doc, i + 1) == doc.len()
}

fn skip_ws(doc: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = doc.get(i) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the object or array that starts at `start`, and whether a string in it holds an escape.
fn object_end(doc: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut depth = 0usize;
    let mut escaped = false;
    let mut i = start;
    while let Some(&b) = doc.get(i) {
        match b {
            b'"' => {
                i = string_end(doc, i + 1, &mut escaped)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i + 1, escaped));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index after the closing quote of the string whose contents start at `i`.
fn string_end(doc: &[u8], mut i: usize, escaped: &mut bool) -> Option<usize> {
    loop {
        i = quote_or_backslash(doc, i)?;
        if doc[i] == b'"' {
            return Some(i + 1);
        }
        *escaped = true;
        i += 2;
    }
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `x` (exact for the lowest zero byte; bits above it may be spurious).
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LOW_BITS) & !x & HIGH_BITS
}

/// The first `"` or `\\` at or after `i`, eight bytes at a time.
fn quote_or_backslash(doc: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = doc.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let hits = zero_bytes(v ^ (LOW_BITS * u64::from(b'"')))
            | zero_bytes(v ^ (LOW_BITS * u64::from(b'\\')));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    doc.get(i..)?
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &str) -> Vec<String> {
        let mut out = Vec::new();
        parse_documents(input.as_bytes(), &mut |r: Record| {
            out.push(r.event_name().to_owned())
        })
        .expect("parses");
        out
    }

    #[test]
    fn envelope_array_single_record_and_concatenations() {
        assert_eq!(
            names(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#),
            ["A", "B"]
        );
        assert_eq!(names(r#"[{"eventName":"A"}]"#), ["A"]);
        assert_eq!(
            names("{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n"),
            ["A", "B"]
        );
        assert_eq!(
            names("{\n  \"Records\": [\n    {\"eventName\": \"A\"}\n  ]\n}\n"),
            ["A"]
        );
        assert_eq!(names(r#"{"digest":true}"#), Vec::<String>::new());
    }

    #[test]
    fn escaped_strings_and_unknown_fields() {
        let input = r#"{"Records":[{"x":{"deep":[1,{"y":"}"}]},"eventName":"A\"B","errorMessage":"caf\u00e9",
            "userIdentity":{"arn":"arn:aws:iam::1:user/u","sessionContext":{"sessionIssuer":{"arn":"r"}}}}]}"#;
        let mut seen = Vec::new();
        parse_documents(input.as_bytes(), &mut |r: Record| {
            seen.push((
                r.event_name().to_owned(),
                r.error_message.as_deref().unwrap_or_default().to_owned(),
                r.principal().unwrap_or_default().to_owned(),
            ))
        })
        .expect("parses");
        assert_eq!(
            seen,
            [("A\"B".to_owned(), "café".to_owned(), "r".to_owned())]
        );
    }

    #[test]
    fn records_before_a_truncation_are_delivered() {
        let mut n = 0;
        let result = parse_document(
            br#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#,
            &mut |_| n += 1,
        );
        assert!(result.is_err());
        assert_eq!(n, 2);
    }

    #[test]
    fn made_by_matches_users_roles_and_sessions() {
        let value = serde_json::json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/deploy/ci",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/deploy"}}}});
        let text = value.to_string();
        let mut ok = Vec::new();
        let record: Record = serde_json::from_str(&text).expect("record");
        for p in [
            "arn:aws:iam::1:role/deploy",
            "arn:aws:sts::1:assumed-role/deploy/ci",
            "arn:aws:sts::1:assumed-role/deploy",
            "arn:aws:sts::1:assumed-role/dep",
            "arn:aws:iam::1:role/other",
        ] {
            ok.push(record.made_by(p));
        }
        assert_eq!(ok, [true, true, true, false, false]);
    }

    #[test]
    fn value_end_skips_brackets_inside_strings() {
        assert_eq!(value_end(br#"{"a":"}\"]"} rest"#), Some(12));
        assert_eq!(value_end(br#"{"a":[1,2"#), None);
        assert_eq!(value_end(b"x"), None);
    }

    fn spans(doc: &str) -> Option<Vec<(String, bool)>> {
        let mut out = Vec::new();
        split_records(doc.as_bytes(), &mut out).then(|| {
            out.iter()
                .map(|s| (doc[s.start..s.end].to_owned(), s.escaped))
                .collect()
        })
    }

    #[test]
    fn split_records_finds_each_record_or_declines() {
        let doc = r#"{"Records":[{"a":"x}","b":[1,{"c":"]"}]},{"d":"q\"u{o"},{}]}"#;
        assert_eq!(
            spans(doc),
            Some(vec![
                (r#"{"a":"x}","b":[1,{"c":"]"}]}"#.to_owned(), false),
                (r#"{"d":"q\"u{o"}"#.to_owned(), true),
                ("{}".to_owned(), false),
            ])
        );
        assert_eq!(
            spans(" {\n \"Records\" : [ {\"a\":\"a long string, longer than eight\"} ] }\r\n"),
            Some(vec![(
                r#"{"a":"a long string, longer than eight"}"#.to_owned(),
                false
            )])
        );
        assert_eq!(spans(r#"{"Records":[]}"#), Some(vec![]));
        assert_eq!(spans("{\"Records\":[\n]}"), Some(vec![]));
        for other in [
            r#"{"Records":[{"a":1}"#,
            r#"{"Records":[{"a":"1}]}"#,
            r#"{"Records":[{"a":1}]} x"#,
            r#"{"Records":[{"a":1},]}"#,
            r#"{"Records":[1]}"#,
            r#"{"Records":null}"#,
            r#"{"x":1,"Records":[]}"#,
            r#"{"Records":[],"x":1}"#,
            r#"[{"a":1}]"#,
            r#"{"eventName":"A"}"#,
            r#"{"Records":[{"a":"\"#,
            "",
        ] {
            assert_eq!(spans(other), None, "{other}");
        }
    }

    #[test]
    fn every_split_record_parses_like_the_whole_document() {
        let doc = r#"{"Records":[{"eventName":"A","userIdentity":{"arn":"u\/1"}},{"eventName":"B\u00e9","x":[{}]}]}"#;
        let mut whole = Vec::new();
        parse_document(doc.as_bytes(), &mut |r: Record| {
            whole.push((
                r.event_name().to_owned(),
                r.identity_arn().map(str::to_owned),
            ))
        })
        .expect("parses");
        let mut out = Vec::new();
        assert!(split_records(doc.as_bytes(), &mut out));
        let split: Vec<_> = out
            .iter()
            .map(|s| {
                let r: Record =
                    serde_json::from_slice(&doc.as_bytes()[s.start..s.end]).expect("record");
                (
                    r.event_name().to_owned(),
                    r.identity_arn().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(split, whole);
        assert!(out.iter().all(|s| s.escaped));
    }
}
