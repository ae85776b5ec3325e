# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_meshctl_global_optspecs
    string join \n o/output= n/namespace= A/all-namespaces color= context= kubeconfig= home= h/help V/version
end

function __fish_meshctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_meshctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_meshctl_using_subcommand
    set -l cmd (__fish_meshctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c meshctl -n "__fish_meshctl_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_needs_command" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_needs_command" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_needs_command" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_needs_command" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_needs_command" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_needs_command" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_needs_command" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "install" -d 'Start the local control plane'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "uninstall" -d 'Stop the local control plane'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "check" -d 'Check that the mesh is installed and healthy, and say how to fix what is not'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "apply" -d 'Apply resources to the mesh: all of them, or none if any is invalid'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "get" -d 'List or show resources, or the workloads in the mesh'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "delete" -d 'Delete resources, named on the command line or by the files that define them'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "validate" -d 'Check Istio resources for errors, with Istio\'s validation rules'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "analyze" -d 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "diff" -d 'Show what applying files would change: resources, findings, each proxy\'s routes'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "run" -d 'Run an app in the mesh, with its own sidecar proxy'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "demo" -d 'See the mesh at work: a bookinfo-like app, live traffic, routing changes'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "proxy-status" -d 'Show whether each proxy runs the config the control plane sent it'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "proxy-config" -d 'Show the config a sidecar is running, read from its own admin endpoint'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "top" -d 'Live request rate, success rate and latency per edge, in the terminal'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "dashboard" -d 'Serve a live web page of the mesh: service graph, edges, proxies'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "ca" -d 'The mesh\'s certificate authority: roots and workload certificates'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "mtls" -d 'Mutual TLS between sidecars: the mode each workload port enforces'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "authz" -d 'Authorization: the AuthorizationPolicies a sidecar enforces'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "control-plane"
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "proxy"
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "sample-app" -d 'A small HTTP service for demos and tests (bookinfo-like roles)'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "version" -d 'Print the version of meshctl'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l profile -d 'A preset of settings; --set overrides single values' -r -f -a "default\t''
demo\t''
minimal\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l set -d 'A setting as KEY=VALUE (see above)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l timeout -d 'How long to wait for the control plane to be ready, in seconds' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s y -l skip-confirmation -d 'Do not ask for confirmation'
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand install" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -l purge -d 'Also delete the mesh home: the stored config, logs and state'
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s y -l skip-confirmation -d 'Do not ask for confirmation'
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand uninstall" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s f -l filename -d 'A file, a directory, or \'-\' for standard input (repeatable)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l dry-run -d 'Validate and show what would be applied, store nothing'
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -l force -d 'Apply even if analysis finds new errors the change would introduce'
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand apply" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand get" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s f -l filename -d 'Delete what these files define (repeatable)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand delete" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s f -l filename -d 'A file, a directory, or \'-\' for standard input (repeatable)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l analyzer -d 'Run only this analyzer (repeatable; see --list-analyzers)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l use-store -d 'Layer the files over the installed mesh\'s config and workloads [default: true when a mesh answers]' -r -f -a "true\t''
false\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l meshConfigFile -d 'A mesh config file (Istio\'s MeshConfig YAML)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l failure-threshold -d 'Exit with 79 when a finding is at least this severe' -r -f -a "error\t''
warning\t''
info\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l output-threshold -d 'Show only findings at least this severe' -r -f -a "error\t''
warning\t''
info\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s S -l suppress -d 'Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; \'*\' matches any text (repeatable)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s L -l list-analyzers -d 'List the analyzers and exit'
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand analyze" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s f -l filename -d 'A file, a directory, or \'-\' for standard input (repeatable)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand diff" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l service -d 'The service this workload belongs to' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l version -d 'Its version (the `version` label)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l port -d 'The service port clients use' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l app-port -d 'The port the app listens on [default: --port]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l protocol -d 'The port\'s protocol: http, http2, grpc or tcp' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l service-account -d 'The service account (its identity)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l label -d 'Another label, as KEY=VALUE (repeatable)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l ready-timeout -d 'How long to wait for the sidecar to get its config before starting the app' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l requests -d 'Requests sent at each step' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -l keep -d 'Keep the services running after the walk-through (until Ctrl-C)'
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand demo" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-status" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy-config" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l interval -d 'Seconds between samples (the window the rates cover)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l scrape-timeout -d 'How long one proxy may take to answer a scrape' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -l once -d 'Take one sample (two scrapes, --interval apart), print it and exit'
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand top" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l address -d 'Where to serve the page (a loopback address; port 0 picks a free one)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l interval -d 'Seconds between samples' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l scrape-timeout -d 'How long one proxy may take to answer a scrape' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand dashboard" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -f -a "status" -d 'Show the mesh CA: its roots, signing certificate and each proxy\'s certificate'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -f -a "rotate" -d 'Rotate the mesh\'s root CA without breaking traffic (phased, resumable)'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and not __fish_seen_subcommand_from status rotate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l phase -d 'Run only this phase (the rotation must be at the phase before it)' -r -f -a "add-root\t'Add the new root to every trust bundle'
reissue\t'Sign with the new root; every proxy renews now'
remove-old\t'Remove the old root from every trust bundle'
complete\t'End the rotation (once no proxy trusts the old root)'"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l timeout -d 'How long to wait for every proxy to reach a phase, in seconds' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l cert -d 'The new CA certificate (root or intermediate), PEM; default: a new self-signed root' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l key -d 'The new CA\'s private key, PKCS#8 PEM' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l chain -d 'The new CA\'s issuers up to the root, PEM' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the mesh CA: its roots, signing certificate and each proxy\'s certificate'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Rotate the mesh\'s root CA without breaking traffic (phased, resumable)'
complete -c meshctl -n "__fish_meshctl_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -f -a "status" -d 'Show each workload port\'s inbound mTLS mode and the policy that set it'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -f -a "mode" -d 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and not __fish_seen_subcommand_from status mode help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l workload -d 'Only workloads with these labels (key=value[,key=value]) in the namespace' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -l dry-run -d 'Show what would change; apply nothing'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from mode" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show each workload port\'s inbound mTLS mode and the policy that set it'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from help" -f -a "mode" -d 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
complete -c meshctl -n "__fish_meshctl_using_subcommand mtls; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l principal -d 'The caller\'s identity, `<trust-domain>/ns/<ns>/sa/<sa>` (none: plaintext)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l method -d 'The request\'s method [default when deciding: GET]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l path -d 'The request\'s path [default when deciding: /]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l host -d 'The request\'s host (authority)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l port -d 'The port the request is for' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l header -d 'A request header, NAME:VALUE (repeatable)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l source-ip -d 'The caller\'s address [default when deciding: 127.0.0.1]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -l tcp -d 'A TCP connection rather than an HTTP request'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from help" -f -a "check" -d 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
complete -c meshctl -n "__fish_meshctl_using_subcommand authz; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run the control plane in the foreground (what `meshctl install` starts)'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l discovery-address -d 'Where proxies connect' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l admin-address -d 'Where the CLI connects' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l log-level -d 'Log level: error, warn, info, debug, trace' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l trust-domain -d 'The SPIFFE trust domain of workload identities' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l workload-cert-ttl -d 'Lifetime of the workload certificates the CA signs (1m to 90d)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l scrape-targets -d 'Keep a Prometheus file_sd targets file of every proxy and the control plane here' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l mesh-config -d 'A JSON file with the mesh config (access logging, tracing); what `meshctl install --set meshConfig.*` writes' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the control plane in the foreground (what `meshctl install` starts)'
complete -c meshctl -n "__fish_meshctl_using_subcommand control-plane; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l discovery-address -d 'The control plane\'s discovery address [default: from the mesh home]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l service -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l proxy-namespace -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l service-account -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l proxy-id -d 'A unique id [default: SERVICE-VERSION-RANDOM.NAMESPACE]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l label -d 'Labels as KEY=VALUE (repeatable)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l port -d 'A service port as PORT:APP_PORT[:PROTOCOL] (repeatable)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l outbound-address -d 'Outbound listener (the app\'s HTTP proxy)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l inbound-address -d 'Inbound listener (where other sidecars connect)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l admin-address -d 'Admin listener (loopback only)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l log-level -d 'Log level: error, warn, info, debug, trace' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l token-file -d 'The bootstrap token\'s file: with it the sidecar gets a workload certificate from the mesh CA (and is ready only once it has one)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l audit-log -d 'Append authorization audit records (denials, AUDIT matches, dry-run results) to this file as JSON lines; default: the sidecar\'s log' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
complete -c meshctl -n "__fish_meshctl_using_subcommand proxy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l service -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l version -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l listen -d 'Where to listen [default: 127.0.0.1:$PORT]' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l call -d 'Call these URLs for each request (through $HTTP_PROXY), forwarding the end-user and tracing headers, and include their answers' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand sample-app" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -l short -d 'Print only the version number'
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand version" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text or table'
wide\t'A table with more columns'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts and for re-applying'"
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s n -l namespace -d 'The namespace to act in (resources without one are placed here)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -l context -d 'Kubernetes context (for Kubernetes mode; local commands do not use it)' -r
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -l kubeconfig -d 'Kubernetes config file (for Kubernetes mode; local commands do not use it)' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -l home -d 'The mesh home: the local control plane\'s state, logs and store [default: ~/.meshctl]' -r -F
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "install" -d 'Start the local control plane'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "uninstall" -d 'Stop the local control plane'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "check" -d 'Check that the mesh is installed and healthy, and say how to fix what is not'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "apply" -d 'Apply resources to the mesh: all of them, or none if any is invalid'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "get" -d 'List or show resources, or the workloads in the mesh'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "delete" -d 'Delete resources, named on the command line or by the files that define them'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "validate" -d 'Check Istio resources for errors, with Istio\'s validation rules'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "analyze" -d 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "diff" -d 'Show what applying files would change: resources, findings, each proxy\'s routes'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "run" -d 'Run an app in the mesh, with its own sidecar proxy'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "demo" -d 'See the mesh at work: a bookinfo-like app, live traffic, routing changes'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "proxy-status" -d 'Show whether each proxy runs the config the control plane sent it'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "proxy-config" -d 'Show the config a sidecar is running, read from its own admin endpoint'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "top" -d 'Live request rate, success rate and latency per edge, in the terminal'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "dashboard" -d 'Serve a live web page of the mesh: service graph, edges, proxies'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "ca" -d 'The mesh\'s certificate authority: roots and workload certificates'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "mtls" -d 'Mutual TLS between sidecars: the mode each workload port enforces'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "authz" -d 'Authorization: the AuthorizationPolicies a sidecar enforces'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "control-plane"
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "proxy"
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "sample-app" -d 'A small HTTP service for demos and tests (bookinfo-like roles)'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "version" -d 'Print the version of meshctl'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from install uninstall check apply get delete validate analyze diff run demo proxy-status proxy-config top dashboard ca mtls authz control-plane proxy sample-app version completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "status" -d 'Show the mesh CA: its roots, signing certificate and each proxy\'s certificate'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "rotate" -d 'Rotate the mesh\'s root CA without breaking traffic (phased, resumable)'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from mtls" -f -a "status" -d 'Show each workload port\'s inbound mTLS mode and the policy that set it'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from mtls" -f -a "mode" -d 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from authz" -f -a "check" -d 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from control-plane" -f -a "run" -d 'Run the control plane in the foreground (what `meshctl install` starts)'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and __fish_seen_subcommand_from proxy" -f -a "run" -d 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
