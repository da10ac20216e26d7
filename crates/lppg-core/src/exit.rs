//! Exit codes, like diff(1) and ripgrep: 0 success, 1 "differences" or "unhealthy", 2 trouble.
pub const OK: i32 = 0;
pub const DIFFERENT: i32 = 1;
pub const ERROR: i32 = 2;
