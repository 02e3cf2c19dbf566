package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for _, tc := range []struct {
		shell, marker, syntaxCheck string
	}{
		{"bash", "# bash completion V2 for tributary", "bash"},
		{"zsh", "#compdef tributary", "zsh"},
		{"fish", "complete -c tributary ", "fish"},
		{"powershell", "Register-ArgumentCompleter -CommandName 'tributary'", ""},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			r := runTool(t, "", "completion", tc.shell)
			if r.code != 0 || !strings.Contains(r.stdout, tc.marker) || r.stderr != "" {
				t.Fatalf("%.400s", r)
			}
			nodesc := runTool(t, "", "completion", tc.shell, "--no-descriptions")
			if nodesc.code != 0 || nodesc.stdout == r.stdout && tc.shell != "bash" && tc.shell != "fish" {
				t.Errorf("--no-descriptions: %.400s", nodesc)
			}
			// The shell itself parses the script, where it is installed.
			if tc.syntaxCheck == "" {
				return
			}
			sh, err := exec.LookPath(tc.syntaxCheck)
			if err != nil {
				t.Logf("%s not installed: script syntax not checked", tc.syntaxCheck)
				return
			}
			script := filepath.Join(t.TempDir(), "tributary."+tc.shell)
			if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		})
	}
	r := runTool(t, "", "completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.stderr, `invalid argument "tcsh" for "tributary completion"`) {
		t.Errorf("unknown shell: %v", r)
	}
	r = runTool(t, "", "completion")
	if r.code != 2 || !strings.Contains(r.stderr, "accepts 1 arg(s), received 0") {
		t.Errorf("no shell: %v", r)
	}
}

// complete runs what a shell's completion script runs on Tab, and returns
// the choices offered (without descriptions) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := runTool(t, "", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %q: %v", args, r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var choices []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		choices = append(choices, name)
	}
	return choices, lines[len(lines)-1]
}

func TestCompletionOffers(t *testing.T) {
	cmds, directive := complete(t, "")
	for _, want := range []string{"broker", "topics", "consumer-groups", "dump-log", "completion", "connect-standalone"} {
		if !slices.Contains(cmds, want) {
			t.Errorf("subcommands %q lack %s", cmds, want)
		}
	}
	if directive != ":4" { // no file completion
		t.Errorf("directive %q", directive)
	}
	cmds, _ = complete(t, "dum")
	if !slices.Equal(cmds, []string{"dump-log"}) {
		t.Errorf("dum: %q", cmds)
	}
	flags, _ := complete(t, "dump-log", "--")
	for _, want := range []string{"--files", "--print-data-log", "--deep-iteration", "--verify-index-only", "--index-sanity-check", "--value-decoder-class"} {
		if !slices.Contains(flags, want) {
			t.Errorf("dump-log flags %q lack %s", flags, want)
		}
	}
	exts, directive := complete(t, "dump-log", "--files", "")
	if !slices.Equal(exts, []string{"log", "index", "timeindex", "snapshot", "txnindex"}) || directive != ":8" {
		t.Errorf("--files: %q %s, want the segment files' suffixes and FilterFileExt (:8)", exts, directive)
	}
	shells, _ := complete(t, "completion", "")
	if !slices.Equal(shells, []string{"bash", "zsh", "fish", "powershell"}) {
		t.Errorf("completion: %q", shells)
	}
}

// TestCompletionInBash installs the bash script as a user would and lets
// bash complete a command line with the real binary.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	bin := tributaryBinary(t)
	// The script needs the bash-completion package; where it is missing,
	// a stand-in of the one function the script uses.
	script := `if [ -f /usr/share/bash-completion/bash_completion ]; then source /usr/share/bash-completion/bash_completion; fi
if ! declare -F _get_comp_words_by_ref >/dev/null; then
  _get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
fi
source <(tributary completion bash)
COMP_WORDS=(tributary dump-log --verify); COMP_CWORD=2; COMP_LINE="tributary dump-log --verify"; COMP_POINT=${#COMP_LINE}
__start_tributary
printf '%s\n' "${COMPREPLY[@]}"
COMP_WORDS=(tributary consumer-); COMP_CWORD=1; COMP_LINE="tributary consumer-"; COMP_POINT=${#COMP_LINE}
__start_tributary
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if !slices.Contains(got, "--verify-index-only") || !slices.Contains(got, "consumer-groups") {
		t.Errorf("bash offered %q", got)
	}
}
