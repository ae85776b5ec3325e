
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
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check Istio resources for errors, with Istio''s validation rules'
            cand version 'Print the version of meshctl'
            cand completion 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
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
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;version'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand -n 'The namespace to act in (resources without one are placed here)'
            cand --namespace 'The namespace to act in (resources without one are placed here)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --context 'Kubernetes context (for Kubernetes mode; local commands do not use it)'
            cand --kubeconfig 'Kubernetes config file (for Kubernetes mode; local commands do not use it)'
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
            cand -A 'Act on all namespaces'
            cand --all-namespaces 'Act on all namespaces'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'meshctl;help'= {
            cand validate 'Check Istio resources for errors, with Istio''s validation rules'
            cand version 'Print the version of meshctl'
            cand completion 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'meshctl;help;validate'= {
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
