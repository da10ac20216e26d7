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
}
