//! `meshctl completion SHELL`: print a completion script.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionArgs};
use crate::output::Output;

/// The completion script for `shell`, exactly as checked into `completions/`.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "meshctl", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The file name each shell expects a completion script under.
pub fn file_name(shell: clap_complete::Shell) -> &'static str {
    use clap_complete::Shell;
    match shell {
        Shell::Bash => "meshctl.bash",
        Shell::Zsh => "_meshctl",
        Shell::Fish => "meshctl.fish",
        Shell::PowerShell => "_meshctl.ps1",
        Shell::Elvish => "meshctl.elv",
        _ => "meshctl.completion",
    }
}

pub fn run(args: &CompletionArgs, out: &Output) -> anyhow::Result<()> {
    out.raw(&script(args.shell))?;
    Ok(())
}
