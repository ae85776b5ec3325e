
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'meshctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'meshctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'meshctl' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Start the local control plane')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop the local control plane')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that the mesh is installed and healthy, and say how to fix what is not')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Apply resources to the mesh: all of them, or none if any is invalid')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'List or show resources, or the workloads in the mesh')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete resources, named on the command line or by the files that define them')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check Istio resources for errors, with Istio''s validation rules')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what applying files would change: resources, findings, each proxy''s routes')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an app in the mesh, with its own sidecar proxy')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'See the mesh at work: a bookinfo-like app, live traffic, routing changes')
            [CompletionResult]::new('proxy-status', 'proxy-status', [CompletionResultType]::ParameterValue, 'Show whether each proxy runs the config the control plane sent it')
            [CompletionResult]::new('proxy-config', 'proxy-config', [CompletionResultType]::ParameterValue, 'Show the config a sidecar is running, read from its own admin endpoint')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Live request rate, success rate and latency per edge, in the terminal')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Serve a live web page of the mesh: service graph, edges, proxies')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'The mesh''s certificate authority: roots and workload certificates')
            [CompletionResult]::new('mtls', 'mtls', [CompletionResultType]::ParameterValue, 'Mutual TLS between sidecars: the mode each workload port enforces')
            [CompletionResult]::new('authz', 'authz', [CompletionResultType]::ParameterValue, 'Authorization: the AuthorizationPolicies a sidecar enforces')
            [CompletionResult]::new('control-plane', 'control-plane', [CompletionResultType]::ParameterValue, 'control-plane')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'proxy')
            [CompletionResult]::new('sample-app', 'sample-app', [CompletionResultType]::ParameterValue, 'A small HTTP service for demos and tests (bookinfo-like roles)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version of meshctl')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;install' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'A preset of settings; --set overrides single values')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'A setting as KEY=VALUE (see above)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the control plane to be ready, in seconds')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--skip-confirmation', '--skip-confirmation', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;uninstall' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--purge', '--purge', [CompletionResultType]::ParameterName, 'Also delete the mesh home: the stored config, logs and state')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--skip-confirmation', '--skip-confirmation', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;check' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;apply' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Validate and show what would be applied, store nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Apply even if analysis finds new errors the change would introduce')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;get' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;delete' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Delete what these files define (repeatable)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Delete what these files define (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;analyze' {
            [CompletionResult]::new('--analyzer', '--analyzer', [CompletionResultType]::ParameterName, 'Run only this analyzer (repeatable; see --list-analyzers)')
            [CompletionResult]::new('--use-store', '--use-store', [CompletionResultType]::ParameterName, 'Layer the files over the installed mesh''s config and workloads [default: true when a mesh answers]')
            [CompletionResult]::new('--meshConfigFile', '--meshConfigFile', [CompletionResultType]::ParameterName, 'A mesh config file (Istio''s MeshConfig YAML)')
            [CompletionResult]::new('--failure-threshold', '--failure-threshold', [CompletionResultType]::ParameterName, 'Exit with 79 when a finding is at least this severe')
            [CompletionResult]::new('--output-threshold', '--output-threshold', [CompletionResultType]::ParameterName, 'Show only findings at least this severe')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; ''*'' matches any text (repeatable)')
            [CompletionResult]::new('--suppress', '--suppress', [CompletionResultType]::ParameterName, 'Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; ''*'' matches any text (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'List the analyzers and exit')
            [CompletionResult]::new('--list-analyzers', '--list-analyzers', [CompletionResultType]::ParameterName, 'List the analyzers and exit')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;diff' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'A file, a directory, or ''-'' for standard input (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;run' {
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'The service this workload belongs to')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Its version (the `version` label)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The service port clients use')
            [CompletionResult]::new('--app-port', '--app-port', [CompletionResultType]::ParameterName, 'The port the app listens on [default: --port]')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'The port''s protocol: http, http2, grpc or tcp')
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'The service account (its identity)')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Another label, as KEY=VALUE (repeatable)')
            [CompletionResult]::new('--ready-timeout', '--ready-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the sidecar to get its config before starting the app')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'meshctl;demo' {
            [CompletionResult]::new('--requests', '--requests', [CompletionResultType]::ParameterName, 'Requests sent at each step')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the services running after the walk-through (until Ctrl-C)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;proxy-status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;proxy-config' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;top' {
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between samples (the window the rates cover)')
            [CompletionResult]::new('--scrape-timeout', '--scrape-timeout', [CompletionResultType]::ParameterName, 'How long one proxy may take to answer a scrape')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Take one sample (two scrapes, --interval apart), print it and exit')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;dashboard' {
            [CompletionResult]::new('--address', '--address', [CompletionResultType]::ParameterName, 'Where to serve the page (a loopback address; port 0 picks a free one)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between samples')
            [CompletionResult]::new('--scrape-timeout', '--scrape-timeout', [CompletionResultType]::ParameterName, 'How long one proxy may take to answer a scrape')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;ca' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;ca;status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;ca;rotate' {
            [CompletionResult]::new('--phase', '--phase', [CompletionResultType]::ParameterName, 'Run only this phase (the rotation must be at the phase before it)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for every proxy to reach a phase, in seconds')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'The new CA certificate (root or intermediate), PEM; default: a new self-signed root')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The new CA''s private key, PKCS#8 PEM')
            [CompletionResult]::new('--chain', '--chain', [CompletionResultType]::ParameterName, 'The new CA''s issuers up to the root, PEM')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;ca;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;ca;help;status' {
            break
        }
        'meshctl;ca;help;rotate' {
            break
        }
        'meshctl;ca;help;help' {
            break
        }
        'meshctl;mtls' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each workload port''s inbound mTLS mode and the policy that set it')
            [CompletionResult]::new('mode', 'mode', [CompletionResultType]::ParameterValue, 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;mtls;status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;mtls;mode' {
            [CompletionResult]::new('--workload', '--workload', [CompletionResultType]::ParameterName, 'Only workloads with these labels (key=value[,key=value]) in the namespace')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change; apply nothing')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;mtls;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each workload port''s inbound mTLS mode and the policy that set it')
            [CompletionResult]::new('mode', 'mode', [CompletionResultType]::ParameterValue, 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;mtls;help;status' {
            break
        }
        'meshctl;mtls;help;mode' {
            break
        }
        'meshctl;mtls;help;help' {
            break
        }
        'meshctl;authz' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Show which AuthorizationPolicies apply to a proxy, and decide a request')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;authz;check' {
            [CompletionResult]::new('--principal', '--principal', [CompletionResultType]::ParameterName, 'The caller''s identity, `<trust-domain>/ns/<ns>/sa/<sa>` (none: plaintext)')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'The request''s method [default when deciding: GET]')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'The request''s path [default when deciding: /]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The request''s host (authority)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port the request is for')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'A request header, NAME:VALUE (repeatable)')
            [CompletionResult]::new('--source-ip', '--source-ip', [CompletionResultType]::ParameterName, 'The caller''s address [default when deciding: 127.0.0.1]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'A TCP connection rather than an HTTP request')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;authz;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Show which AuthorizationPolicies apply to a proxy, and decide a request')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;authz;help;check' {
            break
        }
        'meshctl;authz;help;help' {
            break
        }
        'meshctl;control-plane' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the control plane in the foreground (what `meshctl install` starts)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;control-plane;run' {
            [CompletionResult]::new('--discovery-address', '--discovery-address', [CompletionResultType]::ParameterName, 'Where proxies connect')
            [CompletionResult]::new('--admin-address', '--admin-address', [CompletionResultType]::ParameterName, 'Where the CLI connects')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level: error, warn, info, debug, trace')
            [CompletionResult]::new('--trust-domain', '--trust-domain', [CompletionResultType]::ParameterName, 'The SPIFFE trust domain of workload identities')
            [CompletionResult]::new('--workload-cert-ttl', '--workload-cert-ttl', [CompletionResultType]::ParameterName, 'Lifetime of the workload certificates the CA signs (1m to 90d)')
            [CompletionResult]::new('--scrape-targets', '--scrape-targets', [CompletionResultType]::ParameterName, 'Keep a Prometheus file_sd targets file of every proxy and the control plane here')
            [CompletionResult]::new('--mesh-config', '--mesh-config', [CompletionResultType]::ParameterName, 'A JSON file with the mesh config (access logging, tracing); what `meshctl install --set meshConfig.*` writes')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;control-plane;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the control plane in the foreground (what `meshctl install` starts)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;control-plane;help;run' {
            break
        }
        'meshctl;control-plane;help;help' {
            break
        }
        'meshctl;proxy' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a sidecar proxy in the foreground (what `meshctl run` starts)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;proxy;run' {
            [CompletionResult]::new('--discovery-address', '--discovery-address', [CompletionResultType]::ParameterName, 'The control plane''s discovery address [default: from the mesh home]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'service')
            [CompletionResult]::new('--proxy-namespace', '--proxy-namespace', [CompletionResultType]::ParameterName, 'proxy-namespace')
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'service-account')
            [CompletionResult]::new('--proxy-id', '--proxy-id', [CompletionResultType]::ParameterName, 'A unique id [default: SERVICE-VERSION-RANDOM.NAMESPACE]')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Labels as KEY=VALUE (repeatable)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'A service port as PORT:APP_PORT[:PROTOCOL] (repeatable)')
            [CompletionResult]::new('--outbound-address', '--outbound-address', [CompletionResultType]::ParameterName, 'Outbound listener (the app''s HTTP proxy)')
            [CompletionResult]::new('--inbound-address', '--inbound-address', [CompletionResultType]::ParameterName, 'Inbound listener (where other sidecars connect)')
            [CompletionResult]::new('--admin-address', '--admin-address', [CompletionResultType]::ParameterName, 'Admin listener (loopback only)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level: error, warn, info, debug, trace')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'The bootstrap token''s file: with it the sidecar gets a workload certificate from the mesh CA (and is ready only once it has one)')
            [CompletionResult]::new('--audit-log', '--audit-log', [CompletionResultType]::ParameterName, 'Append authorization audit records (denials, AUDIT matches, dry-run results) to this file as JSON lines; default: the sidecar''s log')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;proxy;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a sidecar proxy in the foreground (what `meshctl run` starts)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;proxy;help;run' {
            break
        }
        'meshctl;proxy;help;help' {
            break
        }
        'meshctl;sample-app' {
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'service')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'version')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Where to listen [default: 127.0.0.1:$PORT]')
            [CompletionResult]::new('--call', '--call', [CompletionResultType]::ParameterName, 'Call these URLs for each request (through $HTTP_PROXY), forwarding the end-user and tracing headers, and include their answers')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'meshctl;version' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('--short', '--short', [CompletionResultType]::ParameterName, 'Print only the version number')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;completion' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace to act in (resources without one are placed here)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes context (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubernetes config file (for Kubernetes mode; local commands do not use it)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Act on all namespaces')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'meshctl;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Start the local control plane')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Stop the local control plane')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that the mesh is installed and healthy, and say how to fix what is not')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Apply resources to the mesh: all of them, or none if any is invalid')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'List or show resources, or the workloads in the mesh')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete resources, named on the command line or by the files that define them')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check Istio resources for errors, with Istio''s validation rules')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what applying files would change: resources, findings, each proxy''s routes')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an app in the mesh, with its own sidecar proxy')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'See the mesh at work: a bookinfo-like app, live traffic, routing changes')
            [CompletionResult]::new('proxy-status', 'proxy-status', [CompletionResultType]::ParameterValue, 'Show whether each proxy runs the config the control plane sent it')
            [CompletionResult]::new('proxy-config', 'proxy-config', [CompletionResultType]::ParameterValue, 'Show the config a sidecar is running, read from its own admin endpoint')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Live request rate, success rate and latency per edge, in the terminal')
            [CompletionResult]::new('dashboard', 'dashboard', [CompletionResultType]::ParameterValue, 'Serve a live web page of the mesh: service graph, edges, proxies')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'The mesh''s certificate authority: roots and workload certificates')
            [CompletionResult]::new('mtls', 'mtls', [CompletionResultType]::ParameterValue, 'Mutual TLS between sidecars: the mode each workload port enforces')
            [CompletionResult]::new('authz', 'authz', [CompletionResultType]::ParameterValue, 'Authorization: the AuthorizationPolicies a sidecar enforces')
            [CompletionResult]::new('control-plane', 'control-plane', [CompletionResultType]::ParameterValue, 'control-plane')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'proxy')
            [CompletionResult]::new('sample-app', 'sample-app', [CompletionResultType]::ParameterValue, 'A small HTTP service for demos and tests (bookinfo-like roles)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version of meshctl')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'meshctl;help;install' {
            break
        }
        'meshctl;help;uninstall' {
            break
        }
        'meshctl;help;check' {
            break
        }
        'meshctl;help;apply' {
            break
        }
        'meshctl;help;get' {
            break
        }
        'meshctl;help;delete' {
            break
        }
        'meshctl;help;validate' {
            break
        }
        'meshctl;help;analyze' {
            break
        }
        'meshctl;help;diff' {
            break
        }
        'meshctl;help;run' {
            break
        }
        'meshctl;help;demo' {
            break
        }
        'meshctl;help;proxy-status' {
            break
        }
        'meshctl;help;proxy-config' {
            break
        }
        'meshctl;help;top' {
            break
        }
        'meshctl;help;dashboard' {
            break
        }
        'meshctl;help;ca' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)')
            break
        }
        'meshctl;help;ca;status' {
            break
        }
        'meshctl;help;ca;rotate' {
            break
        }
        'meshctl;help;mtls' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each workload port''s inbound mTLS mode and the policy that set it')
            [CompletionResult]::new('mode', 'mode', [CompletionResultType]::ParameterValue, 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads')
            break
        }
        'meshctl;help;mtls;status' {
            break
        }
        'meshctl;help;mtls;mode' {
            break
        }
        'meshctl;help;authz' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Show which AuthorizationPolicies apply to a proxy, and decide a request')
            break
        }
        'meshctl;help;authz;check' {
            break
        }
        'meshctl;help;control-plane' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the control plane in the foreground (what `meshctl install` starts)')
            break
        }
        'meshctl;help;control-plane;run' {
            break
        }
        'meshctl;help;proxy' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a sidecar proxy in the foreground (what `meshctl run` starts)')
            break
        }
        'meshctl;help;proxy;run' {
            break
        }
        'meshctl;help;sample-app' {
            break
        }
        'meshctl;help;version' {
            break
        }
        'meshctl;help;completion' {
            break
        }
        'meshctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
