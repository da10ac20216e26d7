//! The generator stack's pure domain: what `up`, `status`, `down` and the rest decide without calling AWS.
pub mod decisions;
pub mod failure_record;
pub mod naming;
pub mod password;
pub mod preflight;
pub mod probe;
pub mod reconcile;
pub mod role;
pub mod state;
