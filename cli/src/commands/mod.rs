//! One file per subcommand; each turns its arguments into a library call and hands
//! the result to the output module.

pub mod analyze;
pub mod apply;
pub mod authz;
pub mod ca;
pub mod ca_rotate;
pub mod check;
pub mod completion;
pub mod control_plane;
pub mod dashboard;
pub mod demo;
pub mod diff;
pub mod get;
pub mod install;
pub mod live;
pub mod mesh;
pub mod mtls;
pub mod proxy;
pub mod proxy_config;
pub mod proxy_status;
pub mod run;
pub mod sample_app;
pub mod signals;
pub mod top;
pub mod validate;
pub mod version;

use crate::cli::{Cli, Command};
use crate::output::Output;

pub fn dispatch(cli: &Cli, out: &Output) -> anyhow::Result<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Install(args) => install::install(args, g, out),
        Command::Uninstall(args) => install::uninstall(args, g, out),
        Command::Check(args) => check::run(args, g, out),
        Command::Apply(args) => apply::apply(args, g, out),
        Command::Get(args) => get::run(args, g, out),
        Command::Delete(args) => apply::delete(args, g, out),
        Command::Validate(args) => validate::run(args, out),
        Command::Analyze(args) => analyze::run(args, g, out),
        Command::Diff(args) => diff::run(args, g, out),
        Command::Run(args) => run::run(args, g, out),
        Command::Demo(args) => demo::run(args, g, out),
        Command::ProxyStatus(args) => proxy_status::run(args, g, out),
        Command::ProxyConfig(args) => proxy_config::run(args, g, out),
        Command::Top(args) => top::run(args, g, out),
        Command::Dashboard(args) => dashboard::run(args, g, out),
        Command::Ca(cmd) => ca::run(cmd, g, out),
        Command::Mtls(cmd) => mtls::run(cmd, g, out),
        Command::Authz(cmd) => authz::run(cmd, g, out),
        Command::Proxy(cmd) => proxy::run(cmd, g),
        Command::SampleApp(args) => sample_app::run(args),
        Command::ControlPlane(cmd) => control_plane::run(cmd, g),
        Command::Version(args) => version::run(args, out),
        Command::Completion(args) => completion::run(args, out),
    }
}
