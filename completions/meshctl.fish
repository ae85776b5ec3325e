# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_meshctl_global_optspecs
    string join \n o/output= n/namespace= A/all-namespaces color= context= kubeconfig= h/help V/version
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
complete -c meshctl -n "__fish_meshctl_needs_command" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_needs_command" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "validate" -d 'Check Istio resources for errors, with Istio\'s validation rules'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "version" -d 'Print the version of meshctl'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c meshctl -n "__fish_meshctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
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
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand validate" -s V -l version -d 'Print version'
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
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s A -l all-namespaces -d 'Act on all namespaces'
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c meshctl -n "__fish_meshctl_using_subcommand completion" -s V -l version -d 'Print version'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from validate version completion help" -f -a "validate" -d 'Check Istio resources for errors, with Istio\'s validation rules'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from validate version completion help" -f -a "version" -d 'Print the version of meshctl'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from validate version completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c meshctl -n "__fish_meshctl_using_subcommand help; and not __fish_seen_subcommand_from validate version completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
