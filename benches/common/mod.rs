//! What the benches share, kept apart from `tests/common/` (benches include no test files):
//! the big tree the render and footprint benches draw (`tree`), and the signer the verify
//! bench signs with (`signer`). Each bench uses a part: unused items are expected.
#![allow(dead_code)]

pub mod signer;
pub mod tree;
