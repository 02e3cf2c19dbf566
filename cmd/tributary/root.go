package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// app carries what every subcommand shares: standard streams and the
// logger built from the global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	logFormat string
	logLevel  string
	log       *slog.Logger
	level     *slog.LevelVar // log's level; the worker's REST API may change it
}

// commands lists every subcommand. Each is built by a newXxxCmd function in
// its own file.
func commands(a *app) []*cobra.Command {
	return []*cobra.Command{
		newVersionCmd(a),
		newConnectStandaloneCmd(a),
		newTopicsCmd(a),
		newConsoleProducerCmd(a),
		newConsoleConsumerCmd(a),
		newConsumerGroupsCmd(a),
		newProducerPerfTestCmd(a),
		newConsumerPerfTestCmd(a),
		newBrokerCmd(a),
		newDumpLogCmd(a),
		newCompletionCmd(a),
		newGetOffsetsCmd(a),
		newLogDirsCmd(a),
		newVerifyConsumerLagCmd(a),
		newConfigsCmd(a),
	}
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "tributary",
		Short: "File connectors for Kafka, with a bundled Kafka-compatible broker",
		Long: `Tributary tails files into Kafka topics and writes topics back out to files,
continuously, like Kafka Connect's file connectors. It bundles a single-node
Kafka-compatible broker and Kafka's command-line tools, and works unchanged
against any Kafka cluster: bootstrap.servers is the only switch.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			log, level, err := newLogger(a.stderr, a.logFormat, a.logLevel)
			if err != nil {
				return usage.Wrap(err)
			}
			a.log, a.level = log, level
			return nil
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usage.Wrap(suggestFlag(cmd, err)) })
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	addPprofFlag(root, a)
	root.CompletionOptions.DisableDefaultCmd = true
	for _, c := range commands(a) {
		root.AddCommand(c)
	}
	return root
}

// execute runs the command line and maps its outcome to an exit code.
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) int {
	_, code := a.executeC(ctx, root, args)
	return code
}

// executeC is execute, also returning the command that ran (nil when none
// was found).
func (a *app) executeC(ctx context.Context, root *cobra.Command, args []string) (*cobra.Command, int) {
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return cmd, 0
	}
	fmt.Fprintf(a.stderr, "Error: %v\n", err)
	if isUsageError(err) {
		name := "tributary"
		if cmd != nil {
			name = cmd.CommandPath()
		}
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", name)
		return cmd, 2
	}
	return cmd, 1
}

// signalExit is the annotation of the commands that, as Kafka's tools (JVM
// processes) do, exit with 128 plus the number of the signal that stopped
// them: 130 after SIGINT (Ctrl-C), 143 after SIGTERM, though they stop
// cleanly. The others (connect-standalone, broker) exit 0 from a clean
// stop, as a service manager expects. Failures keep their exit codes.
const signalExit = "tributary/signal-exit"

// signalExitAnnotations marks a command with signalExit.
func signalExitAnnotations() map[string]string {
	return map[string]string{signalExit: "128+signal"}
}

// exitCodeAfterSignal is the exit code of a command that ended with code
// after sig (nil: none arrived) asked it to stop.
func exitCodeAfterSignal(cmd *cobra.Command, code int, sig os.Signal) int {
	s, ok := sig.(syscall.Signal)
	if !ok || code != 0 || cmd == nil || cmd.Annotations[signalExit] == "" {
		return code
	}
	return 128 + int(s)
}

// usageErrorf formats a usage error: exit code 2 rather than 1.
func usageErrorf(format string, args ...any) error {
	return usage.Errorf(format, args...)
}

func isUsageError(err error) bool {
	if usage.Is(err) {
		return true
	}
	// cobra's own argument and command checks
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") ||
		strings.Contains(msg, "arg(s)") ||
		strings.HasPrefix(msg, "required flag")
}

// usageArgs wraps a cobra argument check so that its failure exits with 2.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usage.Wrap(err)
		}
		return nil
	}
}

// newLogger builds the process's logger: log/slog on stderr, text or JSON,
// with its level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, *slog.LevelVar, error) {
	lvl := new(slog.LevelVar)
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), lvl, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), lvl, nil
	}
	return nil, nil, fmt.Errorf("--log-format %q: want text or json", format)
}
