//! clawkit's build tasks: spec -> progenitor -> `generated/`, spec lint, and the summaries the drift
//! snapshots in `tests/` are made of. `src/main.rs` is the `cargo xtask` command line on top.

pub mod document;
pub mod enums;
pub mod generate;
pub mod layout;
pub mod lint;
pub mod normalize;
pub mod summary;
