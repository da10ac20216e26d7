//! Pure CloudTrail processing: record parsing, the rule engine shared with the generator function, and the
//! streaming scanner behind `lppg generate`. No AWS types here.

pub mod athena;
pub mod denial;
pub mod engine;
pub mod layout;
pub mod record;
pub mod rules;
pub mod scan;

pub use denial::{Implicit, PolicyKind, Refusal};
pub use engine::{
    classify_denied, classify_value, classify_with_guard, is_valid_action, map_event, used,
    used_value, Decision, Guard, Outcome,
};
pub use record::Record;
pub use rules::rules;
