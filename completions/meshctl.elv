
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
            cand proxy-status 'Show whether each proxy runs the config the control plane sent it'
            cand control-plane 'control-plane'
            cand version 'Print the version of meshctl'
            cand completion 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;install'= {
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
            cand proxy-status 'Show whether each proxy runs the config the control plane sent it'
            cand control-plane 'control-plane'
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
        &'meshctl;help;proxy-status'= {
        }
        &'meshctl;help;control-plane'= {
            cand run 'Run the control plane in the foreground (what `meshctl install` starts)'
        }
        &'meshctl;help;control-plane;run'= {
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
