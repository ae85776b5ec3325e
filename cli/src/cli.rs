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

    /// The mesh home: the local control plane's state, logs and store [default: ~/.meshctl]
    #[arg(long, global = true, value_name = "DIR", env = "MESHCTL_HOME")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text or table
    #[value(alias = "log")]
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
    Install(InstallArgs),
    Uninstall(UninstallArgs),
    Check(CheckArgs),
    Apply(ApplyArgs),
    Get(GetArgs),
    Delete(DeleteArgs),
    Validate(ValidateArgs),
    Analyze(AnalyzeArgs),
    Diff(DiffArgs),
    Run(RunArgs),
    Demo(DemoArgs),
    ProxyStatus(ProxyStatusArgs),
    ProxyConfig(ProxyConfigArgs),
    Top(TopArgs),
    Dashboard(DashboardArgs),
    /// The mesh's certificate authority: roots and workload certificates
    #[command(
        subcommand,
        long_about = "\
The mesh's certificate authority: the root (generated at install, or your own
with `meshctl install --set ca.cert=... --set ca.key=... --set ca.chain=...`)
and the workload certificates it signs for each sidecar.

Rotating the root (`meshctl ca rotate`) is not available yet."
    )]
    Ca(CaCommand),
    /// Mutual TLS between sidecars: the mode each workload port enforces
    #[command(subcommand)]
    Mtls(MtlsCommand),
    /// Authorization: the AuthorizationPolicies a sidecar enforces
    #[command(subcommand)]
    Authz(AuthzCommand),
    #[command(subcommand)]
    ControlPlane(ControlPlaneCommand),
    #[command(subcommand)]
    Proxy(ProxyCommand),
    #[command(hide = true)]
    SampleApp(SampleAppArgs),
    Version(VersionArgs),
    Completion(CompletionArgs),
}

/// Start the local control plane
#[derive(Debug, Args)]
#[command(
    long_about = "\
Start the mesh's control plane on this machine, as a background process with its
state under the mesh home (--home, $MESHCTL_HOME, default ~/.meshctl): the config
store, a log file and a pid file. Waits until it is ready and says where it
listens. Installing again when it is already running is safe: it says what it found.

Settings (--set KEY=VALUE, repeatable; kept in the mesh home for the next install):
  discoveryAddress   where proxies connect          [default: 127.0.0.1:0, a free port]
  adminAddress       where the CLI connects          [default: 127.0.0.1:0, a free port]
  logLevel           error, warn, info, debug, trace [default: info]
  trustDomain        the SPIFFE trust domain of workload identities [default: cluster.local]
  ca.workloadCertTtl lifetime of workload certificates, 1m to 90d   [default: 24h]
  addons.prometheus  true: also run a Prometheus server (Debian's `prometheus`
                     package) scraping every proxy and the control plane every 5s;
                     `meshctl uninstall` stops it               [default: false]
  addons.prometheusAddress  where it listens        [default: 127.0.0.1:0, a free port]
  ca.cert, ca.key    your own CA (root or intermediate) instead of a generated root,
  ca.chain           like Istio's plugged-in cacerts: the CA certificate, its PKCS#8
                     key, and its issuers up to the root (ca.chain; omit it for a root).
                     They are checked (key matches, CA:TRUE, valid now, chain signs
                     up to a self-signed root) and copied into <home>/ca/.
  meshConfig.*       Istio's mesh config for telemetry (see docs/observability.md):
    accessLogFile                       access logs to this file or /dev/stdout [default: off]
    accessLogEncoding                   TEXT or JSON                      [default: TEXT]
    defaultConfig.tracing.sampling      % of new traces sampled, 0-100    [default: 1]
    extensionProviders[N].name          a provider Telemetry names, with
    extensionProviders[N].opentelemetry.service / .port / .http.path  (OTLP collector)
    defaultProviders.tracing            the tracing provider by default
    tracing.otlpEndpoint                shortcut: http://HOST:PORT (OTLP/gRPC) or
                                        http://HOST:PORT/v1/traces (OTLP/HTTP) as
                                        provider otel, the default

The mesh CA lives in <home>/ca/ (the key file readable by you only). Without
ca.cert, the first install generates a self-signed root and later installs keep it.

The addresses a first install gets are kept, so a reinstall (after a crash or an
uninstall without --purge) listens where running sidecars expect it.

Profiles (--profile), presets that --set refines:
  default   free ports, kept across reinstalls; info logs
  demo      Istio's well-known ports (discovery 127.0.0.1:15010, admin
            127.0.0.1:15014), so scripts and docs can name them; debug logs
  minimal   free ports; warnings and errors only",
    after_help = "\
Examples:
  meshctl install
  meshctl install --home /tmp/mesh -y
  meshctl install --set discoveryAddress=127.0.0.1:15010 --set logLevel=debug
  meshctl install --set ca.workloadCertTtl=2m
  meshctl install --set addons.prometheus=true
  meshctl install --set meshConfig.accessLogFile=/dev/stdout --set meshConfig.accessLogEncoding=JSON
  meshctl install --set meshConfig.tracing.otlpEndpoint=http://127.0.0.1:4317 --set meshConfig.defaultConfig.tracing.sampling=100
  meshctl install --set ca.cert=ca-cert.pem --set ca.key=ca-key.pem --set ca.chain=cert-chain.pem"
)]
pub struct InstallArgs {
    /// A preset of settings; --set overrides single values
    #[arg(long, value_enum, value_name = "PROFILE")]
    pub profile: Option<InstallProfile>,

    /// A setting as KEY=VALUE (see above)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Do not ask for confirmation
    #[arg(short = 'y', long = "skip-confirmation")]
    pub yes: bool,

    /// How long to wait for the control plane to be ready, in seconds
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstallProfile {
    Default,
    Demo,
    Minimal,
}

/// Stop the local control plane
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  meshctl uninstall\n  meshctl uninstall --purge -y")]
pub struct UninstallArgs {
    /// Also delete the mesh home: the stored config, logs and state
    #[arg(long)]
    pub purge: bool,

    /// Do not ask for confirmation
    #[arg(short = 'y', long = "skip-confirmation")]
    pub yes: bool,
}

/// Check that the mesh is installed and healthy, and say how to fix what is not
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  meshctl check\n  meshctl check -o json")]
pub struct CheckArgs {}

/// Apply resources to the mesh: all of them, or none if any is invalid
#[derive(Debug, Args)]
#[command(
    long_about = "\
Store resources in the mesh's config store. Every input is validated first, with
the rules of `meshctl validate`; if anything is invalid nothing is applied and
every problem is shown with its file and line. The change is then analyzed
against the live mesh (as `meshctl analyze` does): if it would introduce
Error-level findings, nothing is applied unless --force (exit 79). Resources
without a namespace go to --namespace (default: default). Proxies get the new
config within a second.",
    after_help = "\
Examples:
  meshctl apply -f samples/bookinfo/networking/destination-rule-all.yaml
  meshctl apply -f samples/bookinfo/networking/ -n bookinfo
  cat vs.yaml | meshctl apply -f -"
)]
pub struct ApplyArgs {
    /// A file, a directory, or '-' for standard input (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,

    /// Validate and show what would be applied, store nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Apply even if analysis finds new errors the change would introduce
    #[arg(long)]
    pub force: bool,
}

/// Show what applying files would change: resources, findings, each proxy's routes
#[derive(Debug, Args)]
#[command(
    long_about = "\
Compare files with the installed mesh before applying them: each resource against
the stored one (a coloured diff on a terminal), the analysis findings the change
would introduce or fix, and the effect on the config each running proxy would
get: routes (\"reviews:9080: 80% v1 / 20% v2 → 100% v3\"), clusters and
endpoints. Nothing is applied.",
    after_help = "\
Examples:
  meshctl diff -f samples/bookinfo/networking/virtual-service-reviews-v3.yaml
  meshctl diff -f reviews/ -o json"
)]
pub struct DiffArgs {
    /// A file, a directory, or '-' for standard input (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
}

/// List or show resources, or the workloads in the mesh
#[derive(Debug, Args)]
#[command(
    long_about = "\
List resources of a kind, or show one. KIND is a kind as kubectl names it
(virtualservices, vs, destinationrule, dr, ...), or `workloads` for the running
workloads and their sidecars' addresses.",
    after_help = "\
Examples:
  meshctl get virtualservices
  meshctl get vs reviews -o yaml
  meshctl get dr -A
  meshctl get workloads -o json"
)]
pub struct GetArgs {
    /// The kind, or `workloads`
    pub kind: String,
    /// One resource's name
    pub name: Option<String>,
}

/// Delete resources, named on the command line or by the files that define them
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  meshctl delete vs reviews
  meshctl delete -f samples/bookinfo/networking/virtual-service-reviews-80-20.yaml")]
pub struct DeleteArgs {
    /// Delete what these files define (repeatable)
    #[arg(short = 'f', long = "filename", value_name = "PATH", conflicts_with_all = ["kind", "names"])]
    pub files: Vec<PathBuf>,
    /// The kind of the resources to delete
    #[arg(required_unless_present = "files")]
    pub kind: Option<String>,
    /// Their names
    #[arg(required_unless_present = "files")]
    pub names: Vec<String>,
}

/// Show whether each proxy runs the config the control plane sent it
#[derive(Debug, Args)]
#[command(
    long_about = "\
One row per proxy, with the state of each config type:
  SYNCED     the proxy acknowledged the latest config
  STALE      a newer config is on its way or not yet acknowledged (with how long)
  NOT SENT   nothing of this type was sent yet
  ERROR      the proxy rejected the latest config and runs the previous one

With a NAME (a proxy id, or a unique prefix of one), shows instead the difference
between the config the control plane computes for that proxy now and the config
the proxy is running, type by type.",
    after_help = "\
Examples:
  meshctl proxy-status
  meshctl proxy-status -o wide          # with NACK messages
  meshctl proxy-status reviews-v2       # what differs for one proxy"
)]
pub struct ProxyStatusArgs {
    /// One proxy: show what differs between its sent and running config
    pub name: Option<String>,
}

/// Live request rate, success rate and latency per edge, in the terminal
#[derive(Debug, Args)]
#[command(
    long_about = "\
Live request rate, success rate and p50/p99 latency per edge (source workload ->
destination service and workload), per workload, and each proxy's sync status,
read from every sidecar's Istio metrics (no Prometheus needed). Rates cover the
time between two scrapes, so the first numbers appear after one --interval.

An edge's numbers come from its destination's sidecar (reporter=destination),
or from the caller's when the destination has none. The MTLS column says how the
requests went: mutual_tls, none (plaintext), mixed, or unknown (no identities).

-n NAMESPACE keeps edges with either end in that namespace (default: all).
-o json/yaml prints the snapshot as data; with --once, one snapshot and exit.",
    after_help = "\
Examples:
  meshctl top                          # refresh every 2 s until Ctrl-C
  meshctl top --interval 5 -n default
  meshctl top --once -o json | jq '.edges[] | {sourceWorkload, destinationWorkload, rps}'"
)]
pub struct TopArgs {
    /// Seconds between samples (the window the rates cover)
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS", value_parser = parse_interval)]
    pub interval: f64,
    /// Take one sample (two scrapes, --interval apart), print it and exit
    #[arg(long)]
    pub once: bool,
    /// How long one proxy may take to answer a scrape
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS", value_parser = parse_interval)]
    pub scrape_timeout: f64,
}

/// Serve a live web page of the mesh: service graph, edges, proxies
#[derive(Debug, Args)]
#[command(
    long_about = "\
Serve a local web page showing the mesh live: the service graph (workloads and
services, each edge with its request rate, success rate, p50/p99 latency and a
lock for mutual TLS), the edges, workloads and proxies with their sync status.
The page polls this process, which scrapes every sidecar's metrics each
--interval (the same numbers as `meshctl top`). Everything is served from the
binary; the page loads nothing from the network.

Listens on loopback only; --address 127.0.0.1:0 (the default) picks a free port.
Prints the URL and serves until Ctrl-C.",
    after_help = "\
Examples:
  meshctl dashboard                      # then open the printed URL
  meshctl dashboard --address 127.0.0.1:9090 --interval 5"
)]
pub struct DashboardArgs {
    /// Where to serve the page (a loopback address; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub address: std::net::SocketAddr,
    /// Seconds between samples
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS", value_parser = parse_interval)]
    pub interval: f64,
    /// How long one proxy may take to answer a scrape
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS", value_parser = parse_interval)]
    pub scrape_timeout: f64,
}

fn parse_interval(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(s) if (0.1..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{v}: expected seconds between 0.1 and 3600, such as 2 or 0.5"
        )),
    }
}

/// Show the config a sidecar is running, read from its own admin endpoint
#[derive(Debug, Args)]
#[command(
    long_about = "\
Show what one sidecar runs, as it reports it (its admin /config_dump):
  listeners   the service ports it serves and the app ports behind them
  clusters    the upstreams it can route to (service, port, subset, balancing)
  endpoints   each cluster's members (peer sidecars' inbound addresses)
  routes      virtual hosts, their domains and routes, in match order
  secret      its workload certificate (chain, serial, validity, SPIFFE ID) and
              trust bundle, from its admin /certs; never the private key
  all         everything, with each type's version and last rejection

NAME is a proxy id, or a unique prefix of one (see `meshctl get workloads`).",
    after_help = "\
Examples:
  meshctl proxy-config routes productpage
  meshctl proxy-config endpoints productpage -o json
  meshctl proxy-config all reviews-v2 -o yaml
  meshctl proxy-config secret reviews-v2"
)]
pub struct ProxyConfigArgs {
    /// What to show
    #[arg(value_enum)]
    pub what: ProxyConfigKind,
    /// The proxy
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProxyConfigKind {
    Listeners,
    Clusters,
    Endpoints,
    Routes,
    Secret,
    All,
}

#[derive(Debug, Subcommand)]
pub enum MtlsCommand {
    /// Show each workload port's inbound mTLS mode and the policy that set it
    #[command(
        long_about = "\
Show, for every workload port, the inbound mutual-TLS mode its sidecar enforces
and the PeerAuthentication that decided it, with Istio's precedence: a policy
selecting the workload, then its namespace's, then the mesh's (namespace
istio-system); portLevelMtls over the policy's own mode; PERMISSIVE when none
says otherwise. PERMISSIVE accepts mTLS and plaintext, STRICT refuses plaintext,
DISABLE accepts plaintext only. Read from each sidecar's running config.

Below, every client -> server edge the sidecars' metrics have seen, and whether
its requests used mutual TLS (mutual_tls, none = plaintext, mixed): the server's
sidecar reports the security of each connection it accepted.

Clients use mTLS automatically to every workload that accepts it (auto mTLS)
unless a DestinationRule sets tls.mode: DISABLE.",
        after_help = "\
Examples:
  meshctl mtls status
  meshctl mtls status -n default -o json"
    )]
    Status,
    /// Set the inbound mTLS mode mesh-wide, for a namespace or for workloads
    #[command(
        long_about = "\
Write the PeerAuthentication that sets the inbound mutual-TLS mode: mesh-wide
(PeerAuthentication istio-system/default) without -n, namespace-wide
(<namespace>/default) with -n, or for the workloads a --workload selector picks
(<namespace>/<values>-mtls). It shows the modes the workload ports have now,
then applies the policy like `meshctl apply`; --dry-run only shows.

STRICT refuses plaintext: clients without a sidecar (or whose sidecar has no
certificate) can no longer call the workloads it covers. For STRICT it lists the
clients the sidecars' metrics show calling those workloads in plaintext, which
would be refused.",
        after_help = "\
Examples:
  meshctl mtls mode strict
  meshctl mtls mode permissive -n legacy
  meshctl mtls mode disable -n default --workload app=db --dry-run"
    )]
    Mode(MtlsModeArgs),
}

/// The mode `meshctl mtls mode` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MtlsModeArg {
    Strict,
    Permissive,
    Disable,
}

/// Options of `meshctl mtls mode`.
#[derive(Debug, Args)]
pub struct MtlsModeArgs {
    /// The mode
    #[arg(value_enum)]
    pub mode: MtlsModeArg,
    /// Only workloads with these labels (key=value[,key=value]) in the namespace
    #[arg(long, value_name = "SELECTOR")]
    pub workload: Option<String>,
    /// Show what would change; apply nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuthzCommand {
    /// Show which AuthorizationPolicies apply to a proxy, and decide a request
    #[command(
        long_about = "\
Show the AuthorizationPolicies a sidecar enforces, read from its running config:
each policy's action and each rule in words. Policies in the root namespace
(istio-system) apply mesh-wide, others to their namespace; a selector narrows
either to matching workloads.

Sidecars evaluate CUSTOM (not supported yet: its matches are denied), then DENY,
then ALLOW: with any ALLOW policy, a request no ALLOW policy matches is denied
with 403 `RBAC: access denied` (a TCP connection is closed). AUDIT policies only
mark requests for the audit log (`<mesh home>/audit.log`), which also records
every denial and what dry-run policies (annotation istio.io/dry-run) would do.

Give a request with --principal, --path, --method, --header, --source-ip or --tcp
to see the decision the sidecar would make for it, and which policy decides.",
        after_help = "\
Examples:
  meshctl authz check reviews
  meshctl authz check reviews --principal cluster.local/ns/default/sa/productpage --path /admin
  meshctl authz check ratings --method POST --path /ratings/1 --header x-user:jason
  meshctl authz check db --tcp --principal cluster.local/ns/default/sa/reviews
  meshctl authz check reviews -o json"
    )]
    Check(AuthzCheckArgs),
}

/// Options of `meshctl authz check`.
#[derive(Debug, Args)]
pub struct AuthzCheckArgs {
    /// The proxy (its id, or a unique prefix of it; see `meshctl get workloads`)
    pub proxy: String,
    /// The caller's identity, `<trust-domain>/ns/<ns>/sa/<sa>` (none: plaintext)
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Option<String>,
    /// The request's method [default when deciding: GET]
    #[arg(long)]
    pub method: Option<String>,
    /// The request's path [default when deciding: /]
    #[arg(long)]
    pub path: Option<String>,
    /// The request's host (authority)
    #[arg(long)]
    pub host: Option<String>,
    /// The port the request is for
    #[arg(long)]
    pub port: Option<u16>,
    /// A request header, NAME:VALUE (repeatable)
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The caller's address [default when deciding: 127.0.0.1]
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<std::net::IpAddr>,
    /// A TCP connection rather than an HTTP request
    #[arg(long)]
    pub tcp: bool,
}

impl AuthzCheckArgs {
    /// Whether a request is described (else only the policies are shown).
    pub fn simulates(&self) -> bool {
        self.principal.is_some()
            || self.method.is_some()
            || self.path.is_some()
            || self.host.is_some()
            || self.port.is_some()
            || !self.headers.is_empty()
            || self.source_ip.is_some()
            || self.tcp
    }
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Show the mesh CA: its roots, signing certificate and each proxy's certificate
    #[command(
        long_about = "\
Show the mesh's certificate authority: the trust domain, where the CA came from
(generated at install, or plugged in with --set ca.cert=...), its root(s) and
intermediates with fingerprint and expiry, the workload certificate lifetime, and
for each proxy the certificate it runs (serial, SPIFFE ID, expiry, the root it
chains to, whether it is the CA's current one), as the proxy reported it. While a
root rotation is in progress (`meshctl ca rotate`), its phase and the proxies
that have not reached it.",
        after_help = "\
Examples:
  meshctl ca status
  meshctl ca status -o json"
    )]
    Status,
    /// Rotate the mesh's root CA without breaking traffic (phased, resumable)
    #[command(
        long_about = "\
Replace the mesh's root CA with a new one while traffic flows, in three phases
with an overlapping trust bundle; each must reach every connected proxy before
the next starts:

  add-root    the new root joins every proxy's trust bundle (the old root still
              signs), so proxies accept peers from either root
  reissue     the CA signs with the new root and every proxy renews at once
  remove-old  the old root leaves every trust bundle (refused while a proxy
              still has a certificate from it); pooled connections made under
              the old bundle are replaced

Without --phase all phases run in order, showing how many proxies have reached
each, and waiting up to --timeout for each (naming the proxies that lag when it
runs out). The phase is kept in the mesh home (ca/rotation.json), so after a
crash of the control plane or of this command, running it again continues where
it stopped. With --phase one step runs, to go through them by hand (then
`--phase complete` ends the rotation). The new root is generated, or your own
with --cert/--key/--chain (as `install --set ca.cert=...`).",
        after_help = "\
Examples:
  meshctl ca rotate
  meshctl ca rotate --phase add-root --cert new-ca-cert.pem --key new-ca-key.pem --chain new-cert-chain.pem
  meshctl ca rotate --phase reissue
  meshctl ca status"
    )]
    Rotate(CaRotateArgs),
}

/// A rotation phase, for `meshctl ca rotate --phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RotatePhase {
    /// Add the new root to every trust bundle
    AddRoot,
    /// Sign with the new root; every proxy renews now
    Reissue,
    /// Remove the old root from every trust bundle
    RemoveOld,
    /// End the rotation (once no proxy trusts the old root)
    Complete,
}

#[derive(Debug, Args)]
pub struct CaRotateArgs {
    /// Run only this phase (the rotation must be at the phase before it)
    #[arg(long, value_enum)]
    pub phase: Option<RotatePhase>,
    /// How long to wait for every proxy to reach a phase, in seconds
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub timeout: u64,
    /// The new CA certificate (root or intermediate), PEM; default: a new self-signed root
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The new CA's private key, PKCS#8 PEM
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The new CA's issuers up to the root, PEM
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub chain: Option<PathBuf>,
}

/// Run an app in the mesh, with its own sidecar proxy
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    long_about = "\
Start COMMAND as a workload of SERVICE, with a sidecar proxy beside it.

The sidecar registers the workload with the control plane (service, namespace,
labels, ports) and receives its routing config. The app gets HTTP_PROXY pointing
at the sidecar, so any ordinary HTTP client reaches other services by name
(http://reviews:9080/, reviews.default, reviews.default.svc.cluster.local) through
the mesh; NO_PROXY keeps localhost direct. The app also gets PORT (the port it
should listen on) and MESHCTL_* variables describing itself.

The workload carries Istio's canonical labels app=SERVICE and version=VERSION,
so DestinationRule subsets and policies written for Istio select it.

The workload's identity is its service account: the sidecar gets a certificate
for spiffe://<trust-domain>/ns/<namespace>/sa/<service-account> from the mesh
CA, proving who it is with a bootstrap token meshctl creates for this run (a
file readable by you only, under <home>/tokens/, removed when the run ends).

Ctrl-C or SIGTERM stops both; when the app exits, the sidecar stops too and
meshctl exits with the app's exit code.",
    after_help = "\
Examples:
  meshctl run --service reviews --version v2 --port 9080 --app-port 19082 -- ./reviews
  meshctl run --service ratings --port 9080 -- python3 -m http.server 9080"
)]
pub struct RunArgs {
    /// The service this workload belongs to
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Its version (the `version` label)
    #[arg(long, default_value = "v1", value_name = "VERSION")]
    pub version: String,
    /// The service port clients use
    #[arg(long, default_value_t = 80, value_name = "PORT")]
    pub port: u16,
    /// The port the app listens on [default: --port]
    #[arg(long, value_name = "PORT")]
    pub app_port: Option<u16>,
    /// The port's protocol: http, http2, grpc or tcp
    #[arg(long, default_value = "http", value_name = "PROTOCOL")]
    pub protocol: String,
    /// The service account (its identity)
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub service_account: String,
    /// Another label, as KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// How long to wait for the sidecar to get its config before starting the app
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub ready_timeout: u64,
    /// The app and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// See the mesh at work: a bookinfo-like app, live traffic, routing changes
#[derive(Debug, Args)]
#[command(
    long_about = "\
Installs the control plane if needed, starts a bookinfo-like set of services,
each with its sidecar (productpage -> details, reviews v1/v2/v3 -> ratings),
and walks through Istio's traffic-shifting tasks with the project's own config
(samples/demo/): all traffic to reviews v1, an 80/20 canary, a header match
that sends user jason to v2, and everyone to v3. At each step it sends real
requests through the mesh and shows where they went.

Stops everything it started at the end, unless --keep.",
    after_help = "\
Examples:
  meshctl demo
  meshctl demo --keep        # then: meshctl get workloads; meshctl proxy-status"
)]
pub struct DemoArgs {
    /// Keep the services running after the walk-through (until Ctrl-C)
    #[arg(long)]
    pub keep: bool,
    /// Requests sent at each step
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub requests: usize,
}

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Run a sidecar proxy in the foreground (what `meshctl run` starts)
    Run(ProxyRunArgs),
}

#[derive(Debug, Args)]
pub struct ProxyRunArgs {
    /// The control plane's discovery address [default: from the mesh home]
    #[arg(long, value_name = "ADDR")]
    pub discovery_address: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub service: String,
    #[arg(long, default_value = "default", value_name = "NAMESPACE")]
    pub proxy_namespace: String,
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub service_account: String,
    /// A unique id [default: SERVICE-VERSION-RANDOM.NAMESPACE]
    #[arg(long, value_name = "ID")]
    pub proxy_id: Option<String>,
    /// Labels as KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A service port as PORT:APP_PORT[:PROTOCOL] (repeatable)
    #[arg(long = "port", value_name = "PORT:APP_PORT[:PROTOCOL]")]
    pub ports: Vec<String>,
    /// Outbound listener (the app's HTTP proxy)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub outbound_address: std::net::SocketAddr,
    /// Inbound listener (where other sidecars connect)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub inbound_address: std::net::SocketAddr,
    /// Admin listener (loopback only)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub admin_address: std::net::SocketAddr,
    /// Log level: error, warn, info, debug, trace
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
    /// The bootstrap token's file: with it the sidecar gets a workload
    /// certificate from the mesh CA (and is ready only once it has one)
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Append authorization audit records (denials, AUDIT matches, dry-run
    /// results) to this file as JSON lines; default: the sidecar's log
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// A small HTTP service for demos and tests (bookinfo-like roles)
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct SampleAppArgs {
    #[arg(long)]
    pub service: String,
    #[arg(long, default_value = "v1")]
    pub version: String,
    /// Where to listen [default: 127.0.0.1:$PORT]
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Call these URLs for each request (through $HTTP_PROXY), forwarding the
    /// end-user and tracing headers, and include their answers
    #[arg(long = "call", value_name = "URL")]
    pub calls: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ControlPlaneCommand {
    /// Run the control plane in the foreground (what `meshctl install` starts)
    Run(ControlPlaneRunArgs),
}

#[derive(Debug, Args)]
pub struct ControlPlaneRunArgs {
    /// Where proxies connect
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub discovery_address: std::net::SocketAddr,
    /// Where the CLI connects
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub admin_address: std::net::SocketAddr,
    /// Log level: error, warn, info, debug, trace
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
    /// The SPIFFE trust domain of workload identities
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub trust_domain: String,
    /// Lifetime of the workload certificates the CA signs (1m to 90d)
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub workload_cert_ttl: String,
    /// Keep a Prometheus file_sd targets file of every proxy and the control plane here
    #[arg(long, value_name = "FILE")]
    pub scrape_targets: Option<PathBuf>,
    /// A JSON file with the mesh config (access logging, tracing); what
    /// `meshctl install --set meshConfig.*` writes
    #[arg(long, value_name = "FILE")]
    pub mesh_config: Option<std::path::PathBuf>,
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

/// Find configuration mistakes: hosts, subsets, gateways, selectors, policies
#[derive(Debug, Args)]
#[command(
    long_about = "\
Analyze resources for mistakes that validation alone cannot see, because they
span several resources: a route to a host or subset that does not exist, a
gateway that selects no pods, two gateways or sidecars fighting over the same
workloads, a policy that matches nothing. Each finding has Istio's code (IST0101,
...) and a hint on how to fix it.

With files, analyzes them; when a mesh is installed (the control plane answers),
the files are layered over its stored config and running workloads, so a change
is judged against what is live (--use-store=false to analyze files alone).
Without files, analyzes the live mesh.

Resources in files that name no namespace are placed in --namespace (default:
default). Findings are reported for all namespaces unless --namespace is given.

Exit codes: 0 no findings at or above --failure-threshold, 79 findings at or
above it, 65 an input could not be read or decoded, 64 bad usage.",
    after_help = "\
Examples:
  meshctl analyze samples/bookinfo/networking/
  meshctl analyze --use-store=false reviews.yaml -o json
  meshctl analyze --analyzer virtualservice.DestinationHostAnalyzer vs.yaml
  meshctl analyze -S \"IST0102=Namespace default\" --failure-threshold Warning .
  meshctl analyze -L"
)]
pub struct AnalyzeArgs {
    /// Files or directories to analyze, or '-' for standard input
    #[arg(value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// Run only this analyzer (repeatable; see --list-analyzers)
    #[arg(long = "analyzer", value_name = "NAME")]
    pub analyzers: Vec<String>,

    /// List the analyzers and exit
    #[arg(short = 'L', long)]
    pub list_analyzers: bool,

    /// Layer the files over the installed mesh's config and workloads [default: true when a mesh answers]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub use_store: Option<bool>,

    /// A mesh config file (Istio's MeshConfig YAML)
    #[arg(long = "meshConfigFile", value_name = "FILE")]
    pub mesh_config_file: Option<PathBuf>,

    /// Exit with 79 when a finding is at least this severe
    #[arg(long, value_enum, default_value_t = LevelArg::Error, value_name = "LEVEL")]
    pub failure_threshold: LevelArg,

    /// Show only findings at least this severe
    #[arg(long, value_enum, default_value_t = LevelArg::Info, value_name = "LEVEL")]
    pub output_threshold: LevelArg,

    /// Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; '*' matches any text (repeatable)
    #[arg(short = 'S', long = "suppress", value_name = "CODE=RESOURCE")]
    pub suppress: Vec<String>,
}

/// A finding level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    #[value(alias = "ERROR", alias = "Error")]
    Error,
    #[value(alias = "WARNING", alias = "Warning", alias = "warn")]
    Warning,
    #[value(alias = "INFO", alias = "Info")]
    Info,
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
