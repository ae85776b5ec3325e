//! Exit codes, following sysexits(3) as istioctl and many CLIs do.

use crate::output::Output;

/// Success.
pub const OK: i32 = 0;
/// A general failure (I/O, an unexpected error).
pub const FAILURE: i32 = 1;
/// The command line was wrong (EX_USAGE).
pub const USAGE: i32 = 64;
/// The input data was wrong: invalid or unparseable resources (EX_DATAERR).
pub const DATA: i32 = 65;

/// Analysis found problems at or above the failure threshold (as istioctl).
pub const FINDINGS: i32 = 79;

/// An error that carries its own exit code and has already been reported to the
/// user (so nothing more is printed).
#[derive(Debug, thiserror::Error)]
#[error("exit {code}")]
pub struct Exit {
    pub code: i32,
}

impl Exit {
    pub fn with(code: i32) -> anyhow::Error {
        anyhow::Error::new(Exit { code })
    }
}

/// Map a clap parse failure: `--help` and `--version` are successes; anything else is
/// bad usage (64), printed with clap's own message and hint.
pub fn clap_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let code = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => OK,
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => USAGE,
        _ => USAGE,
    };
    // Printing help to a closed pipe is not an error worth a message.
    let _ = e.print();
    code
}

/// Turn a command's result into an exit code, reporting errors once. A closed
/// output pipe (`meshctl ... | head`) ends the command quietly.
pub fn from_result(result: anyhow::Result<()>, out: &Output) -> i32 {
    let Err(err) = result else { return OK };
    if let Some(exit) = err.downcast_ref::<Exit>() {
        return exit.code;
    }
    if err
        .chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return OK;
    }
    out.error(&format!("{err:#}"));
    FAILURE
}
