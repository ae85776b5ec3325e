
use builtin;
use str;

set edit:completion:arg-completer[meshctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'meshctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'meshctl'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Start the local control plane'
            cand uninstall 'Stop the local control plane'
            cand check 'Check that the mesh is installed and healthy, and say how to fix what is not'
            cand apply 'Apply resources to the mesh: all of them, or none if any is invalid'
            cand get 'List or show resources, or the workloads in the mesh'
            cand delete 'Delete resources, named on the command line or by the files that define them'
            cand validate 'Check Istio resources for errors, with Istio''s validation rules'
            cand analyze 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies'
            cand diff 'Show what applying files would change: resources, findings, each proxy''s routes'
            cand run 'Run an app in the mesh, with its own sidecar proxy'
            cand demo 'See the mesh at work: a bookinfo-like app, live traffic, routing changes'
            cand proxy-status 'Show whether each proxy runs the config the control plane sent it'
            cand proxy-config 'Show the config a sidecar is running, read from its own admin endpoint'
            cand top 'Live request rate, success rate and latency per edge, in the terminal'
            cand dashboard 'Serve a live web page of the mesh: service graph, edges, proxies'
            cand ca 'The mesh''s certificate authority: roots and workload certificates'
            cand mtls 'Mutual TLS between sidecars: the mode each workload port enforces'
            cand authz 'Authorization: the AuthorizationPolicies a sidecar enforces'
            cand control-plane 'control-plane'
            cand proxy 'proxy'
            cand sample-app 'A small HTTP service for demos and tests (bookinfo-like roles)'
            cand version 'Print the version of meshctl'
            cand completion 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;install'= {
            cand --profile 'A preset of settings; --set overrides single values'
            cand --set 'A setting as KEY=VALUE (see above)'
            cand --timeout 'How long to wait for the control plane to be ready, in seconds'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -y 'Do not ask for confirmation'
            cand --skip-confirmation 'Do not ask for confirmation'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;uninstall'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --purge 'Also delete the mesh home: the stored config, logs and state'
            cand -y 'Do not ask for confirmation'
            cand --skip-confirmation 'Do not ask for confirmation'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;check'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;apply'= {
            cand -f 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand --filename 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --dry-run 'Validate and show what would be applied, store nothing'
            cand --force 'Apply even if analysis finds new errors the change would introduce'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;get'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;delete'= {
            cand -f 'Delete what these files define (repeatable)'
            cand --filename 'Delete what these files define (repeatable)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;validate'= {
            cand -f 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand --filename 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;analyze'= {
            cand --analyzer 'Run only this analyzer (repeatable; see --list-analyzers)'
            cand --use-store 'Layer the files over the installed mesh''s config and workloads [default: true when a mesh answers]'
            cand --meshConfigFile 'A mesh config file (Istio''s MeshConfig YAML)'
            cand --failure-threshold 'Exit with 79 when a finding is at least this severe'
            cand --output-threshold 'Show only findings at least this severe'
            cand -S 'Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; ''*'' matches any text (repeatable)'
            cand --suppress 'Hide a code on a resource: "CODE=Kind name", "CODE=Kind ns/name"; ''*'' matches any text (repeatable)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -L 'List the analyzers and exit'
            cand --list-analyzers 'List the analyzers and exit'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;diff'= {
            cand -f 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand --filename 'A file, a directory, or ''-'' for standard input (repeatable)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;run'= {
            cand --service 'The service this workload belongs to'
            cand --version 'Its version (the `version` label)'
            cand --port 'The service port clients use'
            cand --app-port 'The port the app listens on [default: --port]'
            cand --protocol 'The port''s protocol: http, http2, grpc or tcp'
            cand --service-account 'The service account (its identity)'
            cand --label 'Another label, as KEY=VALUE (repeatable)'
            cand --ready-timeout 'How long to wait for the sidecar to get its config before starting the app'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'meshctl;demo'= {
            cand --requests 'Requests sent at each step'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --keep 'Keep the services running after the walk-through (until Ctrl-C)'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;proxy-status'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;proxy-config'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;top'= {
            cand --interval 'Seconds between samples (the window the rates cover)'
            cand --scrape-timeout 'How long one proxy may take to answer a scrape'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --once 'Take one sample (two scrapes, --interval apart), print it and exit'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;dashboard'= {
            cand --address 'Where to serve the page (a loopback address; port 0 picks a free one)'
            cand --interval 'Seconds between samples'
            cand --scrape-timeout 'How long one proxy may take to answer a scrape'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;ca'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate'
            cand rotate 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;ca;status'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;ca;rotate'= {
            cand --phase 'Run only this phase (the rotation must be at the phase before it)'
            cand --timeout 'How long to wait for every proxy to reach a phase, in seconds'
            cand --cert 'The new CA certificate (root or intermediate), PEM; default: a new self-signed root'
            cand --key 'The new CA''s private key, PKCS#8 PEM'
            cand --chain 'The new CA''s issuers up to the root, PEM'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;ca;help'= {
            cand status 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate'
            cand rotate 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;ca;help;status'= {
        }
        &'meshctl;ca;help;rotate'= {
        }
        &'meshctl;ca;help;help'= {
        }
        &'meshctl;mtls'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Show each workload port''s inbound mTLS mode and the policy that set it'
            cand mode 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;mtls;status'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;mtls;mode'= {
            cand --workload 'Only workloads with these labels (key=value[,key=value]) in the namespace'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --dry-run 'Show what would change; apply nothing'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;mtls;help'= {
            cand status 'Show each workload port''s inbound mTLS mode and the policy that set it'
            cand mode 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;mtls;help;status'= {
        }
        &'meshctl;mtls;help;mode'= {
        }
        &'meshctl;mtls;help;help'= {
        }
        &'meshctl;authz'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;authz;check'= {
            cand --principal 'The caller''s identity, `<trust-domain>/ns/<ns>/sa/<sa>` (none: plaintext)'
            cand --method 'The request''s method [default when deciding: GET]'
            cand --path 'The request''s path [default when deciding: /]'
            cand --host 'The request''s host (authority)'
            cand --port 'The port the request is for'
            cand --header 'A request header, NAME:VALUE (repeatable)'
            cand --source-ip 'The caller''s address [default when deciding: 127.0.0.1]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --tcp 'A TCP connection rather than an HTTP request'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;authz;help'= {
            cand check 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;authz;help;check'= {
        }
        &'meshctl;authz;help;help'= {
        }
        &'meshctl;control-plane'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the control plane in the foreground (what `meshctl install` starts)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;control-plane;run'= {
            cand --discovery-address 'Where proxies connect'
            cand --admin-address 'Where the CLI connects'
            cand --log-level 'Log level: error, warn, info, debug, trace'
            cand --trust-domain 'The SPIFFE trust domain of workload identities'
            cand --workload-cert-ttl 'Lifetime of the workload certificates the CA signs (1m to 90d)'
            cand --scrape-targets 'Keep a Prometheus file_sd targets file of every proxy and the control plane here'
            cand --mesh-config 'A JSON file with the mesh config (access logging, tracing); what `meshctl install --set meshConfig.*` writes'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;control-plane;help'= {
            cand run 'Run the control plane in the foreground (what `meshctl install` starts)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;control-plane;help;run'= {
        }
        &'meshctl;control-plane;help;help'= {
        }
        &'meshctl;proxy'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;proxy;run'= {
            cand --discovery-address 'The control plane''s discovery address [default: from the mesh home]'
            cand --service 'service'
            cand --proxy-namespace 'proxy-namespace'
            cand --service-account 'service-account'
            cand --proxy-id 'A unique id [default: SERVICE-VERSION-RANDOM.NAMESPACE]'
            cand --label 'Labels as KEY=VALUE (repeatable)'
            cand --port 'A service port as PORT:APP_PORT[:PROTOCOL] (repeatable)'
            cand --outbound-address 'Outbound listener (the app''s HTTP proxy)'
            cand --inbound-address 'Inbound listener (where other sidecars connect)'
            cand --admin-address 'Admin listener (loopback only)'
            cand --log-level 'Log level: error, warn, info, debug, trace'
            cand --token-file 'The bootstrap token''s file: with it the sidecar gets a workload certificate from the mesh CA (and is ready only once it has one)'
            cand --audit-log 'Append authorization audit records (denials, AUDIT matches, dry-run results) to this file as JSON lines; default: the sidecar''s log'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;proxy;help'= {
            cand run 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;proxy;help;run'= {
        }
        &'meshctl;proxy;help;help'= {
        }
        &'meshctl;sample-app'= {
            cand --service 'service'
            cand --version 'version'
            cand --listen 'Where to listen [default: 127.0.0.1:$PORT]'
            cand --call 'Call these URLs for each request (through $HTTP_PROXY), forwarding the end-user and tracing headers, and include their answers'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'meshctl;version'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand --short 'Print only the version number'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;completion'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
            cand --home 'The mesh home: the local control plane''s state, logs and store [default: ~/.meshctl]'
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;help'= {
            cand install 'Start the local control plane'
            cand uninstall 'Stop the local control plane'
            cand check 'Check that the mesh is installed and healthy, and say how to fix what is not'
            cand apply 'Apply resources to the mesh: all of them, or none if any is invalid'
            cand get 'List or show resources, or the workloads in the mesh'
            cand delete 'Delete resources, named on the command line or by the files that define them'
            cand validate 'Check Istio resources for errors, with Istio''s validation rules'
            cand analyze 'Find configuration mistakes: hosts, subsets, gateways, selectors, policies'
            cand diff 'Show what applying files would change: resources, findings, each proxy''s routes'
            cand run 'Run an app in the mesh, with its own sidecar proxy'
            cand demo 'See the mesh at work: a bookinfo-like app, live traffic, routing changes'
            cand proxy-status 'Show whether each proxy runs the config the control plane sent it'
            cand proxy-config 'Show the config a sidecar is running, read from its own admin endpoint'
            cand top 'Live request rate, success rate and latency per edge, in the terminal'
            cand dashboard 'Serve a live web page of the mesh: service graph, edges, proxies'
            cand ca 'The mesh''s certificate authority: roots and workload certificates'
            cand mtls 'Mutual TLS between sidecars: the mode each workload port enforces'
            cand authz 'Authorization: the AuthorizationPolicies a sidecar enforces'
            cand control-plane 'control-plane'
            cand proxy 'proxy'
            cand sample-app 'A small HTTP service for demos and tests (bookinfo-like roles)'
            cand version 'Print the version of meshctl'
            cand completion 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;help;install'= {
        }
        &'meshctl;help;uninstall'= {
        }
        &'meshctl;help;check'= {
        }
        &'meshctl;help;apply'= {
        }
        &'meshctl;help;get'= {
        }
        &'meshctl;help;delete'= {
        }
        &'meshctl;help;validate'= {
        }
        &'meshctl;help;analyze'= {
        }
        &'meshctl;help;diff'= {
        }
        &'meshctl;help;run'= {
        }
        &'meshctl;help;demo'= {
        }
        &'meshctl;help;proxy-status'= {
        }
        &'meshctl;help;proxy-config'= {
        }
        &'meshctl;help;top'= {
        }
        &'meshctl;help;dashboard'= {
        }
        &'meshctl;help;ca'= {
            cand status 'Show the mesh CA: its roots, signing certificate and each proxy''s certificate'
            cand rotate 'Rotate the mesh''s root CA without breaking traffic (phased, resumable)'
        }
        &'meshctl;help;ca;status'= {
        }
        &'meshctl;help;ca;rotate'= {
        }
        &'meshctl;help;mtls'= {
            cand status 'Show each workload port''s inbound mTLS mode and the policy that set it'
            cand mode 'Set the inbound mTLS mode mesh-wide, for a namespace or for workloads'
        }
        &'meshctl;help;mtls;status'= {
        }
        &'meshctl;help;mtls;mode'= {
        }
        &'meshctl;help;authz'= {
            cand check 'Show which AuthorizationPolicies apply to a proxy, and decide a request'
        }
        &'meshctl;help;authz;check'= {
        }
        &'meshctl;help;control-plane'= {
            cand run 'Run the control plane in the foreground (what `meshctl install` starts)'
        }
        &'meshctl;help;control-plane;run'= {
        }
        &'meshctl;help;proxy'= {
            cand run 'Run a sidecar proxy in the foreground (what `meshctl run` starts)'
        }
        &'meshctl;help;proxy;run'= {
        }
        &'meshctl;help;sample-app'= {
        }
        &'meshctl;help;version'= {
        }
        &'meshctl;help;completion'= {
        }
        &'meshctl;help;help'= {
        }
    ]
    $completions[$command]
}
