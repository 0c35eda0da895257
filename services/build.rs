//! `sqlx::migrate!` embeds `migrations/` when the crate compiles, but on
//! stable Rust a proc macro cannot tell Cargo to watch a directory: without
//! this, an added or changed migration is missing from an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
