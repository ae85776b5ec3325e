//! The `meshctl` binary: everything is in the library, so tests can reach it.

fn main() {
    std::process::exit(meshctl::run());
}
