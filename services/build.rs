//! `sqlx::migrate!` embeds `migrations/` when the crate compiles, but on
//! stable Rust a proc macro cannot tell Cargo to watch a directory: without
//! this, an added or changed migration is missing from an incremental build.
//! Also tells the tests which services are configured (see below).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    // Tests that need PostgreSQL or Redis are compiled as ignored when the
    // variable naming the service is unset, so a local run says "ignored"
    // for them instead of reporting a skip as a pass (CI sets both).
    for (var, cfg) in [
        ("TEST_DATABASE_URL", "postgres_available"),
        ("TEST_REDIS_URL", "redis_available"),
    ] {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        println!("cargo:rerun-if-env-changed={var}");
        if std::env::var(var).is_ok_and(|v| !v.is_empty()) {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
