// The migration chains and demo fixtures are compiled into the binary
// (`sqlx::migrate!`, `include_str!`); rebuild when a new file appears.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=fixtures/demo");
}
