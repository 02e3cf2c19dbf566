package main

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd is cobra's shell completion command: it writes the
// completion script of a shell, which asks the binary itself (its hidden
// __complete command) for subcommands, flag names and flag values.
func newCompletionCmd(a *app) *cobra.Command {
	var noDescriptions bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script of tributary for bash, zsh, fish or PowerShell",
		Long: `Print the script that makes a shell complete tributary's subcommands, flags
and flag values (entity types, --time values, segment files) on Tab.

bash (needs the bash-completion package):
  tributary completion bash > /etc/bash_completion.d/tributary     # all users
  tributary completion bash > ~/.local/share/bash-completion/completions/tributary
  source <(tributary completion bash)                              # this shell only

zsh:
  tributary completion zsh > "${fpath[1]}/_tributary"
  (with "autoload -U compinit; compinit" in ~/.zshrc; start a new shell)

fish:
  tributary completion fish > ~/.config/fish/completions/tributary.fish

PowerShell:
  tributary completion powershell | Out-String | Invoke-Expression
  (add that line to $PROFILE to keep it)`,
		Example: `  source <(tributary completion bash)
  tributary completion zsh > "${fpath[1]}/_tributary"`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      usageArgs(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), a.stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDescriptions)
			case "zsh":
				if noDescriptions {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDescriptions)
			default:
				if noDescriptions {
					return root.GenPowerShellCompletion(out)
				}
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	cmd.Flags().BoolVar(&noDescriptions, "no-descriptions", false, "complete without the description of each choice")
	return cmd
}
