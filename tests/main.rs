//! lppg's one integration-test binary (one link per edit): a module per area, each driving the built binary,
//! mostly against a moto server of its own (`common`).
mod common;

mod engine_agreement;
mod export_policy;
mod export_refused;
mod fast_path;
mod generate;
mod generate_athena;
mod generate_refused;
mod generate_resources;
mod generate_s3;
mod guard;
mod probe_redrive;
mod real_aws;
mod role;
mod stack;
mod watch;
