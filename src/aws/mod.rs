//! The only code that calls the AWS SDK: the flags that choose an account and endpoint, one client set built
//! from them, and thin wrappers per service. Nothing here prints or prompts: errors carry a [`ErrorKind`] taken
//! from the service's error code (callers branch on it) and a message that says what to do.
pub mod account;
pub mod analyzer;
pub mod athena;
pub mod events;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod ownership;
pub mod s3;
pub mod sqs;
pub mod stack;
pub mod sts;
pub mod trail;

mod clients;
mod error;
mod retry;

pub use clients::{config_loader, https_client, AwsArgs, Clients, Identity};
pub use error::{
    brief, code, explain, explain_denied, hint_for, missing_action, AwsError, ErrorKind,
};
pub use retry::Retry;
