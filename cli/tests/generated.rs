//! Generated artefacts are checked in and must match what the code generates now:
//! shell completions and the help text of every command. Regenerate with
//! `MESHCTL_UPDATE_SNAPSHOTS=1 cargo test -p meshctl --test generated`.

mod common;

use clap::CommandFactory;
use clap_complete::Shell;
use meshctl::cli::Cli;
use meshctl::commands::completion;

const HINT: &str = "MESHCTL_UPDATE_SNAPSHOTS=1 cargo test -p meshctl --test generated";

#[test]
fn command_tree_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn completions_are_current() {
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let path = common::repo()
            .join("completions")
            .join(completion::file_name(shell));
        common::assert_snapshot(&path, &completion::script(shell), HINT);
    }
}

#[test]
fn help_texts_are_current() {
    let mut root = Cli::command().term_width(100);
    root.build();
    let mut pages = vec![("meshctl".to_string(), root.clone())];
    for sub in root.get_subcommands() {
        if sub.get_name() != "help" {
            pages.push((format!("meshctl-{}", sub.get_name()), sub.clone()));
        }
    }
    for (name, mut cmd) in pages {
        let help = cmd.render_long_help().to_string();
        let path = common::repo()
            .join("cli/tests/snapshots/help")
            .join(format!("{name}.txt"));
        common::assert_snapshot(&path, &help, HINT);
    }
}

#[test]
fn no_command_is_a_placeholder() {
    // Every listed command does something: its help names what it does, and it is
    // dispatched (a missing arm would not compile). Keep the list honest as commands
    // arrive.
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "install",
            "uninstall",
            "check",
            "apply",
            "get",
            "delete",
            "validate",
            "analyze",
            "diff",
            "run",
            "demo",
            "proxy-status",
            "proxy-config",
            "top",
            "dashboard",
            "ca",
            "mtls",
            "authz",
            "control-plane",
            "proxy",
            "sample-app",
            "version",
            "completion"
        ]
    );
}
