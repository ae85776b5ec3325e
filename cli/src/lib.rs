//! meshctl: the command line of the mesh.
//!
//! Each subcommand lives in `commands/<name>.rs`: it turns parsed arguments into an
//! options struct, calls a library (mesh-api today; the control plane and proxy
//! crates as they arrive), and hands what it got to [`output`], the one place that
//! prints. The command tree itself is in [`cli`]; `main.rs` only maps results to exit
//! codes.
//!
//! Not for: mesh logic. Anything a second caller could need belongs in a library.

pub mod addons;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod liveview;
pub mod logging;
pub mod output;

use clap::Parser;

/// Parse the command line, run the command, and return the process exit code.
pub fn run() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return exit::clap_error(e),
    };
    let out = output::Output::new(&cli.global);
    let result = commands::dispatch(&cli, &out);
    exit::from_result(result, &out)
}
