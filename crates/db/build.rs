//! `sqlx::migrate!` embeds the migration files at compile time; this makes cargo rebuild the
//! crate when one is added or changed, so a new migration is never silently missing.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
