//! The core's one integration-test binary: the shared vectors (the repository's `tests/vectors/`) read by the Rust
//! side of each contract with the Python function.
mod contract_vectors;
mod resource_vectors;

/// The repository's shared vectors, two folders above this crate.
pub fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}
