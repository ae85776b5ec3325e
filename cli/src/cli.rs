//! The command tree: every subcommand and flag, with the help text users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "meshctl: a light, Istio-compatible service mesh in one binary";

const LONG_ABOUT: &str = "\
meshctl runs a service mesh: traffic management, mutual TLS, authorization and
telemetry for your services, configured with the same VirtualService,
DestinationRule, Gateway and other resources you write for Istio.";

const AFTER_HELP: &str = "\
Examples:
  # Check Istio resources before applying them
  meshctl validate -f samples/bookinfo/networking/

  # The same findings as data
  meshctl validate -f reviews.yaml -o json

  # Shell completion for the current bash session
  source <(meshctl completion bash)";

#[derive(Debug, Parser)]
#[command(
    name = "meshctl",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,

    /// The namespace to act in (resources without one are placed here)
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Act on all namespaces
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,

    /// When to colour output: auto colours a terminal unless NO_COLOR is set
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Kubernetes context (for Kubernetes mode; local commands do not use it)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Kubernetes config file (for Kubernetes mode; local commands do not use it)
    #[arg(long, global = true, value_name = "FILE", env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text or table
    Table,
    /// A table with more columns
    Wide,
    /// JSON, for scripts
    Json,
    /// YAML, for scripts and for re-applying
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(ValidateArgs),
    Version(VersionArgs),
    Completion(CompletionArgs),
}

/// Check Istio resources for errors, with Istio's validation rules
#[derive(Debug, Args)]
#[command(
    long_about = "\
Check Istio resources for errors, with the rules Istio's validating webhook applies.

Reads files, directories (recursively: .yaml, .yml and .json files) and standard
input ('-'), each possibly holding several documents separated by '---'. Every
problem is reported with its file, line, resource and field, and says what would
be valid. Warnings (valid but suspicious configuration) do not fail validation.
Kubernetes objects the mesh reads (Service, Deployment, ...) are checked for form;
other kinds are noted and skipped.

Exit status: 0 when every resource is valid (warnings allowed), 65 when any input
is invalid or cannot be parsed, 64 on bad usage.",
    after_help = "\
Examples:
  meshctl validate -f virtual-service.yaml
  meshctl validate -f samples/ -f extra.yaml
  kubectl get vs -A -o yaml | meshctl validate -f -
  meshctl validate -f reviews.yaml -o json"
)]
pub struct ValidateArgs {
    /// A file, a directory, or '-' for standard input (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
}

/// Print the version of meshctl
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  meshctl version\n  meshctl version -o json")]
pub struct VersionArgs {
    /// Print only the version number
    #[arg(long)]
    pub short: bool,
}

/// Print a shell completion script
#[derive(Debug, Args)]
#[command(
    long_about = "\
Print a completion script for your shell to standard output.

Load it in the current session, or install it where your shell looks for
completions.",
    after_help = "\
Examples:
  # bash, this session / permanently
  source <(meshctl completion bash)
  meshctl completion bash > /etc/bash_completion.d/meshctl

  # zsh (a directory on your $fpath)
  meshctl completion zsh > \"${fpath[1]}/_meshctl\"

  # fish
  meshctl completion fish > ~/.config/fish/completions/meshctl.fish

  # PowerShell
  meshctl completion powershell | Out-String | Invoke-Expression"
)]
pub struct CompletionArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
