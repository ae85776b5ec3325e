//! One file per subcommand; each turns its arguments into a library call and hands
//! the result to the output module.

pub mod completion;
pub mod validate;
pub mod version;

use crate::cli::{Cli, Command};
use crate::output::Output;

pub fn dispatch(cli: &Cli, out: &Output) -> anyhow::Result<()> {
    match &cli.command {
        Command::Validate(args) => validate::run(args, out),
        Command::Version(args) => version::run(args, out),
        Command::Completion(args) => completion::run(args, out),
    }
}
