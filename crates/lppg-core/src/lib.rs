//! lppg's core: everything that is pure logic, with no AWS SDK, no async runtime and no command line.
//!
//! - [`policy`]: the one model of IAM actions, the action catalogue, policy documents, rendering, size accounting
//!   and splitting, output formats, diff, explain rows, resources and risks;
//! - [`cloudtrail`]: CloudTrail records, the rule engine shared with the generator function, and the streaming
//!   scanner behind `lppg generate`;
//! - [`stack`]: the generator stack's pure domain: names, role mode, console passwords, preflight rules, probe
//!   samples, the function's decision lines and failure records;
//! - [`time`]: the one RFC 3339 parser, durations and `--since` values;
//! - [`exit`]: exit codes, the contract with scripts.
//!
//! The `lppg` crate adds the AWS layer, the commands and the terminal. The compiler keeps the layering: this crate
//! cannot reach them.
pub mod cloudtrail;
pub mod exit;
pub mod policy;
pub mod stack;
pub mod time;
