//! How an action was derived from a refused call: one type for the CloudTrail engine, the function's decision log
//! and `--explain`.

use std::fmt;

/// Where a denied call's actions came from (`derived_from` in the decision log and the shared vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derivation {
    /// Named in the AccessDenied error message.
    Message,
    /// Mapped from the CloudTrail event's source and name.
    Event,
}

impl Derivation {
    /// Reads `derived_from`: `message` or `event`.
    pub fn parse(text: &str) -> Option<Derivation> {
        match text {
            "message" => Some(Derivation::Message),
            "event" => Some(Derivation::Event),
            _ => None,
        }
    }

    /// `message` or `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Derivation::Message => "message",
            Derivation::Event => "event",
        }
    }
}

impl fmt::Display for Derivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_names_both_kinds() {
        for kind in [Derivation::Message, Derivation::Event] {
            assert_eq!(Derivation::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(Derivation::parse("other"), None);
        assert_eq!(Derivation::Event.as_str(), "event");
    }
}
